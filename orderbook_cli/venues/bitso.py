"""Bitso: the WebSocket `orders` channel.

Each `orders` message replaces the whole book with the top 20 individual
orders per side; obook aggregates them by price (amount = sum of `a`,
count = number of orders). The side comes from the `bids`/`asks` array,
never from `t` (the doc example has it swapped). Book time is `sent`.
"""

from __future__ import annotations

import json
from typing import Any

from orderbook_cli.book import RawLevel, to_decimal
from orderbook_cli.errors import MalformedData, VenueRejected
from orderbook_cli.feed import FeedRequest
from orderbook_cli.symbols import SymbolStyle
from orderbook_cli.timefmt import parse_venue_time
from orderbook_cli.transport.wire import json_loads, objects
from orderbook_cli.transport.ws import BookUpdate, Control, Message, Rejected, WebSocketVenue
from orderbook_cli.venues.base import VenueInfo


def _orders(payload: dict, side: str) -> list[RawLevel]:
    """One RawLevel per individual order; make_book merges equal prices and counts them."""
    return [
        RawLevel(to_decimal(order.get("r"), f"{side} rate"), to_decimal(order.get("a"), f"{side} amount"), 1)
        for order in objects(payload, side, "orders message")
    ]


def parse_message(data: Any, book: str) -> Message:
    if not isinstance(data, dict):
        raise MalformedData("frame is not a JSON object")
    if data.get("action") == "subscribe":
        if "error" in data or data.get("response", "ok") != "ok":
            reason = data.get("error") or data.get("response")
            return Rejected(VenueRejected(f"Bitso does not support the book {book!r}: {reason}", hint="check the book name, e.g. btc_mxn"))
        return Control("ack")
    kind = data.get("type")
    if kind == "ka":
        return Control("keepalive")
    if kind != "orders" or data.get("book") not in (None, book):
        return Control("other")
    payload = data.get("payload")
    if not isinstance(payload, dict):
        raise MalformedData("orders message without a payload object")
    return BookUpdate(_orders(payload, "bids"), _orders(payload, "asks"), parse_venue_time(data.get("sent")))


class Bitso(WebSocketVenue):
    info = VenueInfo(
        id="bitso",
        name="Bitso",
        transport="WebSocket",
        auth="none",
        default_depth=20,
        max_depth=20,
        symbols=SymbolStyle("_", upper=False),
        url_env="OBOOK_BITSO_URL",
        default_url="wss://ws.bitso.com",
        example_symbol="btc_mxn",
        summary="orders channel: top 20 orders per side, aggregated by price",
    )
    idle_timeout = 45.0  # Bitso sends {"type":"ka"} about every 20 s

    def list_symbols(self, timeout: float) -> list[str]:
        body = self._get_json("OBOOK_BITSO_REST_URL", "https://api.bitso.com", "/api/v3/available_books/", timeout)
        books = objects(body, "payload", "the book list")
        return [b["book"] for b in books if isinstance(b.get("book"), str)]

    def subscribe_messages(self, request: FeedRequest) -> list[str]:
        return [json.dumps({"action": "subscribe", "book": request.symbol, "type": "orders"})]

    def parse(self, frame: str | bytes, request: FeedRequest) -> Message:
        if isinstance(frame, bytes):
            raise MalformedData("unexpected binary frame")
        return parse_message(json_loads(frame), request.symbol)
