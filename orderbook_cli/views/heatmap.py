"""The liquidity heatmap: resting size by price (up the screen) and time (left to
right, now at the right edge), with the best bid and best ask traced through it.

History is one column per COLUMN_SECONDS of *book* time (the venue's timestamp,
else when it arrived), so a replay at any speed builds the same picture. It is a
ring of at most HISTORY_COLUMNS columns, each holding at most LEVELS_KEPT levels
per side: memory stays bounded however long obook runs.

Trades are marked where and when they printed (their own time slot and price
row), sized by amount against the largest mark shown, coloured by the taker's
side; a ring of at most MAX_MARKS keeps them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Sequence
from decimal import Decimal, localcontext
from heapq import nlargest
from typing import NamedTuple

from rich.color import Color
from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Text

from orderbook_cli.book import EXACT, Book, Level, plain
from orderbook_cli.trades import BUY, SELL, Trade
from orderbook_cli.views.canvas import Picture, legend, notice, runs
from orderbook_cli.views.chart import sides
from orderbook_cli.views.scales import (
    PRICE_STEPS,
    ceil_steps,
    floor_steps,
    label,
    nice_step,
    overlay,
    place,
    significant,
)
from orderbook_cli.views.theme import DEFAULT, Theme

COLUMN_SECONDS = 1
HISTORY_COLUMNS = 400  # wider than any terminal people read
LEVELS_KEPT = 60  # per side, nearest the touch
CHROME = 2  # legend line, time axis
MIN_AREA = (12, 1 + CHROME)  # columns × lines the heatmap needs
BACKWARDS_SLOTS = 2  # book time going back further than this is a jump, not jitter
PRICE_LABEL_EVERY = 5  # rows: labels sit on multiples of 5 steps, so they are round

# Shades from thin to thick resting size: truecolor, the xterm 256 palette, and characters.
TRUECOLOR = ((30, 34, 84), (32, 74, 160), (20, 132, 170), (40, 180, 140), (150, 210, 70), (245, 215, 50), (255, 250, 220))
XTERM256 = (17, 19, 25, 37, 113, 220, 230)
RAMP = "·:░▒▓█"
AXIS = Style(dim=True)
TRACE = Style(bold=True)
MAX_MARKS = 5_000  # trades marked on the map; older ones have scrolled off at any usual rate
MARK_GLYPHS = {"colour": ("·", "•", "●"), "none": ("o", "O", "@")}  # small, medium, large (the ramp uses "·" without colour)


class Mark(NamedTuple):
    """A trade on the heatmap: its time slot, price, amount and taker side (None: unknown)."""

    slot: int
    price: Decimal
    amount: Decimal
    side: str | None


class Column:
    """The book during one time slot (the last book seen in it), and its cells once bucketed."""

    __slots__ = ("_cells", "_key", "asks", "best", "bids", "group", "reach", "slot")

    def __init__(self, slot: int, book: Book):
        self.slot = slot
        self.bids: tuple[Level, ...] = book.bids[:LEVELS_KEPT]
        self.asks: tuple[Level, ...] = book.asks[:LEVELS_KEPT]
        self.best = (book.best_bid, book.best_ask)  # the real book's (its figures), however its levels are grouped
        self.group = book.figures.group if book.figures is not None else None  # the tick its levels are bucketed by
        self.reach = _reach(self.bids, self.asks)
        self._key: tuple | None = None
        self._cells: tuple[dict[int, Decimal], int | None, int | None] = ({}, None, None)

    def cells(self, step: Decimal, depth: int | None) -> tuple[dict[int, Decimal], int | None, int | None]:
        """Size per price row (row n holds prices in [n*step, (n+1)*step) for bids, (.., n*step] for
        asks, like --group), and the rows of the best bid and best ask. Cached per step."""
        key = (step, depth)
        if self._key != key:
            cells: dict[int, Decimal] = {}
            with localcontext(EXACT):  # prices are positive: // is floor division, exact here
                if self.group is not None and step % self.group:  # grouped coarser than these rows: no size to show, none made up
                    self._key, self._cells = key, ({}, *self._traces(step))
                    return self._cells
                for level in self.bids[:depth]:
                    row = int(level.price // step)
                    cells[row] = cells.get(row, 0) + level.amount
                for level in self.asks[:depth]:
                    row = int(level.price // step)
                    row += bool(level.price % step)  # asks round up
                    cells[row] = cells.get(row, 0) + level.amount
            self._key, self._cells = key, (cells, *self._traces(step))
        return self._cells

    def _traces(self, step: Decimal) -> tuple[int | None, int | None]:
        """The rows of the real best bid and best ask."""
        bid, ask = self.best
        return (floor_steps(bid, step) if bid is not None else None), (ceil_steps(ask, step) if ask is not None else None)


class History:
    """The ring of columns: call add() for every book, columns() to draw."""

    def __init__(self, capacity: int = HISTORY_COLUMNS, seconds: float = COLUMN_SECONDS):
        self.ring: deque[Column] = deque(maxlen=capacity)
        self.seconds = seconds  # float-ok: time
        self.book: Book | None = None  # the newest book: the open column at the right edge
        self.slot = 0
        self._open: Column | None = None
        self._open_book: Book | None = None
        self.marks: deque[Mark] = deque(maxlen=MAX_MARKS)

    def trade(self, trade: Trade, stamp: float | None = None) -> None:
        """Mark a trade at its price in its time slot. `stamp`: on the clock the books are
        added on (a live view: when it arrived); None: the venue's time, else when it arrived."""
        if stamp is None:
            stamp = (trade.timestamp or trade.received_at).timestamp()  # float-ok: time
        self.marks.append(Mark(int(stamp // self.seconds), trade.price, trade.amount, trade.side))

    def add(self, book: Book, stamp: float | None = None) -> None:
        """`stamp`: the book's time in seconds (a live view: when it arrived); None: the book's own (a replay's)."""
        if stamp is None:
            stamp = (book.timestamp or book.received_at).timestamp()  # float-ok: time
        slot = int(stamp // self.seconds)
        if self.book is not None and slot < self.slot - BACKWARDS_SLOTS:
            self.clear()  # a replay jumped back (or looped): the picture starts again from there
        self._advance(slot)
        self.book = book

    def advance(self, stamp: float) -> None:
        """The clock moved on with no new book (a quiet live book): it rests on through the slots until `stamp`."""
        if self.book is not None:
            self._advance(int(stamp // self.seconds))

    def _advance(self, slot: int) -> None:
        if self.book is not None and slot > self.slot:
            closed = self._column()
            # The closed book rested through any empty slots until this one.
            for _ in range(min(slot - self.slot, self.ring.maxlen or 0)):
                self.ring.append(closed)
            self._open = None  # the open column is the new slot's
        if self.book is None or slot >= self.slot:
            self.slot = slot

    def _column(self) -> Column:
        assert self.book is not None  # a column is asked for once a book arrived
        if self._open is None or self._open_book is not self.book:
            self._open, self._open_book = Column(self.slot, self.book), self.book
        return self._open

    def columns(self) -> list[Column]:
        """Oldest first; the last one is now."""
        if self.book is None:
            return []
        return [*self.ring, self._column()]

    def clear(self) -> None:
        self.ring.clear()
        self.marks.clear()
        self.book = self._open = self._open_book = None


def _reach(bids: Sequence[Level], asks: Sequence[Level]) -> Decimal | None:
    """The price span from the deepest bid to the deepest ask kept (None: an empty book)."""
    prices = [lv.price for lv in (*bids[-1:], *asks[-1:], *bids[:1], *asks[:1])]
    if not prices:
        return None
    with localcontext(EXACT):
        return max(prices) - min(prices) or max(prices) / 100 or Decimal(1)


def auto_step(columns: Sequence[Column], rows: int) -> Decimal:
    """A round price step per row that fits the books' usual depth on the screen: the
    median span of the columns shown, so one odd book does not rescale the picture."""
    reaches = sorted(r for r in (column.reach for column in columns) if r is not None)
    if not reaches:
        return Decimal(1)
    with localcontext(EXACT):
        return nice_step(reaches[len(reaches) // 2] / max(1, rows - 1), PRICE_STEPS)


def _palette(colour: str) -> list[tuple[str, Style | None]]:
    """(character, style) per shade, thin to thick."""
    if colour == "truecolor":
        return [(" ", Style(bgcolor=Color.from_rgb(*rgb))) for rgb in TRUECOLOR]
    if colour == "256":
        return [(" ", Style(bgcolor=Color.from_ansi(n))) for n in XTERM256]
    return [(ch, None) for ch in RAMP]


def _mark_row(mark: Mark, step: Decimal) -> int:
    """A taker buy lifted an ask (rows round up, as asks do), anything else hit a bid (down)."""
    return ceil_steps(mark.price, step) if mark.side == BUY else floor_steps(mark.price, step)


def mark_cells(marks: Sequence[Mark], now_slot: int, plot: int, step: Decimal, rows: range) -> dict[tuple[int, int], tuple[Decimal, str | None]]:
    """{(x, price row): (amount, side)} for the marks inside a `plot`-wide map ending at `now_slot`:
    prints in one cell add up, and keep a side only when they all share it."""
    out: dict[tuple[int, int], tuple[Decimal, str | None]] = {}
    with localcontext(EXACT):
        for mark in marks:
            x = plot - 1 - (now_slot - mark.slot)
            row = _mark_row(mark, step)
            if not 0 <= x < plot or row not in rows:
                continue
            amount, side = out.get((x, row), (Decimal(0), mark.side))
            out[(x, row)] = (amount + mark.amount, side if side == mark.side else None)
    return out


def _mark_glyph(amount: Decimal, biggest: Decimal, glyphs: tuple[str, str, str]) -> str:
    """Sized by amount: up to a ninth of the biggest mark shown small, up to a third medium, else large."""
    with localcontext(EXACT):
        return glyphs[0] if amount * 9 <= biggest else glyphs[1] if amount * 3 <= biggest else glyphs[2]


def heatmap(columns: Sequence[Column], book: Book, *, step: Decimal, depth: int | None, width: int, height: int, colour: str,
            theme: Theme = DEFAULT, marks: Sequence[Mark] = ()) -> RenderableType:
    """Columns (oldest first) as a width x height picture: a legend line, the map with
    price labels on the right, and a time axis; `marks` (History.marks) are the trades."""
    rows = height - CHROME
    if width < MIN_AREA[0] or height < MIN_AREA[1]:
        return notice(f"too small for the heatmap: it needs {MIN_AREA[0]}×{MIN_AREA[1]}", width)
    with localcontext(EXACT):
        mid = book.mid if book.mid is not None else (book.best_bid or book.best_ask or Decimal(0))
        centre = floor_steps(mid, step)
    top_row = centre + rows // 2  # price row shown on the first screen line
    every = PRICE_LABEL_EVERY if rows >= 2 * PRICE_LABEL_EVERY else 1
    with localcontext(EXACT):
        labels = {r: label(step * (top_row - r), step) for r in range(rows) if (top_row - r) % every == 0 and top_row >= r}  # no price below zero
    gutter = max((len(text) for text in labels.values()), default=0) + 1
    if width - gutter < 10:
        gutter, labels = 0, {}
    plot = width - gutter
    shown = list(columns[-plot:])
    cells = [column.cells(step, depth) for column in shown]
    visible = [amount for grid, _, _ in cells for row, amount in grid.items() if top_row - rows < row <= top_row]
    biggest = max(visible, default=Decimal(0))
    # The scale tops out near the 95th percentile, so one huge wall does not wash the rest
    # out, but at a third of the largest size at least, so a wall still stands out.
    palette = _palette(colour)
    shades = len(palette)
    with localcontext(EXACT):  # shade k starts at top * (k / shades)^2: thin sizes stay visible
        top = max(min(nlargest(len(visible) // 20 + 1, visible)), biggest / 3) if visible else Decimal(0)
        bounds = [top * k * k / (shades * shades) for k in range(1, shades)]
    bid_ch, ask_ch = ("━", "━") if colour != "none" else ("═", "─")
    bid_trace, ask_trace = (style + TRACE for style in sides(theme))
    on_bid = [(bid_ch, style + bid_trace if style else bid_trace) for _, style in palette]
    on_ask = [(ask_ch, style + ask_trace if style else ask_trace) for _, style in palette]
    pad = plot - len(shown)
    traded = mark_cells(marks, shown[-1].slot, plot, step, range(top_row - rows + 1, top_row + 1)) if shown else {}
    biggest_print = max((amount for amount, _ in traded.values()), default=Decimal(0))
    glyphs = MARK_GLYPHS["none" if colour == "none" else "colour"]
    side_style = {BUY: sides(theme)[0], SELL: sides(theme)[1], None: Style()}
    lines = []
    for r in range(rows):
        price_row = top_row - r
        chars: list[str] = [" "] * pad
        styles: list[Style | None] = [None] * pad
        style: Style | None
        for grid, bid, ask in cells:
            amount = grid.get(price_row)
            shade = None if amount is None else bisect_left(bounds, amount)
            if price_row == bid:
                ch, style = (bid_ch, bid_trace) if shade is None else on_bid[shade]
            elif price_row == ask:
                ch, style = (ask_ch, ask_trace) if shade is None else on_ask[shade]
            else:
                ch, style = (" ", None) if shade is None else palette[shade]
            chars.append(ch)
            styles.append(style)
        for (x, row), (amount, side) in traded.items():
            if row == price_row:  # on top of the shade: the print's colour on the resting size's background
                chars[x] = _mark_glyph(amount, biggest_print, glyphs)
                styles[x] = (styles[x] or Style()) + side_style[side] + TRACE
        if gutter:
            text = labels.get(r)
            chars += list(("┤" if text else "│") + (text or "").ljust(gutter - 1))
            styles += [AXIS] * gutter
        lines.append(runs(chars, styles))
    lines += _time_axis(shown, plot, width)
    legend_marks = (glyphs[2], side_style) if traded else None
    return Group(_legend(palette, bounds, biggest, (bid_ch, bid_trace), (ask_ch, ask_trace), step, width, legend_marks), Picture(lines, width))


def _time_axis(shown: Sequence[Column], plot: int, width: int) -> list:
    """Seconds before now under the map, "now" at the right edge."""
    if not shown:
        return [[("", None)]]
    now = shown[-1].slot
    ticks = [(plot - 1, "now")]
    for i in range(len(shown) - 1, -1, -1):
        age = (now - shown[i].slot) * COLUMN_SECONDS
        if age and age % 15 == 0:
            text = f"-{age // 60}m" if age % 60 == 0 else f"-{age}s"
            ticks.append((plot - len(shown) + i, text))
    placed = place(ticks, plot, gap=2)
    line = [" "] * width
    overlay(line, placed)
    return [[("".join(line).rstrip(), AXIS)]]


def _legend(palette, bounds: list[Decimal], biggest: Decimal, bid: tuple[str, Style], ask: tuple[str, Style], step: Decimal, width: int,
            marks: tuple[str, dict] | None = None) -> Text:
    """Shade to size first (what the picture means), then the traces, the trades (when any are
    shown), the row height and the time per column."""
    shades = list(zip(palette, [Decimal(0)] + bounds))
    for picks in (shades, shades[::3], shades[::6]):  # fewer shades on narrow screens
        scale = Text("size " if len(picks) == len(shades) else "")
        for (ch, style), start in picks:
            scale.append(ch, style=style)
            scale.append(f"{'>' if not start else ''}{significant(start)} ")
        scale.append(f"(max {significant(biggest)})")
        if scale.cell_len <= width:
            break
    items: list[tuple[str | Text, Style | None]] = [(scale, None)] if biggest else []
    names = ("best ask", "best bid") if width >= scale.cell_len + 24 or not biggest else ("ask", "bid")
    items += [(f"{ask[0]} {names[0]}", ask[1]), (f"{bid[0]} {names[1]}", bid[1])]
    if marks is not None:
        glyph, styles = marks
        items.append((Text.assemble((glyph, styles[BUY] + TRACE), (glyph, styles[SELL] + TRACE), " trades by size"), None))
    items += [(f"row {plain(step.normalize())}", AXIS), (f"{COLUMN_SECONDS}s/col", AXIS)]
    return legend(items, width)
