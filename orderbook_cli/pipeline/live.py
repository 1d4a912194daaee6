"""`obook watch` and `replay` on a terminal: the one live loop (events, keys,
coalescing, staleness, --count) for one to six sources. It drives a screen:
one source's ladder (chart, heatmap, a replay's player) or the board of
several; what they draw comes from orderbook_cli.views (pure functions of
plain data)."""

from __future__ import annotations

import copy
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING

from rich.console import Console, RenderableType
from rich.text import Text

from orderbook_cli.book import EXACT, Book
from orderbook_cli.feed import QUEUE_SIZE, BookEvent, Feed, FeedStats, HeldEvent, RawBook, State, StatusEvent
from orderbook_cli.pipeline.output import note
from orderbook_cli.pipeline.plan import DEFAULT_STALE_AFTER, DEFAULT_TIMEOUT, Options, Plan
from orderbook_cli.pipeline.sources import Board
from orderbook_cli.shape import ShapeSpec
from orderbook_cli.views import choose
from orderbook_cli.views.boards import BoardView, frame
from orderbook_cli.views.header import health_items
from orderbook_cli.views.keys import (
    BOARD_ACTIONS,
    LADDER_ACTIONS,
    MERGED_ACTIONS,
    REPLAY_ACTIONS,
    TAPE_ACTIONS,
    KeyEvent,
    Keys,
    action,
    split_keys,
)
from orderbook_cli.views.layout import Item
from orderbook_cli.views.numbers import decimals
from orderbook_cli.views.state import LadderView, from_another_day
from orderbook_cli.views.terminal import Painter, bounded_size, colour_mode
from orderbook_cli.views.terminal import console as make_console
from orderbook_cli.views.theme import Theme

if TYPE_CHECKING:
    from orderbook_cli.alerts import Alert, Monitor
    from orderbook_cli.replay import Player
    from orderbook_cli.tape import ReplayedTrades, TapePane

MAX_FPS = 20  # the screen never redraws faster than this, whatever the feed does
BACKLOG_LOOK = 0.01  # seconds: how often a wait for the next frame looks at the backlog of books
IDLE_REDRAW = 1.0  # with nothing new, redraw this often so the age keeps counting
HIGHLIGHT_SECONDS = 1.0
SYNC_STATES = (State.SYNCING, State.RESYNCING)  # their detail says why (a gap, a rate limit)
LEFT_FOR_THE_SHELL = 3  # lines a frame printed at the end leaves free (the command line, the next prompt)
FLASH_SECONDS = 3.0  # how long a message such as "depth 50 is the most revx offers" stays
ALERT_MARK_SECONDS = 10.0  # how long the header marks an alert that fired
MAX_FAILURES_KEPT = 20  # --alert-cmd failures told again on stderr after the screen


PRESET_BPS = (1, 5, 10, 50)


def tick_near(target: Decimal, floor: Decimal) -> Decimal:
    """The 1-2-5 × 10^k tick closest to `target` (never finer than `floor`)."""
    exponent = target.adjusted()
    candidates = [Decimal(m).scaleb(e) for e in (exponent - 1, exponent, exponent + 1) for m in (1, 2, 5)]
    best = min(candidates, key=lambda tick: max(tick / target, target / tick))  # nearest on a log scale
    return max(best, floor).normalize() if best.adjusted() >= 0 else max(best, floor)


def group_presets(book: Book | None) -> list[Decimal]:
    """Grouping ticks for the `g` key: about 1, 5, 10 and 50 bps of mid, as 1-2-5 ticks
    no finer than the book's own price step."""
    if not book or book.mid is None or not book.mid:
        return []
    step = Decimal(1).scaleb(-max(decimals(lv.price) for lv in book.bids + book.asks))
    presets: list[Decimal] = []
    with localcontext(EXACT):
        for bps in PRESET_BPS:
            tick = tick_near(book.mid * bps / 10000, step)
            if tick > step and tick not in presets:
                presets.append(tick)
    return presets


# Replay actions (views.keys.KEYMAP): what each does to the player.
REPLAY_KEYS = {
    "step_back": lambda p: p.step(-1), "step_forward": lambda p: p.step(1),
    "slower": lambda p: p.change_speed(faster=False), "faster": lambda p: p.change_speed(faster=True),
    "to_start": lambda p: p.jump(to_end=False), "to_end": lambda p: p.jump(to_end=True),
    "loop": lambda p: p.toggle_loop(), "pause": lambda p: p.toggle_pause(),
}


class LiveLadder:
    """The view's state machine: events and keys in, renderables out."""

    def __init__(self, venue: str, symbol: str, spec: ShapeSpec, *, stale_after: float, feed: Feed | None = None,
                 max_depth: int | None = None, request_depth: Callable[[int], None] | None = None,
                 reshape: Callable[[ShapeSpec], None] | None = None, player=None,
                 view: str = "ladder", theme: Theme | None = None, clock: Callable[[], float] | None = None):
        from orderbook_cli.views.heatmap import History

        self.venue, self.symbol = venue, symbol
        self.feed = feed  # its stats (age, rate, malformed frames) go in the header
        self.max_depth = max_depth  # the venue's limit; None: as many levels as it sends
        self.request_depth = request_depth  # asks the venue for another depth (+/-)
        self.spec = spec  # what the feed's shape step makes of its books
        self.reshape = reshape  # hands the feed a new spec (+/-, g): the next book comes shaped by it
        self.flash: tuple[str, float] | None = None  # a short-lived message and when it expires
        self.alerted: tuple[str, float] | None = None  # the latest alert and when its mark expires
        self.player = player  # a replay's Player: its keys, progress and the recording's dates
        self.shown_at: float | None = None  # when the book on screen arrived: its age keeps counting while paused
        self._book_at: float | None = None
        self.view = LadderView(state=State.CONNECTING.value, depth=spec.depth, group=spec.group, theme=theme or Theme(),
                               actions=LADDER_ACTIONS | (REPLAY_ACTIONS if player is not None else frozenset()))
        self.stale_after = stale_after
        self.book: Book | None = None  # newest book from the feed
        self.shown: Book | None = None  # what the screen shows (frozen while paused)
        self._shown_from: Book | None = None  # the feed's book behind it
        self.highlight: dict[tuple[str, Decimal], float] = {}
        self.status: StatusEvent | None = None  # the latest problem worth a notice line
        self.quit = False
        self.view_name = view  # which picture: views.choose.VIEWS
        self.history = History()  # the heatmap's columns, kept whichever view is drawn
        self.clock = clock  # a live feed's wall clock: the heatmap moves with it; None: the books' own time (a replay)
        self.frozen: tuple = ()  # the heatmap's columns when paused
        self.held: tuple[HeldEvent, float] | None = None  # the newest book not shaped yet (Feed.defer_shaping), and when it came
        self.last_held: tuple[HeldEvent, float] | None = None  # the newest one shaped: shaped again when g or +/- change the spec
        self.on_shaped: Callable[[Book], object] | None = None  # told of every book shaped here (the board's newest)

    def on_event(self, index: int, event: object, now: float) -> None:
        if isinstance(event, HeldEvent):
            self.on_held(event, now)
        elif isinstance(event, BookEvent):
            self.take_held()  # an older one not shaped yet still closes its heatmap slot
            self.on_book(event.book, now)
        elif isinstance(event, StatusEvent):
            self.on_status(event)

    def on_held(self, event: HeldEvent, now: float) -> None:
        """A book the feed did not shape: kept until a frame draws it (take_held), so at
        1,000 books a second only the ~MAX_FPS drawn ones are shaped. The heatmap's column
        rests on the last book of its time slot: the newest held book is shaped before
        one from a later slot replaces it, so every column is what it would be."""
        if self.held is not None:
            seconds = self.history.seconds
            if int(self._stamp(self.held[0].held) // seconds) != int(self._stamp(event.held) // seconds):
                self.take_held()
        self.held = (event, now)
        if self.book is None:
            self.take_held()  # the first book is drawn at once

    def take_held(self) -> None:
        """Shape the newest held book (if any): it becomes the newest book."""
        if self.held is None:
            return
        (event, at), self.held = self.held, None
        self.last_held = (event, at)
        book = event.shaped()
        # the heatmap's history keeps the real levels, bucketed when drawn: grouped, the book is shaped once more without
        real = book if event.spec.group is None else HeldEvent(event.held, event.spec._replace(group=None)).shaped()
        self.on_book(book, at, real)
        if self.on_shaped is not None:
            self.on_shaped(book)

    def _stamp(self, book: Book | RawBook) -> float:
        """A book's place on the heatmap's clock: live, when it arrived; replayed, its recorded time."""
        return (book.timestamp or book.received_at).timestamp() if self.clock is None else book.received_at.timestamp()  # float-ok: time

    def on_book(self, book: Book, now: float, real: Book | None = None) -> None:
        """`real`: the same book ungrouped, for the heatmap's history (None: `book`; a grouped one
        keeps its buckets, drawn only at rows its tick divides: heatmap.Column.cells)."""
        # Only the book about to be drawn is compared with the screen (frame()):
        # at 1,000 books a second the others are simply replaced.
        self.book, self._book_at = book, now
        # the heatmap keeps every book's time slot, cheaply: live, when it arrived; replayed, its recorded time
        self.history.add(real or book, self._stamp(book))
        if self.player is not None and self.shown is None and self.view.depth is None:
            self.view.depth = max(len(book.bids), len(book.asks), 1)  # a replay shows the depth it recorded
        if self.shown is None and not self.view.paused:
            self._show(book, now)

    def _show(self, book: Book, now: float) -> None:
        self.shown_at = self._book_at
        shown = book
        if self.shown is not None:
            before = {("ask", lv.price): lv.amount for lv in self.shown.asks}
            before.update({("bid", lv.price): lv.amount for lv in self.shown.bids})
            for side, levels in (("ask", shown.asks), ("bid", shown.bids)):
                for lv in levels:
                    if before.get((side, lv.price)) != lv.amount:
                        self.highlight[(side, lv.price)] = now + HIGHLIGHT_SECONDS
        self.shown, self._shown_from = shown, book

    def _health(self, now: float) -> list[Item]:
        """The header's marks from the venue's own evidence: the last check against its REST
        book (--verify-every), its messages' median delay, a clock more than a second off."""
        assert self.feed is not None
        return health_items(*self.feed.stats.evidence(now), theme=self.view.theme)

    def on_status(self, event: StatusEvent) -> None:
        self.view.state = "replay" if self.player is not None and event.state in (State.LIVE, State.CLOSED) else event.state.value
        self.status = event if event.detail and event.state in (State.CONNECTING, State.RECONNECTING, State.CLOSED, *SYNC_STATES) else None
        if event.state is State.RESYNCING:
            self.view.resyncs += 1
            self.view.last_resync = time.strftime("%H:%M:%S UTC", time.gmtime())

    def on_key(self, key: str, now: float) -> None:
        self.take_held()  # keys read the newest book (the g presets, the depth sent) and may show it
        view = self.view
        name = action(key, view.actions)
        if self.player is not None and name in REPLAY_KEYS:
            REPLAY_KEYS[name](self.player)
            view.paused = self.player.paused
            return
        if name == "quit":
            self.quit = True
        elif name in ("deeper", "shallower"):
            self._change_depth(1 if name == "deeper" else -1, now)
        elif name == "group":
            presets = group_presets(self.book)
            if view.group is not None and view.group not in presets:
                presets.insert(0, view.group)
            cycle = [None] + presets
            view.group = cycle[(cycle.index(view.group) + 1) % len(cycle)] if view.group in cycle else None
            self._reshape()
        elif name == "pause":
            view.paused = not view.paused
            self.frozen = (self.history.columns(), self.history.book) if view.paused else ()
        elif name == "next_view":
            self.view_name = choose.next_view(self.view_name)
        elif name == "help":
            view.show_help = not view.show_help
        elif name in ("cursor_up", "cursor_down", "cursor_off"):
            self._move_cursor(name)
        else:
            return
        if self.book is not None and not view.paused:
            self.shown = self.book  # resumed: the newest book at once (shaped by the new spec from the next one)

    def _change_depth(self, step: int, now: float) -> None:
        """+/-: one level more or fewer, asked of the venue, up to what it offers."""
        view = self.view
        current = view.depth or 1
        if step > 0:
            book = self.book
            # the whole book's levels, not the shown ones: after -, the book on screen is shorter than what came
            sent = None if book is None else max(book.figures.held_levels if book.figures is not None else (len(book.bids), len(book.asks)))
            if self.max_depth is not None and current >= self.max_depth:
                self.flash = (f"depth {self.max_depth} is the most {self.venue} offers", now + FLASH_SECONDS)
                return
            if self.max_depth is None and sent is not None and (sent < current or (self.request_depth is None and sent <= current)):
                source = "the recording has" if self.player is not None else f"{self.venue} sends"
                self.flash = (f"{source} {sent} levels: no deeper book", now + FLASH_SECONDS)
                return
        elif current <= 1:
            return
        view.depth = current + step
        self._reshape()
        if self.request_depth is not None:
            self.request_depth(view.depth)

    def _reshape(self) -> None:
        self.spec = self.spec._replace(depth=self.view.depth, group=self.view.group)
        if self.reshape is not None:
            self.reshape(self.spec)
        if self.last_held is not None:  # the book on screen, shaped by the new spec now: header and rows change together
            event, at = self.last_held
            self.held = (HeldEvent(event.held, self.spec), at)
            self.take_held()

    def _move_cursor(self, name: str) -> None:
        """Up goes towards the worst ask, down towards the worst bid, across the spread."""
        if name == "cursor_off":
            self.view.cursor = 0
            return
        book = self.shown
        if book is None:
            return
        limit = max(len(book.asks), len(book.bids)) if self.view.rows_shown is None else self.view.rows_shown  # stay on screen
        order = [-k for k in range(min(limit, len(book.bids)), 0, -1)] + [k for k in range(1, min(limit, len(book.asks)) + 1)]
        if not order:
            return
        up = name == "cursor_up"
        if self.view.cursor not in order:
            self.view.cursor = 1 if up and book.asks else -1 if book.bids else 1
            return
        at = order.index(self.view.cursor) + (1 if up else -1)
        self.view.cursor = order[min(max(at, 0), len(order) - 1)]

    def on_alert(self, text: str, now: float) -> None:
        self.alerted = (text, now + ALERT_MARK_SECONDS)

    def on_notice(self, text: str, now: float) -> None:
        self.flash = (text, now + FLASH_SECONDS)

    def printed(self) -> None:
        self.view.actions, self.view.show_help = frozenset(), False  # printed: no keys any more

    def draw(self, now: float, width: int, height: int, colour: str) -> RenderableType:
        stats = self.feed.stats if self.feed is not None else FeedStats()
        return self.frame(now, height, stats.last_book_at, stats.updates_per_second(now), stats.malformed, width=width, colour=colour,
                          heard_at=stats.last_heard_at)

    def frame(self, now: float, height: int, last_book_at: float | None, rate: float, malformed: int, width: int | None = None,
              colour: str = "none", heard_at: float | None = None):
        """`last_book_at`: when the book last changed (its age); `heard_at`: when anything last
        arrived (keep-alives too; None: the last book): only a silence is stale."""
        view = self.view
        self.take_held()  # the one book of many this frame draws: shaped now
        if self.clock is not None and not view.paused:
            self.history.advance(self.clock())  # a quiet live book still moves along the heatmap
        # A paused player sends only the books asked for (steps): those are shown.
        if self.book is not self._shown_from and self.book is not None and (not view.paused or self.player is not None):
            self._show(self.book, now)
        # The age of what is on screen: it keeps counting while paused.
        view.age = now - self.shown_at if view.paused and self.shown_at is not None else (None if last_book_at is None else now - last_book_at)
        if self.player is not None:
            view.header_items = [Item(3, Text(self.player.status()))]  # where playback is: steps move it while paused
            view.dated = True
        else:
            view.dated = from_another_day(self.shown, datetime.now(UTC).date())  # a venue stamping another day: its date
            if self.feed is not None and not view.paused:
                view.health = self._health(now)
        heard = last_book_at if heard_at is None else heard_at
        silence = None if heard is None else now - heard
        # A recording has no link to go stale: a slow or paused replay is only quiet (its age says how long).
        view.stale = self.player is None and ((silence is not None and silence > self.stale_after) or view.state == State.RESYNCING.value)
        if not view.paused:  # a paused screen is a still picture: the feed's figures as they were (only the age counts on)
            view.updates_per_second, view.malformed = rate, malformed
        view.notice = self.status.describe(now) if self.status else ""  # counts down to the next attempt
        if self.flash is not None and self.flash[1] > now:
            view.notice = " · ".join(filter(None, (view.notice, self.flash[0])))
        view.alert = self.alerted[0] if self.alerted is not None and self.alerted[1] > now else ""
        self.highlight = {k: t for k, t in self.highlight.items() if t > now}
        view.changed = set(self.highlight)
        columns, newest = self.frozen or (self.history.columns(), self.history.book)
        return choose.screen(self.view_name, self.shown, view, venue=self.venue, symbol=self.symbol, width=width, height=height,
                             colour=colour, history=columns, newest=newest, marks=self.history.marks)


def follow_terminal_size(console) -> None:
    """Track the real terminal size: exported COLUMNS/LINES are a stale snapshot
    that Rich would otherwise treat as fixed, and the ladder must reflow on resize."""
    try:
        size = os.get_terminal_size(sys.stdout.fileno())
    except (OSError, ValueError):
        return
    console.size = bounded_size(size.columns, size.lines)


class BoardScreen:
    """Several sources on one screen (side by side, or --merge): the board's keys, and
    its picture drawn from plain data (Board.shown)."""

    def __init__(self, board: Board, view: BoardView, stale_after: float):
        self.board, self.view, self.stale_after = board, view, stale_after
        self.frozen: list[Book | None] | None = None  # the books on screen while paused
        self.alerted: tuple[str, float] | None = None  # the latest alert and when its mark expires
        self.flash: tuple[str, float] | None = None
        self.quit = False

    def on_event(self, index: int, event: object, now: float) -> None:
        pass  # the board keeps every source's book and state

    def on_key(self, key: str, now: float) -> None:
        """Handle one key (views.keys.KEYMAP)."""
        view, board = self.view, self.board
        name = action(key, MERGED_ACTIONS if view.group_key else BOARD_ACTIONS)
        if name == "quit":
            self.quit = True
        elif name in ("deeper", "shallower"):
            deepest = board.plan.spec.depth or 1
            current = view.depth or deepest
            view.depth = min(deepest, current + 1) if name == "deeper" else max(1, current - 1)
        elif name == "group":
            view.group = next_group(view.group, board.merged(0.0, None))
            board.regroup(view.group)
        elif name == "pause":
            view.paused = not view.paused
            self.frozen = [s.book for s in board.states] if view.paused else None
        elif name == "help":
            view.show_help = not view.show_help

    def on_alert(self, text: str, now: float) -> None:
        self.alerted = (text, now + ALERT_MARK_SECONDS)

    def on_notice(self, text: str, now: float) -> None:
        self.flash = (text, now + FLASH_SECONDS)

    def printed(self) -> None:
        self.view.show_help = False

    def draw(self, now: float, width: int, height: int, colour: str) -> RenderableType:
        self.view.alert = self.alerted[0] if self.alerted is not None and self.alerted[1] > now else ""
        self.view.notice = self.flash[0] if self.flash is not None and self.flash[1] > now else ""
        return frame(*self.board.shown(now, self.stale_after, self.frozen), self.view, width, height)


def _screen(board: Board, opts: Options, player: Player | None) -> LiveLadder | BoardScreen:
    """What the loop drives: one source's ladder (chart, heatmap), or the board of several."""
    theme = Theme.from_colours(opts.colours)
    stale_after = opts.stale_after or DEFAULT_STALE_AFTER
    if len(board.states) > 1:
        merged = board.plan.merged
        return BoardScreen(board, BoardView(group=opts.group if merged else None, group_key=merged, theme=theme), stale_after)
    state = board.states[0]
    feed, request = state.feed, state.source.request
    assert feed is not None  # a source that could not open its feed has failed, and the loop raised it
    return LiveLadder(request.venue, request.symbol, feed.shape_spec, stale_after=stale_after, feed=feed, clock=None if player else time.time,
                      max_depth=None if player else state.source.max_depth, request_depth=None if player else feed.set_depth,
                      reshape=feed.set_shape, player=player, view=opts.view, theme=theme)


def _tape_pane(board: Board, screen: LiveLadder | BoardScreen, player: Player | None, replayed: ReplayedTrades | None) -> TapePane | None:
    """The tape beside one source's ladder (key t): the venue's trade feed (recorded
    beside the book with --record, from the start), or a raw recording's trades."""
    from orderbook_cli.tape import TapePane

    if player is not None or len(board.states) != 1 or not isinstance(screen, LiveLadder):
        return None
    if replayed is not None:
        ladder = screen

        def recorded_time() -> float:
            return ladder.book.received_at.timestamp() if ladder.book is not None else 0.0  # float-ok: time

        return TapePane.replaying(replayed, f"{screen.venue} {screen.symbol}", screen.history, screen.view, recorded_time)
    request, feed = board.states[0].source.request, board.states[0].feed
    if not TapePane.offered(request.venue):
        return None
    tap = feed.tap if feed is not None else None
    trades_tap = getattr(tap, "trades_tap", None)  # a recorder (watch --record) keeps the trade frames too
    pane = TapePane(request.venue, request.symbol, request.timeout, screen.history, screen.view,
                    **({"tap": trades_tap()} if trades_tap is not None else {}))
    if trades_tap is not None:
        pane.open()
    return pane


def run(plan: Plan, opts: Options, player: Player | None = None, replayed: ReplayedTrades | None = None) -> None:
    """The live loop for one to six sources: draw until q, Ctrl-C, --count books,
    --duration, --until, or every source failed (raised after the screen is restored).
    --alert rings the bell and marks the header; --until held, --count or --duration
    leave the last frame on the normal screen; 124 when they end it before --until held."""
    from rich.live import Live

    from orderbook_cli.alerts import Monitor

    console = make_console(opts.no_color)
    painter = Painter(console)
    board = Board(plan)
    stale_after = opts.stale_after or DEFAULT_STALE_AFTER
    books_seen, ended = 0, ""
    started = time.monotonic()
    deadline = started + (opts.timeout or DEFAULT_TIMEOUT)
    stop_at = None if opts.duration is None else started + opts.duration
    failures: list[str] = []  # --alert-cmd failures (from its thread): on the screen, then on stderr once it is gone
    shown_failures = 0

    def report(line: str) -> None:
        if len(failures) < MAX_FAILURES_KEPT:
            failures.append(line)

    with board, Keys() as keys:
        if board.all_failed:
            raise board.failure()
        screen = _screen(board, opts, player)

        def announce(alert: Alert) -> None:
            console.bell()
            screen.on_alert(f"{alert.reading.condition.text} ({alert.source})" if len(plan.sources) > 1 else alert.reading.condition.text,
                            time.monotonic())

        monitor = Monitor.of(opts.conditions, announce, report)
        deferred = False
        if isinstance(screen, LiveLadder) and screen.feed is not None and player is None and replayed is None and not monitor.active:
            # Nothing reads the figures of a book that is not drawn (no --until/--alert): of the
            # many a second a live feed sends, only the ~MAX_FPS drawn are shaped (on_held).
            screen.on_shaped = lambda book: board.on_event(0, BookEvent(book))  # the board's newest, shaped
            screen.feed.defer_shaping()
            deferred = True
        keys.forward(board.inject)
        pane = _tape_pane(board, screen, player, replayed)
        if pane is not None and isinstance(screen, LiveLadder):
            screen.view.actions |= TAPE_ACTIONS  # `t` shows and hides it, and the help says so
        still: TapePane | None = None  # the tape pane while paused
        try:
            # Live keeps the alternate screen and hides the cursor; the painter writes the frames (what Live.update would)
            with Live(console=console, screen=True, auto_refresh=False, redirect_stdout=False, redirect_stderr=False):
                last_draw, pending = 0.0, True
                try:
                    while not screen.quit:
                        now = time.monotonic()
                        due = last_draw + (1 / MAX_FPS if pending else IDLE_REDRAW)
                        if now < deadline:
                            due = min(due, deadline)
                        if stop_at is not None:
                            due = min(due, stop_at)
                        if pending and due > now and deferred:
                            # A frame is already due: the books until then are taken together at
                            # that frame, not one wake-up each (a half-full queue ends the wait early).
                            while now < due and board.backlog() < QUEUE_SIZE // 2:
                                time.sleep(min(due - now, BACKLOG_LOOK))
                                now = time.monotonic()
                            item = board.get(timeout=0)
                        else:
                            item = board.get(timeout=max(0.0, due - now))
                        now = time.monotonic()
                        while item is not None:  # coalesce: take everything queued, draw once
                            index, event = item
                            if index is None and isinstance(event, KeyEvent):
                                for key in split_keys(event.keys):
                                    if pane is not None and action(key, TAPE_ACTIONS):  # the tape pane: show / hide
                                        pane.toggle()
                                        if still is not None:
                                            still.toggle()
                                    else:
                                        screen.on_key(key, now)
                            elif index is not None:
                                board.on_event(index, event)
                                screen.on_event(index, event, now)
                                books_seen += isinstance(event, (BookEvent, HeldEvent))
                                if monitor.active and isinstance(event, (BookEvent, StatusEvent)) and _met(monitor, board, now, stale_after, index):
                                    screen.quit = True  # --until held: this book stays on screen
                            pending = True
                            if not screen.quit and opts.count and books_seen >= opts.count:
                                ended, screen.quit = "--count", True
                            if screen.quit:
                                break
                            item = board.get(timeout=0)
                        if not screen.quit and stop_at is not None and now >= stop_at:
                            ended, screen.quit = "--duration", True  # the clock ends the watch, whatever the book does
                        if not screen.quit and monitor.reads_status and _met(monitor, board, now, stale_after, None):
                            screen.quit = True  # `stale` can become true with nothing arriving
                        board.first_book_deadline(deadline, now)
                        if board.all_failed:
                            raise board.failure()
                        while shown_failures < len(failures):
                            screen.on_notice(failures[shown_failures], now)
                            shown_failures += 1
                        if pane is not None and pane.drain():
                            pending = True
                        if (pending and now - last_draw >= 1 / MAX_FPS) or now - last_draw >= IDLE_REDRAW or screen.quit:
                            follow_terminal_size(console)
                            paused = isinstance(screen, LiveLadder) and screen.view.paused
                            if pane is not None:  # paused: the tape as it was (its trades go on arriving underneath)
                                still = (still or _still(pane)) if paused else None
                            painter.draw(_picture(screen, pane if still is None else still, now, console, moving=not paused))
                            last_draw, pending = now, False
                except KeyboardInterrupt:
                    pass  # Ctrl-C is how people leave a live view: exit 0
                finally:
                    if pane is not None:
                        pane.close()
            if ended or monitor.met is not None:  # leave the last frame on the normal screen
                screen.printed()  # no keys any more
                # Room for the command line above and the next prompt below: the header stays on screen.
                console.print(screen.draw(time.monotonic(), console.size.width, max(1, console.size.height - LEFT_FOR_THE_SHELL),
                                          colour_mode(console)))
        finally:
            monitor.close()
    for failure in failures:  # said on the screen while it was up; the screen is gone
        note(failure)
    monitor.verdict(ended)


def _met(monitor: Monitor, board: Board, now: float, stale_after: float, index: int | None) -> bool:
    """Conditions on what source `index` changed (None: every source); True once --until held."""
    return any([monitor.check(name, book, status) for name, book, status in board.watched(now, stale_after, index)])


def _still(pane: TapePane) -> TapePane:
    """The tape pane as it is now, for a paused screen: a copy with its own copy of the
    trades, so the trades still drained into `pane` do not move it."""
    still = copy.copy(pane)
    still.tape = copy.deepcopy(pane.tape)
    return still


def _picture(screen: LiveLadder | BoardScreen, pane: TapePane | None, now: float, console: Console, moving: bool = True) -> RenderableType:
    """The screen's picture at the terminal's size, with the tape beside it when it is on and fits
    (`moving` False: paused, the trades' figures on the view stay as they were)."""
    width, height, colour = console.size.width, console.size.height, colour_mode(console)
    if pane is not None and moving:
        pane.decorate()  # the trades' volume delta and per-level volume, once they are followed
    if pane is None or not pane.fits(width):
        return screen.draw(now, width, height, colour)
    pane.open()
    picture = screen.draw(now, pane.ladder_width(width), height, colour)
    theme = screen.view.theme
    return pane.beside(picture, width, height, theme=theme, colour=colour != "none")


def next_group(current: Decimal | None, book: Book | None) -> Decimal | None:
    """The `g` key: off, then the ladder's presets for this book (about 1, 5, 10, 50 bps), then off."""
    cycle = [None, *group_presets(book)]
    if current not in cycle:
        cycle.insert(1, current)
    return cycle[(cycle.index(current) + 1) % len(cycle)]
