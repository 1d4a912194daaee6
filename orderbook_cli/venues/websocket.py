"""What a venue spoken over one WebSocket declares, the handler that turns
its frames into books, and the feed's life over links from transport/ws.py:
connect, subscribe, read, ping, and on failure the feed's retry policy.

A plain venue's every book is a full book from one frame; venues whose
books are kept from a seed and numbered changes build on this in
venues/synced.py.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, NamedTuple

from orderbook_cli.book import RawLevel
from orderbook_cli.errors import MalformedData, NetworkError, ObookError, VenueFailed
from orderbook_cli.feed import FeedContext, FeedRequest, Producer, RawBook, State
from orderbook_cli.venues.base import Venue


class BookUpdate(NamedTuple):
    """A full book from one frame."""

    bids: Iterable[RawLevel]
    asks: Iterable[RawLevel]
    timestamp: datetime | None


class Control(NamedTuple):
    """Acks, keep-alives, pongs, other channels: proof of life, nothing to show."""

    kind: str
    venue_status: str | None = None  # the venue's own word on its system (Kraken's `status`: online, maintenance, ...)


class Rejected(NamedTuple):
    """The venue refused the subscription: fatal, no retry."""

    error: ObookError


Message = BookUpdate | Control | Rejected
TICK_SECONDS = 0.5  # how often the reader wakes for pings, the handler's tick and stop


class WebSocketVenue(Venue):
    """A venue spoken over one WebSocket: subclasses say what to send and how to read."""

    idle_timeout: float = 30.0  # no frame at all (keep-alives included) for this long: the link is dead
    ping_interval: float | None = None  # send ping_message() this often, if the venue wants pings

    @abstractmethod
    def subscribe_messages(self, request: FeedRequest) -> list[str]:
        """Frames to send right after connecting."""

    @abstractmethod
    def parse(self, frame: str | bytes, request: FeedRequest):
        """One frame to a message; raise MalformedData for anything unusable."""

    def ping_message(self) -> str:
        raise NotImplementedError

    def resubscribe_messages(self, old: FeedRequest, new: FeedRequest) -> list[str]:
        """Frames that move a live link to the new request's depth; none where the
        channel does not depend on depth (books are trimmed locally)."""
        return []

    def feed_kind(self, request: FeedRequest) -> str | None:
        """Which of the venue's feeds the request gets (None: it has only one)."""
        return None

    def connections(self, ctx: FeedContext, *, live: bool = True) -> Callable[[Callable[[str], None], Any], Any]:
        """Once per feed: a factory of one connection's frame handler, called with
        (send, tap) on every (re)connection (the tap sees REST seeds). ``live`` is False when a
        recording is replayed (nothing may be fetched or sent). Handlers read
        ``ctx.request`` afresh: the ladder may ask for another depth meanwhile."""
        return lambda send, recorder: BookFrames(ctx, self, send, live=live)

    def producer(self, request: FeedRequest) -> Producer:
        return lambda ctx: self.stream(ctx)

    def stream(self, ctx: FeedContext) -> None:
        request = ctx.request
        ping = (self.ping_interval, self.ping_message()) if self.ping_interval else None
        handlers = self.connections(ctx)

        def on_connect(link):
            for message in self.subscribe_messages(ctx.request):  # the depth may have changed since the last link
                link.send(message)
            return handlers(link.send, ctx.tap)

        stream(ctx, self.url, self.info.url_env, request.idle_timeout or self.idle_timeout, ping, on_connect)


class BookFrames:
    """Every frame that is a book becomes one; the first one is enough for a snapshot."""

    tick_seconds = None

    def __init__(self, ctx: FeedContext, venue: WebSocketVenue, send: Callable[[str], None], live: bool = True):
        self.ctx, self.venue, self.send = ctx, venue, send
        self.request = ctx.request
        self.live = live  # a replay's recorded delays are not this machine's

    def _current(self) -> FeedRequest:
        request = self.ctx.request
        if request is not self.request:  # the ladder asked for another depth
            for message in self.venue.resubscribe_messages(self.request, request):
                self.send(message)
            self.request = request
        return request

    def frame(self, frame: str | bytes, received_at: datetime) -> bool:
        ctx, request = self.ctx, self._current()
        try:
            message = self.venue.parse(frame, request)
        except MalformedData as exc:
            ctx.malformed(exc)
            return False
        if isinstance(message, Rejected):
            raise message.error
        if isinstance(message, BookUpdate):
            if self.live:
                ctx.stamped(message.timestamp, received_at)  # the venue's stamp: how late its messages arrive
            bids, asks = message.bids, message.asks
            if ctx.defers and type(bids) is list and type(asks) is list:  # parsed already: normalized when drawn (Feed.defer_shaping)
                ctx.emit_book(RawBook(request, bids, asks, message.timestamp, received_at))
                return request.once
            try:
                book = request.book(bids, asks, message.timestamp, received_at)
            except MalformedData as exc:  # levels are parsed lazily by some venues
                ctx.malformed(exc)
                return False
            ctx.emit_book(book)
            return request.once
        if message.venue_status is not None:
            ctx.venue_says(message.venue_status)
        return False

    def tick(self) -> bool:
        self._current()
        return False


def stream(ctx: FeedContext, url: str, url_env: str, idle: float, ping: tuple[float, str] | None,
           on_connect: Callable[[Any], Any]) -> None:
    """Connect, let ``on_connect`` subscribe on the new link and return its frame handler,
    read; after a failure wait as the feed's retry policy says and connect again.
    ``ping``: (interval, message) when the far end wants keep-alive pings."""
    from orderbook_cli.transport import ws

    request = ctx.request
    ctx.set_state(State.CONNECTING)
    while not ctx.stopped.is_set():
        try:
            link = ws.connect(url, url_env, timeout=min(request.timeout, ctx.remaining()) if request.once else request.timeout,
                              idle=idle, stopped=ctx.stopped)
        except (NetworkError, VenueFailed) as error:  # both retried: the venue may be restarting
            failure: ObookError | None = error
        else:
            failure = _read(ctx, link, on_connect, idle, ping)
        if ctx.stopped.is_set() or failure is None or not ctx.retry_after_failure(failure):
            return


def _read(ctx: FeedContext, link, on_connect: Callable[[Any], Any], idle: float, ping: tuple[float, str] | None) -> ObookError | None:
    """One link's life: None when the feed is done or stopped, else why the link failed."""
    from orderbook_cli.transport.ws import LinkLost

    clean = False
    try:
        ctx.link_up()
        handler = on_connect(link)
        # A link watched for `idle` seconds without data must be pinged well within that.
        ping_every = min(ping[0], idle / 2) if ping else None
        last_ping = time.monotonic()
        stopped, tap, wait = ctx.stopped, ctx.tap, idle / 4  # looked up once: the loop runs for every frame
        while not stopped.is_set():
            try:
                frame = link.receive(min(handler.tick_seconds or TICK_SECONDS, wait))
            except MalformedData as exc:  # a frame obook will not even read: drop the link
                ctx.malformed(exc)
                return VenueFailed(f"the venue sent {exc.message}")
            if frame is not None:
                ctx.heard()  # keep-alives and pongs too: a quiet book on a live link is not stale
                data, received_at = frame
                tap.frame(data, received_at)
                if handler.frame(data, received_at):
                    break
            elif ping is not None and ping_every and time.monotonic() - last_ping >= ping_every:
                link.send(ping[1])
                last_ping = time.monotonic()
            if handler.tick():
                break
        clean = True
        return None
    except LinkLost as error:
        return error
    finally:
        link.close(wait=clean and not ctx.stopped.is_set())
