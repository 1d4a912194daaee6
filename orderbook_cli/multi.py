"""Several sources at once (`obook watch bitso:btc_usd revx:BTC-USD`).

Each source is its own feed (each venue's producer on its own thread); a
small fan-in forwards their events into one bounded queue, tagged with the
source. Each source keeps its own state: one that fails is reported and
dropped while the others go on, and obook gives up only when every source
has failed. Output is one book per source (side by side, or one JSON line
each) or, with --merge, one consolidated book (consolidate.py).
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, NamedTuple, Sequence

from orderbook_cli import consolidate, jsonout
from orderbook_cli.book import Book, plain
from orderbook_cli.errors import ObookError, UsageError, describe, sanitize
from orderbook_cli.feed import QUEUE_SIZE, BookEvent, FatalEvent, Feed, State, StatusEvent
from orderbook_cli.session import Options, Prepared, prepare
from orderbook_cli.shape import ShapeSpec, shape
from orderbook_cli.stdio import silence_stdout
from orderbook_cli.symbols import parse_pair

FORWARD_WAIT = 0.25  # how often a forwarding thread checks whether the fan-in was closed
FAILED = "failed"
VENUE_OPTIONS = ("precision", "feed", "public")  # given once, used by the sources whose venue has them


class Source(NamedTuple):
    key: str  # its name in a consolidated book's `venues` maps
    prepared: Prepared

    @property
    def label(self) -> str:
        return self.prepared.context  # "bitso btc_usd"


class Plan(NamedTuple):
    sources: list[Source]
    symbol: str | None  # the common BASE-QUOTE when merging
    depth: int  # levels per side of a consolidated book
    spec: ShapeSpec  # what the consolidated book shows (its sources' books are kept whole enough to compute it)


class SourcesFailed(ObookError):
    """Every source failed: the exit status is the first source's (in the order given)."""

    kind = "every source failed"

    def __init__(self, errors: Sequence[ObookError]):
        super().__init__("; ".join(f"{e.context}: {e.kind}: {e.message}" for e in errors))
        self.exit_status = errors[0].exit_status


def per_source(opts: Options) -> list[Options]:
    """Each source's options: a venue-specific option (--precision, --feed) goes to the
    sources whose venue has it; given for none of them, the venue's usual error says so."""
    from orderbook_cli.venues import get_venue

    venues = [get_venue(venue) for venue, _ in opts.sources]
    given = [name for name in VENUE_OPTIONS if name in opts._fields and getattr(opts, name) is not None]
    out = []
    for (venue_id, symbol), venue in zip(opts.sources, venues):
        elsewhere = {name: None for name in given
                     if name not in venue.info.options and any(name in other.info.options for other in venues)}
        out.append(opts._replace(venue=venue_id, symbol=symbol, debug=False, **elsewhere))
    return out


def make_plan(opts: Options, *, once: bool) -> Plan:
    """Check every source before any network: venues, symbols, depths, duplicates, quotes."""
    if opts.debug:
        from orderbook_cli import debuglog

        debuglog.enable()
    prepared = [prepare(source_opts, once=once) for source_opts in per_source(opts)]
    seen: set[tuple[str, str]] = set()
    for p in prepared:
        if (p.request.venue, p.request.symbol) in seen:
            raise UsageError(f"the source {p.request.venue}:{sanitize(p.request.symbol, 40)} is given twice")
        seen.add((p.request.venue, p.request.symbol))
    keys = consolidate.source_keys([(p.request.venue, p.request.symbol) for p in prepared])
    sources = [Source(key, p) for key, p in zip(keys, prepared)]
    symbol = None
    if opts.merge:
        aliases = consolidate.parse_aliases(opts.quote_aliases)
        pairs = []
        for source, (_, typed) in zip(sources, opts.sources):
            try:
                pairs.append((source.label, parse_pair(typed)))
            except UsageError:
                raise UsageError(f"cannot tell the base and quote currencies of {source.label} to merge it",
                                 hint="write its symbol as BASE-QUOTE, e.g. BTC-USD") from None
        symbol = "-".join(consolidate.common_pair(pairs, aliases))
    elif opts.quote_aliases:
        raise UsageError("--quote-alias applies to --merge only")
    depth = opts.depth or max(p.spec.depth or p.request.depth for p in prepared)
    if opts.merge:  # each source as deep as its venue sends; the consolidated book is shaped once merged
        sources = [s._replace(prepared=s.prepared._replace(spec=ShapeSpec(depth=max(depth, s.prepared.venue.max_depth(s.prepared.request.options) or depth))))
                   for s in sources]
    return Plan(sources, symbol, depth, replace(prepared[0].spec, depth=depth))


class FanIn:
    """The events of several feeds in one bounded queue, as (source index, event).

    One forwarding thread per feed; a slow consumer blocks the forwarders,
    which fill their feeds' own bounded queues, which slow the producers.
    """

    def __init__(self, feeds: Sequence[Feed | None]):
        self.feeds = list(feeds)
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_SIZE)
        self._closed = threading.Event()
        self._threads = [
            threading.Thread(target=self._forward, args=(index, feed), name=f"obook-fanin-{index}", daemon=True)
            for index, feed in enumerate(self.feeds) if feed is not None
        ]

    def __enter__(self) -> "FanIn":
        for feed in self.feeds:
            if feed is not None:
                feed.__enter__()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed.set()
        for feed in self.feeds:
            if feed is not None:
                feed.close()

    def _forward(self, index: int, feed: Feed) -> None:
        while not self._closed.is_set():
            event = feed.get(timeout=FORWARD_WAIT)
            if event is None:
                continue
            self._put((index, event))
            if isinstance(event, FatalEvent):
                return

    def _put(self, item: tuple[int | None, Any]) -> None:
        while not self._closed.is_set():
            try:
                self._queue.put(item, timeout=FORWARD_WAIT)
                return
            except queue.Full:
                continue

    def inject(self, event: object) -> None:
        """The consumer's own events (keys) wake the same wait."""
        self._put((None, event))

    def get(self, timeout: float | None) -> tuple[int | None, Any] | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close_source(self, index: int) -> None:
        feed = self.feeds[index]
        if feed is not None:
            feed.close()


@dataclass
class SourceState:
    source: Source
    feed: Feed | None
    book: Book | None = None
    error: ObookError | None = None
    problem: StatusEvent | None = None  # the latest reconnect notice, until the source is live again

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def state(self) -> str:
        if self.error is not None or self.feed is None:
            return FAILED
        return self.feed.stats.state.value

    def age(self, now: float) -> float | None:
        last = self.feed.stats.last_book_at if self.feed is not None else None
        return None if last is None else now - last

    def stale(self, now: float, stale_after: float) -> bool:
        """Too old to trust: failed, older than `stale_after`, or not live (reconnecting, resyncing…)."""
        age = self.age(now)
        return self.failed or (age is not None and (age > stale_after or self.state != State.LIVE.value))

    def live(self, now: float, stale_after: float | None) -> bool:
        """Its book may go into a consolidated book."""
        return self.book is not None and not self.failed and (stale_after is None or not self.stale(now, stale_after))


class Board:
    """Every source's newest book and state; the consolidated book on demand."""

    def __init__(self, plan: Plan, feeds: Sequence[Feed | None], errors: Sequence[ObookError | None]):
        self.plan = plan
        self.states = [SourceState(source, feed, error=error) for source, feed, error in zip(plan.sources, feeds, errors)]

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

    def failure(self) -> SourcesFailed:
        return SourcesFailed([state.error for state in self.states if state.error is not None])

    def live_books(self, now: float, stale_after: float | None) -> list[consolidate.SourceBook]:
        return [consolidate.SourceBook(s.source.key, s.book) for s in self.states if s.live(now, stale_after)]

    def merged(self, now: float, stale_after: float | None) -> Book | None:
        return self.merge(self.live_books(now, stale_after))

    def regroup(self, group: Decimal | None) -> None:
        """The g key on the merged board: the consolidated book is bucketed by `group` from now on."""
        self.plan = self.plan._replace(spec=replace(self.plan.spec, group=group))

    def merge(self, live: Sequence[consolidate.SourceBook]) -> Book | None:
        """The consolidated book of `live` sources, shaped once: figures from every level merged."""
        book = consolidate.merge(live, self.plan.symbol or "")
        return None if book is None else shape(book, self.plan.spec)

    def excluded(self, now: float, stale_after: float | None) -> list[dict]:
        """Sources left out of the consolidated book, and why (never silently)."""
        out = []
        for s in self.states:
            if s.live(now, stale_after):
                continue
            why = s.state if s.failed or s.book is None or s.state != State.LIVE.value else "stale"
            out.append({"venue": s.source.prepared.request.venue, "symbol": s.source.prepared.request.symbol, "state": why})
        return out


def open_feeds(plan: Plan) -> tuple[list[Feed | None], list[ObookError | None]]:
    """One feed per source; a source that cannot even open one is failed from the start."""
    from orderbook_cli.session import open_shaped

    feeds: list[Feed | None] = []
    errors: list[ObookError | None] = []
    for source in plan.sources:
        try:
            feeds.append(open_shaped(source.prepared.venue.open_feed, source.prepared.request, source.prepared.spec))
            errors.append(None)
        except ObookError as error:
            feeds.append(None)
            errors.append(error.with_context(source.label))
    return feeds, errors


# -- JSON ---------------------------------------------------------------

def source_to_dict(book: Book) -> dict:
    from orderbook_cli.timefmt import iso_utc

    return {
        "venue": book.venue,
        "symbol": book.symbol,
        "timestamp": iso_utc(book.timestamp) if book.timestamp else None,
        "received_at": iso_utc(book.received_at),
        "sequence": book.sequence,
    }


def consolidated_to_dict(board: Board, book: Book, opts: Options, now: float, stale_after: float | None) -> dict:
    """The contract's consolidated book, plus `crossed`, `excluded` and a routed `impact`."""
    live = board.live_books(now, stale_after)
    cross = consolidate.crossing(live)
    extra: dict[str, Any] = {
        "sources": [source_to_dict(s.book) for s in live],
        "crossed": None if cross is None else {
            "bid_venue": cross.bid_key, "bid": plain(cross.bid), "ask_venue": cross.ask_key, "ask": plain(cross.ask),
            "gap": plain(cross.gap), "gap_bps": plain(cross.gap_bps),
        },
        "excluded": board.excluded(now, stale_after),
    }
    return jsonout.book_to_dict(book, extra)


def _book_line(book: Book, opts: Options, pretty: bool = False) -> str:
    return jsonout.dumps(jsonout.book_to_dict(book), pretty=pretty)


# -- commands -----------------------------------------------------------

def _note(line: str) -> None:
    print(sanitize(line, 1000), file=sys.stderr, flush=True)


def snapshot(opts: Options) -> None:
    plan = make_plan(opts, once=True)
    feeds, errors = open_feeds(plan)
    board = Board(plan, feeds, errors)
    deadline = time.monotonic() + opts.timeout
    with FanIn(feeds) as fan:
        while not all(s.book is not None or s.failed for s in board.states):
            item = fan.get(timeout=max(0.0, deadline - time.monotonic()))
            if item is None:
                for index, state in enumerate(board.states):
                    if state.book is None and not state.failed:
                        board.fail(index, state.feed.timeout_error())
                break
            index, event = item
            if index is not None:
                board.on_event(index, event)
    if board.all_failed:
        raise board.failure()
    for state in board.states:
        if state.failed:
            _note(f"{describe(state.error)} (left out)")
    pretty = sys.stdout.isatty()
    now = time.monotonic()
    if plan.symbol is not None:
        book = board.merged(now, None)
        if opts.json_output:
            jsonout.write_line(jsonout.dumps(consolidated_to_dict(board, book, opts, now, None), pretty=pretty))
        else:
            from orderbook_cli.views.boards import print_board

            print_board(board, opts, now)
        return
    if opts.json_output:
        for state in board.states:
            if state.book is not None:
                jsonout.write_line(_book_line(state.book, opts, pretty))
    else:
        from orderbook_cli.views.boards import print_board

        print_board(board, opts, now)


def watch(opts: Options) -> None:
    plan = make_plan(opts, once=False)
    if opts.json_output or not sys.stdout.isatty():
        _write_ndjson(plan, opts)
    else:
        from orderbook_cli import boards

        boards.run(plan, opts)


def first_book_deadlines(board: Board, fan: FanIn, deadline: float, now: float, report) -> None:
    """Sources without a first book by --timeout fail (the others go on)."""
    if now < deadline:
        return
    for index, state in enumerate(board.states):
        if state.book is None and not state.failed and state.feed is not None:
            report(board.fail(index, state.feed.timeout_error()))
            fan.close_source(index)


def _write_ndjson(plan: Plan, opts: Options) -> None:
    """A line whenever any source updates: its book, or (--merge) the consolidated book."""
    feeds, errors = open_feeds(plan)
    board = Board(plan, feeds, errors)
    written = 0
    deadline = time.monotonic() + opts.timeout

    def report(error: ObookError) -> None:
        if board.all_failed:
            raise board.failure()
        _note(f"{describe(error)} — going on with the other sources")

    for error in errors:
        if error is not None:
            report(error)
    with FanIn(feeds) as fan:
        while opts.count is None or written < opts.count:
            waiting = any(s.book is None and not s.failed for s in board.states)
            item = fan.get(timeout=max(0.0, deadline - time.monotonic()) if waiting else None)
            now = time.monotonic()
            first_book_deadlines(board, fan, deadline, now, report)
            if item is None:
                continue
            index, event = item
            if index is None:
                continue
            failure = board.on_event(index, event)
            state = board.states[index]
            if failure is not None:
                report(failure)
            elif isinstance(event, StatusEvent):
                if event.state is State.CLOSED:
                    continue
                if state.book is not None and event.state in (State.RECONNECTING, State.LIVE):
                    note = f"reconnecting: {event.describe(now)}" if event.state is State.RECONNECTING else "live again"
                    _note(f"obook: {state.source.label}: {note}")
                if plan.symbol is None or event.state is not State.RECONNECTING or not written:
                    continue  # a consolidated book changes when a source drops out of it
            line = _line(board, state, plan, opts, now)
            if line is None:
                continue
            try:
                jsonout.write_line(line)
            except BrokenPipeError:
                silence_stdout()
                return
            written += 1


def _line(board: Board, state: SourceState, plan: Plan, opts: Options, now: float) -> str | None:
    if plan.symbol is None:
        return None if state.book is None or state.failed else _book_line(state.book, opts)
    book = board.merged(now, opts.stale_after)
    if book is None:
        return None
    return jsonout.dumps(consolidated_to_dict(board, book, opts, now, opts.stale_after))
