"""The live loop for several sources: events from every feed, keys, redraws.

What it draws comes from orderbook_cli.views.boards (pure functions).
"""

from __future__ import annotations

import time
from decimal import Decimal

from orderbook_cli.book import Book
from orderbook_cli.multi import Board, FanIn, Plan, first_book_deadlines, open_feeds
from orderbook_cli.views.boards import BoardView, frame
from orderbook_cli.views.keys import (
    BOARD_ACTIONS,
    MERGED_ACTIONS,
    KeyEvent,
    Keys,
    action,
    split_keys,
)
from orderbook_cli.views.terminal import console as make_console
from orderbook_cli.views.theme import Theme

# -- the live loop -----------------------------------------------------------

def next_group(current: Decimal | None, book: Book | None) -> Decimal | None:
    """The `g` key: off, then the ladder's presets for this book (about 1, 5, 10, 50 bps), then off."""
    from orderbook_cli.live import group_presets

    cycle = [None, *group_presets(book)]
    if current not in cycle:
        cycle.insert(1, current)
    return cycle[(cycle.index(current) + 1) % len(cycle)]


def on_key(key: str, board: Board, view: BoardView) -> bool:
    """Handle one key (views.keys.KEYMAP); True to quit."""
    name = action(key, MERGED_ACTIONS if view.group_key else BOARD_ACTIONS)
    if name == "quit":
        return True
    if name in ("deeper", "shallower"):
        deepest = board.plan.depth
        current = view.depth or deepest
        view.depth = min(deepest, current + 1) if name == "deeper" else max(1, current - 1)
    elif name == "group":
        view.group = next_group(view.group, board.merged(0.0, None))
        board.regroup(view.group)
    elif name == "pause":
        view.paused = not view.paused
        view.frozen = [s.book for s in board.states] if view.paused else []
    elif name == "help":
        view.show_help = not view.show_help
    return False


def run(plan: Plan, opts) -> None:
    """Draw until q, Ctrl-C, --count books, or every source failed (raised after the screen is restored)."""
    from rich.live import Live

    from orderbook_cli.feed import BookEvent
    from orderbook_cli.live import IDLE_REDRAW, MAX_FPS, follow_terminal_size

    merged = plan.symbol is not None
    feeds, errors = open_feeds(plan)
    board = Board(plan, feeds, errors)
    if board.all_failed:
        raise board.failure()
    view = BoardView(stale_after=opts.stale_after, group=opts.group if merged else None, group_key=merged,
                     theme=Theme.from_colours(opts.colours))
    console = make_console(opts.no_color)
    books_seen, quit_ = 0, False
    deadline = time.monotonic() + opts.timeout
    with FanIn(feeds) as fan, Keys() as keys:
        keys.forward(fan.inject)
        with Live(console=console, screen=True, auto_refresh=False, redirect_stdout=False, redirect_stderr=False) as screen:
            last_draw, pending = 0.0, True
            try:
                while not quit_:
                    now = time.monotonic()
                    due = last_draw + (1 / MAX_FPS if pending else IDLE_REDRAW)
                    if now < deadline:
                        due = min(due, deadline)
                    item = fan.get(timeout=max(0.0, due - now))
                    while item is not None and not quit_:
                        index, event = item
                        if index is None and isinstance(event, KeyEvent):
                            quit_ = any(on_key(key, board, view) for key in split_keys(event.keys))
                        elif index is not None:
                            board.on_event(index, event)
                            books_seen += isinstance(event, BookEvent)
                        pending = True
                        if opts.count and books_seen >= opts.count:
                            quit_ = True
                        item = fan.get(timeout=0)
                    now = time.monotonic()
                    first_book_deadlines(board, fan, deadline, now, lambda error: None)
                    if board.all_failed:
                        raise board.failure()
                    if (pending and now - last_draw >= 1 / MAX_FPS) or now - last_draw >= IDLE_REDRAW or quit_:
                        follow_terminal_size(console)
                        screen.update(frame(board, now, view, console.size.width, console.size.height), refresh=True)
                        last_draw, pending = now, False
            except KeyboardInterrupt:
                pass  # Ctrl-C is how people leave a live view: exit 0
