"""Feeds: the one interface between venues and the two consumers.

A venue supplies a *producer*: a function that talks to the venue and
reports through a :class:`FeedContext` (books, state changes, malformed
frames, fatal errors). It runs on a background thread behind a queue
(``get``/``first_book``: the live view waits on books, keys and redraws at
once), or on the consumer's own thread with every event handed straight to a
callback (``run``: NDJSON output, no thread hand-off per book). The retry policy (exponential
backoff with jitter, a per-venue floor, bounded attempts for one-shot use)
lives here once, for REST polling and WebSocket streaming alike.
"""

from __future__ import annotations

import enum
import math
import queue
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, NamedTuple

from orderbook_cli.book import Book, RawLevel, make_book
from orderbook_cli.errors import MalformedData, NetworkError, ObookError, Redirected, VenueFailed
from orderbook_cli.shape import ShapeSpec, WholeBook, shape

# Events between a producer and its consumer; bounded so a slow consumer slows
# the reader instead of growing memory without limit.
QUEUE_SIZE = 256
ONLINE = "online"  # a venue status that explains nothing (Control.venue_status)
ONE_SHOT_ATTEMPTS = 3
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
_MAX_DOUBLINGS = 16  # 0.5 s * 2**16 is far beyond the cap; 2**n never overflows a float
RATE_SLOT = 0.1  # seconds per slot of the update-rate counter
RATE_SLOTS = 64  # 6.4 s of slots: more than the 5 s window
DELAY_WINDOW = 60.0  # seconds of venue-to-obook delays the median is taken over
DELAY_SPACING = 0.05  # one stamped message per this many seconds is sampled: bounded memory and cost at any rate
DELAY_SAMPLES = int(DELAY_WINDOW / DELAY_SPACING)  # the window's worth
DELAY_MIN_SAMPLES = 5  # fewer say nothing
CLOCK_OFF = 1.0  # a median delay beyond ±this many seconds means a clock is off (or the link is that slow)
# A link must stay up this long before its books forgive earlier failures: a venue
# that drops every link after one book must not be reconnected to at full speed.
STABLE_LINK_SECONDS = 30.0


class Limits(NamedTuple):
    """A venue's documented limits per IP address, declared once on the venue
    (``VenueInfo.limits``) and kept by the retry policy here: no two connection
    attempts closer than ``connect_floor``, no two requests (REST polls and seeds,
    in-band snapshot requests) closer than ``request_floor`` / ``message_floor``,
    whatever the link does; backoff only lengthens these."""

    connects_per_minute: float | None = None  # new WebSocket connections; None: not published
    requests_per_minute: float | None = None  # REST requests (book polls, seeds); None: not published
    messages_per_minute: float | None = None  # messages sent on a socket (subscriptions, in-band snapshot requests)
    reconnect_floor: float = 0.0  # seconds between connection attempts asked for besides the count (or chosen where none is published)
    source: str = ""  # where the figures are documented

    @property
    def connect_floor(self) -> float:
        """Seconds between two connection attempts at the least."""
        return max(self.reconnect_floor, 60.0 / self.connects_per_minute if self.connects_per_minute else 0.0)

    @property
    def request_floor(self) -> float:
        """Seconds between two REST requests at the least (0: the venue publishes no limit)."""
        return 60.0 / self.requests_per_minute if self.requests_per_minute else 0.0

    @property
    def message_floor(self) -> float:
        """Seconds between two messages asking the venue for something on a socket at the least."""
        return 60.0 / self.messages_per_minute if self.messages_per_minute else 0.0

    def as_json(self) -> dict[str, Any]:
        return {"connects_per_minute": self.connects_per_minute, "requests_per_minute": self.requests_per_minute,
                "messages_per_minute": self.messages_per_minute, "seconds_between_connects": round(self.connect_floor, 3),
                "seconds_between_requests": round(self.request_floor, 3),
                "source": self.source}


NO_LIMITS = Limits()


class State(str, enum.Enum):
    CONNECTING = "connecting"
    SYNCING = "syncing"  # connected; waiting for the seed of a sequence-checked book
    LIVE = "live"
    RESYNCING = "resyncing"  # the book lost its sequence (gap, crossed, reconnect): fetching a new seed
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


class FeedRequest(NamedTuple):
    venue: str
    symbol: str  # the venue's spelling
    depth: int  # levels per side to ask the venue for (what is shown is the shape spec's)
    timeout: float
    once: bool = False  # snapshot: stop after the first book, bounded retries
    idle_timeout: float | None = None  # None: the venue's default
    options: Mapping = MappingProxyType({})  # venue-specific, e.g. {"precision": 6}
    verify_every: float = 0.0  # --verify-every: seconds between checks against the venue's REST book (full feeds); 0: none

    def book(self, bids: Iterable[RawLevel], asks: Iterable[RawLevel], timestamp: datetime | None, received_at: datetime) -> Book:
        """The normalized book for this request from a venue's raw levels: all of them
        (the shape step trims and groups, after computing figures from the whole)."""
        return make_book(self.venue, self.symbol, bids, asks, timestamp=timestamp, received_at=received_at)


class RawBook(NamedTuple):
    """One message's whole book as parsed (RawLevel lists of exact numbers, so normalizing
    cannot fail), normalized by ``request.book`` only when it is needed (Feed._book)."""

    request: FeedRequest
    bids: list[RawLevel]
    asks: list[RawLevel]
    timestamp: datetime | None
    received_at: datetime

    def book(self) -> Book:
        return self.request.book(self.bids, self.asks, self.timestamp, self.received_at)


class BookEvent(NamedTuple):
    book: Book


class HeldEvent(NamedTuple):
    """A book not shaped yet (Feed.defer_shaping): a terminal view that redraws a few times
    a second shapes only the ones it draws, by the same step with the spec in effect when
    the book arrived, so each is exactly what the feed would have delivered."""

    held: Book | RawBook  # immutable: normalizing and shaping it later reads the same levels
    spec: ShapeSpec

    def shaped(self) -> Book:
        held = self.held
        return shape(held.book() if isinstance(held, RawBook) else held, self.spec)


class StatusEvent(NamedTuple):
    state: State
    detail: str = ""
    retry_at: float | None = None  # time.monotonic() of the next attempt, so views can count down

    def describe(self, now: float) -> str:
        """The detail, with the seconds left before the next attempt."""
        if self.retry_at is None:
            return self.detail
        return f"{self.detail}; retrying in {max(0, math.ceil(self.retry_at - now))}s"


class FatalEvent(NamedTuple):
    error: ObookError


class CheckEvent(NamedTuple):
    """The kept book was compared with the venue's own REST book (--verify-every): a verify.Check."""

    check: Any


Event = BookEvent | HeldEvent | StatusEvent | FatalEvent | CheckEvent


class Delays:
    """Venue-to-obook delays of the messages the venue stamps (received_at minus its stamp):
    the median over the last DELAY_WINDOW seconds, of one message per DELAY_SPACING seconds."""

    def __init__(self) -> None:
        self.samples: deque[tuple[float, float]] = deque(maxlen=DELAY_SAMPLES)  # (time.monotonic(), seconds)
        self.clock_noted = False  # a clock found off has been pointed out (once)

    def add(self, now: float, stamp: datetime, received_at: datetime) -> None:
        samples = self.samples
        if samples and now - samples[-1][0] < DELAY_SPACING:
            return  # one sample a slot is enough for a median; the rest cost nothing
        samples.append((now, (received_at - stamp).total_seconds()))

    def median(self, now: float) -> float | None:
        recent = sorted(delay for at, delay in list(self.samples) if at >= now - DELAY_WINDOW)
        if len(recent) < DELAY_MIN_SAMPLES:
            return None
        middle = len(recent) // 2
        return recent[middle] if len(recent) % 2 else (recent[middle - 1] + recent[middle]) / 2

    def clock_off(self, now: float) -> float | None:
        """The median delay when it is beyond ±CLOCK_OFF (a clock is off), else None."""
        median = self.median(now)
        return median if median is not None and abs(median) > CLOCK_OFF else None


class FeedStats:
    """A feed's state and counters, read by views, notes and checks (a plain class: a
    dataclass's generated methods cost half a millisecond of every start)."""

    def __init__(self) -> None:
        self.state = State.CONNECTING
        self.detail = ""
        self.failure: ObookError | None = None  # the retried failure that detail tells of, if it does
        self.venue_status: str | None = None  # the venue's latest word on its system, where it says one (Kraken's `status`)
        self.books = 0
        self.malformed = 0
        self.reconnects = 0
        self.verified = 0  # times the venue's integrity check (a checksum) confirmed the kept book, across reconnections
        self.last_book_at: float | None = None  # time.monotonic() of the last book: when the book last changed
        self.last_heard_at: float | None = None  # time.monotonic() of anything at all from the venue (keep-alives, pongs, answers)
        # Books per RATE_SLOT-second slot, [slot number, books]: bounded memory and
        # true at any rate (a window of timestamps would cap what it can count).
        self.recent: deque[list[int]] = deque(maxlen=RATE_SLOTS)
        self.delays = Delays()  # venue-to-obook delays of stamped messages
        self.checks = 0  # comparisons with the venue's REST book (--verify-every) that reached a verdict
        self.mismatches = 0  # ... that found the kept book different (each resynced it)
        self.last_check: Any = None  # the latest verify.Check, conclusive or not
        self.verdict: Any = None  # the latest conclusive one (match or mismatch)
        self.verdict_at: float | None = None  # time.monotonic() of verdict

    def unanswered(self, message: str, hint: str) -> ObookError:
        """Nothing usable by the deadline: the venue's failure when what kept failing was the venue
        answering a 5xx (exit 5), else the network's with `hint` (exit 3)."""
        if isinstance(self.failure, VenueFailed):
            return VenueFailed(message, hint="the venue kept failing; try again later or check its status page")
        if isinstance(self.failure, Redirected):  # not the network: where the endpoint points
            return Redirected(message)
        return NetworkError(message, hint=hint)

    def evidence(self, now: float) -> tuple[float | None, Any, int, float | None, float | None]:
        """What the venue's own evidence says, for a header (views.header.health_items): seconds
        since the last verdict of a REST check, that verdict, the mismatches so far, the median
        delay of stamped messages, and that delay again when it means a clock is off."""
        age = None if self.verdict_at is None else now - self.verdict_at
        return age, self.verdict, self.mismatches, self.delays.median(now), self.delays.clock_off(now)

    def count_book(self, now: float) -> None:
        slot = int(now / RATE_SLOT)
        if self.recent and self.recent[-1][0] == slot:
            self.recent[-1][1] += 1
        else:
            self.recent.append([slot, 1])

    def updates_per_second(self, now: float, window: float = 5.0) -> float:
        oldest = int((now - window) / RATE_SLOT)
        return sum(books for slot, books in list(self.recent) if slot > oldest) / window


class Backoff:
    """Exponential backoff with jitter and a floor between connection attempts."""

    def __init__(self, floor: float = 0.0, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP):
        self.floor, self.base, self.cap = floor, base, cap
        self.failures = 0

    def next_delay(self) -> float:
        raw = min(self.cap, self.base * (2 ** min(self.failures, _MAX_DOUBLINGS)))
        self.failures += 1
        return max(self.floor, raw * random.uniform(0.5, 1.0))

    def reset(self) -> None:
        self.failures = 0


Producer = Callable[["FeedContext"], None]


class Tap:
    """What sees the raw traffic a venue receives (connections, frames, REST seeds)
    before it is parsed: nothing by default; ``watch --record`` installs a
    recorder (recording.py). A tap that cannot keep up raises OutputError,
    which stops the feed."""

    def connected(self) -> None:
        pass

    def frame(self, frame: str | bytes, received_at: datetime) -> None:
        pass

    def seed(self, body: bytes, received_at: datetime) -> None:
        pass

    def close(self) -> None:
        pass


NO_TAP = Tap()


class FeedContext:
    """What a producer may do: report, sleep interruptibly, decide on retries."""

    def __init__(self, request: FeedRequest, feed: Feed, limits: Limits = NO_LIMITS):
        self.request = request
        self._feed = feed
        self.stopped = feed._stop
        self.limits = limits
        self.backoff = Backoff()  # the venue's own floor is limits.connect_floor; polling raises this one
        self._opened_at: float | None = None  # time.monotonic() the last connection opened, until the next failure
        self._attempts = 0
        self.deadline = time.monotonic() + request.timeout
        self._link_since: float | None = None  # time.monotonic() the current link came up

    @property
    def tap(self) -> Tap:
        return self._feed.tap

    def link_up(self) -> None:
        """A connection is open (WebSocket): its books reset the backoff once it has lasted."""
        self._link_since = self._opened_at = time.monotonic()
        self._feed.tap.connected()

    def heard(self) -> None:
        """Something arrived from the venue (a frame, a keep-alive, a pong): the link is alive,
        whether or not the book changed (the contract's "Liveness is not change")."""
        self._feed.stats.last_heard_at = time.monotonic()

    def emit_book(self, book: Book | WholeBook | RawBook, changed: bool = True) -> None:
        """``changed`` False: the venue answered with the book it gave last (a poll): delivered, proof of
        life, but no change (the book's age goes on, upd/s counts changes)."""
        self._attempts = 0
        if self._link_since is None or time.monotonic() - self._link_since >= STABLE_LINK_SECONDS:
            self.backoff.reset()
        self._feed._book(book, changed)

    def set_state(self, state: State, detail: str = "", failure: ObookError | None = None) -> None:
        """``failure``: the retried error that ``detail`` tells of (a venue's 5xx is then its failure at --timeout)."""
        self._feed._status(state, detail, failure=failure)

    def venue_says(self, status: str) -> None:
        """The venue's word on its own system (online, maintenance, ...): a book that never comes
        is then put down to it (Feed.timeout_error)."""
        self._feed.stats.venue_status = status

    def stamped(self, timestamp: datetime | None, received_at: datetime) -> None:
        """A message the venue stamped arrived: its delay joins the last minute's median."""
        if timestamp is not None:
            self._feed.stats.delays.add(time.monotonic(), timestamp, received_at)

    def checked(self, check: Any) -> None:
        """A comparison with the venue's REST book ended (verify.Check): counted and reported."""
        stats = self._feed.stats
        stats.last_check = check
        if check.conclusive:
            stats.verdict, stats.verdict_at = check, time.monotonic()
            stats.checks += 1
            stats.mismatches += not check.match
        self._feed._put(CheckEvent(check))

    @property
    def stats(self) -> FeedStats:
        return self._feed.stats

    @property
    def defers(self) -> bool:
        """The consumer shapes only the books it draws (Feed.defer_shaping): a book parsed
        into exact levels may be handed over as a RawBook, normalized only if drawn."""
        return self._feed._defer

    def malformed(self, error: Exception) -> None:
        self._feed._malformed(error)

    def fail(self, error: ObookError) -> None:
        self._feed._put(FatalEvent(error))
        self._feed._stop.set()

    def sleep(self, seconds: float) -> bool:
        """Sleep unless stopped; False when the feed was closed meanwhile."""
        return not self.stopped.wait(max(0.0, seconds))

    def remaining(self) -> float:
        return max(0.1, self.deadline - time.monotonic())

    def retry_after_failure(self, error: ObookError, delay: float | None = None) -> bool:
        """After a transient failure: wait and return True, or give up (fatal) and return False.

        ``delay`` is the venue's own instruction (Retry-After), else backoff.
        One-shot feeds give up after a few attempts or at their deadline;
        live feeds keep trying and say so.
        """
        self._attempts += 1
        now = time.monotonic()
        if self._link_since is not None:
            self._link_since = now  # the next link proves itself afresh
        # The venue's connection limit counts attempts: the next one comes connect_floor after the
        # last link opened (or after this failure, if none opened), however short that link lived.
        opened_ago = now - self._opened_at if self._opened_at is not None else 0.0
        self._opened_at = None
        spacing = max(self.backoff.floor, self.limits.connect_floor - opened_ago)
        delay = max(self.backoff.next_delay(), spacing) if delay is None else max(delay, spacing)
        if self.request.once and (
            self._attempts >= ONE_SHOT_ATTEMPTS or time.monotonic() + delay > self.deadline
        ):
            self.fail(error)
            return False
        self._feed.stats.reconnects += 1
        # Until a first book arrives obook is still connecting, not reconnecting.
        state = State.RECONNECTING if self._feed.stats.books else State.CONNECTING
        self._feed._status(state, error.message, retry_at=time.monotonic() + delay, failure=error)
        return self.sleep(delay)


Sink = Callable[[Event], bool]


class Feed:
    """A producer, and the consumer's end: a queue filled by a daemon thread, or a callback."""

    def __init__(self, request: FeedRequest, producer: Producer, *, tap: Tap = NO_TAP, limits: Limits = NO_LIMITS,
                 wake: Callable[[], None] | None = None):
        """`wake`: called when the feed closes, for a producer that waits on an event of its own
        (a replay's pacing): it returns now, not at the end of its wait."""
        self.request = request
        self._wake = wake
        self.tap = tap
        # what the shape step makes of every book; the consumer may replace it (keys)
        self.shape_spec = ShapeSpec(depth=request.depth)
        self.stats = FeedStats()
        self._stop = threading.Event()
        self._queue: queue.Queue[Event] = queue.Queue(maxsize=QUEUE_SIZE)
        self._context = FeedContext(request, self, limits)
        self._producer = producer
        self._thread: threading.Thread | None = None  # started by the first get()
        self._sink: Sink | None = None  # run(): events go straight to the consumer
        self._raised: BaseException | None = None  # run(): the fatal error or the consumer's own failure
        self._first_book = threading.Lock()  # run(): the first book and the first-book deadline cannot both win
        self._overdue = False
        self._fatal_to_sink = False  # start(): the fatal event goes to the consumer like any other
        self._defer = False  # defer_shaping(): normalized books are handed over unshaped (HeldEvent)

    def __enter__(self) -> Feed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        if self._wake is not None:
            self._wake()
        self.tap.close()

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def run(self, on_event: Sink) -> None:
        """Run the producer on this thread, handing every event to ``on_event`` as it
        happens; ``on_event`` returns False to stop the feed. Returns when the feed
        stops; raises its fatal error, or the timeout error when no book arrives
        within the request's timeout."""
        self._sink = on_event
        watchdog = threading.Timer(self.request.timeout, self._first_book_overdue)
        watchdog.daemon = True
        watchdog.start()
        try:
            self._run(self._producer)
        finally:
            watchdog.cancel()
        if self._raised is not None:
            raise self._raised
        if self._overdue:
            raise self.timeout_error()

    def start(self, on_event: Sink) -> None:
        """Run the producer on its own thread, handing every event (the fatal one too)
        straight to ``on_event``, e.g. a fan-in's one shared queue: no queue of the
        feed's own, no forwarding thread. ``on_event`` returns False to stop the feed."""
        self._sink, self._fatal_to_sink = on_event, True
        self._thread = threading.Thread(target=self._run, args=(self._producer,), name=f"obook-{self.request.venue}", daemon=True)
        self._thread.start()

    def _first_book_overdue(self) -> None:
        with self._first_book:
            if self.stats.books:
                return
            self._overdue = True
        self._stop.set()  # the producer notices within its tick and returns

    # -- producer side -------------------------------------------------
    def _run(self, producer: Producer) -> None:
        try:
            producer(self._context)
        except ObookError as error:
            self._context.fail(error)
        except Exception as error:  # a bug in a producer must still reach the user
            from orderbook_cli.debuglog import log

            log.debug("producer crashed", exc_info=True)
            internal = ObookError(f"{type(error).__name__}: {error}", hint="this is a bug in obook; rerun with --debug and report it")
            internal.__cause__ = error
            self._context.fail(internal)

    def _put(self, event: Event) -> None:
        if self._sink is not None:
            self._deliver(event)
            return
        while True:
            try:
                self._queue.put(event, timeout=0.2)
                return
            except queue.Full:
                if self._stop.is_set() and not isinstance(event, FatalEvent):
                    return

    def _deliver(self, event: Event) -> None:
        sink = self._sink
        if isinstance(event, FatalEvent) and self._fatal_to_sink and sink is not None:
            sink(event)
            return
        if isinstance(event, FatalEvent):
            self._raised = event.error  # run() raises it once the producer has returned
            return
        if self._stop.is_set() or self._sink is None:
            return
        try:
            keep_going = self._sink(event)
        except Exception as error:  # the consumer's failure is not the producer's to handle
            self._raised, keep_going = error, False
        if not keep_going:
            self._stop.set()

    def _book(self, held: Book | WholeBook | RawBook, changed: bool = True) -> None:
        event: BookEvent | HeldEvent
        if self._defer and not isinstance(held, WholeBook):  # kept as it is: normalized and shaped when (if) it is drawn
            event = HeldEvent(held, self.shape_spec)
        else:  # here, on the feed's thread: a whole book is valid only now (BookEvent(...) without its Python-level __new__)
            event = tuple.__new__(BookEvent, (shape(held.book() if isinstance(held, RawBook) else held, self.shape_spec),))
        if not self.stats.books and self._sink is not None:
            with self._first_book:  # the first book and run()'s first-book deadline cannot both win
                if self._overdue:
                    return
                self._count_book(changed)
        else:
            self._count_book(changed)
        if self.stats.state is not State.LIVE:
            self._status(State.LIVE)
        self._put(event)

    def _count_book(self, changed: bool = True) -> None:
        now = time.monotonic()
        self.stats.books += 1
        self.stats.last_heard_at = now
        if changed or self.stats.last_book_at is None:
            self.stats.last_book_at = now
            self.stats.count_book(now)

    def _status(self, state: State, detail: str = "", retry_at: float | None = None, failure: ObookError | None = None) -> None:
        self.stats.state, self.stats.detail, self.stats.failure = state, detail, failure
        self._put(StatusEvent(state, detail, retry_at))

    def _malformed(self, error: Exception) -> None:
        from orderbook_cli.debuglog import log

        self.stats.malformed += 1
        log.debug("skipped malformed frame #%d: %s", self.stats.malformed, error)

    # -- consumer side -------------------------------------------------
    def set_depth(self, depth: int) -> None:
        """Ask the venue for `depth` levels from now on (the ladder's +/- keys): producers
        read ``ctx.request`` afresh, re-requesting or re-subscribing as their venue needs."""
        self.request = self._context.request = self._context.request._replace(depth=depth)

    def defer_shaping(self) -> None:
        """Hand books over unshaped (HeldEvent; a RawBook not even normalized) from now on: for a consumer that
        shows only some of them and reads no figure of the others (a terminal view without
        --until/--alert). A full feed's whole book is valid only while it is handed over:
        those are still shaped here, every one."""
        self._defer = True

    def set_shape(self, spec: ShapeSpec) -> None:
        """Shape books by `spec` from the next one on (the ladder's +/- and g keys)."""
        self.shape_spec = spec

    def inject(self, event: Any) -> None:
        """Let the consumer's own event sources (keys) wake the same wait."""
        self._queue.put(event)

    def get(self, timeout: float | None) -> Event | None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, args=(self._producer,), name=f"obook-{self.request.venue}", daemon=True)
            self._thread.start()
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def first_book(self) -> Book:
        """The first book, or the reason there is none within the timeout."""
        deadline = time.monotonic() + self.request.timeout
        while True:
            event = self.get(timeout=max(0.0, deadline - time.monotonic()))
            if isinstance(event, BookEvent):
                return event.book
            if isinstance(event, FatalEvent):
                raise event.error
            if event is None:
                raise self.timeout_error()

    def timeout_error(self) -> ObookError:
        if self.stats.malformed and not self.stats.books:
            return MalformedData(
                f"no usable order book within {self.request.timeout:g}s: {self.stats.malformed} malformed frame(s) skipped",
                hint="rerun with --debug to see them",
            )
        if self.stats.state is State.RESYNCING and not self.stats.books:
            # the last word was why the venue's book was dropped (a checksum or a sequence that never reconciled,
            # a crossed book, a seed that could not be read): its data, not the network, left no book
            return MalformedData(
                f"no usable order book within {self.request.timeout:g}s: {self.stats.detail}",
                hint="the venue's book never checked out; try again later, or rerun with --debug to see its traffic",
            )
        if self.stats.venue_status not in (None, ONLINE) and not self.stats.books:  # the venue said why first
            return VenueFailed(f"no order book within {self.request.timeout:g}s: the venue reports its system as {self.stats.venue_status!r}",
                               hint="try again when it is back online (see its status page)")
        if self.stats.detail:  # the reason says what to look at; one short line (a venue's 5xx: its failure)
            return self.stats.unanswered(f"no order book within {self.request.timeout:g}s: {self.stats.detail}", hint="check the network")
        return NetworkError(
            f"no order book within {self.request.timeout:g}s",
            hint="check the network or the venue's status, or raise --timeout",
        )


def is_transient(error: ObookError) -> bool:
    """Failures worth retrying: the network, or the venue failing (5xx, bad data)."""
    return isinstance(error, (NetworkError, VenueFailed))


def poll(ctx: FeedContext, fetch: Callable[[], Any], interval: float, max_interval: float = 30.0) -> None:
    """Call ``fetch`` (which returns a Book) repeatedly, waiting ``interval`` after each answer.

    429 waits the venue's Retry-After and slows polling down; transient
    failures back off and retry (a bounded number of times for one-shot use);
    anything else ends the feed with that error.
    """
    ctx.set_state(State.CONNECTING)
    interval = max(interval, ctx.limits.request_floor)  # the venue's published request limit
    ctx.backoff.floor = max(ctx.backoff.floor, interval)  # a retry is a request too: never faster than polling
    previous: Any = None  # the last answer: one with the same levels is no change
    while not ctx.stopped.is_set():
        try:
            book = fetch()
        except ObookError as error:
            retry_after = getattr(error, "retry_after", None)  # a 429 (transport.http.RateLimited)
            if retry_after is not None:
                interval = min(max_interval, interval * 2)
                if not ctx.retry_after_failure(error, delay=max(retry_after, interval)):
                    return
                continue
            if not is_transient(error):
                raise
            if not ctx.retry_after_failure(error):
                return
            continue
        # a book with the levels of the last is no change (trades' polls are lists: always news)
        same = isinstance(book, Book) and isinstance(previous, Book) and book.bids == previous.bids and book.asks == previous.asks
        ctx.emit_book(book, changed=not same)
        previous = book
        if ctx.request.once:
            return
        # The interval runs from the answer, not from the request: the venue counts
        # arrivals, and a first request slowed by connecting would otherwise let the
        # second arrive less than `interval` after it.
        if not ctx.sleep(interval):
            return
