"""What goes to stdout and stderr without a screen: the one JSON serializer for
plain and consolidated books, and the one NDJSON writer (with its stderr notes)
for one to six sources."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from orderbook_cli import jsonout
from orderbook_cli.book import Book, plain
from orderbook_cli.errors import ObookError, describe, sanitize
from orderbook_cli.feed import BookEvent, CheckEvent, State, StatusEvent
from orderbook_cli.memo import remember
from orderbook_cli.pipeline.sources import Board
from orderbook_cli.stdio import silence_stdout
from orderbook_cli.timefmt import iso_utc

if TYPE_CHECKING:
    from orderbook_cli.alerts import Monitor
    from orderbook_cli.consolidate import Crossing, SourceBook

STATUS_TICK = 0.25  # how often `stale` is read again when nothing arrives (a silent feed goes stale by the clock)
CLOCK_LOOK = 1.0  # how often a source's delays are looked at for a clock that is off
FAN_IN_GC_YOUNG = 10_000  # new container objects between collections while several sources deliver (write_ndjson)
BATCH_LINES = 32  # lines written at once at most while several sources deliver faster than one write a line
# and characters: a batch's text and its encoded bytes stay well below glibc's 128 KiB mmap and
# trim thresholds (32 consolidated lines were ~150 KiB: each write mapped fresh pages, faulted on
# every one and gave them back: 35,000 page faults for 15,000 lines, about 3% of the CPU)
BATCH_CHARS = 32 * 1024


def note(line: str) -> None:
    """One line on stderr: what happened to a source while data flows on stdout."""
    print(sanitize(line, 1000), file=sys.stderr, flush=True)


# The latest sources' JSON text by book (the book kept, so its id names no other meanwhile):
# a consolidated line repeats the sources that did not change (one source changes per line).
_sources: dict[int, tuple[Book, str]] = {}
_MAX_SOURCES = 64  # then the oldest are forgotten: six sources' newest books fit many times over


def _source_text(book: Book) -> str:
    known = _sources.get(id(book))
    if known is not None and known[0] is book:
        return known[1]
    text = jsonout.source_text(book.venue, book.symbol, book.timestamp, book.received_at, book.sequence)
    return remember(_sources, id(book), (book, text), _MAX_SOURCES)[1]


def clock_note(label: str, off: float) -> str:
    """The one note about a venue whose stamps and this machine's clock disagree by more than a second."""
    if off > 0:
        return (f"obook: {label}: messages arrive {off:.1f}s after the venue stamped them (median over the last minute): "
                "this machine's clock is ahead of the venue's, or the link is that slow")
    return f"obook: {label}: messages arrive {-off:.1f}s before the venue stamped them (median over the last minute): this machine's clock is behind the venue's"


def source_to_dict(book: Book) -> dict[str, Any]:
    return {
        "venue": book.venue,
        "symbol": book.symbol,
        "timestamp": iso_utc(book.timestamp) if book.timestamp else None,
        "received_at": iso_utc(book.received_at),
        "sequence": book.sequence,
    }


def consolidated_to_dict(board: Board, book: Book, now: float, stale_after: float | None) -> dict[str, Any]:
    """The contract's consolidated book, plus `crossed` and `excluded` (its routed `impact`
    and `liquidity` are the shape step's, in the book's figures)."""
    return jsonout.book_to_dict(book, _consolidated_extra(board, board.live_books(now, stale_after), now, stale_after))


def _consolidated_extra(board: Board, live: list[SourceBook], now: float, stale_after: float | None, *,
                        encoded: bool = False) -> dict[str, Any]:
    """What a consolidated book adds to a book: its `sources`, `crossed` and `excluded`
    (`encoded`: each as the JSON text book_line splices, each source's written once)."""
    from orderbook_cli import consolidate  # several sources only: not on one source's start-up path

    cross = consolidate.crossing(live)
    # every source in the book: none excluded (Board.excluded lists those not live, and `live` holds the others)
    excluded = [] if len(live) == len(board.states) else board.excluded(now, stale_after)
    if encoded:
        return {"sources": jsonout.Encoded("[" + ",".join([_source_text(s.book) for s in live]) + "]"),
                "crossed": _crossed_text(cross), "excluded": jsonout.Encoded("[]") if not excluded else excluded}
    return {"sources": [source_to_dict(s.book) for s in live], "crossed": _crossed_to_dict(cross), "excluded": excluded}


def _crossed_to_dict(cross: Crossing | None) -> dict[str, Any] | None:
    return None if cross is None else {
        "bid_venue": cross.bid_key, "bid": plain(cross.bid), "ask_venue": cross.ask_key, "ask": plain(cross.ask),
        "gap": plain(cross.gap), "gap_bps": plain(cross.gap_bps),
    }


# The latest `crossed` text and the crossing it was written for: the same venues' very
# same best prices write the same text. (Replaced, never changed in place.)
_last_crossed: tuple[Crossing | None, jsonout.Encoded] = (None, jsonout.Encoded("null"))


def _crossed_text(cross: Crossing | None) -> jsonout.Encoded:
    global _last_crossed
    known, text = _last_crossed
    if cross is None:
        return jsonout.Encoded("null")
    if known is None or not (cross.bid is known.bid and cross.ask is known.ask and cross.bid_key == known.bid_key
                             and cross.ask_key == known.ask_key):
        text = jsonout.Encoded(jsonout.dumps(_crossed_to_dict(cross)))
        _last_crossed = (cross, text)
    return text


def book_text(board: Board, index: int, now: float, stale_after: float | None, *, pretty: bool = False,
              order_flow: Any = None) -> str | None:
    """The JSON text for what source `index` changed: its own book, or (--merge) the
    consolidated book; None when there is nothing to show yet. `order_flow`
    (tape.OrderFlowFeed, one source) adds the book's `order_flow` object."""
    if board.plan.merged:
        live = board.live_books(now, stale_after)  # once: the book and its `sources` read the same
        book = board.merge(live)
        if book is None:
            return None
        if pretty:
            return jsonout.dumps(jsonout.book_to_dict(book, _consolidated_extra(board, live, now, stale_after)), pretty=True)
        return jsonout.book_line(book, _consolidated_extra(board, live, now, stale_after, encoded=True))
    state = board.states[index]
    if state.book is None or state.failed:
        return None
    extra = None if order_flow is None else {"order_flow": order_flow.to_dict(state.book)}
    return jsonout.dumps(jsonout.book_to_dict(state.book, extra), pretty=True) if pretty else jsonout.book_line(state.book, extra)


class NdjsonWriter:
    """A line whenever a source updates (its book, or with --merge the consolidated
    book); state changes after a source's first book go to stderr as notes. The
    monitor (--until, --alert) reads every book written and every state change."""

    def __init__(self, board: Board, count: int | None, stale_after: float, monitor: Monitor | None = None, order_flow: Any = None):
        self.board, self.count, self.stale_after, self.monitor, self.order_flow = board, count, stale_after, monitor, order_flow
        self.ended = ""  # what ended the output, when not --until or the reader: "--count", "the recording"
        self.written = 0
        self._ticked = 0.0  # time.monotonic() of the last reading by the clock
        self.resyncing = [False] * len(board.states)
        self.closed = [False] * len(board.states)
        self.clock_looked = [0.0] * len(board.states)  # time.monotonic() each source's delays were last looked at
        # Several sources (write_ndjson's loop): lines wait while more events are already
        # waiting, and go out in one write when it has caught up (flush), or BATCH_LINES of them:
        # one write and one flush, instead of one a line and the thread switch each costs.
        # Never with a monitor (an alert's command sees every line before it) or before a note.
        self.batching = False
        self._pending: list[str] = []
        self._pending_chars = 0

    def flush(self) -> bool:
        """Write the lines waiting; False when the reader is gone."""
        if not self._pending:
            return True
        lines, self._pending, self._pending_chars = self._pending, [], 0
        try:
            jsonout.write_lines(lines)
        except BrokenPipeError:
            silence_stdout()  # the reader is gone (`| head -1`): done, quietly
            return False
        return True

    def _note(self, line: str) -> None:
        self.flush()  # the lines before it first (on a shared terminal, stdout and stderr interleave)
        note(line)

    def report(self, error: ObookError) -> None:
        """A source failed: fatal when it was the last one, else a note and the others go on."""
        self.flush()
        if self.board.all_failed:
            raise self.board.failure()
        note(f"{describe(error)} — going on with the other sources")

    def on_event(self, index: int, event: object) -> bool:
        """Take one source's event; False once done (--count reached, the reader gone, every source ended)."""
        failure = self.board.on_event(index, event)
        if failure is not None:
            self.report(failure)
            return True
        if isinstance(event, StatusEvent):
            return self._status(index, event)
        if isinstance(event, CheckEvent):  # --verify-every: one line per check
            self._note(f"obook: {event.check.line(self.board.states[index].source.label)}")
            return True
        if not isinstance(event, BookEvent):
            return True
        self._look_at_clock(index)
        return self._write(index)

    def _look_at_clock(self, index: int) -> None:
        """Point out once per source a venue clock more than a second off (from its stamped messages)."""
        now = time.monotonic()
        feed = self.board.states[index].feed
        if feed is None or feed.stats.delays.clock_noted or now - self.clock_looked[index] < CLOCK_LOOK:
            return
        self.clock_looked[index] = now
        off = feed.stats.delays.clock_off(now)
        if off is not None:
            feed.stats.delays.clock_noted = True
            self._note(clock_note(self.board.states[index].source.label, off))

    def _status(self, index: int, event: StatusEvent) -> bool:
        state, label = self.board.states[index], self.board.states[index].source.label
        if event.state is State.CLOSED:  # the feed ended (a recording played to its end)
            self.closed[index] = True
            if all(closed or s.failed for closed, s in zip(self.closed, self.board.states)):
                self.ended = "the recording"
                return False
            return True
        if event.state is State.RESYNCING:
            self._note(f"obook: {label}: resyncing: {event.detail}")
            self.resyncing[index] = True  # the next book says it is whole again: no "live again" line
        elif event.state is State.LIVE and self.resyncing[index]:
            self.resyncing[index] = False
        elif state.book is not None and event.state in (State.RECONNECTING, State.LIVE):
            what = f"reconnecting: {event.describe(time.monotonic())}" if event.state is State.RECONNECTING else "live again"
            self._note(f"obook: {label}: {what}")
            if self.board.plan.merged and event.state is State.RECONNECTING and self.written:
                return self._write(index)  # a consolidated book changes when a source drops out of it
        return self.check(index)

    def check(self, index: int | None) -> bool:
        """Conditions on what source `index` changed (None: every source, as the clock moves); False once --until held."""
        monitor = self.monitor
        if monitor is None or not monitor.active:
            return True
        now = time.monotonic()
        return not any([monitor.check(name, book, status) for name, book, status in self.board.watched(now, self.stale_after, index)])

    def tick(self) -> bool:
        """The clock moved: `stale` may have become true for a source that sends nothing."""
        now = time.monotonic()
        if self.monitor is None or not self.monitor.reads_status or now - self._ticked < STATUS_TICK:
            return True
        self._ticked = now
        return self.check(None)

    def _write(self, index: int) -> bool:
        line = book_text(self.board, index, time.monotonic(), self.stale_after, order_flow=self.order_flow)
        if line is None:
            return True
        if self.batching and (self.monitor is None or not self.monitor.active):
            self._pending.append(line)
            self._pending_chars += len(line)
            if (len(self._pending) >= BATCH_LINES or self._pending_chars >= BATCH_CHARS) and not self.flush():
                return False
        else:
            try:
                if not self.flush():
                    return False
                jsonout.write_line(line)
            except BrokenPipeError:
                silence_stdout()  # the reader is gone (`| head -1`): done, quietly
                return False
        self.written += 1
        if not self.check(index):
            return False  # --until held: this book is the last line
        if self.count is not None and self.written >= self.count:
            self.ended = "--count"
            return False
        return True


def write_ndjson(board: Board, *, count: int | None, stale_after: float, timeout: float, monitor: Monitor | None = None,
                 duration: float | None = None, order_flow: Any = None) -> str:
    """Every update as one JSON line, written as it arrives, until --count, --until,
    --duration, the reader leaves or every source ended; returns what ended it
    ("--count", "--duration", "the recording"; "" otherwise). One source runs on
    this thread (no hand-off per book) unless the clock matters (--duration, a `stale`
    condition); otherwise the sources deliver into the board's one queue.
    `order_flow` (one source): its trade feed runs beside the book's."""
    writer = NdjsonWriter(board, count, stale_after, monitor, order_flow)
    clocked = duration is not None or (monitor is not None and monitor.reads_status)
    if len(board.states) == 1 and not clocked:
        if order_flow is None:
            board.run_here(lambda event: writer.on_event(0, event))
            return writer.ended
        with order_flow:
            board.run_here(lambda event: writer.on_event(0, event))
        return writer.ended
    stop_at = None if duration is None else time.monotonic() + duration
    writer.batching = True
    # The shared queue holds up to QUEUE_SIZE books waiting for this thread, a few container
    # objects each: more than the collector's youngest generation (700), which then ran
    # every ~30 lines and moved the waiting books into the older generations, walked again
    # there (480 collections for 15,000 lines against 210 for three single runs). Books make
    # no reference cycles: the youngest generation is collected after FAN_IN_GC_YOUNG.
    import gc  # several sources only: not on one source's start-up path

    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], FAN_IN_GC_YOUNG), *thresholds[1:])
    with board:
        try:
            return _fan_in_loop(board, writer, timeout, monitor, stop_at)
        finally:
            writer.flush()
            gc.set_threshold(*thresholds)


def _fan_in_loop(board: Board, writer: NdjsonWriter, timeout: float, monitor: Monitor | None, stop_at: float | None) -> str:
    """write_ndjson's loop over the sources' one queue."""
    for state in board.states:
        if state.error is not None:
            writer.report(state.error)
    deadline = time.monotonic() + timeout
    while True:
        if not board.ready() and not writer.flush():  # caught up: the lines waiting go out before any wait
            return ""
        now = time.monotonic()
        waits = [STATUS_TICK] if monitor is not None and monitor.reads_status else []
        if any(s.book is None and not s.failed for s in board.states):
            waits.append(deadline - now)
        if stop_at is not None:
            waits.append(stop_at - now)
        item = board.get(timeout=max(0.0, min(waits)) if waits else None)
        for error in board.first_book_deadline(deadline, time.monotonic()):
            writer.report(error)
        if stop_at is not None and time.monotonic() >= stop_at:
            return "--duration"  # the clock ends the watch, whatever the book does
        if item is not None and item[0] is not None and not writer.on_event(item[0], item[1]):
            return writer.ended
        if not writer.tick():
            return ""


def first_books(board: Board, timeout: float) -> None:
    """Wait for every source's first book (snapshot); a source without one by `timeout`
    fails, the others are shown and the failed ones named; all failed: the error."""
    deadline = time.monotonic() + timeout
    with board:
        while not all(s.book is not None or s.failed for s in board.states):
            item = board.get(timeout=max(0.0, deadline - time.monotonic()))
            board.first_book_deadline(deadline, time.monotonic())
            if item is not None and item[0] is not None:
                board.on_event(item[0], item[1])
    if board.all_failed:
        raise board.failure()
    for state in board.states:
        if state.error is not None:
            note(f"{describe(state.error)} (left out)")


def print_json(board: Board, now: float) -> None:
    """snapshot --json: one book per source in the order given, or the consolidated book."""
    pretty = sys.stdout.isatty()
    for index in range(1 if board.plan.merged else len(board.states)):
        text = book_text(board, index, now, None, pretty=pretty)
        if text is not None:
            jsonout.write_line(text)

