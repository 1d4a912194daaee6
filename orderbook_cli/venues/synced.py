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

`--verify-every` (verify.py): a venue that declares ``rest_check`` has its
REST book (:meth:`SyncedVenue.fetch_check`, :meth:`SyncedVenue.read_check`:
by default the REST seed's) fetched by the same :class:`RestSeeder`, through
the same pacer (a seed wanted for a resync goes first), and compared with
the kept book by a per-feed :class:`~orderbook_cli.verify.Verifier`; a
mismatch resyncs through the engine like a sequence gap.
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
from orderbook_cli.verify import HISTORY, Verifier

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

    def __init__(self, ctx: FeedContext, fetch: Callable[[], bytes] | None, check: Callable[[], bytes] | None = None):
        self.ctx, self.fetch, self.check = ctx, fetch, check
        self.pacer = SeedPacer(ctx.limits.request_floor)  # REST seeds and checks count against the venue's request limit
        self._lock = threading.Lock()
        self._wanted = self._busy = False
        self._check_wanted = False  # --verify-every: the venue's REST book to compare, asked through the same pacer
        self._checking = False  # the request under way is a check
        self._result: tuple[bytes, datetime] | None = None
        self._checked: tuple[bytes | ObookError, datetime] | None = None
        self._fatal: ObookError | None = None
        self._notice: tuple[str, ObookError | None] = ("", None)  # why the seed is late, reported from the reader's thread

    @property
    def busy(self) -> bool:
        return self._busy or self._wanted or self._check_wanted

    def request(self) -> None:
        with self._lock:
            self._wanted = True
            self._result = None  # a seed fetched for an older book is no use now
        self._start_if_due()

    def request_check(self) -> None:
        """Fetch the venue's REST book to compare (a seed asked for meanwhile goes first)."""
        with self._lock:
            self._check_wanted, self._checked = True, None
        self._start_if_due()

    def check_ready(self) -> tuple[bytes | ObookError, datetime] | None:
        """The REST book fetched to compare, or why it could not be, and when; once."""
        self._start_if_due()
        with self._lock:
            result, self._checked = self._checked, None
        return result

    def ready(self) -> tuple[bytes, datetime] | None:
        """The fetched seed body and when it arrived, once; raises what cannot be retried."""
        if self._fatal is not None:
            raise self._fatal
        self._start_if_due()
        with self._lock:
            result, self._result = self._result, None
            (notice, failure), self._notice = self._notice, ("", None)
        if notice:
            self.ctx.set_state(State.SYNCING, notice, failure)
        return result

    def _start_if_due(self) -> None:
        with self._lock:
            if self._busy or not (self._wanted or self._check_wanted) or not self.pacer.due():
                return
            self._checking = not self._wanted  # a seed goes first
            self._busy, self._wanted = True, False
            if self._checking:
                self._check_wanted = False
        threading.Thread(target=self._run, name="obook-seed", daemon=True).start()

    def _run(self) -> None:
        from orderbook_cli.transport.http import RateLimited

        checking = self._checking
        what = "REST book to verify" if checking else "seed"
        body, delay, notice = b"", None, ""
        failure: ObookError | None = None
        try:
            fetch = self.check if checking else self.fetch
            assert fetch is not None, f"no way to fetch the {what}"
            body = fetch()
        except RateLimited as error:
            failure, delay = error, error.retry_after
            notice = f"{error.message}; next seed in {delay:g}s"
        except ObookError as error:
            failure = error
            if is_transient(error):
                delay = self.pacer.backoff.next_delay()
                notice = f"seed fetch failed: {error.message}; retrying in {delay:.1f}s"
        except Exception as error:  # a bug must reach the user, not leave the book waiting forever
            failure = ObookError(f"{what} fetch: {type(error).__name__}: {error}", hint="this is a bug in obook; rerun with --debug and report it")
            failure.__cause__ = error
        else:
            self.pacer.backoff.reset()
        with self._lock:  # spaced from the answer, so the venue sees the gap whatever the latency
            self._busy = False
            self.pacer.space(delay)
            if checking:  # a check that failed is reported as one, not retried: the next is due a period later
                self._checked = (body if failure is None else failure, now_utc())
            elif failure is None:
                self._result = (body, now_utc())
            elif delay is None:
                self._fatal = failure  # cannot be retried
            else:
                self._wanted, self._notice = True, (notice, failure)


class SyncedVenue(WebSocketVenue):
    """A WebSocket venue with an integrity-checked book under `--feed full` (see the module doc)."""

    book_kind: BookKind
    seeds_in_band = False  # True: the venue pushes the seed on the socket by itself after subscribing
    # --verify-every: how the venue's REST book (fetch_check, read_check) compares with the kept one
    # (verify.py): "sequence" (it carries the sequence it reflects), "settled" (it has only a time: the
    # levels no change touched around it), None (no REST check, e.g. a checksum proves every message)
    rest_check: str | None = None
    check_levels: int | None = None  # levels a side the REST book to compare holds at most (None: the whole book)

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

    def fetch_check(self, request: FeedRequest) -> bytes:
        """The venue's REST book to compare with the kept one (default: the REST seed)."""
        return self.fetch_seed(request)

    def read_check(self, body: bytes, request: FeedRequest) -> Seed:
        """That book as a Seed (its sequence, or None, and its time); MalformedData if unusable."""
        return self.read_seed(body, request)

    def connections(self, ctx: FeedContext, *, live: bool = True):
        if not self.full(ctx.request):
            return super().connections(ctx, live=live)
        every = ctx.request.verify_every
        verifier = Verifier(self.rest_check, every, self.check_levels) if live and every and self.rest_check else None
        rest_seeds = live and not self.seeds_in_band
        seeder = None
        if rest_seeds or verifier is not None:  # one seeder, one pacer: seeds and checks count against the same limit
            seeder = RestSeeder(ctx, (lambda: self.fetch_seed(ctx.request)) if rest_seeds else None,
                                (lambda: self.fetch_check(ctx.request)) if verifier is not None else None)
        pacer = seeder.pacer if seeder is not None and rest_seeds else SeedPacer(ctx.limits.message_floor)  # in-band asks are socket messages
        return lambda send, recorder: SyncConnection(ctx, self, send, seeder, recorder, live=live, pacer=pacer, verifier=verifier)


class SyncConnection:
    """One connection's checked book: frames and seeds in, books and resyncs out."""

    def __init__(self, ctx: FeedContext, venue: SyncedVenue, send: Callable[[str], None], seeder: RestSeeder | None, recorder: Any,
                 live: bool = True, pacer: SeedPacer | None = None, verifier: Verifier | None = None):
        self.ctx, self.venue = ctx, venue
        self.live, self.verifier = live, verifier
        if verifier is not None:
            verifier.pending = None  # a REST book fetched for the last connection's book compares with nothing here
        self.send, self.seeder, self.recorder = send, seeder, recorder
        self.request = ctx.request
        self.pacer = pacer or SeedPacer()
        self.received_at = now_utc()
        # a replay times a crossed book by the recorded receive times, so it resyncs where the live feed did
        clock = time.monotonic if live else lambda: self.received_at.timestamp()  # float-ok: seconds
        self.engine = SyncEngine(venue.book_kind, self._book, self._resync, clock=clock,
                                 checksum=venue.book_checksum, depth=venue.kept_depth(self.request),
                                 history=HISTORY if verifier is not None else 0)
        # when a seed was last asked for; subscribing asks for an in-band one
        self.asked_at: float | None = time.monotonic() if venue.seeds_in_band else None
        self.wanted = False  # an in-band seed is needed and waits for the pacer
        self.done = False
        self.counted = 0  # the engine's verified checks already added to the feed's count
        ctx.set_state(State.SYNCING)

    @property
    def tick_seconds(self) -> float | None:
        if self.wanted or (self.seeder is not None and self.seeder.busy) or (self.verifier is not None and self.verifier.busy):
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
            if self.live and isinstance(message, (Seed, Change)):
                self.ctx.stamped(message.timestamp, received_at)  # the venue's stamp: how late its messages arrive
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
            elif message.venue_status is not None:
                self.ctx.venue_says(message.venue_status)
        if self.verifier is not None and self.verifier.pending is not None:
            self._verify()  # the kept book may just have reached the REST book's sequence
        return self.done

    def tick(self) -> bool:
        self._follow_request()
        self.engine.check()
        if self.seeder is not None and not self.venue.seeds_in_band:
            ready = self.seeder.ready()
            if ready is not None:
                self.seed_body(*ready)
        elif self.venue.seeds_in_band and not self.engine.synced:
            if (not self.wanted and self.asked_at is not None and time.monotonic() - self.asked_at > IN_BAND_RETRY):
                self.pacer.space(self.pacer.backoff.next_delay())  # unanswered: ask again, later each time
                self.wanted = True
            self._send_if_due()
        if self.verifier is not None:
            self._verify()
        return self.done

    def _verify(self) -> None:
        """--verify-every: ask for the venue's REST book when due (through the seeder and its
        pacer), take it when it comes, give the verdict when the kept book can be compared
        (verify.Verifier); a mismatch resyncs through the engine, like any broken book."""
        verifier, seeder, now = self.verifier, self.seeder, time.monotonic()
        assert verifier is not None and seeder is not None
        if verifier.asked_at is None and verifier.pending is None and now < verifier.next_at:
            return  # nothing asked, nothing waiting, nothing due: what most frames find (this runs for each)
        got = seeder.check_ready()
        check = None
        if got is not None and verifier.asked_at is not None:
            body, _received_at = got
            if isinstance(body, ObookError):
                check = verifier.failed(f"the REST book could not be fetched: {body.message}", now)
            else:
                try:
                    verifier.answered(self.venue.read_check(body, self.request), now)
                except MalformedData as exc:
                    check = verifier.failed(f"the venue's REST book was unusable: {exc.message}", now)
        if check is None:
            check = verifier.attempt(self.engine, now)
        if check is not None:
            self.ctx.checked(check)
            if check.match is False:
                where = f" {check.where()}" if check.sequence is not None else ""
                self.engine.resync(f"the venue's REST book disagreed{where}")
        if verifier.due(now, self.engine) and not seeder.busy:
            verifier.asked(now)
            seeder.request_check()

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
        self.ctx.emit_book(tuple.__new__(WholeBook, (request.venue, request.symbol, kept.bids, kept.asks, timestamp,  # WholeBook(...), every field
                                                     self.received_at, self.engine.sequence, stats.verified or None)))
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

