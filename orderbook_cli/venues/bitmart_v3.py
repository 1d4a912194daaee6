"""BitMart's current spot WebSocket API: what the live exchange serves today.

wss://ws-manager-compress.bitmart.com/api?protocol=1.1. `--feed full`
(default) subscribes {"op":"subscribe","args":["spot/depth/increase100:SYMBOL"]}:
a snapshot, then updates with absolute sizes ("0" deletes) numbered by
`version`; obook keeps the 100-level book with the sync engine and, when a
version is missing, sends {"op":"request","args":[...]} on the same socket
and replaces the book with the snapshot that answers. `--feed top` uses the
smallest of depth5/20/50 that covers --depth, where every push is a full
book. Levels are [price, size] pairs with `ms_t` (epoch ms). Data frames
may be binary, raw-DEFLATE compressed. Keep-alive: text "ping" about every 15 s.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from orderbook_cli.book import RawLevel, remembered_number, to_decimal, to_sequence
from orderbook_cli.errors import MalformedData, VenueRejected, sanitize
from orderbook_cli.feed import FeedRequest, Limits
from orderbook_cli.symbols import SymbolStyle
from orderbook_cli.sync import Change, LevelBook, LevelOp, Seed
from orderbook_cli.timefmt import parse_venue_time
from orderbook_cli.transport.wire import json_loads
from orderbook_cli.transport.ws import inflate
from orderbook_cli.venues.base import Example, TradeStream, VenueInfo
from orderbook_cli.venues.bitmart import REST_ENV, REST_ORIGIN, list_bitmart_symbols
from orderbook_cli.venues.synced import FEED_OPTION, SyncedVenue
from orderbook_cli.venues.websocket import BookUpdate, Control, Message, Rejected

if TYPE_CHECKING:
    from orderbook_cli.trades import Trade

CHANNEL_DEPTHS = (5, 20, 50)
INCREMENTAL = "spot/depth/increase100"
FULL_DEPTH = 100
REST_BOOK_PATH = "/spot/quotation/v3/books"
REST_CHECK_LEVELS = 50  # the most the REST book gives
REST_LOCKOUT = 10.0  # seconds to wait after a 429 that does not say


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


def _level_ops(entry: dict, side: str, is_bid: bool) -> list[LevelOp]:
    """An increase100 side as LevelOps, checked as _pairs checks it; numbers already
    converted are read from to_decimal's memory without a call (the hot path of the full feed)."""
    levels = entry.get(side)
    if not isinstance(levels, list):
        raise MalformedData(f"depth push without a {side} list")
    known, price_field, size_field = remembered_number, f"{side} price", f"{side} size"
    out = []
    for level in levels:
        if not isinstance(level, list) or len(level) < 2:
            raise MalformedData(f"a {side} level is not a [price, size] pair")
        price, size = level[0], level[1]
        try:
            out.append(_new_op(LevelOp, (is_bid, known(price) or to_decimal(price, price_field), known(size) or to_decimal(size, size_field))))
        except TypeError:  # an unhashable value (a list, an object): to_decimal says what is wrong with it
            out.append(LevelOp(is_bid, to_decimal(price, price_field), to_decimal(size, size_field)))
    return out


_new_op = tuple.__new__  # a LevelOp without NamedTuple's Python-level __new__


def _our_entries(data: Any, symbol: str) -> Message | list[dict]:
    """The depth entries for our symbol, or the control message the frame is."""
    if not isinstance(data, dict):
        raise MalformedData("frame is not a JSON object")
    if data.get("errorCode") or data.get("errorMessage"):
        event = data.get("event")
        if event not in (None, "subscribe", "error"):  # an answer to another op (unsubscribe, request, login): not a refusal
            return Control(f"error on {sanitize(event, 20)}")  # of the book; a seed asked for and not sent is asked again
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
    return ours or Control("other symbol")


def parse_message(data: Any, symbol: str) -> Message:
    """A depth5/20/50 push: a whole book."""
    ours = _our_entries(data, symbol)
    if not isinstance(ours, list):
        return ours
    entry = ours[-1]
    if entry.get("type") == "update":
        return Control("incremental update")  # only full books are shown on the top feed
    return BookUpdate(_pairs(entry, "bids"), _pairs(entry, "asks"), parse_venue_time(entry.get("ms_t")))




def read_rest_book(body: bytes, symbol: str) -> Seed:
    """GET /spot/quotation/v3/books: {"code":1000,"data":{"ts":"<ms>","asks":[[p,q]],"bids":[[p,q]]}},
    as a seed with no sequence (the venue numbers nothing there) and the venue's time."""
    data = json_loads(body)
    if not isinstance(data, dict) or data.get("code") != 1000 or not isinstance(data.get("data"), dict):
        message = sanitize(data.get("message"), 100) if isinstance(data, dict) else ""
        raise MalformedData(f"the order book response is not a book{': ' + message if message else ''}")
    entry = data["data"]
    if str(entry.get("symbol", symbol)).upper() != symbol:
        raise MalformedData("the order book response is for another symbol")
    ops = [LevelOp(True, lv.price, lv.amount) for lv in _pairs(entry, "bids")]
    ops += [LevelOp(False, lv.price, lv.amount) for lv in _pairs(entry, "asks")]
    return Seed(None, ops, parse_venue_time(entry.get("ts")))


def read_incremental(data: Any, symbol: str) -> list:
    """An increase100 push: snapshots become seeds, updates numbered changes (absolute sizes)."""
    ours = _our_entries(data, symbol)
    if not isinstance(ours, list):
        return [ours]
    if data.get("table") != INCREMENTAL:
        return [Control("other channel")]
    out: list = []
    for entry in ours:
        ops = _level_ops(entry, "bids", True) + _level_ops(entry, "asks", False)
        kind = entry.get("type")
        if kind not in ("snapshot", "update"):
            raise MalformedData(f"increase100 push of type {sanitize(kind, 20)!r}")
        message = Seed if kind == "snapshot" else Change
        out.append(message(to_sequence(entry.get("version"), "version"), ops, parse_venue_time(entry.get("ms_t"))))
    return out


def read_trades(data: Any, symbol: str, received_at: datetime) -> list[Trade]:
    """A `spot/trade` push (decoded): its trades; events give none, an error refuses.
    BitMart documents `side` as "Side of trade (buy or sell)", not whose: the trade's
    side is None and the venue's word is kept as `venue_side`. No trade id."""
    from orderbook_cli.trades import Trade, entries, side_word

    if not isinstance(data, dict):
        raise MalformedData("frame is not a JSON object")
    if data.get("errorCode") or data.get("errorMessage"):
        reason = sanitize(data.get("errorMessage") or data.get("errorCode"), 200)
        raise VenueRejected(f"BitMart refused the trade subscription to {symbol}: {reason}", hint="check the symbol, e.g. BTC_USDT")
    if data.get("table") != "spot/trade":
        return []
    out = []
    for entry in entries(data, "data", "spot/trade push"):
        if str(entry.get("symbol", symbol)).upper() != symbol:
            continue
        stamp = entry.get("ms_t")
        out.append(Trade(
            "bitmart-v3", symbol, None,
            to_decimal(entry.get("price"), "trade price"), to_decimal(entry.get("size"), "trade size"),
            None,  # "side of trade": whose, BitMart does not say
            parse_venue_time(stamp) if stamp is not None else parse_venue_time(entry.get("s_t")),
            received_at,
            (("venue_side", side_word(entry.get("side"), "trade side")),),
        ))
    return out


def _trade_frame(frame: str | bytes, symbol: str, received_at: datetime) -> list[Trade]:
    data = _decode(frame)
    return [] if isinstance(data, Control) else read_trades(data, symbol, received_at)


def _subscribe_trades(symbol: str) -> list[str]:
    return [json.dumps({"op": "subscribe", "args": [f"spot/trade:{symbol}"]})]


class BitMartV3(SyncedVenue):
    info = VenueInfo(
        id="bitmart-v3",
        name="BitMart (current spot API)",
        transport="WebSocket",
        auth="none",
        default_depth=20,
        max_depth=FULL_DEPTH,
        symbols=SymbolStyle("_", upper=True),
        url_env="OBOOK_BITMART_V3_URL",
        default_url="wss://ws-manager-compress.bitmart.com/api?protocol=1.1",
        limits=Limits(connects_per_minute=30, messages_per_minute=600,
                      source="BitMart spot WebSocket docs (venue-notes): 30 connections a minute per IP, 100 subscribe or request messages per 10 s"),
        options=(FEED_OPTION,),
        example_symbol="BTC_USDT",
        rest_env=REST_ENV, rest_url=REST_ORIGIN,  # the pair list
        summary="what the live exchange serves today: full: increase100, 100 levels, version-checked; top: depth5|20|50 books",
    )
    ping_interval = 15.0
    idle_timeout = 30.0
    book_kind = LevelBook
    seeds_in_band = True
    # --verify-every: the REST book has a time but no version: the levels that stayed still around it are compared
    rest_check = "settled"
    check_levels = REST_CHECK_LEVELS

    def trades(self) -> TradeStream:
        """The `spot/trade` channel on a socket of its own (binary frames inflated, text "ping" kept up)."""
        return TradeStream(_subscribe_trades, _trade_frame, idle=self.idle_timeout, ping=(self.ping_interval, self.ping_message()))

    def max_depth(self, options: Mapping[str, Any] | None = None) -> int | None:
        return CHANNEL_DEPTHS[-1] if (options or {}).get("feed") == "top" else FULL_DEPTH

    def examples(self) -> tuple[Example, ...]:
        def push(table, kind, version):
            return json.dumps({"table": table, "data": [{"symbol": "BTC_USDT", "ms_t": 1698292343610, "type": kind, "version": version,
                                                         "bids": [["67000.10", "0.50000"], ["66999", "1"]], "asks": [["67000.20", "0.01"]]}]})

        ack = json.dumps({"event": "subscribe", "topic": f"{INCREMENTAL}:BTC_USDT"})
        bids, asks = (("67000.10", "0.50000"), ("66999", "1")), (("67000.20", "0.01"),)
        return (Example("BTC_USDT", bids, asks, frames=(ack, push(INCREMENTAL, "snapshot", 4)), sequence=4),
                Example("BTC_USDT", bids, asks, frames=(ack, push("spot/depth20", "snapshot", 0)), options=("--feed", "top")))

    def list_symbols(self, timeout: float) -> list[str]:
        return list_bitmart_symbols(self, timeout)

    def subscribe_messages(self, request: FeedRequest) -> list[str]:
        topic = f"{INCREMENTAL}:{request.symbol}" if self.full(request) else channel(request.symbol, request.depth)
        return [json.dumps({"op": "subscribe", "args": [topic]})]

    def resync_messages(self, request: FeedRequest) -> list[str]:
        return [json.dumps({"op": "request", "args": [f"{INCREMENTAL}:{request.symbol}"]})]

    def ping_message(self) -> str:
        return "ping"

    def fetch_check(self, request: FeedRequest) -> bytes:
        from orderbook_cli.transport.http import HttpClient, HttpStatusError, RateLimited, retry_after, status_error

        http = HttpClient(self.rest_url, request.timeout, REST_ENV)
        try:
            return http.get_body(REST_BOOK_PATH, {"symbol": request.symbol, "limit": REST_CHECK_LEVELS})
        except HttpStatusError as error:
            if error.status == 429:  # BitMart says how long in seconds (X-BM-RateLimit-Reset), not Retry-After's milliseconds
                wait = retry_after({"retry-after": error.headers.get("x-bm-ratelimit-reset", "")}, unit=1.0, cap=60.0)
                raise RateLimited(f"BitMart rate limit (HTTP 429, wait {wait or REST_LOCKOUT:g}s)", wait or REST_LOCKOUT) from error
            raise status_error(error) from error
        finally:
            http.close()

    def read_check(self, body: bytes, request: FeedRequest) -> Seed:
        return read_rest_book(body, request.symbol)

    def resubscribe_messages(self, old: FeedRequest, new: FeedRequest) -> list[str]:
        if self.full(new):
            return []  # increase100 keeps 100 levels whatever is shown
        before, after = channel(old.symbol, old.depth), channel(new.symbol, new.depth)
        if before == after:
            return []
        return [json.dumps({"op": "unsubscribe", "args": [before]}), json.dumps({"op": "subscribe", "args": [after]})]

    def parse(self, frame: str | bytes, request: FeedRequest) -> Message:
        data = _decode(frame)
        return data if isinstance(data, Control) else parse_message(data, request.symbol)

    def read(self, frame: str | bytes, request: FeedRequest) -> Iterable:
        data = _decode(frame)
        return [data] if isinstance(data, Control) else read_incremental(data, request.symbol)


def _decode(frame: str | bytes) -> Any:
    """A frame's JSON (binary frames are raw DEFLATE), or the pong it is."""
    if isinstance(frame, bytes):
        frame = inflate(frame)
    if frame.strip() in ("pong", b"pong"):
        return Control("pong")
    return json_loads(frame)
