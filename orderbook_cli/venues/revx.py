"""Revolut X: REST order books, public or Ed25519-authenticated.

Public: depth <= 5 uses the seed's /api/1.0/public/order-book/{symbol}
(deprecated; on 404/410 obook moves to v2), deeper books use
/api/2.0/public/order-book/{symbol}?limit=N. With credentials:
/api/1.0/order-book/{symbol}?limit=N, signed. Every response shape seen in
the wild is accepted (see venue-notes).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from orderbook_cli.book import Book, RawLevel, to_count, to_decimal
from orderbook_cli.errors import AuthError, MalformedData, ObookError, VenueRejected
from orderbook_cli.feed import Feed, FeedContext, FeedRequest, Limits, Producer
from orderbook_cli.symbols import SymbolStyle
from orderbook_cli.timefmt import now_utc, parse_venue_time
from orderbook_cli.transport.wire import objects
from orderbook_cli.venues.base import Example, TradePoll, Venue, VenueInfo, VenueOption
from orderbook_cli.venues.revx_auth import (
    CredentialSource,
    Signer,
    find_credentials,
    load_signer,
)

V1_PUBLIC = "/api/1.0/public/order-book/{symbol}"
V2_PUBLIC = "/api/2.0/public/order-book/{symbol}"
AUTHENTICATED = "/api/1.0/order-book/{symbol}"
V1_MAX_DEPTH = 5
PUBLIC_POLL_SECONDS = 1.0  # public limit: 1 request/second (RevolutX.info.limits)
AUTH_POLL_SECONDS = 0.25  # well under the authenticated limit (AUTH_LIMITS)
# The authenticated book has its own, higher limit; the public one is in RevolutX.info.
AUTH_LIMITS = Limits(requests_per_minute=1000, source="Revolut X API docs: authenticated market data 100 a second and 1000 a minute")
AUTH_DEFAULT_DEPTH = 20
TRADES = "/api/1.0/public/trades/all"
TRADES_PAGE = 1000  # trades a poll asks for; at one poll a second no Revolut X pair trades faster
TRADES_BACKLOG_MS = 60_000  # the first poll shows the last minute
TRADES_OVERLAP_MS = 2_000  # each later window reaches back this far: late-published prints are not missed

if TYPE_CHECKING:
    from orderbook_cli.trades import Trade
    from orderbook_cli.transport.http import HttpClient


def _level(raw: dict, side: str) -> RawLevel:
    price = raw.get("p", raw.get("price"))
    amount = raw.get("q", raw.get("quantity"))
    count = raw.get("no", raw.get("count"))
    return RawLevel(to_decimal(price, f"{side} price"), to_decimal(amount, f"{side} quantity"), to_count(count))


def parse_book(body: Any) -> tuple[list[RawLevel], list[RawLevel], Any]:
    """(bids, asks, venue timestamp) from any Revolut X order-book shape."""
    if not isinstance(body, dict):
        raise MalformedData("the order book is not a JSON object")
    data = body.get("data")
    container: dict = data if isinstance(data, dict) else body
    # the side comes from the array a level is in, never from its "s" field
    sides = {side: [_level(level, side[:-1]) for level in objects(container, side, "an order book")] for side in ("bids", "asks")}
    stamp = None
    for holder in ("metadata", "last_price"):
        if isinstance(body.get(holder), dict) and body[holder].get("timestamp") is not None:
            stamp = body[holder]["timestamp"]
            break
    else:
        published = [lv.get("pdt") for side in ("bids", "asks") for lv in container[side] if lv.get("pdt") is not None]
        times = [t for t in map(parse_venue_time, published) if t is not None]  # pdt "" is no time
        stamp = max(times) if times else None
    return sides["bids"], sides["asks"], stamp


def read_trades(data: Any, symbol: str, received_at: datetime) -> list[Trade]:
    """A `GET /api/1.0/public/trades/all` page, oldest first. `side` is documented as
    "Trade side", not whose: the trade's side is None, the venue's word `venue_side`."""
    from orderbook_cli.trades import Trade, entries, side_word, text_id

    trades = []
    for entry in entries(data, "data", "trade history"):
        trades.append(Trade(
            "revx", symbol, text_id(entry.get("id"), "trade id"),
            to_decimal(entry.get("price"), "trade price"), to_decimal(entry.get("quantity"), "trade quantity"),
            None, parse_venue_time(entry.get("timestamp")), received_at,
            (("venue_side", side_word(entry.get("side"), "trade side")),),
        ))
    trades.sort(key=lambda t: t.timestamp or received_at)  # stable: same-millisecond prints keep the venue's order
    return trades


def next_cursor(data: Any) -> str:
    """A trade-history page's cursor for more of the same window ("" when none)."""
    metadata = data.get("metadata") if isinstance(data, dict) else None
    cursor = metadata.get("next_cursor") if isinstance(metadata, dict) else None
    return cursor if isinstance(cursor, str) and len(cursor) <= 512 and cursor.isprintable() else ""


def trade_pages(http: HttpClient, symbol: str) -> Callable[[], list[Trade]]:
    """One poll of the public trade history: the first shows the last minute, each later
    window starts a little before the newest trade already seen (overlaps are the tape's
    to drop, by id)."""
    from orderbook_cli.debuglog import log
    from orderbook_cli.transport.http import HttpStatusError, status_error

    newest_ms: int | None = None

    def fetch() -> list[Trade]:
        nonlocal newest_ms
        now_ms = int(time.time() * 1000)
        start = now_ms - TRADES_BACKLOG_MS if newest_ms is None else min(now_ms, newest_ms) - TRADES_OVERLAP_MS
        try:
            body = http.get_json(TRADES, {"symbol": symbol, "start_date": start, "limit": TRADES_PAGE})
        except HttpStatusError as error:
            raise _explain(status_error(error), error, symbol, False) from error
        trades = read_trades(body, symbol, now_utc())
        stamps = [int(t.timestamp.timestamp() * 1000) for t in trades if t.timestamp]  # float-ok: ms of a datetime
        if stamps:
            newest_ms = max(stamps + ([newest_ms] if newest_ms else []))
        if len(trades) >= TRADES_PAGE and next_cursor(body):
            log.debug("revx: more than %d trades since the last poll; the oldest of them are not shown", TRADES_PAGE)
        return trades

    return fetch


def _clock_skew(headers: Any) -> str:
    """How far the local clock is from the server's, if its Date header says."""
    from orderbook_cli.transport.http import http_date

    server = http_date(headers.get("date", ""))
    if server is None:
        return ""
    skew = (now_utc() - server).total_seconds()
    if abs(skew) < 2:  # within the Date header's one-second steps: no figure to tell ("0s ahead" says nothing)
        return ""
    return f"; the local clock is {abs(skew):.0f}s {'ahead of' if skew > 0 else 'behind'} the server's"


def _explain(error: ObookError, failure: Any, symbol: str, authenticated: bool) -> ObookError:
    """Revolut X's own meaning of a status, as one actionable line."""
    message, status = error.message, failure.status
    if status == 400 and "pair" in message.lower():
        return VenueRejected(f"unknown pair {symbol} ({message})", hint="check the symbol, e.g. BTC-USD")
    if status == 409:
        return AuthError(
            f"Revolut X refused the request timestamp ({failure.venue_message}){_clock_skew(failure.headers)}",
            hint="sync the local clock (e.g. enable NTP) and try again",
        )
    if status in (401, 403) and authenticated:
        error.hint = "check the API key and private key pair, and that the key is allow-listed for this IP address; or pass --public for the public book"
    elif status in (401, 403):
        error.hint = "the public order book should not need credentials; check OBOOK_REVX_URL"
    return error


def _or_public(error: AuthError) -> AuthError:
    """Broken credentials say how to get the public book meanwhile."""
    public = "or pass --public for the public book (no credentials)"
    return AuthError(error.message, hint=f"{error.hint}; {public}" if error.hint else public)


class RevolutX(Venue):
    info = VenueInfo(
        id="revx",
        name="Revolut X",
        transport="REST polling",
        auth="public, or Ed25519 API key",
        default_depth=V1_MAX_DEPTH,
        max_depth=50,
        symbols=SymbolStyle("-", upper=True),
        url_env="OBOOK_REVX_URL",
        default_url="https://revx.revolut.com",
        example_symbol="BTC-USD",
        limits=Limits(requests_per_minute=60, source="Revolut X API docs: public endpoints 1 request a second"),
        options=(VenueOption("public", "the public book, even when API credentials are configured."),),
        summary="public book (5 levels, or up to 50 via v2); up to 50 levels with an API key",
    )

    _credentials: CredentialSource | None | bool = False  # False: not looked up yet

    def credentials(self) -> CredentialSource | None:
        if self._credentials is False:
            try:
                self._credentials = find_credentials(self.environ)
            except AuthError as error:
                raise _or_public(error) from error
        return self._credentials if isinstance(self._credentials, CredentialSource) else None

    def signer(self) -> Signer | None:
        """The request signer from the configured credentials; None for the public book."""
        source = self.credentials()
        if source is None:
            return None
        try:
            return load_signer(source)
        except AuthError as error:
            raise _or_public(error) from error

    def use_options(self, options) -> None:
        if options.get("public"):
            self._credentials = None  # --public: never look at the credentials

    def examples(self) -> tuple[Example, ...]:
        def level(side, price, quantity, orders):
            return {"aid": "BTC", "s": side, "p": price, "pc": "USD", "q": quantity, "qc": "BTC", "no": orders, "pdt": "2026-07-29T07:23:53.816Z"}

        body = {"data": {"asks": [level("SELL", "67010.00", "0.2", "1"), level("SELL", "67005.50", "1.5000", "3")],  # worst first, as sent
                         "bids": [level("BUYI", "67000.00", "0.75", "2")]}, "metadata": {"timestamp": "2026-07-29T07:23:53.816Z"}}
        return (Example("BTC-USD", (("67000.00", "0.75"),), (("67005.50", "1.5000"), ("67010.00", "0.2")),
                        rest=((V1_PUBLIC.format(symbol="BTC-USD"), json.dumps(body)),), options=("--public",)),)

    def default_depth(self) -> int:
        return AUTH_DEFAULT_DEPTH if self.credentials() else V1_MAX_DEPTH

    def trades(self) -> TradePoll:
        """The public trade history, polled at the public limit (one request a second)."""
        return TradePoll(trade_pages, PUBLIC_POLL_SECONDS)

    def list_symbols(self, timeout: float) -> list[str]:
        pairs = self._get_json(self.info.url_env, self.info.default_url, "/api/1.0/public/configuration/pairs", timeout)
        if not isinstance(pairs, dict):
            raise MalformedData("the pair list is not a JSON object")
        return [name.replace("/", "-") for name in pairs if isinstance(name, str)]

    def describe(self) -> dict[str, Any]:
        # The listing must work whatever state the credentials are in: an unusable
        # file is reported on its row (and the defaults are the public book's).
        try:
            source = self.credentials()
            self.signer()  # "configured" only when the key file is there and reads as a key
        except AuthError as error:
            self._credentials = None
            problem = error.message + (f" ({error.hint})" if error.hint else "")
            return {**super().describe(), "credentials": f"unusable: {problem}", "credentials_state": "unusable"}
        row = super().describe()
        row["credentials"] = source.describe() if source else "none found (public book)"
        row["credentials_state"] = "configured" if source else "none"
        return row

    def open_feed(self, request: FeedRequest) -> Feed:
        producer = self.producer(request)  # finds the credentials (or fails on them) first
        return Feed(request, producer, limits=AUTH_LIMITS if self.credentials() else self.info.limits)

    def producer(self, request: FeedRequest) -> Producer:
        from orderbook_cli.feed import poll
        from orderbook_cli.transport.http import HttpClient, HttpStatusError, status_error

        symbol = request.symbol
        signer = self.signer()
        v1_gone = False  # the seed endpoint answered 404/410: v2 from then on

        def fetch_with(http: HttpClient, request: FeedRequest) -> Book:
            nonlocal v1_gone
            depth = request.depth  # read on every poll: the ladder's +/- keys change it
            use_v2 = v1_gone or depth > V1_MAX_DEPTH
            if signer:
                path, params = AUTHENTICATED, {"limit": depth}
            elif use_v2:
                path, params = V2_PUBLIC, {"limit": depth}
            else:
                path, params = V1_PUBLIC, None
            try:
                body = http.get_json(path.format(symbol=quote(symbol, safe="")), params, sign=signer)
            except HttpStatusError as error:
                if not signer and not use_v2 and error.status in (404, 410):
                    v1_gone = True  # the seed endpoint is deprecated; v2 replaces it
                    return fetch_with(http, request)
                raise _explain(status_error(error), error, symbol, signer is not None) from error
            received_at = now_utc()
            bids, asks, stamp = parse_book(body)
            return request.book(bids, asks, parse_venue_time(stamp), received_at)

        def produce(ctx: FeedContext) -> None:
            http = HttpClient(self.url, request.timeout, self.info.url_env)
            try:
                poll(ctx, lambda: fetch_with(http, ctx.request), AUTH_POLL_SECONDS if signer else PUBLIC_POLL_SECONDS)
            finally:
                http.close()

        return produce
