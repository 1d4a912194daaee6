"""The one place that decides which picture the live view draws (`--view`, key `v`).

Every view is a pure function of the book (or the heatmap's history), the view
state, the screen size and the colour mode, and every view shares the ladder's
header (venue, state, age) and its footer of keys.
"""

from __future__ import annotations

from typing import Sequence

from rich.console import Console, Group, RenderableType
from rich.text import Text

from orderbook_cli import render
from orderbook_cli.book import Book, plain
from orderbook_cli.canvas import legend
from orderbook_cli.errors import sanitize

VIEWS = ("ladder", "chart", "heatmap")


def next_view(name: str) -> str:
    return VIEWS[(VIEWS.index(name) + 1) % len(VIEWS)]


def colour_mode(console: Console) -> str:
    """truecolor when the terminal says so (COLORTERM), 256 colours otherwise, none for NO_COLOR / --no-color."""
    if console.no_color or console.color_system is None:
        return "none"
    return "truecolor" if console.color_system == "truecolor" else "256"


def footer(name: str, view: render.LadderView, width: int) -> list[Text]:
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
    keys = [key for key in render.HELP_KEYS if "level" not in key] + list(view.more_keys)
    return [line, *render.help_lines(keys, width)]


def picture(name: str, book: Book | None, view: render.LadderView, *, venue: str, symbol: str, width: int, height: int,
            colour: str, history: Sequence = (), newest: Book | None = None) -> RenderableType:
    """The chart or the heatmap under the shared header, filling width x height.

    `book` is what the screen shows (grouped, trimmed, frozen while paused);
    `history` and `newest` are the heatmap's columns and the book they end with.
    """
    parts: list[RenderableType] = [render.header(book, view, venue, symbol, width)]
    if view.notice:
        parts.append(legend([(sanitize(view.notice), "yellow")], width))
    below = footer(name, view, width)
    body_height = max(0, height - len(parts) - len(below))
    if book is None:
        parts.append(Text("waiting for the first book…", style="dim"))
    elif name == "chart":
        from orderbook_cli.chart import depth_chart

        parts.append(depth_chart(book, width, body_height))
    else:
        from orderbook_cli import heatmap

        newest = newest or book
        step = view.group or heatmap.auto_step(history[-max(1, width):], body_height - heatmap.CHROME)
        parts.append(heatmap.heatmap(history, newest, step=step, depth=view.depth, width=width, height=body_height, colour=colour))
    return Group(*parts, *below)
