"""The depth chart: cumulative amount against price, bids left of mid, asks right.

Drawn in braille (2x4 dots per cell), so steps fall between characters. Bids
are solid (⣿), asks are hatched with a solid top edge (⡇), so the sides read
apart without colour. Prices and amounts stay exact Decimals; only screen
positions are integers.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Text

from orderbook_cli.book import EXACT, Book, Level, bps_of, plain
from orderbook_cli.views import scales
from orderbook_cli.views.canvas import Picture, legend, notice, runs
from orderbook_cli.views.theme import DEFAULT, Theme

MID = Style(color="yellow")
AXIS = Style(dim=True)
BOTH = Style(bold=True)

BRAILLE = 0x2800
# Bit of the braille dot at (sub-row 0..3 from the top) in the right dot column.
RIGHT_DOTS = (0x08, 0x10, 0x20, 0x80)
# The bottom n dots of a dot column, n = 0..4.
LEFT_FILL = (0, 0x40, 0x44, 0x46, 0x47)
RIGHT_FILL = (0, 0x80, 0xA0, 0xB0, 0xB8)

MIN_ROWS, MIN_WIDTH = 2, 12
Y_LABEL_EVERY = 4  # rows between amount labels at least
CHROME = 3  # legend line, axis line, price labels
MIN_AREA = (MIN_WIDTH, MIN_ROWS + CHROME)  # columns × lines the chart needs


def _heights(levels: tuple[Level, ...], px, pixels: int, dots: int, top: Decimal, rising_left: bool) -> list[int]:
    """Dot height of the cumulative staircase in each pixel column (0 outside the side)."""
    heights = [0] * pixels
    if not levels:
        return heights
    at: dict[int, Decimal] = {}
    for level in levels:
        at[px(level.price)] = level.total  # deeper levels in one pixel column: the larger total wins
    first, last = px(levels[0].price), px(levels[-1].price)
    span = range(first, last - 1, -1) if rising_left else range(first, last + 1)
    running = Decimal(0)
    for x in span:
        running = at.get(x, running)
        heights[x] = max(1, scales.ceil_steps(running * dots, top))
    return heights


def _extent(book: Book) -> tuple[Decimal, Decimal]:
    """Centre and half-width of the price range: mid, and the deeper side's reach."""
    with localcontext(EXACT):
        # a one-sided book centres on its best price (which may be 0: not "or")
        mid = book.mid if book.mid is not None else book.best_bid if book.best_bid is not None else book.best_ask
        assert mid is not None  # the caller draws no chart of an empty book
        reach = max(mid - book.bids[-1].price if book.bids else Decimal(0), book.asks[-1].price - mid if book.asks else Decimal(0))
        if reach <= 0:
            reach = mid / 1000 if mid else Decimal(1)
        return mid, reach


def _amount_axis(top_total: Decimal, rows: int) -> tuple[Decimal, dict[int, str]]:
    """The chart's top value (a whole number of round steps) and labels by row."""
    with localcontext(EXACT):
        step = scales.nice_step(top_total / max(1, rows // Y_LABEL_EVERY))
        top = step * scales.ceil_steps(top_total, step)
        labels: dict[int, str] = {}
        last_row = None
        for k in range(scales.ceil_steps(top, step), -1, -1):  # top down
            value = step * k
            row = min(rows - 1, rows - scales.ceil_steps(value * rows, top))
            if last_row is None or row - last_row >= Y_LABEL_EVERY:
                labels[row] = scales.label(value, step)
                last_row = row
    return top, labels


def sides(theme: Theme) -> tuple[Style, Style]:
    """Bid and ask styles: the ladder's (the config's theme)."""
    return Style.parse(theme.bid), Style.parse(theme.ask)


def _legend(book: Book, width: int, theme: Theme) -> Text:
    """Best bid, best ask, spread and mid, then the key to the glyphs; short words when narrow."""
    short = width < 72
    bid_style, ask_style = sides(theme)
    items: list[tuple[str, Style | None]] = []
    if book.best_bid is not None:
        items.append((f"▲{'bid' if short else ' best bid'} {plain(book.best_bid)}", bid_style))
    if book.best_ask is not None:
        items.append((f"▲{'ask' if short else ' best ask'} {plain(book.best_ask)}", ask_style))
    if book.spread is not None:
        bps = f" ({plain(bps_of(book.spread, book.mid))} bps)" if book.mid else ""
        items.append((f"spread {plain(book.spread)}{'' if short else bps}", None))
        if book.mid is not None:
            items.append((f"┊ mid {plain(book.mid)}", MID))
    items += [("⣿ bids", bid_style), ("⡇ asks", ask_style), ("y: cumulative amount", AXIS)]
    return legend(items, width)


def depth_chart(book: Book, width: int, height: int, theme: Theme = DEFAULT) -> RenderableType:
    """The chart filling width x height cells (the legend line and the axes included)."""
    rows = height - CHROME
    if not (book.bids or book.asks):
        return notice("the book is empty", width)
    if rows < MIN_ROWS or width < MIN_WIDTH:
        return notice(f"too small for the chart: it needs {MIN_AREA[0]}×{MIN_AREA[1]}", width)
    mid, reach = _extent(book)
    top_total = max(book.bids[-1].total if book.bids else Decimal(0), book.asks[-1].total if book.asks else Decimal(0))
    top, y_labels = _amount_axis(top_total, rows)
    gutter = max(len(text) for text in y_labels.values()) + 1
    if width - gutter < MIN_WIDTH:
        gutter, y_labels = 0, {}
    plot = width - gutter
    pixels, dots = plot * 2, rows * 4
    bid_style, ask_style = sides(theme)
    with localcontext(EXACT):
        low, span = mid - reach, reach * 2
        scale = pixels / span

        def px(price: Decimal) -> int:
            return min(pixels - 1, max(0, int((price - low) * scale)))

        bid_h = _heights(book.bids, px, pixels, dots, top, rising_left=True)
        ask_h = _heights(book.asks, px, pixels, dots, top, rising_left=False)
        mid_col = px(mid) // 2
        # the real best prices (the legend's), not a --group bucket's bound
        bid_col = px(book.best_bid) // 2 if book.bids and book.best_bid is not None else None
        ask_col = px(book.best_ask) // 2 if book.asks and book.best_ask is not None else None

        lines = []
        for r in range(rows):
            chars: list[str] = []
            styles: list[Style | None] = []
            if gutter:
                text = y_labels.get(r)
                chars += list((text or "").rjust(gutter - 1) + ("┤" if text else "│"))
                styles += [AXIS] * gutter
            base = dots - 4 * r - 4  # a column taller than this reaches into this row, by (height - base) dots
            for c in range(plot):
                left, right = 2 * c, 2 * c + 1
                bits = ask_bits = 0
                n = bid_h[left] - base
                if n > 0:
                    bits = LEFT_FILL[min(4, n)]
                n = bid_h[right] - base
                if n > 0:
                    bits |= RIGHT_FILL[min(4, n)]
                n = ask_h[left] - base
                if n > 0:
                    ask_bits = LEFT_FILL[min(4, n)]  # hatched: the left dot column only
                n = ask_h[right] - base
                if 0 < n <= 4:
                    ask_bits |= RIGHT_DOTS[4 - n]  # and the staircase's top edge
                if bits:
                    chars.append(chr(BRAILLE + (bits | ask_bits)))
                    styles.append(bid_style)
                elif ask_bits:
                    chars.append(chr(BRAILLE + ask_bits))
                    styles.append(ask_style)
                elif c == mid_col:
                    chars.append("┊")
                    styles.append(MID)
                else:
                    chars.append(" ")
                    styles.append(None)
            lines.append(runs(chars, styles))
        ticks = _price_ticks(low, span, plot, px)

    axis = list("─" * plot)
    axis_styles: list[Style | None] = [AXIS] * plot
    for start, text in ticks:
        axis[start + len(text) // 2] = "┬"
    for col, style in ((bid_col, bid_style), (ask_col, ask_style)):
        if col is not None:
            axis[col] = "▲"
            axis_styles[col] = BOTH if bid_col == ask_col else style
    lead = [" "] * (gutter - 1) + ["└"] if gutter else []
    lead_styles: list[Style | None] = [AXIS] * len(lead)
    lines.append(runs(lead + axis, lead_styles + axis_styles))
    label_line = [" "] * width
    scales.overlay(label_line, [(start + gutter, text) for start, text in ticks])
    lines.append([("".join(label_line).rstrip(), None)])
    return Group(_legend(book, width, theme), Picture(lines, width))


def _price_ticks(low: Decimal, span: Decimal, plot: int, px) -> list[tuple[int, str]]:
    """Round prices under the plot, as many as fit whole with a space around each."""
    with localcontext(EXACT):
        widest = len(plain(low + span).split(".")[0]) + 3
        step = scales.nice_step(span / max(1, plot // (widest + 2)), scales.PRICE_STEPS)
        while True:
            wanted = []
            for k in range(scales.ceil_steps(low, step), scales.floor_steps(low + span, step) + 1):
                value = step * k
                wanted.append((px(value) // 2, scales.label(value, step)))
            placed = scales.place(wanted, plot, gap=2)
            if len(placed) == len(wanted) or step > span:
                return placed
            step = scales.nice_step(step * Decimal("1.01"), scales.PRICE_STEPS)
