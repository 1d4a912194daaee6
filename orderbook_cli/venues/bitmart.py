"""BitMart, the seed protocol (`bitmart-ws-order-book.md`): wss://openws.bitmart.com.

Subscribe {"subscribe":"order","symbol":..,"precision":P}; replies are
labelled "depth" (or "order") with data.buys / data.sells levels of string
fields. The venue's `total` is not reliable: obook computes its own. No
venue timestamp. Keep-alive {"subscribe":"ping"} / "pong". At most about
one new connection per 4 s per IP, so reconnects wait at least that long.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from orderbook_cli.book import RawLevel, to_count, to_decimal
from orderbook_cli.debuglog import enabled, log
from orderbook_cli.errors import MalformedData, VenueRejected, sanitize
from orderbook_cli.feed import FeedRequest, Limits
from orderbook_cli.symbols import SymbolStyle
from orderbook_cli.transport.wire import json_loads, objects
from orderbook_cli.venues.base import Example, VenueInfo, VenueOption, whole_number
from orderbook_cli.venues.websocket import (
    BookUpdate,
    Control,
    Message,
    Rejected,
    WebSocketVenue,
)

DEFAULT_PRECISION = 6  # works for the seed's BMX_ETH (valid range there: 6..8)
REST_ENV, REST_ORIGIN = "OBOOK_BITMART_REST_URL", "https://api-cloud.bitmart.com"


def list_bitmart_symbols(venue, timeout: float) -> list[str]:
    """BitMart's spot pair list (both protocols trade the same pairs)."""
    body = venue._get_json(REST_ENV, REST_ORIGIN, "/spot/v1/symbols", timeout)
    symbols = body.get("data", {}).get("symbols") if isinstance(body, dict) and isinstance(body.get("data"), dict) else None
    if not isinstance(symbols, list):
        raise MalformedData("the symbol list has no data.symbols")
    return [s for s in symbols if isinstance(s, str)]


def _levels(data: dict, side: str) -> list[RawLevel]:
    levels = objects(data, side, "depth message")
    out = [
        RawLevel(to_decimal(level.get("price"), f"{side} price"), to_decimal(level.get("amount"), f"{side} amount"), to_count(level.get("count")))
        for level in levels
    ]
    if enabled():
        _note_inconsistent_totals(levels, out, side)
    return out


def _note_inconsistent_totals(levels: list, parsed: list[RawLevel], side: str) -> None:
    running = Decimal(0)
    for raw, level in zip(levels, parsed):
        running += level.amount
        try:
            theirs = to_decimal(raw.get("total"), "total")
        except MalformedData:
            continue
        if theirs != running:
            log.debug("BitMart's %s totals are not cumulative (venue %s, computed %s); obook uses its own", side, theirs, running)
            return


def parse_message(data: Any, symbol: str, precision: int) -> Message:
    if not isinstance(data, dict):
        raise MalformedData("frame is not a JSON object")
    label = data.get("subscribe")
    if label == "pong":
        return Control("pong")
    sent_symbol = data.get("symbol")
    if isinstance(sent_symbol, str) and sent_symbol.upper() != symbol:
        return Control("other symbol")
    book = data.get("data") if isinstance(data.get("data"), dict) else None
    if book is None and "buys" in data and "sells" in data:
        book = data  # the legacy REST shape carries the sides at the top level
    if book is None:
        message = next((data[key] for key in ("message", "error", "msg", "errmsg", "error_msg") if data.get(key)), None)
        if message:
            text = sanitize(message, 200)
            if "precision" in text.lower():
                return Rejected(VenueRejected(f"BitMart refused precision {precision} for {symbol}: {text}",
                                              hint="pass --precision P with a value from the symbol's details (commonly 6..8)"))
            return Rejected(VenueRejected(f"BitMart refused the subscription to {symbol}: {text}", hint="check the symbol, e.g. BMX_ETH"))
        if label in ("depth", "order"):
            raise MalformedData("depth message without data")
        return Control("other")
    return BookUpdate(_levels(book, "buys"), _levels(book, "sells"), None)


class BitMartSeed(WebSocketVenue):
    info = VenueInfo(
        id="bitmart",
        name="BitMart (seed protocol)",
        transport="WebSocket",
        auth="none",
        default_depth=20,
        max_depth=None,
        symbols=SymbolStyle("_", upper=True),
        url_env="OBOOK_BITMART_URL",
        default_url="wss://openws.bitmart.com",
        limits=Limits(connects_per_minute=15, source="the seed protocol's doc: about one new connection per 4 s per IP"),
        options=(VenueOption("precision", "price decimals the venue groups the book by (default 6).", "DECIMALS",
                             whole_number(0, 18, "a number of price decimals")),),
        example_symbol="BMX_ETH",
        rest_env=REST_ENV, rest_url=REST_ORIGIN,
        summary="subscribe \"order\", replies \"depth\"; --precision sets price grouping",
    )
    ping_interval = 10.0
    idle_timeout = 25.0
    trades_note = "BitMart's seed protocol has no trade channel; use bitmart-v3"

    def examples(self) -> tuple[Example, ...]:
        def level(price, amount, total):
            return {"price": price, "amount": amount, "total": total, "count": "1"}

        depth = {"subscribe": "depth", "symbol": "BMX_ETH", "data": {  # the venue's totals are wrong on purpose: obook computes its own
            "buys": [level("0.000230", "150.00", "150.00"), level("0.000229", "20", "999")],
            "sells": [level("0.000231", "5.5", "5.5")]}}
        return (Example("BMX_ETH", (("0.000230", "150.00"), ("0.000229", "20")), (("0.000231", "5.5"),), frames=(json.dumps(depth),)),)

    def list_symbols(self, timeout: float) -> list[str]:
        return list_bitmart_symbols(self, timeout)

    def subscribe_messages(self, request: FeedRequest) -> list[str]:
        precision = request.options.get("precision", DEFAULT_PRECISION)
        return [json.dumps({"subscribe": "order", "symbol": request.symbol, "precision": precision})]

    def ping_message(self) -> str:
        return json.dumps({"subscribe": "ping"})

    def parse(self, frame: str | bytes, request: FeedRequest) -> Message:
        if isinstance(frame, bytes):
            raise MalformedData("unexpected binary frame")
        return parse_message(json_loads(frame), request.symbol, request.options.get("precision", DEFAULT_PRECISION))
