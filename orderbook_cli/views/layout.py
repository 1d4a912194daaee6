"""The one layout helper: whole items on a line, whole columns in a width.

A number is never shown in part: what does not fit is dropped whole (the
lowest-priority item or column first) or cut at a word boundary with "…".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from rich.text import Text

from orderbook_cli.errors import sanitize


class Item(NamedTuple):
    """A piece of a one-line row (header, footer…): lower priority numbers are kept longest."""

    priority: int
    text: Text


def fit(items: Sequence[Item], width: int | None, sep: str = "  ") -> Text:
    """Items joined on one line; the lowest-priority (then rightmost) ones are
    dropped whole until the line fits `width`."""
    kept = list(items)
    while width is not None and len(kept) > 1 and sum(i.text.cell_len for i in kept) + len(sep) * (len(kept) - 1) > width:
        worst = max(range(len(kept)), key=lambda i: (kept[i].priority, i))
        del kept[worst]
    line = Text(no_wrap=True, overflow="crop")
    for n, item in enumerate(kept):
        if n:
            line.append(sep)
        line.append_text(item.text)
    return clip_words(line, width)


def clip_words(line: Text, width: int | None) -> Text:
    """The line cut at the last space that leaves room for "…": a word (a number)
    is shown whole or not at all. Items parted by two spaces ("● live  age 0.4s")
    are cut between items first, so a label never stays without its value."""
    if width is None or line.cell_len <= width:
        return line
    cut = line.plain.rfind("  ", 0, width + 1)  # what is kept, line[:cut] and "…", fits: cut <= width - 1
    if cut <= 0:
        cut = line.plain.rfind(" ", 0, width)
    clipped = line[:cut] if cut > 0 else Text(no_wrap=True)
    clipped.rstrip()
    clipped.append("…")
    return clipped if clipped.cell_len <= width else Text("…"[:width])


def wrap_words(line: Text, width: int | None, max_lines: int) -> list[Text]:
    """The line wrapped between words into at most `max_lines` lines, the last cut
    with "…" if it still does not fit: no word (no number) is ever split."""
    if width is None or line.cell_len <= width:
        return [line]
    lines: list[Text] = []
    rest = line
    while rest.cell_len > width and len(lines) < max_lines - 1:
        cut = rest.plain.rfind(" ", 0, width + 1)
        if cut <= 0:
            break
        head = rest[:cut]
        head.rstrip()
        lines.append(head)
        rest = rest[cut + 1:]
    lines.append(clip_words(rest, width))
    return lines


def words(text: str, width: int, style: str = "") -> Text:
    """Untrusted text as one line cut at a word boundary, so no number is ever half shown."""
    return clip_words(Text(sanitize(text), style=style, no_wrap=True), width)


def pack(parts: Sequence[Text], width: int, max_lines: int, sep: str = " · ") -> list[Text]:
    """Whole parts packed into at most `max_lines` lines; what does not fit is counted
    ("+N more"), parts dropped whole to make room for the count."""
    def join(row: list[Text]) -> Text:
        line = Text(no_wrap=True)
        for n, part in enumerate(row):
            if n:
                line.append(sep, style="dim")
            line.append_text(part if part.cell_len <= width else words(part.plain, width))
        return line

    lines: list[Text] = []
    row: list[Text] = []
    for i, part in enumerate(parts):
        if row and join([*row, part]).cell_len > width:
            if len(lines) + 1 == max_lines:
                left = len(parts) - i
                while len(row) > 1 and join(row).cell_len + len(f" +{left} more") > width:
                    row.pop()
                    left += 1
                lines.append(_with_more(join(row), left, width))
                return lines
            lines.append(join(row))
            row = []
        row.append(part)
    if row:
        lines.append(join(row))
    return lines


def _with_more(line: Text, left: int, width: int) -> Text:
    more = f" +{left} more"
    if line.cell_len + len(more) > width:
        line = words(line.plain, width - len(more))
    return line + Text(more, style="dim")


@dataclass
class Column:
    """A column of cells: kept whole or dropped whole."""

    title: str
    cells: list[Text]
    right: bool = True
    rank: int = 0  # lower ranks are kept first when space runs out

    @property
    def width(self) -> int:
        return max([len(self.title)] + [cell.cell_len for cell in self.cells])


def fit_columns(columns: Sequence[Column], width: int) -> list[Column] | None:
    """The columns that fit `width` (one space apart), by rank, in their own order;
    None when not even the first-ranked one does."""
    kept: list[Column] = []
    for column in sorted(columns, key=lambda c: c.rank):
        used = sum(c.width + 1 for c in kept) + column.width
        if used <= width:
            kept.append(column)
        elif not kept:
            return None
    return [c for c in columns if c in kept]


def rows(columns: Sequence[Column], count: int) -> tuple[Text, list[Text]]:
    """The title line and `count` padded lines of the given columns."""
    def line(cells: Sequence[Text]) -> Text:
        out = Text(no_wrap=True, overflow="crop")
        for column, cell in zip(columns, cells):
            pad = " " * (column.width - cell.cell_len)
            out.append_text(Text(pad) + cell if column.right else cell + Text(pad))
            out.append(" ")
        out.rstrip()
        return out

    titles = line([Text(c.title, style="bold") for c in columns])
    return titles, [line([c.cells[i] for c in columns]) for i in range(count)]
