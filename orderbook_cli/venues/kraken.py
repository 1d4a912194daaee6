"""Kraken: the WebSocket v2 `book` channel, checked by Kraken's CRC32 checksum.

wss://ws.kraken.com/v2. Subscribe
{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":10,"snapshot":true}}
at one of Kraken's depths (10, 25, 100, 500, 1000: the smallest that covers
--depth). A snapshot, then updates: {"price":..,"qty":..} levels with
absolute quantities (0 deletes), prices and quantities as JSON numbers
written with the pair's full precision (trailing zeros included). Kraken
numbers nothing; each message carries `checksum`, the CRC32 of the top ten
asks (best first) then the top ten bids, each level's price and quantity
written as on the wire without the dot and leading zeros. Kraken drops the
levels an insert pushes beyond the subscribed depth without saying so, so
the book is truncated to that depth after every message before the check.
A mismatch resyncs on the same socket (unsubscribe + subscribe: a fresh
snapshot, none of the old levels). Heartbeats come about every second,
`status` on connecting, `pong` answers `ping`. v2 spells Bitcoin BTC and
Dogecoin DOGE and refuses the v1 names XBT and XDG, which obook translates.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from orderbook_cli.book import remembered_number, to_decimal
from orderbook_cli.errors import MalformedData, VenueRejected, sanitize
from orderbook_cli.feed import FeedRequest, Limits
from orderbook_cli.symbols import SymbolStyle, is_pair
from orderbook_cli.sync import Change, LevelBook, LevelOp, Seed, Side, wire_text
from orderbook_cli.timefmt import parse_venue_time
from orderbook_cli.transport.wire import json_loads, json_loads_numbers_as_text, objects
from orderbook_cli.venues.base import Example, TradeStream, VenueInfo
from orderbook_cli.venues.synced import SyncedVenue
from orderbook_cli.venues.websocket import Control, Rejected

if TYPE_CHECKING:
    from orderbook_cli.trades import Trade

DEPTHS = (10, 25, 100, 500, 1000)
CHECKSUM_LEVELS = 10  # Kraken's checksum covers the top ten levels per side, whatever the depth
MAX_CHECKSUM = 2**32 - 1
# v1 names that v2 refuses ("Currency pair not supported XBT/USD"); AssetPairs' wsname still uses them
V1_NAMES = {"XBT": "BTC", "XDG": "DOGE"}
REST_ENV = "OBOOK_KRAKEN_REST_URL"
REST_ORIGIN = "https://api.kraken.com"


def kraken_depth(depth: int) -> int:
    """The smallest depth Kraken offers that covers `depth` levels."""
    return next((d for d in DEPTHS if d >= depth), DEPTHS[-1])


def _digits(number: Decimal) -> str:
    return wire_text(number).replace(".", "").lstrip("0")


def side_text(side: Side) -> str:
    """One side's part of the checksum text: its best ten levels as Kraken writes them, each
    level's written once and kept in the level (sync.Side) until its quantity changes."""
    out, levels = [], side.levels
    for price in side.prices[:-CHECKSUM_LEVELS - 1:-1] if side.descending else side.prices[:CHECKSUM_LEVELS]:
        level = levels[price]
        text = level[2]
        if text is None:
            text = level[2] = _digits(price) + _digits(level[0])
        out.append(text)
    return "".join(out)


def book_checksum(book: LevelBook) -> int:
    """Kraken's CRC32 of a book: asks then bids, from the wire text of prices and quantities."""
    return zlib.crc32((side_text(book.asks) + side_text(book.bids)).encode("ascii"))


_FIELDS = {"bids": (True, "bids price", "bids qty"), "asks": (False, "asks price", "asks qty")}  # what a side's numbers are called in errors


def _ops(entry: dict, side: str) -> list[LevelOp]:
    """Prices and quantities arrive as the JSON numbers' text (json_loads_numbers_as_text):
    those already converted are read from to_decimal's memory without a call."""
    if side not in entry:  # an update may carry one side only
        return []
    (is_bid, price, qty), known = _FIELDS[side], remembered_number
    try:  # a list of objects, as almost always: checked by reading it (objects() says what else it is)
        return [_new_op(LevelOp, (is_bid, known(p := level.get("price")) or to_decimal(p, price), known(q := level.get("qty")) or to_decimal(q, qty)))
                for level in entry[side]]
    except (AttributeError, TypeError):  # not a list of objects, or an unhashable value (a list, an object): say what is wrong
        levels = objects(entry, side, "book message")
        return [LevelOp(is_bid, to_decimal(level.get("price"), price), to_decimal(level.get("qty"), qty)) for level in levels]


_new_op = tuple.__new__  # a LevelOp (Seed, Change) without NamedTuple's Python-level __new__


def _checksum(entry: dict) -> int:
    value = entry.get("checksum")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CHECKSUM:
        raise MalformedData(f"book message with checksum {sanitize(value, 20)!r}, not a 32-bit unsigned integer")
    return value


# The trading engine's states a `status` message names (docs: spot-websocket-v2/status)
SYSTEM_STATES = frozenset({"online", "maintenance", "cancel_only", "post_only"})


def read_message(data: Any, symbol: str) -> list[Seed | Change | Control | Rejected]:
    """One decoded v2 frame for a book of `symbol`."""
    if not isinstance(data, dict):
        raise MalformedData("frame is not a JSON object")
    method = data.get("method")
    if method is not None or data.get("success") is False:  # an error may come without the method it answers
        return [_method_reply(data, "subscribe" if method is None else str(method), symbol)]
    channel = data.get("channel")
    if channel != "book":
        if channel == "status":
            entries = data.get("data")
            system = entries[0].get("system") if isinstance(entries, list) and entries and isinstance(entries[0], dict) else None
            return [Control("status", system if isinstance(system, str) and system in SYSTEM_STATES else None)]  # another word says nothing
        return [Control(sanitize(channel, 20) or "other")]  # heartbeat, other channels
    kind = data.get("type")
    if kind not in ("snapshot", "update"):
        raise MalformedData(f"book message of type {sanitize(kind, 20)!r}")
    entries = data.get("data")
    if not isinstance(entries, list):
        raise MalformedData("book message without a data list")
    out: list[Seed | Change | Control | Rejected] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise MalformedData("a book data entry is not an object")
        if entry.get("symbol") != symbol:
            out.append(Control("other symbol"))
            continue
        ops = _ops(entry, "bids") + _ops(entry, "asks")
        fields = (None, ops, parse_venue_time(entry.get("timestamp")), _checksum(entry))
        out.append(_new_op(Seed, fields) if kind == "snapshot" else _new_op(Change, fields))
    return out


_RATE_LIMITED = re.compile(r"\brate\b", re.IGNORECASE)  # the word, not "separate" or "accurate" in a refusal's text


def _method_reply(data: dict, method: str, symbol: str) -> Control | Rejected:
    """Answers to what obook sent: subscribe/unsubscribe acks and errors, pong."""
    if method != "subscribe" or data.get("success") is not False:
        return Control("ack" if method == "subscribe" else sanitize(method, 20))  # pong, unsubscribed (or already gone)
    reason = sanitize(data.get("error") or "no reason given", 200)
    if _RATE_LIMITED.search(reason):  # "Exceeded msg rate": not fatal; the unanswered seed is asked for again, later
        return Control("rate limited")
    refused = sanitize(data.get("symbol") or symbol, 40)
    return Rejected(VenueRejected(f"Kraken refused the subscription to {refused}: {reason}",
                                  hint="check the symbol, e.g. BTC/USD ('obook symbols kraken' lists the pairs)"))


def read_trades(data: Any, symbol: str, received_at: datetime) -> list[Trade]:
    """A v2 `trade` frame (decoded, snapshot or update): its trades, `side` being "the side of
    the taker order" (docs.kraken.com); acks, heartbeats and other channels give none, a
    refused subscription raises VenueRejected."""
    from orderbook_cli.trades import Trade, entries, side_word, text_id

    if not isinstance(data, dict):
        raise MalformedData("frame is not a JSON object")
    if data.get("method") in ("subscribe", None) and data.get("success") is False:  # an error may come without its method
        reason = sanitize(data.get("error") or "no reason given", 200)
        raise VenueRejected(f"Kraken refused the trade subscription to {sanitize(data.get('symbol') or symbol, 40)}: {reason}",
                            hint="check the symbol, e.g. BTC/USD ('obook symbols kraken' lists the pairs)")
    if data.get("channel") != "trade":
        return []
    if data.get("type") not in ("snapshot", "update"):
        raise MalformedData(f"trade message of type {sanitize(data.get('type'), 20)!r}")
    out = []
    for entry in entries(data, "data", "trade message"):
        if entry.get("symbol") != symbol:
            continue
        out.append(Trade(
            "kraken", symbol, text_id(entry.get("trade_id"), "trade id"),
            to_decimal(entry.get("price"), "trade price"), to_decimal(entry.get("qty"), "trade qty"),
            side_word(entry.get("side"), "trade side"),
            parse_venue_time(entry.get("timestamp")), received_at,
        ))
    return out


def _trade_frame(frame: str | bytes, symbol: str, received_at: datetime) -> list[Trade]:
    return read_trades(json_loads(frame), symbol, received_at)


def _subscribe_trades(symbol: str) -> list[str]:
    # no snapshot: Kraken's is the last 50 trades, which a reconnect would print twice
    return [json.dumps({"method": "subscribe", "params": {"channel": "trade", "symbol": [symbol], "snapshot": False}})]


def v2_name(wsname: str) -> str:
    """A pair in v2's spelling (BTC, not XBT)."""
    base, _, quote = wsname.partition("/")
    return f"{V1_NAMES.get(base, base)}/{V1_NAMES.get(quote, quote)}"


class Kraken(SyncedVenue):
    info = VenueInfo(
        id="kraken",
        name="Kraken",
        transport="WebSocket",
        auth="none",
        default_depth=10,
        max_depth=DEPTHS[-1],
        symbols=SymbolStyle("/", upper=True),
        url_env="OBOOK_KRAKEN_URL",
        default_url="wss://ws.kraken.com/v2",
        limits=Limits(connects_per_minute=15, reconnect_floor=5.0,
                      source="docs.kraken.com spot-ws-intro: ~150 connection attempts per rolling 10 minutes per IP (else a 10-minute ban); "
                             "reconnect no more quickly than once every 5 s after downtime"),
        example_symbol="BTC/USD",
        rest_env=REST_ENV, rest_url=REST_ORIGIN,
        summary="WebSocket v2 book channel (depth 10|25|100|500|1000), every message CRC32-checked; XBT accepted for BTC",
    )
    ping_interval = 30.0
    idle_timeout = 15.0  # heartbeats come about every second
    book_kind = LevelBook
    seeds_in_band = True
    rest_check = None  # --verify-every polls nothing here: the CRC32 of every message already proves the book

    def symbol(self, text: str) -> str:
        return v2_name(super().symbol(text))

    def examples(self) -> tuple[Example, ...]:
        # recorded from Kraken: the checksum is Kraken's own, over the wire text (trailing zeros kept)
        ack = '{"method":"subscribe","result":{"channel":"book","depth":10,"snapshot":true,"symbol":"ETH/USD"},"success":true,"time_in":"2025-05-06T09:17:26.058856Z","time_out":"2025-05-06T09:17:26.058894Z"}'
        snapshot = ('{"channel":"book","type":"snapshot","data":[{"symbol":"ETH/USD","bids":[{"price":1797.24,"qty":0.43393711},{"price":1797.18,"qty":139.10616255},{"price":1797.13,"qty":139.10995927},{"price":1797.12,"qty":0.80386470},{"price":1797.07,"qty":139.11517673},{"price":1796.98,"qty":5.22282896},{"price":1796.97,"qty":12.17138476},{"price":1796.95,"qty":139.69390939},{"price":1796.88,"qty":4.21870000},{"price":1796.85'
                    ',"qty":1.22932317}],"asks":[{"price":1797.25,"qty":1.40355852},{"price":1797.28,"qty":10.82400000},{"price":1797.29,"qty":139.09899871},{"price":1797.30,"qty":139.09783403},{"price":1797.37,"qty":139.09216827},{"price":1797.41,"qty":5.24638952},{"price":1797.42,"qty":0.01780330},{"price":1797.46,"qty":33.05700000},{"price":1797.48,"qty":3.11556555},{"price":1797.49,"qty":139.49306646}],"checksum":2606672715}]}')
        return (Example("ETH/USD", (("1797.24", "0.43393711"), ("1797.18", "139.10616255")), (("1797.25", "1.40355852"), ("1797.28", "10.82400000")),
                        frames=(ack, snapshot), options=("--depth", "2")),)

    def trades(self) -> TradeStream:
        """The v2 `trade` channel on a socket of its own (heartbeats every second)."""
        return TradeStream(_subscribe_trades, _trade_frame, idle=self.idle_timeout, ping=(self.ping_interval, self.ping_message()))

    def kept_depth(self, request: FeedRequest) -> int | None:
        return kraken_depth(request.depth)

    def book_checksum(self, book: LevelBook) -> int:
        return book_checksum(book)

    def _subscription(self, method: str, request: FeedRequest) -> str:
        params: dict[str, Any] = {"channel": "book", "symbol": [request.symbol], "depth": kraken_depth(request.depth)}
        if method == "subscribe":
            params["snapshot"] = True
        return json.dumps({"method": method, "params": params})

    def subscribe_messages(self, request: FeedRequest) -> list[str]:
        return [self._subscription("subscribe", request)]

    def resync_messages(self, request: FeedRequest) -> list[str]:
        return [self._subscription("unsubscribe", request), self._subscription("subscribe", request)]

    def resubscribe_messages(self, old: FeedRequest, new: FeedRequest) -> list[str]:
        if kraken_depth(old.depth) == kraken_depth(new.depth):
            return []
        return [self._subscription("unsubscribe", old), self._subscription("subscribe", new)]

    def ping_message(self) -> str:
        return json.dumps({"method": "ping"})

    def parse(self, frame: str | bytes, request: FeedRequest) -> Control:
        raise NotImplementedError  # every Kraken book is kept through read()

    def read(self, frame: str | bytes, request: FeedRequest) -> Iterable[Seed | Change | Control | Rejected]:
        return read_message(json_loads_numbers_as_text(frame), request.symbol)

    def list_symbols(self, timeout: float) -> list[str]:
        body = self._get_json(REST_ENV, REST_ORIGIN, "/0/public/AssetPairs", timeout)
        pairs = body.get("result") if isinstance(body, dict) else None
        if not isinstance(pairs, Mapping):
            errors = body.get("error") if isinstance(body, dict) else None
            raise MalformedData(f"the pair list has no result ({sanitize(errors, 80) or 'no error given'})")
        names = [pair.get("wsname") for pair in pairs.values() if isinstance(pair, Mapping)]
        return sorted({v2_name(name) for name in names if isinstance(name, str) and is_pair(name)})  # no wsname: not on the socket
