"""WebSocket venues whose book is kept from a seed and a stream of changes.

The venue contract (what a :class:`SyncedVenue` subclass declares):

- ``book_kind``: :class:`~orderbook_cli.sync.LevelBook` (price levels,
  absolute sizes) or :class:`~orderbook_cli.sync.OrderBook` (individual orders);
- :meth:`SyncedVenue.read`: a frame to :class:`~orderbook_cli.sync.Seed` /
  :class:`~orderbook_cli.sync.Change` messages (``sequence`` None when the
  venue numbers nothing; ``checksum`` the venue's own, when it sends one)
  and :class:`Control` / :class:`Rejected`;
- :meth:`SyncedVenue.book_checksum`: the venue's checksum of a book (over the
  wire text of its prices and amounts: :func:`wire_text`), verified after
  every message that carries one;
- :meth:`SyncedVenue.kept_depth`: the depth the venue keeps the book at on its
  side (the book is truncated to it after every message), None for all;
- seeds: in band (``seeds_in_band``; :meth:`SyncedVenue.resync_messages` are
  the frames that ask for a fresh one on the same socket, e.g. a request,
  or an unsubscribe + subscribe) or over REST (:meth:`SyncedVenue.fetch_seed`
  and :meth:`SyncedVenue.read_seed`).

:class:`SyncConnection` wires that to the venue-agnostic
:class:`~orderbook_cli.sync.SyncEngine` and reports through the feed
context: one book per applied message, a `resyncing` state with the reason
whenever the book had to be dropped (a gap, a restarted sequence, a
checksum mismatch, a crossed book).

Seeds are paced per feed (across reconnections) by one :class:`SeedPacer`:
at most one ask every SEED_INTERVAL seconds (or the venue's declared request
floor, `Limits`, if longer), longer after failures, and as
long as the venue says after a 420/429 lockout. REST seeds come in on a
helper thread so the socket keeps being read (and changes keep being
queued) meanwhile; they are handed to the engine on the reader's thread.
"""

from __future__ import annotations

import threading
import time
from abc import abstractmethod
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from orderbook_cli.errors import MalformedData, ObookError
from orderbook_cli.feed import Backoff, FeedContext, FeedRequest, State, is_transient
from orderbook_cli.shape import WholeBook
from orderbook_cli.sync import BookKind, Change, LevelBook, Seed, SyncEngine
from orderbook_cli.timefmt import now_utc
from orderbook_cli.venues.base import VenueOption, one_of
from orderbook_cli.venues.websocket import Control, Rejected, WebSocketVenue

SEED_INTERVAL = 2.0  # seconds between seed asks at the least, however generous the venue's declared limits
SEED_BACKOFF_CAP = 60.0
IN_BAND_RETRY = 10.0  # ask again for an in-band seed that has not come after this long
BUSY_TICK = 0.05  # how often the reader looks for a seed fetched in the background
CROSSED_TICK = 0.25  # how often the reader looks at a crossed book that has gone quiet

# --feed, for synced venues that also have the venue's own top-of-book pushes
FEED_OPTION = VenueOption("feed", "full = the whole sequence-checked book (default), top = the venue's top-of-book pushes.",
                          "top|full", one_of("top", "full"), choices=("full", "top"))


class SeedPacer:
    """When a seed may next be asked for, REST or in band: at least SEED_INTERVAL after
    the last answer, longer after failures, as long as the venue says after a lockout.

    One per feed (it outlives reconnections), so the venue's limit holds
    whatever the socket does.
    """

    def __init__(self, floor: float = 0.0) -> None:
        self.floor = max(SEED_INTERVAL, floor)
        self.backoff = Backoff(floor=self.floor, base=self.floor, cap=max(SEED_BACKOFF_CAP, self.floor))
        self.next_at = 0.0

    def due(self) -> bool:
        return time.monotonic() >= self.next_at

    def space(self, delay: float | None = None) -> None:
        """The next ask waits at least the floor (or `delay`, if longer) from now."""
        self.next_at = time.monotonic() + max(self.floor, delay or 0.0)


class RestSeeder:
    """Fetches seeds on a helper thread, never more often than the venue allows.

    Lives as long as the feed (across reconnections), so the rate limit holds
    whatever the socket does. Only the reader's thread talks to the feed.
    """

    def __init__(self, ctx: FeedContext, fetch: Callable[[], bytes]):
        self.ctx, self.fetch = ctx, fetch
        self.pacer = SeedPacer(ctx.limits.request_floor)  # REST seeds count against the venue's request limit
        self._lock = threading.Lock()
        self._wanted = self._busy = False
        self._result: tuple[bytes, datetime] | None = None
        self._fatal: ObookError | None = None
        self._notice = ""  # why the seed is late, reported from the reader's thread

    @property
    def busy(self) -> bool:
        return self._busy or self._wanted

    def request(self) -> None:
        with self._lock:
            self._wanted = True
            self._result = None  # a seed fetched for an older book is no use now
        self._start_if_due()

    def ready(self) -> tuple[bytes, datetime] | None:
        """The fetched seed body and when it arrived, once; raises what cannot be retried."""
        if self._fatal is not None:
            raise self._fatal
        self._start_if_due()
        with self._lock:
            result, self._result = self._result, None
            notice, self._notice = self._notice, ""
        if notice:
            self.ctx.set_state(State.SYNCING, notice)
        return result

    def _start_if_due(self) -> None:
        with self._lock:
            if self._busy or not self._wanted or not self.pacer.due():
                return
            self._busy, self._wanted = True, False
        threading.Thread(target=self._run, name="obook-seed", daemon=True).start()

    def _run(self) -> None:
        from orderbook_cli.transport.http import RateLimited

        delay = None
        try:
            body = self.fetch()
        except RateLimited as error:
            delay = error.retry_after
            self._notice = f"{error.message}; next seed in {delay:g}s"
        except ObookError as error:
            if not is_transient(error):
                self._fatal = error
                return
            delay = self.pacer.backoff.next_delay()
            self._notice = f"seed fetch failed: {error.message}; retrying in {delay:.1f}s"
        except Exception as error:  # a bug must reach the user, not leave the book waiting forever
            internal = ObookError(f"seed fetch: {type(error).__name__}: {error}", hint="this is a bug in obook; rerun with --debug and report it")
            internal.__cause__ = error
            self._fatal = internal
        else:
            self.pacer.backoff.reset()
            with self._lock:
                self._result = (body, now_utc())
        finally:
            with self._lock:  # spaced from the answer, so the venue sees the gap whatever the latency
                self._busy = False
                self.pacer.space(delay)
                if delay is not None:
                    self._wanted = True


class SyncedVenue(WebSocketVenue):
    """A WebSocket venue with an integrity-checked book under `--feed full` (see the module doc)."""

    book_kind: BookKind
    seeds_in_band = False  # True: the venue pushes the seed on the socket by itself after subscribing

    def full(self, request: FeedRequest) -> bool:
        return request.options.get("feed", "full") == "full"

    def feed_kind(self, request: FeedRequest) -> str | None:
        return "full" if self.full(request) else "top"

    @abstractmethod
    def read(self, frame: str | bytes, request: FeedRequest) -> Iterable[Seed | Change | Control | Rejected]:
        """One frame of the full feed to its messages; MalformedData for anything unusable."""

    def read_seed(self, body: bytes, request: FeedRequest) -> Seed:
        raise NotImplementedError

    def fetch_seed(self, request: FeedRequest) -> bytes:
        """A seed body fetched out of band (REST); venues with in-band seeds do not have one."""
        raise NotImplementedError

    def resync_messages(self, request: FeedRequest) -> list[str]:
        """The frames that ask for a fresh in-band seed on the same socket."""
        raise NotImplementedError

    def book_checksum(self, book: LevelBook) -> int:
        """The venue's checksum of `book` (only asked for when a message carries one)."""
        raise NotImplementedError

    def kept_depth(self, request: FeedRequest) -> int | None:
        """Levels per side the venue keeps for this request (the book is truncated to it); None: all."""
        return None

    def connections(self, ctx: FeedContext, *, live: bool = True):
        if not self.full(ctx.request):
            return super().connections(ctx, live=live)
        seeder = RestSeeder(ctx, lambda: self.fetch_seed(ctx.request)) if live and not self.seeds_in_band else None
        pacer = seeder.pacer if seeder is not None else SeedPacer(ctx.limits.message_floor)  # in-band asks are socket messages
        return lambda send, recorder: SyncConnection(ctx, self, send, seeder, recorder, live=live, pacer=pacer)


class SyncConnection:
    """One connection's checked book: frames and seeds in, books and resyncs out."""

    def __init__(self, ctx: FeedContext, venue: SyncedVenue, send: Callable[[str], None], seeder: RestSeeder | None, recorder: Any,
                 live: bool = True, pacer: SeedPacer | None = None):
        self.ctx, self.venue = ctx, venue
        self.send, self.seeder, self.recorder = send, seeder, recorder
        self.request = ctx.request
        self.pacer = pacer or SeedPacer()
        self.received_at = now_utc()
        # a replay times a crossed book by the recorded receive times, so it resyncs where the live feed did
        clock = time.monotonic if live else lambda: self.received_at.timestamp()  # float-ok: seconds
        self.engine = SyncEngine(venue.book_kind, self._book, self._resync, clock=clock,
                                 checksum=venue.book_checksum, depth=venue.kept_depth(self.request))
        # when a seed was last asked for; subscribing asks for an in-band one
        self.asked_at: float | None = time.monotonic() if venue.seeds_in_band else None
        self.wanted = False  # an in-band seed is needed and waits for the pacer
        self.done = False
        self.counted = 0  # the engine's verified checks already added to the feed's count
        ctx.set_state(State.SYNCING)

    @property
    def tick_seconds(self) -> float | None:
        if self.wanted or (self.seeder is not None and self.seeder.busy):
            return BUSY_TICK
        return CROSSED_TICK if self.engine.crossed_since is not None else None

    def frame(self, frame: str | bytes, received_at: datetime) -> bool:
        self._follow_request()
        try:
            messages = list(self.venue.read(frame, self.request))
        except MalformedData as exc:  # if it was a change, the next one shows the gap
            self.ctx.malformed(exc)
            return False
        self.received_at = received_at
        for message in messages:
            if isinstance(message, Rejected):
                raise message.error
            if isinstance(message, Seed):
                self.engine.seed(message)
                if self.engine.synced:
                    self.pacer.backoff.reset()
            elif isinstance(message, Change):
                self.engine.change(message)
                if not self.engine.synced and self.asked_at is None:
                    self._ask()
            elif message.kind == "ack" and self.asked_at is None and not self.venue.seeds_in_band:
                self._ask()  # subscribed: changes from now on are queued, so a seed can be fetched
        return self.done

    def tick(self) -> bool:
        self._follow_request()
        self.engine.check()
        if self.seeder is not None:
            ready = self.seeder.ready()
            if ready is not None:
                self.seed_body(*ready)
        elif self.venue.seeds_in_band and not self.engine.synced:
            if (not self.wanted and self.asked_at is not None and time.monotonic() - self.asked_at > IN_BAND_RETRY):
                self.pacer.space(self.pacer.backoff.next_delay())  # unanswered: ask again, later each time
                self.wanted = True
            self._send_if_due()
        return self.done

    def _follow_request(self) -> None:
        """The ladder asked for another depth: where the venue keeps the book at a depth,
        move the subscription and start again from the new seed (a user's choice, not a resync)."""
        request = self.ctx.request
        if request is self.request:
            return
        old, self.request = self.request, request
        depth = self.venue.kept_depth(request)
        if depth == self.engine.depth:
            return
        self.engine.depth = depth
        self.engine.drop()
        for message in self.venue.resubscribe_messages(old, request):
            self.send(message)
        self.asked_at = time.monotonic()
        self.ctx.set_state(State.SYNCING, f"depth {depth}")

    def seed_body(self, body: bytes, received_at: datetime) -> None:
        """A seed fetched out of band (or replayed from a recording)."""
        self.recorder.seed(body, received_at)
        try:
            seed = self.venue.read_seed(body, self.request)
        except MalformedData as exc:
            self.ctx.malformed(exc)
            self.engine.resync(f"the seed was unusable: {exc.message}")
            return
        self.received_at = received_at
        self.engine.seed(seed)

    def _book(self, timestamp: datetime | None) -> None:
        """Hand the whole kept book to the feed, walked lazily: the shape step reads what it
        needs (figures from the whole book, the shown depth or buckets) before the next change."""
        request, kept, stats = self.ctx.request, self.engine.book, self.ctx.stats
        assert kept is not None  # the engine reports books only once seeded
        stats.verified += self.engine.verified - self.counted  # the engine is per connection, the count per feed
        self.counted = self.engine.verified
        self.ctx.emit_book(WholeBook(request.venue, request.symbol, kept.bids, kept.asks, timestamp,
                                     self.received_at, self.engine.sequence, stats.verified or None))
        self.done = request.once

    def _resync(self, reason: str) -> None:
        self.ctx.set_state(State.RESYNCING, reason)
        self._ask()

    def _ask(self) -> None:
        if self.venue.seeds_in_band:
            self.wanted = True
            self._send_if_due()
        elif self.seeder is not None:
            self.asked_at = time.monotonic()
            self.seeder.request()

    def _send_if_due(self) -> None:
        """Ask for an in-band seed when the pacer allows (until then changes queue)."""
        if not self.wanted or not self.pacer.due():
            return
        self.wanted = False
        self.asked_at = time.monotonic()
        self.pacer.space()
        for message in self.venue.resync_messages(self.request):
            self.send(message)

