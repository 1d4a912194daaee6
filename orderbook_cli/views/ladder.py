"""The ladder: asks over bids around a spread row, drawn with Rich.

Pure functions from a Book (and the view's state) to Rich renderables, so the
same code serves `snapshot`, the live view and fixed-size render tests. Every
line is laid out for an explicit width and the whole ladder for an explicit
height: columns are dropped, never cropped, so no number is ever shown in part.
Every venue-supplied string goes in as plain Text, never as markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, localcontext
from typing import NamedTuple

from rich.console import Console, Group, RenderableType
from rich.text import Span, Text

from orderbook_cli.book import EXACT, Book, Level, plain
from orderbook_cli.errors import sanitize
from orderbook_cli.trades import traded_by_level
from orderbook_cli.views.header import header, spread_row
from orderbook_cli.views.keys import help_keys, help_lines
from orderbook_cli.views.layout import Item, first_fitting, fit, wrap_words
from orderbook_cli.views.numbers import (
    average_places,
    bps_from,
    brief,
    decimals,
    fixed,
    price_places,
    quote_places,
    short,
    size_words,
    units,
)
from orderbook_cli.views.state import LadderView, Memory
from orderbook_cli.views.theme import DEFAULT, Theme

BAR_WIDTH = 16  # when the width is open (a printed ladder, an SVG)
MIN_BAR_WIDTH = 6  # narrower bars say nothing: drop them instead
MAX_BAR_WIDTH = 64  # on a wide terminal the bars take the room the numbers leave, up to this
BAR_BLOCKS = " ▏▎▍▌▋▊▉█"


def _bar(total: Decimal, scale: Decimal, width: int) -> str:
    if not scale:
        return ""
    with localcontext(EXACT):
        eighths = int(total / scale * width * 8)
    full, part = divmod(min(eighths, width * 8), 8)
    return "█" * full + (BAR_BLOCKS[part] if part else "")


def running_notionals(levels: Sequence[Level]) -> list[Decimal]:
    running, out = Decimal(0), []
    with localcontext(EXACT):
        for level in levels:
            running += level.price * level.amount if level.notional is None else level.notional  # a bucket: what its orders cost
            out.append(running)
    return out


# Columns: name -> (title, justify). Layouts below name them left to right.
COLUMNS = {
    "side": ("", "left"), "price": ("price", "right"), "amount": ("amount", "right"),
    "total": ("total", "right"), "notional": ("notional", "right"), "notional_k": ("notional", "right"),
    "orders": ("orders", "right"), "traded": ("1m vol", "right"),
}
# Widest first; each step drops what a trader misses least (the bar shrinks before any of it).
# "traded" (volume traded at the level over the last minute) is there only while trades are followed.
LAYOUTS_WITH_BARS = (
    ("side", "price", "amount", "total", "traded", "notional", "orders"),
    ("side", "price", "amount", "total", "traded", "notional_k", "orders"),
    ("side", "price", "amount", "total", "traded", "orders"),
    ("side", "price", "amount", "total", "traded"),
    ("price", "amount", "total", "traded"),
    ("side", "price", "amount", "total", "notional", "orders"),
    ("side", "price", "amount", "total", "notional_k", "orders"),
    ("side", "price", "amount", "total", "orders"),
    ("side", "price", "amount", "total"),
    ("price", "amount", "total"),
)
LAYOUTS_WITHOUT_BARS = (("price", "amount", "total", "traded"), ("price", "amount", "total"), ("price", "amount"))


class Layout(NamedTuple):
    columns: tuple[str, ...]
    widths: tuple[int, ...]
    titles: tuple[str, ...]
    bar: int  # 0: no depth bars


def _cells(book: Book, memory: Memory, traded: Mapping[Decimal, Decimal] | None = None, group: Decimal | None = None) -> dict[str, list[str]]:
    """Every column's text for every level of the book (asks then bids), at widths and
    decimals that only grow: they come from the whole book and earlier frames, not
    just the rows that fit."""
    levels = book.asks + book.bids
    places = memory.places
    p = memory.most(places, "price", price_places(book))
    a = memory.most(places, "amount", max((max(decimals(lv.amount), decimals(lv.total)) for lv in levels), default=0))
    q = quote_places(book)
    notionals = running_notionals(book.asks) + running_notionals(book.bids)
    cells = {
        "side": ["ask"] * len(book.asks) + ["bid"] * len(book.bids),
        "price": [format(lv.price, f".{p}f") for lv in levels],
        "amount": [format(lv.amount, f".{a}f") for lv in levels],
        "total": [format(lv.total, f".{a}f") for lv in levels],
        "notional": [fixed(n, q) for n in notionals],
        "notional_k": [short(n, q) for n in notionals],
        "orders": ["" if lv.count is None else str(lv.count) for lv in levels],
    }
    if traded is not None:
        at_level = traded_by_level(book, traded, group)
        volumes = [at_level.get(("ask", lv.price)) for lv in book.asks] + [at_level.get(("bid", lv.price)) for lv in book.bids]
        t = memory.most(places, "traded", max((decimals(v) for v in volumes if v is not None), default=0))
        cells["traded"] = ["" if v is None else format(v, f".{t}f") for v in volumes]
    for name, texts in cells.items():
        memory.most(memory.widths, name, max(map(len, texts), default=0))
    return cells


def choose_layout(book: Book, memory: Memory, width: int | None, traded: bool = False) -> Layout | None:
    """The widest layout that fits `width` whole, or None (then: the compact summary).
    `traded`: the levels' traded volume is a column (trades are followed)."""
    pair = units(book.symbol)
    unit = {"price": pair[1], "amount": pair[0], "total": pair[0], "notional": pair[1], "notional_k": pair[1], "traded": pair[0]} if pair else {}
    has_counts = any(lv.count is not None for lv in book.asks + book.bids)  # bitmart-v3 sends none: no empty column
    for layouts, with_bars in ((LAYOUTS_WITH_BARS, True), (LAYOUTS_WITHOUT_BARS, False)):
        wanted = (tuple(c for c in layout if (c != "orders" or has_counts) and (c != "traded" or traded)) for layout in layouts)
        for columns in dict.fromkeys(wanted):  # without the optional columns some layouts are the same: try each once
            labelled = tuple(f"{COLUMNS[c][0]} {unit[c]}" if c in unit else COLUMNS[c][0] for c in columns)
            free = tuple(t if len(t) <= memory.widths.get(c, 0) else COLUMNS[c][0] for c, t in zip(columns, labelled))
            for titles in (labelled, free):  # every unit, else the units that cost no width
                widths = tuple(max(len(t), memory.widths.get(c, 0)) for c, t in zip(columns, titles))
                used = sum(widths) + len(widths) - 1
                if width is None:
                    return Layout(columns, widths, titles, BAR_WIDTH)
                if with_bars and width - used - 1 >= MIN_BAR_WIDTH:
                    return Layout(columns, widths, titles, min(MAX_BAR_WIDTH, width - used - 1))
                if not with_bars and used <= width:
                    return Layout(columns, widths, titles, 0)
    return None


def _row(layout: Layout, cells: list[tuple[str, str]], dim: bool) -> Text:
    """One padded line from (text, style) cells; a cell past the columns is the bar."""
    # Padded Text lines, not a rich Table: the widths are known, and tables cost
    # several times more per frame (the live view draws many frames a second). The
    # Text is made from its whole text and spans at once: what Text.assemble and
    # rstrip make of the parts, without their work per part.
    texts: list[str] = []
    spans: list[Span] = []
    at = 0

    def put(text: str, style: str = "") -> None:
        nonlocal at
        if style and text:
            spans.append(Span(at, at + len(text), style))
        texts.append(text)
        at += len(text)

    for n, (name, width, (text, style)) in enumerate(zip(layout.columns, layout.widths, cells)):
        pad = " " * (width - len(text))  # cells are ASCII: length is width
        right = COLUMNS[name][1] == "right"
        put((" " if n else "") + (pad if right else ""))
        put(text, style)
        if not right:
            put(pad)
    if len(cells) > len(layout.columns):
        put(" ")
        put(*cells[-1])
    line = "".join(texts).rstrip()
    end = len(line)
    kept = [span if span.end < end else Span(span.start, end, span.style) for span in spans if span.start < end]
    if dim and end:
        kept.append(Span(0, end, "dim"))
    return Text(line, no_wrap=True, overflow="crop", tab_size=8, spans=kept)


def ladder_rows(book: Book, view: LadderView, layout: Layout, rows: int | None, cells: dict[str, list[str]]) -> tuple[Text, list[Text], list[Text]]:
    """Column titles, ask lines (worst on top), bid lines (best first) for `rows` levels a side."""
    asks = book.asks[:rows] if rows is not None else book.asks
    bids = book.bids[:rows] if rows is not None else book.bids
    scale = max((lv.total for lv in asks + bids), default=Decimal(0))  # one scale for both sides
    kinds = {"side": None, "price": "bold", "amount": "", "total": "", "notional": "dim", "notional_k": "dim", "orders": "dim",
             "traded": "yellow"}

    def line(index: int, level: Level, side: str, rank: int) -> Text:
        style = view.theme.side(side)
        changed = (side, level.price) in view.changed
        row = []
        for name in layout.columns:
            kind = kinds[name]
            cell_style = style if kind is None else f"bold {style}" if kind == "bold" else kind
            if name == "amount" and changed:
                cell_style = view.theme.changed
            row.append((cells[name][index], cell_style))
        if layout.bar:
            row.append((_bar(level.total, scale, layout.bar), style))
        out = _row(layout, row, view.stale)
        if view.cursor == (rank if side == "ask" else -rank):
            out.stylize(view.theme.cursor)
        return out

    titles = [(t, "bold") for t in layout.titles] + ([("depth", "bold")] if layout.bar else [])
    ask_lines = [line(i, lv, "ask", i + 1) for i, lv in enumerate(asks)][::-1]
    offset = len(book.asks)
    bid_lines = [line(offset + i, lv, "bid", i + 1) for i, lv in enumerate(bids)]
    return _row(layout, titles, False), ask_lines, bid_lines


def compact_lines(book: Book, view: LadderView, width: int | None) -> list[Text]:
    """Best bid and ask and the spread, for screens too small for a ladder."""
    bid = Text.assemble(("bid ", f"bold {view.theme.bid}"), "—" if book.best_bid is None else plain(book.best_bid))
    ask = Text.assemble(("ask ", f"bold {view.theme.ask}"), "—" if book.best_ask is None else plain(book.best_ask))
    lines = [bid, ask] if width is not None and bid.cell_len + ask.cell_len + 2 > width else [fit([Item(0, bid), Item(0, ask)], width)]
    lines.append(spread_row(book, width, view.theme))
    return [line for line in lines if width is None or line.cell_len <= width]


def impact_lines(book: Book, width: int | None = None) -> list[Text]:
    """What buying and selling the --impact size would cost (the shape step's fills, from
    the whole book): averages at price precision + 2 digits. A side's label goes with its
    average (or "no liquidity"); when either side's cannot be shown whole, neither is."""
    fills = book.figures.impact if book.figures is not None else None
    if fills is None:
        return []
    places = average_places(book)
    amount = size_words(book, fills[0])
    lines = []
    for fill in fills:
        verb = "buy " if fill.side == "buy" else "sell"
        if fill.average_price is None:
            said = [Text(f"{verb} {amount}: no liquidity on this side", style="yellow"), Text(f"{verb} {amount}: none", style="yellow")]
            items = [Item(0, first_fitting(said, width) or said[0])]
        else:
            items = [Item(0, Text(f"{verb} {amount}:  avg {fixed(fill.average_price, places)}")), Item(2, Text(f"worst {plain(fill.worst_price)}"))]
            if fill.slippage_bps is not None:
                items.append(Item(1, Text(f"slippage {plain(fill.slippage_bps)} bps")))
            if not fill.complete:
                items.append(Item(0, Text(f"book too thin: only {plain(fill.filled)} fillable", style="bold yellow")))
        needed = [item.text.cell_len for item in items if item.priority == 0]
        if width is not None and sum(needed) + 2 * (len(needed) - 1) > width:
            return []
        lines.append(fit(items, width))
    return lines


def liquidity_line(book: Book, width: int | None = None, theme: Theme = DEFAULT) -> Text | None:
    """Base units resting within ±10/25/50/100 bps of mid, bids|asks, and the heavier
    side's share of the two ("60% bids": 60% of it rests on the bid side; from the
    imbalance (bid − ask) / (bid + ask) as (1 + |imbalance|) / 2), said only when it is
    not an even 50% once rounded; "≥": that side of the book held ends inside the band, so
    there is at least that much (rounded down). The shape step's bands, from the whole book
    whatever is shown."""
    bands = book.figures.liquidity if book.figures is not None else None
    if not bands:
        return None
    places = max((decimals(lv.amount) for lv in book.bids + book.asks), default=0)
    base = (units(book.symbol) or ("",))[0]
    items = [Item(0, Text(f"near mid {base} bid|ask:".replace("  ", " "), style="bold"))]
    for n, band in enumerate(bands):
        bid, ask = (("" if whole else "≥") + brief(amount, places, at_least=not whole)  # a lower bound: rounded down
                    for amount, whole in ((band.bid, band.bid_complete), (band.ask, band.ask_complete)))
        text = Text.assemble((f"±{band.bps}bps", "bold"), f" {bid}|{ask}")
        share = fixed((1 + abs(band.imbalance)) * 50, 0) if band.imbalance else "50"  # never "0% asks": it read as no asks
        if share != "50":
            heavier, style = ("bids", theme.bid) if band.imbalance > 0 else ("asks", theme.ask)
            text.append(f" ({'>99' if share == '100' and abs(band.imbalance) < 1 else share}% {heavier})", style=style)
        items.append(Item(n + 1, text))
    line = fit(items, width)
    return line if len(line) > len(items[0].text) else None


def cursor_line(book: Book, view: LadderView, width: int | None = None) -> Text | None:
    """The level under the cursor: cumulative size and notional, the average price
    of sweeping to it, and its distance from mid."""
    side, levels = ("ask", book.asks) if view.cursor > 0 else ("bid", book.bids)
    index = abs(view.cursor) - 1
    if not view.cursor or index >= len(levels):
        return None
    level = levels[index]
    pair = units(book.symbol) or ("", "")
    notional = running_notionals(levels[: index + 1])[-1]
    mid = book.mid
    items = [Item(0, Text(f"▸ {side} {index + 1} @ {plain(level.price)}", style=view.theme.cursor)),
             Item(0, Text(f"cum {plain(level.total)} {pair[0]}".rstrip())),
             Item(2, Text(f"{fixed(notional, quote_places(book))} {pair[1]}".rstrip()))]
    if level.total:
        with localcontext(EXACT):
            items.append(Item(3, Text(f"avg {fixed(notional / level.total, average_places(book))}")))
    if mid:
        distance = bps_from(level.price, mid)
        items.append(Item(1, Text(f"{'+' if distance > 0 else ''}{plain(distance)} bps from mid")))
    return fit(items, width)


def _tick_bps(group: Decimal, mid: Decimal) -> str:
    """A grouping tick in bps of mid, rounded once: 7.1, 0.75, 0.04 (never a 0.0 for a real tick)."""
    with localcontext(EXACT):
        bps = group / mid * 10000
    text = fixed(bps, 1 if bps >= 1 else 2)
    return "<0.01" if text == "0.00" else text


def footer(book: Book | None, view: LadderView, shown_rows: int | None, width: int | None) -> list[Text]:
    """Grouping, how many levels are on screen, and a hint of the keys when there are any."""
    items = []
    # the tick the rows on screen were bucketed by (a key's new one shows with the book shaped by it)
    group = book.figures.group if book is not None and book.figures is not None else view.group
    said: list[tuple[int, list[str]]] = []  # each item's wordings, longest first: the first that fits is shown
    if group is not None:
        label = f"grouped by {plain(group)}"
        mid = book.mid if book else None
        said.append((1, [f"{label} (≈{_tick_bps(group, mid)} bps)", label] if mid else [label]))
    if book is not None:
        held = max(len(book.asks), len(book.bids))
        shown = held if shown_rows is None else min(shown_rows, held)
        said.append((0, [f"{shown} of {held} levels shown", f"{shown}/{held} levels shown", f"{shown}/{held} levels", f"{shown}/{held}"]
                     if shown < held else [f"{held} level{'' if held == 1 else 's'}"]))
    for priority, forms in said:
        text = first_fitting([Text(form) for form in forms], width)
        if text is not None:
            items.append(Item(priority, text))
    if "help" in view.actions and not view.show_help:  # a printed ladder has no keys
        items.append(Item(2, Text("? keys")))
    if not items:
        return []
    line = fit(items, width, " · ")
    line.stylize("dim")
    return [line]


class Ladder:
    """A renderable ladder: laid out for an explicit width × height, or for the
    console's width (and any height) when they are not given."""

    def __init__(self, book: Book | None, view: LadderView, venue: str, symbol: str, width: int | None, height: int | None):
        self.args = (book, view, venue, symbol)
        self.width, self.height = width, height

    def __rich_console__(self, console: Console, options):
        yield ladder_screen(*self.args, width=self.width or options.max_width, height=self.height)


def ladder(book: Book | None, view: LadderView, venue: str = "", symbol: str = "", *, width: int | None = None, height: int | None = None) -> RenderableType:
    """The whole screen for a `width` × `height` area (default: the console's width, any height)."""
    return Ladder(book, view, venue, symbol, width, height)


def ladder_screen(book: Book | None, view: LadderView, venue: str = "", symbol: str = "", *, width: int | None = None, height: int | None = None) -> Group:
    """The ladder's lines for a `width` × `height` area (None: as wide / as tall as needed)."""
    if book is not None:
        view.memory.reset_for((book.venue, book.symbol, view.group))
    top = [header(book, view, venue, symbol, width)]
    if view.notice:  # cut between words, so a countdown stays whole: two lines unless 3 levels a side would not fit
        held = max(len(book.asks), len(book.bids)) if book is not None else 0
        roomy = height is None or height - 5 >= 2 * min(3, held)  # header, notice × 2, titles, spread row
        top.extend(wrap_words(Text(sanitize(view.notice), style="yellow"), width, 2 if roomy else 1))
    asked = help_lines(help_keys(view.actions), width) if view.show_help else []  # the user asked: it stays
    if book is None:
        return Group(*[*top, Text("waiting for the first book…", style="dim"), *asked][: height or None])
    cells = _cells(book, view.memory, view.traded, view.group)  # first: the widths it remembers decide the layout
    layout = choose_layout(book, view.memory, width, traded=view.traded is not None)
    view.rows_shown = 0
    if layout is None:
        return Group(*(top + asked + compact_lines(book, view, width))[: height or None])
    # Optional lines, most wanted first; dropped from the end until 3 levels a side fit.
    # The cursor line and the help stay (the user asked for them) while one level fits.
    wanted_lines: list[tuple[str, list[Text | None]]] = [
        ("cursor", [cursor_line(book, view, width)]),
        ("help", list(asked)),
        ("footer", list(footer(book, view, 0, width))),
        ("impact", list(impact_lines(book, width))),
        ("liquidity", [liquidity_line(book, width, view.theme)]),
    ]
    extras = [(name, [line for line in lines if line is not None]) for name, lines in wanted_lines]
    def count() -> int:
        return sum(len(lines) for _, lines in extras)

    rows = None
    if height is not None:
        fixed_lines = len(top) + 2  # titles and spread row
        wanted = min(3, max(len(book.asks), len(book.bids)))
        while len(extras) > 2 and (height - fixed_lines - count()) // 2 < wanted:
            extras.pop()
        rows = (height - fixed_lines - count()) // 2
        if rows < 1:  # not one level a side: the help (if asked for) and the best prices
            return Group(*(top + asked + compact_lines(book, view, width))[:height])
    view.rows_shown = rows
    titles, asks, bids = ladder_rows(book, view, layout, rows, cells)
    body = [titles, *asks, spread_row(book, width, view.theme), *bids]
    tail: list[Text] = []
    for name, lines in extras:
        if name == "footer":  # now it knows how many levels made it
            lines = footer(book, view, max(len(asks), len(bids)) if rows is not None else None, width)
        tail.extend(lines)
    return Group(*top, *body, *tail)
