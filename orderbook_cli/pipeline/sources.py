"""The sources of one command, open: every feed, its newest book and state.

Each source is its own feed (each venue's producer on its own thread); every
feed delivers straight into one shared bounded queue, tagged with its source
index: no forwarding threads. Each source keeps its own state: one that fails
is reported and dropped while the others go on, and obook gives up only when
every source has failed. A single source is the case N = 1.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

from orderbook_cli.book import Book
from orderbook_cli.errors import ObookError
from orderbook_cli.feed import QUEUE_SIZE, BookEvent, FatalEvent, Feed, State, StatusEvent
from orderbook_cli.pipeline.plan import Plan, Source
from orderbook_cli.shape import shape

if TYPE_CHECKING:  # imported where used, not on one source's start-up path
    from orderbook_cli.conditions import Status
    from orderbook_cli.consolidate import SourceBook
    from orderbook_cli.views.boards import Consolidated
    from orderbook_cli.views.state import SourceStatus

PUT_WAIT = 0.25  # how often a feed blocked on a full queue checks whether the fan-in was closed
FAILED = "failed"


class SourcesFailed(ObookError):
    """Every source failed: the exit status is the first source's (in the order given)."""

    kind = "every source failed"

    def __init__(self, errors: Sequence[ObookError]):
        super().__init__("; ".join(f"{e.context}: {e.kind}: {e.message}" for e in errors))
        self.exit_status = errors[0].exit_status


class FanIn:
    """The events of several feeds in one bounded queue, as (source index, event).

    Each feed's producer thread puts its own events (Feed.start): a slow consumer
    blocks the producers, which slows their reading, instead of growing memory.
    The consumer takes every event waiting at once (one lock, one wake-up for a
    burst) and hands them out one by one: a `queue.Queue` costs a lock and a
    condition per put and per get, and wakes the consumer for every event.
    """

    def __init__(self, feeds: Sequence[Feed | None]):
        self.feeds = list(feeds)
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)
        self._waiting: deque[tuple[int | None, object]] = deque()  # the producers' side (under the lock)
        self._taken: deque[tuple[int | None, object]] = deque()  # taken at once, handed out by get() (the consumer's own)
        self._closed = threading.Event()

    def __enter__(self) -> FanIn:
        for index, feed in enumerate(self.feeds):
            if feed is not None:
                feed.start(partial(self._from, index))
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed.set()
        for feed in self.feeds:
            if feed is not None:
                feed.close()

    def _put(self, item: tuple[int | None, object]) -> bool:
        with self._lock:
            while len(self._waiting) >= QUEUE_SIZE:
                if self._closed.is_set():
                    return False  # closed: the feed stops
                self._not_full.wait(PUT_WAIT)
            if self._closed.is_set():
                return False
            self._waiting.append(item)
            if len(self._waiting) == 1:  # the consumer waits only on an empty queue
                self._not_empty.notify()
        return True

    def _from(self, index: int, event: object) -> bool:
        return self._put((index, event))

    def inject(self, event: object) -> None:
        """The consumer's own events (keys) wake the same wait."""
        self._put((None, event))

    def ready(self) -> bool:
        """An event is waiting (get(0) would return one)."""
        return bool(self._taken) or bool(self._waiting)  # a glance without the lock: a hint, never a promise of none

    def backlog(self) -> int:
        """How many events are waiting (a glance without the lock, for pacing a view)."""
        return len(self._taken) + len(self._waiting)

    def get(self, timeout: float | None) -> tuple[int | None, object] | None:
        if self._taken:
            return self._taken.popleft()
        with self._lock:
            if not self._waiting and (timeout is None or timeout > 0):
                self._not_empty.wait(timeout)
            if not self._waiting:
                return None
            self._taken, self._waiting = self._waiting, self._taken  # the (empty) taken deque is the producers' now
            self._not_full.notify_all()
        return self._taken.popleft()


class SourceState:
    """One source on the board: its feed once open, its newest book, its error (a plain
    class: a dataclass's generated methods cost a quarter of a millisecond of every start)."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.feed: Feed | None = None
        self.book: Book | None = None
        self.error: ObookError | None = None
        self.problem: StatusEvent | None = None  # the latest reconnect notice, until the source is live again

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def state(self) -> str:
        if self.error is not None or self.feed is None:
            return FAILED
        return self.feed.stats.state.value

    def age(self, now: float) -> float | None:
        """Seconds since its book last changed (a quiet book on a live link just gets older)."""
        last = self.feed.stats.last_book_at if self.feed is not None else None
        return None if last is None else now - last

    def silence(self, now: float) -> float | None:
        """Seconds since anything at all arrived from its venue (keep-alives included)."""
        last = self.feed.stats.last_heard_at if self.feed is not None else None
        return None if last is None else now - last

    def stale(self, now: float, stale_after: float) -> bool:
        """Not to be trusted (the contract's "Liveness is not change"): failed, nothing at all
        heard for `stale_after` seconds, or its sequence broke and it is not whole again yet.
        (Read for every source on every consolidated line: the feed's State compared as is.)"""
        if self.error is not None:
            return True
        if self.feed is None:
            return False
        stats = self.feed.stats
        return stats.state is State.RESYNCING or (stats.last_heard_at is not None and now - stats.last_heard_at > stale_after)

    def usable(self, now: float, stale_after: float | None) -> bool:
        """Its book (this one, or the one frozen on screen) may go into a consolidated book:
        live and not stale (a printed snapshot: every source not failed)."""
        if self.error is not None:
            return False
        if stale_after is None:
            return True
        return self.feed is not None and self.feed.stats.state is State.LIVE and not self.stale(now, stale_after)

    def live(self, now: float, stale_after: float | None) -> bool:
        return self.book is not None and self.usable(now, stale_after)

    def status(self, now: float, stale_after: float) -> Status:
        """What the words `stale` and `resync` of a condition read."""
        from orderbook_cli.conditions import Status

        resyncing = self.state == State.RESYNCING.value
        stale = self.stale(now, stale_after)
        if self.failed or not stale:
            detail = self.notice(now)
        elif resyncing:
            detail = self.feed.stats.detail if self.feed is not None and self.feed.stats.detail else self.state
        else:
            detail = f"nothing heard for {self.silence(now) or 0:.0f}s"
        return Status(stale=stale, resyncing=resyncing, detail=detail)

    def notice(self, now: float) -> str:
        """Its error, or the latest reconnect notice (counting down to the next attempt)."""
        if self.error is not None:
            return f"{self.error.kind}: {self.error.message}"
        return self.problem.describe(now) if self.problem is not None else ""


class Board:
    """Every source's newest book and state; the consolidated book on demand."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.states = [SourceState(source) for source in plan.sources]
        self.fan: FanIn | None = None  # once open

    def __enter__(self) -> Board:
        """Open every source's feed (one that cannot even open one is failed from the
        start) and start them all, each delivering into the one shared queue."""
        for index, state in enumerate(self.states):
            try:
                state.feed = state.source.open()
            except ObookError as error:
                self.fail(index, error)
        self.fan = FanIn([state.feed for state in self.states]).__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fan is not None:
            self.fan.__exit__(*exc)

    def get(self, timeout: float | None) -> tuple[int | None, object] | None:
        """The next (source index, event), or (None, a key event); None after `timeout`."""
        assert self.fan is not None, "the board is not open"
        return self.fan.get(timeout)

    def ready(self) -> bool:
        """An event is waiting: the consumer has not caught up."""
        return self.fan is not None and self.fan.ready()

    def inject(self, event: object) -> None:
        """The consumer's own events (keys) wake the same wait."""
        assert self.fan is not None, "the board is not open"
        self.fan.inject(event)

    def backlog(self) -> int:
        """Events waiting in the shared queue (about: the feeds go on putting)."""
        assert self.fan is not None, "the board is not open"
        return self.fan.backlog()

    def first_book_deadline(self, deadline: float, now: float) -> list[ObookError]:
        """Sources without a first book by --timeout fail (the others go on): their errors."""
        if now < deadline:
            return []
        late = []
        for index, state in enumerate(self.states):
            if state.book is None and not state.failed and state.feed is not None:
                late.append(self.fail(index, state.feed.timeout_error()))
                state.feed.close()
        return late

    def on_event(self, index: int, event: object) -> ObookError | None:
        """Take one feed event; a fatal one comes back (the source is now failed)."""
        state = self.states[index]
        if isinstance(event, BookEvent):
            state.book = event.book
        elif isinstance(event, StatusEvent):
            state.problem = event if event.state is State.RECONNECTING else None
        elif isinstance(event, FatalEvent):
            state.error = event.error.with_context(state.source.label)
            return state.error
        return None

    def fail(self, index: int, error: ObookError) -> ObookError:
        state = self.states[index]
        state.error = error.with_context(state.source.label)
        return state.error

    @property
    def all_failed(self) -> bool:
        return all(state.failed for state in self.states)

    def failure(self) -> ObookError:
        """Every source failed: a single source's own error, or all of them."""
        errors = [state.error for state in self.states if state.error is not None]
        return errors[0] if len(self.states) == 1 else SourcesFailed(errors)

    def run_here(self, on_event: Callable[[object], bool]) -> None:
        """N = 1: run the one source's feed on this thread, every event straight to
        `on_event` (no hand-off per book); its fatal error raised with its name."""
        state = self.states[0]
        try:
            with state.source.open() as feed:
                state.feed = feed
                feed.run(on_event)
        except ObookError as error:
            raise error.with_context(state.source.label) from None

    def live_books(self, now: float, stale_after: float | None, books: Sequence[Book | None] | None = None) -> list[SourceBook]:
        """The books that go into a consolidated book: each source's newest, or `books` (those on a paused screen)."""
        from orderbook_cli.consolidate import SourceBook

        books = [s.book for s in self.states] if books is None else books
        return [SourceBook(s.source.key, b) for s, b in zip(self.states, books) if b is not None and s.usable(now, stale_after)]

    def watched(self, now: float, stale_after: float, index: int | None = None) -> list[tuple[str, Book | None, Status]]:
        """What --until and --alert read after source `index` changed (None: every source, as
        the clock moves): (name, book, status) for that source, or with --merge for the
        consolidated book, whose `stale` means a source is left out of it."""
        if self.plan.merged:
            from orderbook_cli.conditions import Status

            out = [s for s in self.states if not s.live(now, stale_after)]
            resyncing = [s for s in self.states if s.state == State.RESYNCING.value]
            detail = ", ".join(f"{s.source.label} {'stale' if s.state == State.LIVE.value else s.state}" for s in out)
            return [(f"consolidated {self.plan.symbol}", self.merged(now, stale_after),
                     Status(stale=bool(out), resyncing=bool(resyncing), detail=detail))]
        states = self.states if index is None else [self.states[index]]
        return [(s.source.label, s.book, s.status(now, stale_after)) for s in states]

    def shown(self, now: float, stale_after: float | None, books: Sequence[Book | None] | None = None
              ) -> tuple[list[SourceStatus], Consolidated | None]:
        """What a board draws, as plain data: every source's status (with `books`, the
        frozen ones, or the newest) and, with --merge, the consolidated book. None for
        `stale_after`: a printed snapshot, where nothing ages."""
        from orderbook_cli.views.boards import Consolidated
        from orderbook_cli.views.state import SourceStatus

        books = [s.book for s in self.states] if books is None else books
        live = self.live_books(now, stale_after, books)
        merged = {s.key for s in live}
        statuses = []
        for state, book in zip(self.states, books):
            stats = state.feed.stats if state.feed is not None else None
            statuses.append(SourceStatus(
                key=state.source.key, label=state.source.label, venue=state.source.request.venue, symbol=state.source.request.symbol,
                state=state.state, book=book, age=state.age(now), stale=stale_after is not None and state.stale(now, stale_after),
                notice=state.notice(now), updates_per_second=stats.updates_per_second(now) if stats else None,
                malformed=stats.malformed if stats else 0, merged=state.source.key in merged, failed=state.failed,
                evidence=stats.evidence(now) if stats else ()))
        if not self.plan.merged:
            return statuses, None
        from orderbook_cli.consolidate import crossing

        return statuses, Consolidated(self.plan.symbol or "", self.merge(live), crossing(live))

    def merged(self, now: float, stale_after: float | None) -> Book | None:
        return self.merge(self.live_books(now, stale_after))

    def regroup(self, group: Decimal | None) -> None:
        """The g key on the merged board: the consolidated book is bucketed by `group` from now on."""
        self.plan = self.plan._replace(spec=self.plan.spec._replace(group=group))

    def merge(self, live: Sequence[SourceBook]) -> Book | None:
        """The consolidated book of `live` sources, shaped once: figures from every level merged."""
        from orderbook_cli.consolidate import merge

        spec = self.plan.spec
        book = merge(live, self.plan.symbol or "", spec.reads_depth)  # merged only as deep as the shape step reads
        return None if book is None else shape(book, spec)

    def excluded(self, now: float, stale_after: float | None) -> list[dict]:
        """Sources left out of the consolidated book, and why (never silently)."""
        out = []
        for s in self.states:
            if s.live(now, stale_after):
                continue
            why = s.state if s.failed or s.book is None or s.state != State.LIVE.value else "stale"
            out.append({"venue": s.source.request.venue, "symbol": s.source.request.symbol, "state": why})
        return out
