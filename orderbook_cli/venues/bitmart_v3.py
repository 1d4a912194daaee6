"""BitMart's current spot WebSocket API: what the live exchange serves today.

wss://ws-manager-compress.bitmart.com/api?protocol=1.1; subscribe
{"op":"subscribe","args":["spot/depthN:SYMBOL"]} with the smallest of
depth5/20/50 that covers --depth; every push is a full book of
[price, size] pairs with `ms_t` (epoch ms). Data frames may be binary,
raw-DEFLATE compressed. Keep-alive: text "ping" about every 15 s.
"""

from __future__ import annotations

import json
from typing import Any

from orderbook_cli.book import RawLevel, to_decimal
from orderbook_cli.errors import MalformedData, VenueRejected, sanitize
from orderbook_cli.feed import FeedRequest
from orderbook_cli.symbols import SymbolStyle
from orderbook_cli.timefmt import parse_venue_time
from orderbook_cli.transport.wire import json_loads
from orderbook_cli.transport.ws import BookUpdate, Control, Message, Rejected, WebSocketVenue, inflate
from orderbook_cli.venues.base import VenueInfo
from orderbook_cli.venues.bitmart import list_bitmart_symbols

CHANNEL_DEPTHS = (5, 20, 50)


def channel(symbol: str, depth: int) -> str:
    size = next(d for d in CHANNEL_DEPTHS if d >= depth)
    return f"spot/depth{size}:{symbol}"


def _pairs(entry: dict, side: str) -> list[RawLevel]:
    levels = entry.get(side)
    if not isinstance(levels, list):
        raise MalformedData(f"depth push without a {side} list")
    out = []
    for level in levels:
        if not isinstance(level, list) or len(level) < 2:
            raise MalformedData(f"a {side} level is not a [price, size] pair")
        out.append(RawLevel(to_decimal(level[0], f"{side} price"), to_decimal(level[1], f"{side} size")))
    return out


def parse_message(data: Any, symbol: str) -> Message:
    if not isinstance(data, dict):
        raise MalformedData("frame is not a JSON object")
    if data.get("errorCode") or data.get("errorMessage"):
        reason = sanitize(data.get("errorMessage") or data.get("errorCode"), 200)
        code = sanitize(data.get("errorCode", ""), 20)
        return Rejected(VenueRejected(f"BitMart refused the subscription to {symbol}: {reason} (code {code})", hint="check the symbol, e.g. BTC_USDT"))
    if "event" in data:
        return Control(str(data.get("event")))
    table = data.get("table")
    if not isinstance(table, str) or not table.startswith("spot/depth"):
        return Control("other")
    entries = data.get("data")
    if not isinstance(entries, list) or not entries:
        raise MalformedData("depth push without data")
    ours = [e for e in entries if isinstance(e, dict) and str(e.get("symbol", symbol)).upper() == symbol]
    if not ours:
        return Control("other symbol")
    entry = ours[-1]
    if entry.get("type") == "update":
        return Control("incremental update")  # only full books are shown; obook subscribes to full-book channels
    return BookUpdate(_pairs(entry, "bids"), _pairs(entry, "asks"), parse_venue_time(entry.get("ms_t")))


class BitMartV3(WebSocketVenue):
    info = VenueInfo(
        id="bitmart-v3",
        name="BitMart (current spot API)",
        transport="WebSocket",
        auth="none",
        default_depth=20,
        max_depth=50,
        symbols=SymbolStyle("_", upper=True),
        url_env="OBOOK_BITMART_V3_URL",
        default_url="wss://ws-manager-compress.bitmart.com/api?protocol=1.1",
        retry_floor=1.0,
        example_symbol="BTC_USDT",
        summary="what the live exchange serves today: spot/depth5|20|50 full books, compressed frames",
    )
    ping_interval = 15.0
    idle_timeout = 30.0

    def list_symbols(self, timeout: float) -> list[str]:
        return list_bitmart_symbols(self, timeout)

    def subscribe_messages(self, request: FeedRequest) -> list[str]:
        return [json.dumps({"op": "subscribe", "args": [channel(request.symbol, request.wire_depth)]})]

    def ping_message(self) -> str:
        return "ping"

    def resubscribe_messages(self, old: FeedRequest, new: FeedRequest) -> list[str]:
        before, after = channel(old.symbol, old.wire_depth), channel(new.symbol, new.wire_depth)
        if before == after:
            return []
        return [json.dumps({"op": "unsubscribe", "args": [before]}), json.dumps({"op": "subscribe", "args": [after]})]

    def parse(self, frame: str | bytes, request: FeedRequest) -> Message:
        if isinstance(frame, bytes):
            frame = inflate(frame)
        if frame.strip() in ("pong", b"pong"):
            return Control("pong")
        return parse_message(json_loads(frame), request.symbol)
