"""The one place that decides which picture the live view draws (`--view`, key `v`).

Every view is a pure function of the book (or the heatmap's history), the view
state, the screen size and the colour mode, and every view shares the ladder's
header (venue, state, age) and its footer of keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

from rich.console import Group, RenderableType
from rich.text import Text

from orderbook_cli.book import Book, plain
from orderbook_cli.errors import sanitize
from orderbook_cli.views.canvas import legend
from orderbook_cli.views.header import header
from orderbook_cli.views.keys import (
    LADDER_ACTIONS,
    PICTURE_ACTIONS,
    help_keys,
    help_lines,
)
from orderbook_cli.views.ladder import ladder
from orderbook_cli.views.layout import wrap_words
from orderbook_cli.views.state import LadderView, printed
from orderbook_cli.views.terminal import console
from orderbook_cli.views.theme import Theme

VIEWS = ("ladder", "chart", "heatmap")


def next_view(name: str) -> str:
    return VIEWS[(VIEWS.index(name) + 1) % len(VIEWS)]


def footer(name: str, view: LadderView, width: int) -> list[Text]:
    """The view's name, grouping and depth (whole items, as many as fit), then the keys:
    a hint, or on `?` the ladder's keys but the level cursor (a picture has no rows to point at)."""
    parts = [name]
    if view.group is not None:
        parts.append(f"grouped by {plain(view.group)}")
    if view.depth is not None:
        parts.append(f"depth {view.depth}")
    if not view.show_help:
        parts.append("v next view · ? keys")
    line = legend([(part, None) for part in parts], width, sep=" · ")
    line.stylize("dim")
    if not view.show_help:
        return [line]
    offered = view.actions - (LADDER_ACTIONS - PICTURE_ACTIONS)  # a picture has no rows to point at
    return [line, *help_lines(help_keys(offered), width)]


def picture(name: str, book: Book | None, view: LadderView, *, venue: str, symbol: str, width: int, height: int,
            colour: str, history: Sequence = (), newest: Book | None = None, marks: Sequence = ()) -> RenderableType:
    """The chart or the heatmap under the shared header, filling width x height.

    `book` is what the screen shows (grouped, trimmed, frozen while paused);
    `history` and `newest` are the heatmap's columns and the book they end with,
    `marks` the trades it marks (heatmap.History.marks).
    """
    from orderbook_cli.views import chart, heatmap

    parts: list[RenderableType] = [header(book, view, venue, symbol, width)]
    if view.notice:  # two lines at most, cut between words
        parts.extend(wrap_words(Text(sanitize(view.notice), style="yellow"), width, 2))
    below = footer(name, view, width)
    body_height = max(0, height - len(parts) - len(below))
    need_width, need_height = chart.MIN_AREA if name == "chart" else heatmap.MIN_AREA
    if book is None:
        parts.append(Text("waiting for the first book…", style="dim"))
    elif width < need_width or body_height < need_height:  # say the terminal size it takes, whole
        need = f"{need_width}×{need_height + height - body_height}"
        parts.extend(wrap_words(Text(f"the {name} needs {need}: enlarge the terminal or press v", style="dim"),
                                width, max(1, body_height))[: max(0, body_height)])
    elif name == "chart":
        parts.append(chart.depth_chart(book, width, body_height, view.theme))
    else:
        newest = newest or book
        step = view.group or heatmap.auto_step(history[-max(1, width):], body_height - heatmap.CHROME)
        parts.append(heatmap.heatmap(history, newest, step=step, depth=view.depth, width=width, height=body_height, colour=colour,
                                      theme=view.theme, marks=marks))
    return Group(*parts, *below)


def screen(name: str, book: Book | None, view: LadderView, *, venue: str, symbol: str, width: int | None, height: int | None,
           colour: str = "none", history: Sequence = (), newest: Book | None = None, marks: Sequence = ()) -> RenderableType:
    """The view called `name` (VIEWS) for a `width` × `height` area: the one place that picks it."""
    if name == "ladder":
        return ladder(book, view, venue, symbol, width=width, height=height)
    return picture(name, book, view, venue=venue, symbol=symbol, width=width or 80, height=height or 24, colour=colour,
                   history=history, newest=newest, marks=marks)


def print_snapshot(book: Book, name: str, *, theme: Theme, no_color: bool) -> None:
    """`snapshot`: the ladder or the chart printed once at the terminal's width (the shaped book:
    grouped and trimmed as asked, its figures from the whole book)."""
    from datetime import datetime

    out = console(no_color)
    view = printed(book, datetime.now(UTC).date(), group=book.figures.group if book.figures is not None else None, theme=theme)
    if name == "chart":
        from orderbook_cli.views.chart import depth_chart

        out.print(header(book, view, width=out.size.width))
        out.print(depth_chart(book, out.size.width, min(out.size.height, 40) - 2, theme))
    else:
        out.print(ladder(book, view, width=out.width))
