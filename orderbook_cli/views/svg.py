"""`snapshot --svg FILE`: the ladder or the depth chart as an SVG picture to share.

Rich records what it would print and writes it as SVG text elements, so every
price and amount is real text in the file (searchable, copyable), in the same
colours and layout as the terminal.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console, Group
from rich.measure import Measurement

from orderbook_cli.book import Book
from orderbook_cli.errors import OutputError, UsageError, sanitize
from orderbook_cli.smallfile import open_for_writing, write_failure
from orderbook_cli.views.header import header
from orderbook_cli.views.ladder import ladder
from orderbook_cli.views.state import printed
from orderbook_cli.views.theme import DEFAULT, Theme

CHART_SIZE = (100, 32)  # columns x lines: a picture that reads well in a chat or an issue
MIN_WIDTH, MAX_WIDTH = 60, 160


def check_target(path: str) -> Path:
    """Fail before fetching anything when the file cannot be written there."""
    target = Path(path)
    try:
        if target.is_dir():
            raise UsageError(f"--svg {sanitize(path, 200)} is a directory", hint="give a file name, e.g. --svg book.svg")
        if not target.parent.is_dir():
            raise UsageError(f"--svg {sanitize(path, 200)}: no directory {sanitize(str(target.parent), 200)}", hint="create it first or pick another path")
    except OSError as exc:  # a name too long for the system, and the like
        raise UsageError(f"--svg {sanitize(path, 200)}: {write_failure(exc)}", hint="pick a writable path") from None
    return target


def picture(book: Book, view: str, theme: Theme = DEFAULT):
    """The renderable and the width to record it at."""
    state = printed(book, datetime.now(UTC).date(), group=book.figures.group if book.figures is not None else None, theme=theme)
    if view == "chart":
        from orderbook_cli.views.chart import depth_chart

        width, height = CHART_SIZE
        return Group(header(book, state), depth_chart(book, width, height - 1, theme)), width
    drawn = ladder(book, state)
    measure = Console(width=MAX_WIDTH, file=io.StringIO())
    width = Measurement.get(measure, measure.options, drawn).maximum
    return drawn, min(MAX_WIDTH, max(MIN_WIDTH, width))


def to_svg(book: Book, view: str = "ladder", theme: Theme = DEFAULT) -> str:
    renderable, width = picture(book, view, theme)
    console = Console(file=io.StringIO(), record=True, width=width, force_terminal=True, color_system="truecolor",
                      emoji=False, markup=False, highlight=False, legacy_windows=False)
    console.print(renderable)
    return console.export_svg(title=sanitize(f"obook {book.venue} {book.symbol}", 80), code_format=svg_format())


def svg_format() -> str:
    """Rich's SVG template without its web fonts: a shared picture loads nothing from
    the network and looks the same offline (every text run has a fixed textLength,
    so any local monospace font keeps the columns)."""
    from rich._export_format import CONSOLE_SVG_FORMAT

    start = CONSOLE_SVG_FORMAT.index("@font-face")
    end = CONSOLE_SVG_FORMAT.index(".{unique_id}-matrix")
    return (CONSOLE_SVG_FORMAT[:start] + CONSOLE_SVG_FORMAT[end:]).replace(
        "font-family: Fira Code, monospace;", 'font-family: "DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono", monospace;')


def write_svg(book: Book, path: str, view: str = "ladder", theme: Theme = DEFAULT) -> None:
    check_target(path)
    picture_text = to_svg(book, view, theme)
    try:
        out = open_for_writing(path, "w", encoding="utf-8")  # a FIFO nobody reads is refused at once, never a hang
    except OSError as exc:  # not a place to write (permissions, a read-only system): the command line's to change
        raise UsageError(f"cannot write {sanitize(path, 200)}: {write_failure(exc)}", hint="pick a writable path") from None
    try:
        with out:
            out.write(picture_text)
    except OSError as exc:  # opened, then the disk filled or the device failed: an output error, as on stdout
        raise OutputError(f"cannot write {sanitize(path, 200)}: {write_failure(exc)}", hint="check the disk or device it goes to") from None
