"""Bitso: `--feed full` (default) keeps the whole book from `diff-orders` and a
REST seed; `--feed top` shows the `orders` channel.

Full depth follows Bitso's "How to keep an order book" (see venue notes):
subscribe to `diff-orders` and queue, seed from
`GET /api/v3/order_book/?book=X&aggregate=false` (its `sequence` is a string),
apply diffs from seed + 1 on. It is an order-level feed: `open` inserts or
moves order `o`, `cancelled`/`completed` remove it, whatever `a`/`v` say;
the side is `t` (0 bid, 1 ask) or the known order's. `snapshot` reads the
REST book alone: a quiet book pushes nothing on the socket.

`orders` replaces the whole book with the top 20 individual orders per
side; obook aggregates them by price. There the side comes from the
`bids`/`asks` array, never from `t` (the doc example has it swapped).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from orderbook_cli.book import RawLevel, remembered_number, to_decimal, to_sequence
from orderbook_cli.errors import AuthError, MalformedData, ObookError, VenueRejected, sanitize
from orderbook_cli.feed import FeedRequest, Limits, Producer
from orderbook_cli.symbols import SymbolStyle
from orderbook_cli.sync import Change, OrderBook, OrderOp, Seed
from orderbook_cli.timefmt import now_utc, parse_venue_time
from orderbook_cli.transport.wire import json_loads, objects
from orderbook_cli.venues.base import Example, TradeStream, VenueInfo
from orderbook_cli.venues.synced import FEED_OPTION, SyncedVenue
from orderbook_cli.venues.websocket import BookUpdate, Control, Message, Rejected

if TYPE_CHECKING:
    from orderbook_cli.trades import Trade

REST_ENV, REST_ORIGIN = "OBOOK_BITSO_REST_URL", "https://api.bitso.com"
TOP_DEPTH = 20  # the orders channel's 20 orders per side
LOCKOUT_SECONDS = 60.0  # Bitso locks a client out for a minute after too many requests
MAX_LOCKOUT_SECONDS = 600.0
MAX_ORDER_ID = 64
UNKNOWN_BOOK_CODE = "0301"  # Bitso's error code for a book it does not list


def _orders(payload: dict, side: str) -> list[RawLevel]:
    """A (price, amount, 1) RawLevel-shaped tuple per individual order (plain tuples:
    the hot path of `--feed top`); make_book merges equal prices and counts them.
    Numbers already converted are read from to_decimal's memory without a call."""
    rate, amount = f"{side} rate", f"{side} amount"
    orders = objects(payload, side, "orders message")
    known = remembered_number
    try:
        return cast("list[RawLevel]", [(known(r := order.get("r")) or to_decimal(r, rate), known(a := order.get("a")) or to_decimal(a, amount), 1)
                                       for order in orders])
    except TypeError:  # an unhashable value (a list, an object): to_decimal says what is wrong with it
        return cast("list[RawLevel]", [(to_decimal(order.get("r"), rate), to_decimal(order.get("a"), amount), 1) for order in orders])


def _control(data: Any, book: str, channel: str) -> Message | None:
    """Acks, refusals, keep-alives and other books; None for a message of `channel` about `book`."""
    if not isinstance(data, dict):
        raise MalformedData("frame is not a JSON object")
    if data.get("action") == "subscribe":
        if "error" in data or data.get("response", "ok") != "ok":
            reason = data.get("error") or data.get("response")
            return Rejected(VenueRejected(f"Bitso does not support the book {book!r}: {sanitize(reason, 200)}", hint="check the book name, e.g. btc_mxn"))
        return Control("ack")
    kind = data.get("type")
    if kind == "ka":
        return Control("keepalive")
    if kind != channel or data.get("book") not in (None, book):
        return Control("other")
    return None


def parse_message(data: Any, book: str) -> Message:
    """An `orders` frame: a whole (top 20 orders) book."""
    control = _control(data, book, "orders")
    if control is not None:
        return control
    payload = data.get("payload")
    if not isinstance(payload, dict):
        raise MalformedData("orders message without a payload object")
    return BookUpdate(_orders(payload, "bids"), _orders(payload, "asks"), parse_venue_time(data.get("sent")))




def _order_id(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ORDER_ID:
        raise MalformedData("an order without a usable id")
    return value


def _is_bid(value: object) -> bool | None:
    if value is None:
        return None
    if value in (0, "0") and not isinstance(value, bool):
        return True
    if value in (1, "1") and not isinstance(value, bool):
        return False
    raise MalformedData(f"order side t={str(value)[:10]!r} is neither 0 nor 1")


def _order_change(entry: dict) -> OrderOp:
    order_id, status = _order_id(entry.get("o")), entry.get("s")
    if status == "open":
        return OrderOp(order_id, True, _is_bid(entry.get("t")), to_decimal(entry.get("r"), "order rate"), to_decimal(entry.get("a"), "order amount"))
    if status in ("cancelled", "completed"):  # never keyed on a/v: recorded traffic and the docs disagree on them
        return OrderOp(order_id, False, completed=status == "completed")
    raise MalformedData(f"an order change with status {sanitize(status, 20)!r}")


def read_diff(data: Any, book: str) -> list:
    """A `diff-orders` frame: one numbered change of one or several orders."""
    control = _control(data, book, "diff-orders")
    if control is not None:
        return [control]
    sequence = to_sequence(data.get("sequence"), "sequence")
    ops = [_order_change(entry) for entry in objects(data, "payload", "diff-orders message")]
    return [Change(sequence, ops, parse_venue_time(data.get("sent")))]


def taker_side(value: object) -> str:
    """``t`` on a trade: the taker's side, 0 buy, 1 sell (docs.bitso.com, trades channel)."""
    from orderbook_cli.trades import BUY, SELL

    if value in (0, "0") and not isinstance(value, bool):
        return BUY
    if value in (1, "1") and not isinstance(value, bool):
        return SELL
    raise MalformedData(f"trade side t={sanitize(str(value)[:10], 10)!r} is neither 0 nor 1")


def read_trades(data: Any, book: str, received_at: datetime) -> list[Trade]:
    """A `trades` frame (decoded): its trades, with the maker and taker order ids as extras;
    acks and keep-alives give none; a refused book raises VenueRejected."""
    from orderbook_cli.trades import Trade, entries, text_id

    if not isinstance(data, dict):
        raise MalformedData("frame is not a JSON object")
    if data.get("action") == "subscribe":
        if "error" in data or data.get("response", "ok") != "ok":
            reason = sanitize(data.get("error") or data.get("response"), 200)
            raise VenueRejected(f"Bitso does not support the book {book!r}: {reason}", hint="check the book name, e.g. btc_mxn")
        return []
    if data.get("type") != "trades" or data.get("book") not in (None, book):
        return []
    sent = parse_venue_time(data.get("sent"))
    out = []
    for entry in entries(data, "payload", "trades message"):
        extras = (("maker_order", text_id(entry.get("mo"), "maker order id")), ("taker_order", text_id(entry.get("to"), "taker order id")))
        out.append(Trade(
            "bitso", book, text_id(entry.get("i"), "trade id"),
            to_decimal(entry.get("r"), "trade rate"), to_decimal(entry.get("a"), "trade amount"),
            taker_side(entry.get("t")),
            parse_venue_time(entry.get("x")) or sent, received_at,
            tuple((key, value) for key, value in extras if value is not None),
        ))
    return out


def _trade_frame(frame: str | bytes, book: str, received_at: datetime) -> list[Trade]:
    if isinstance(frame, bytes):
        raise MalformedData("unexpected binary frame")
    return read_trades(json_loads(frame), book, received_at)


def _subscribe_trades(book: str) -> list[str]:
    return [json.dumps({"action": "subscribe", "book": book, "type": "trades"})]


def _rest_payload(body: bytes) -> dict:
    data = json_loads(body)
    if not isinstance(data, dict) or data.get("success") is not True or not isinstance(data.get("payload"), dict):
        raise MalformedData("the order book response has no successful payload")
    return data["payload"]


def _rest_entries(payload: dict, side: str, book: str) -> list[dict]:
    """A side's entries; each names its book, and one for another book makes the answer unusable
    (compared or seeded, it would be taken for this book's)."""
    found = objects(payload, side, "order book")
    if any(entry.get("book") not in (None, book) for entry in found):
        raise MalformedData(f"the order book response holds {side} of another book than {book!r}")
    return found


def _rest_levels(payload: dict, count: int | None, book: str) -> dict[str, list[RawLevel]]:
    return {side: [RawLevel(to_decimal(lv.get("price"), f"{side} price"), to_decimal(lv.get("amount"), f"{side} amount"), count)
                   for lv in _rest_entries(payload, side, book)] for side in ("bids", "asks")}


def read_seed(body: bytes, book: str) -> Seed:
    """The REST book with order ids (aggregate=false), as a seed."""
    payload = _rest_payload(body)
    ops = []
    for side, is_bid in (("bids", True), ("asks", False)):
        for order in _rest_entries(payload, side, book):
            ops.append(OrderOp(_order_id(order.get("oid")), True, is_bid,
                               to_decimal(order.get("price"), f"{side} price"), to_decimal(order.get("amount"), f"{side} amount")))
    return Seed(to_sequence(payload.get("sequence"), "sequence"), ops, parse_venue_time(payload.get("updated_at")))


def _refusal(status: int, venue_message: str, book: str) -> ObookError:
    """Bitso's error envelope ({"success":false,"error":{"code","message"}}) as one line, never the raw body."""
    try:
        data = json_loads(venue_message)
    except MalformedData:
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    code = sanitize(error.get("code"), 10) if isinstance(error, dict) and error.get("code") is not None else ""
    text = sanitize(error.get("message"), 120) if isinstance(error, dict) and error.get("message") is not None else ""
    if code == UNKNOWN_BOOK_CODE or "book" in text.lower():
        return VenueRejected(f"Bitso does not list the book {book!r}", hint="check the name with 'obook symbols bitso' (books look like btc_mxn)")
    said = text or (f"code {code}" if code else "no reason given")
    return VenueRejected(f"Bitso refused the order book request for {book!r} (HTTP {status}: {said})", hint="check the book name, e.g. btc_mxn")


def _retry_after(headers: Mapping[str, str]) -> float:
    """Retry-After in seconds or as an HTTP date; a minute when absent (Bitso's lockout)."""
    from orderbook_cli.transport.http import retry_after

    wait = retry_after(headers, unit=1.0, cap=MAX_LOCKOUT_SECONDS)
    return LOCKOUT_SECONDS if wait is None else wait


class Bitso(SyncedVenue):
    info = VenueInfo(
        id="bitso",
        name="Bitso",
        transport="WebSocket",
        auth="none",
        default_depth=20,
        max_depth=None,
        symbols=SymbolStyle("_", upper=False),
        url_env="OBOOK_BITSO_URL",
        default_url="wss://ws.bitso.com",
        options=(FEED_OPTION,),
        limits=Limits(requests_per_minute=60, reconnect_floor=2.0,
                      source="docs.bitso.com: public REST 60 requests a minute per IP (over it: locked out a minute); "
                             "WebSocket connections: no published limit, obook waits 2 s between attempts"),
        example_symbol="btc_mxn",
        rest_env=REST_ENV, rest_url=REST_ORIGIN,
        summary="full: the whole book from diff-orders + REST seed, sequence-checked; top: the orders channel (20 orders a side)",
    )
    idle_timeout = 45.0  # Bitso sends {"type":"ka"} about every 20 s
    book_kind = OrderBook
    rest_check = "sequence"  # --verify-every: the REST seed's own book, compared at its sequence

    def examples(self) -> tuple[Example, ...]:
        rest = {"success": True, "payload": {"updated_at": "2026-01-01T00:00:00+00:00", "sequence": "27214",
                "bids": [{"book": "btc_mxn", "price": "1790000.00", "amount": "0.05000000"}, {"book": "btc_mxn", "price": "1789000", "amount": "1.2"}],
                "asks": [{"book": "btc_mxn", "price": "1791000.50", "amount": "0.3"}, {"book": "btc_mxn", "price": "1792000", "amount": "2"}]}}
        ack = json.dumps({"action": "subscribe", "response": "ok", "time": 1, "type": "orders", "book": "btc_mxn"})
        orders = json.dumps({"type": "orders", "book": "btc_mxn", "sent": 1767225600000, "payload": {  # two orders at one price: one level
            "bids": [{"o": "a", "r": "1790000", "a": "0.25", "v": "447500", "t": 1, "d": 1, "s": "undefined"},
                     {"o": "b", "r": "1790000", "a": "0.5", "v": "895000", "t": 1, "d": 1, "s": "undefined"}],
            "asks": [{"o": "c", "r": "1791000", "a": "0.1", "v": "179100", "t": 0, "d": 1, "s": "undefined"}]}})
        return (Example("btc_mxn", (("1790000.00", "0.05000000"), ("1789000", "1.2")), (("1791000.50", "0.3"), ("1792000", "2")),
                        rest=(("/api/v3/order_book/", json.dumps(rest)),), rest_env=REST_ENV, options=("--depth", "2"), sequence=27214),
                Example("btc_mxn", (("1790000", "0.75"),), (("1791000", "0.1"),), frames=(ack, orders), options=("--feed", "top")))

    def trades(self) -> TradeStream:
        """The `trades` channel: `t` is the taker's side; each trade names its maker and taker orders."""
        return TradeStream(_subscribe_trades, _trade_frame, idle=self.idle_timeout)

    def max_depth(self, options: Mapping[str, Any] | None = None) -> int | None:
        return TOP_DEPTH if (options or {}).get("feed") == "top" else None  # full: the whole book is kept

    def list_symbols(self, timeout: float) -> list[str]:
        body = self._get_json(REST_ENV, REST_ORIGIN, "/api/v3/available_books/", timeout)
        books = objects(body, "payload", "the book list")
        return [b["book"] for b in books if isinstance(b.get("book"), str)]

    def subscribe_messages(self, request: FeedRequest) -> list[str]:
        channel = "diff-orders" if self.full(request) else "orders"
        return [json.dumps({"action": "subscribe", "book": request.symbol, "type": channel})]

    def parse(self, frame: str | bytes, request: FeedRequest) -> Message:
        if isinstance(frame, bytes):
            raise MalformedData("unexpected binary frame")
        return parse_message(json_loads(frame), request.symbol)

    def read(self, frame: str | bytes, request: FeedRequest) -> Iterable:
        if isinstance(frame, bytes):
            raise MalformedData("unexpected binary frame")
        return read_diff(json_loads(frame), request.symbol)

    def read_seed(self, body: bytes, request: FeedRequest) -> Seed:
        return read_seed(body, request.symbol)

    def _rest_book(self, request: FeedRequest, aggregate: bool) -> bytes:
        from orderbook_cli.transport.http import (
            HttpClient,
            HttpStatusError,
            RateLimited,
            status_error,
        )

        http = HttpClient(self.rest_url, request.timeout, REST_ENV)
        try:
            return http.get_body("/api/v3/order_book/", {"book": request.symbol, "aggregate": "true" if aggregate else "false"})
        except HttpStatusError as error:
            if error.status in (420, 429):
                wait = _retry_after(error.headers)
                raise RateLimited(f"Bitso rate limit (HTTP {error.status}, locked out for {wait:g}s)", wait) from error
            if error.status in (401, 403):  # a public book: the venue refuses this client, not the book (exit 6, as over WebSocket)
                raise AuthError(f"Bitso refused the order book request (HTTP {error.status}: {error.venue_message})",
                                hint=f"the venue refuses requests from here (an IP or region block?); check {REST_ENV}") from error
            if 400 <= error.status < 500:
                raise _refusal(error.status, error.venue_message, request.symbol) from error
            raise status_error(error) from error
        finally:
            http.close()

    def fetch_seed(self, request: FeedRequest) -> bytes:
        return self._rest_book(request, aggregate=False)

    def producer(self, request: FeedRequest) -> Producer:
        if request.once and self.full(request):
            return lambda ctx: self._snapshot(ctx, request)
        return super().producer(request)

    def _snapshot(self, ctx, request: FeedRequest) -> None:
        """One REST book: aggregated, or the orders themselves when more levels are asked for."""
        from orderbook_cli.feed import poll

        def fetch():
            received_at = now_utc()
            payload = _rest_payload(self._rest_book(request, aggregate=True))
            levels = _rest_levels(payload, None, request.symbol)
            if min(len(levels["bids"]), len(levels["asks"])) < request.depth:
                payload = _rest_payload(self._rest_book(request, aggregate=False))
                levels = _rest_levels(payload, 1, request.symbol)  # one entry per order: make_book sums and counts them
            book = request.book(levels["bids"], levels["asks"], parse_venue_time(payload.get("updated_at")), received_at)
            return book._replace(sequence=to_sequence(payload.get("sequence"), "sequence"))

        poll(ctx, fetch, interval=1.0)

