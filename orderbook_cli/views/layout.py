"""The one layout helper: whole items on a line, whole columns in a width.

A number is never shown in part: what does not fit is dropped whole (the
lowest-priority item or column first), said in a shorter wording, or (free
text only) cut at a word boundary with "…".
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


def first_fitting(forms: Sequence[Text], width: int | None) -> Text | None:
    """The first of several wordings of the same thing (longest first) that fits `width`; None if none does."""
    return next((form for form in forms if width is None or form.cell_len <= width), None)


def pack(parts: Sequence[Item], width: int, max_lines: int, sep: str = " · ",
         shorter: Sequence[Sequence[Item]] = ()) -> list[Text]:
    """Whole parts, in their order, on at most `max_lines` lines; a part is never cut.
    `shorter`: other wordings of the same parts (fewer names, fewer figures), tried in
    turn when not every part fits; then the last wording's lowest-priority (then
    rightmost) parts are dropped whole, counted ("+N more") where the count fits."""
    for form in (parts, *shorter):
        placed = _placed(form, width, max_lines, sep)
        if placed is not None:
            return [_joined(line, sep) for line in placed]
    form = list(shorter[-1] if shorter else parts)
    kept = [part for part in form if part.text.cell_len <= width]  # a part wider than the line can never be shown
    placed = None
    while kept:
        placed = _placed(kept, width, max_lines, sep)
        if placed is not None:
            break
        del kept[max(range(len(kept)), key=lambda i: (kept[i].priority, i))]
    if placed is None:
        return []
    lines = [_joined(line, sep) for line in placed]
    more = Text(f" +{len(form) - len(kept)} more", style="dim")
    if lines[-1].cell_len + more.cell_len <= width:
        lines[-1].append_text(more)
    return lines


def _placed(parts: Sequence[Item], width: int, max_lines: int, sep: str) -> list[list[Item]] | None:
    """The parts filled line by line in their order; None when they need more than `max_lines` lines."""
    lines: list[list[Item]] = []
    used = 0
    for part in parts:
        if part.text.cell_len > width:
            return None
        if lines and used + len(sep) + part.text.cell_len <= width:
            lines[-1].append(part)
            used += len(sep) + part.text.cell_len
        else:
            lines.append([part])
            used = part.text.cell_len
    return lines if len(lines) <= max_lines else None


def _joined(parts: Sequence[Item], sep: str) -> Text:
    line = Text(no_wrap=True)
    for n, part in enumerate(parts):
        if n:
            line.append(sep, style="dim")
        line.append_text(part.text)
    return line


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


def fit_columns(columns: Sequence[Column], width: int, gap: int = 1) -> list[Column] | None:
    """The columns that fit `width` (`gap` spaces apart), by rank, in their own order;
    None when not even the first-ranked one does."""
    kept: list[Column] = []
    for column in sorted(columns, key=lambda c: c.rank):
        used = sum(c.width + gap for c in kept) + column.width
        if used <= width:
            kept.append(column)
        elif not kept:
            return None
    return [c for c in columns if c in kept]


def rows(columns: Sequence[Column], count: int, gap: int = 1) -> tuple[Text, list[Text]]:
    """The title line and `count` padded lines of the given columns, `gap` spaces apart."""
    def line(cells: Sequence[Text]) -> Text:
        out = Text(no_wrap=True, overflow="crop")
        for column, cell in zip(columns, cells):
            pad = " " * (column.width - cell.cell_len)
            out.append_text(Text(pad) + cell if column.right else cell + Text(pad))
            out.append(" " * gap)
        out.rstrip()
        return out

    titles = line([Text(c.title, style="bold") for c in columns])
    return titles, [line([c.cells[i] for c in columns]) for i in range(count)]
