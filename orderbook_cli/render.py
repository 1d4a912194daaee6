"""The ladder: asks over bids around a spread row, drawn with Rich.

Pure functions from a Book (and the view's state) to Rich renderables, so the
same code serves `snapshot`, the live view and fixed-width render tests.
Every venue-supplied string goes in as plain Text, never as markup.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Sequence

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from orderbook_cli.book import Book, Level, plain
from orderbook_cli.errors import sanitize
from orderbook_cli.timefmt import iso_utc

BAR_WIDTH = 16
BAR_BLOCKS = " ▏▎▍▌▋▊▉█"
MAX_NOTIONAL_DECIMALS = 8
ASK_STYLE, BID_STYLE = "red", "green"
CHANGED_STYLE = "bold reverse"
# Lines around the levels: header, column titles, spread row, footer.
CHROME_LINES = 4


@dataclass
class LadderView:
    """What the ladder shows besides the book itself."""

    state: str = "snapshot"
    age: float | None = None  # seconds since the book arrived
    stale: bool = False
    updates_per_second: float | None = None
    malformed: int = 0
    paused: bool = False
    show_help: bool = False
    group: Decimal | None = None
    depth: int | None = None
    rows_per_side: int | None = None  # what fits the terminal
    impact: Decimal | None = None
    changed: set = field(default_factory=set)  # {("ask"|"bid", price)} changed since the last frame
    notice: str = ""
    resyncs: int = 0  # times a sequence-checked book was dropped and seeded again
    last_resync: str = ""  # HH:MM:SS UTC of the last one


def decimals(number: Decimal) -> int:
    """Digits after the point in the number as written (0 for integers and exponents)."""
    exponent = number.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def aligned(numbers: Sequence[Decimal], cap: int | None = None) -> list[str]:
    """Same number of decimals for a column, so right-aligned points line up."""
    places = max((decimals(n) for n in numbers), default=0)
    if cap is not None:
        places = min(places, cap)
    return [format(n, f".{places}f") for n in numbers]


def _bar(total: Decimal, scale: Decimal) -> str:
    if not scale:
        return ""
    eighths = int(total / scale * BAR_WIDTH * 8)
    full, part = divmod(min(eighths, BAR_WIDTH * 8), 8)
    return "█" * full + (BAR_BLOCKS[part] if part else "")


def _notionals(levels: Iterable[Level]) -> list[Decimal]:
    running, out = Decimal(0), []
    for level in levels:
        running += level.price * level.amount
        out.append(running)
    return out


def header(book: Book | None, view: LadderView, venue: str = "", symbol: str = "") -> Text:
    """One line (two on narrow terminals): who, connection state, how fresh."""
    name = f"{book.venue} {book.symbol}" if book else f"{venue} {symbol}"
    line = Text.assemble((sanitize(name, 60), "bold cyan"), " ")
    live = view.state in ("live", "snapshot")
    line.append(f"● {view.state if live else view.state.upper()}", style="bold green" if live else "bold black on yellow")
    if view.paused:
        line.append(" PAUSED", style="bold magenta")
    if book is not None and book.sequence is not None:
        line.append(f"  seq {book.sequence}")
    if view.resyncs:
        line.append(f"  {view.resyncs} resync{'s' if view.resyncs > 1 else ''}, last {view.last_resync}", style="yellow")
    if book:
        stamp = book.timestamp or book.received_at
        line.append(f"  {iso_utc(stamp)[11:19]} UTC{'' if book.timestamp else ' (received)'}")
    if view.age is not None:
        line.append("  ")
        line.append(f"age {view.age:.1f}s" + (" STALE" if view.stale else ""), style="bold black on yellow" if view.stale else "")
    if view.updates_per_second is not None:
        line.append(f"  {view.updates_per_second:.1f} upd/s")
    if view.malformed:
        line.append(f"  {view.malformed} bad frames", style="yellow")
    return line


def _spread_row(book: Book) -> Text:
    if book.spread is None:
        return Text("spread —  (one side of the book is empty)", style="dim")
    bps = (book.spread / book.mid * 10000).quantize(Decimal("0.01")) if book.mid else None
    text = Text.assemble(("spread ", "bold"), plain(book.spread))
    if bps is not None:
        text.append(f" ({plain(bps)} bps)")
    text.append("   mid ", style="bold")
    text.append(plain(book.mid))
    return text


COLUMNS = (("side", "left"), ("price", "right"), ("amount", "right"), ("total", "right"),
           ("notional", "right"), ("orders", "right"), ("depth", "left"))


def ladder_lines(book: Book, view: LadderView) -> Group:
    """Column titles, asks, the spread line, bids: padded lines sharing column widths."""
    rows = view.rows_per_side
    asks = book.asks[:rows] if rows is not None else book.asks
    bids = book.bids[:rows] if rows is not None else book.bids
    both = list(asks) + list(bids)
    prices = aligned([lv.price for lv in both])
    amounts = aligned([lv.amount for lv in both])
    totals = aligned([lv.total for lv in both])
    notionals = aligned(_notionals(asks) + _notionals(bids), cap=MAX_NOTIONAL_DECIMALS)
    scale = max((lv.total for lv in both), default=Decimal(0))  # one scale for both sides

    cells = []
    for i, level in enumerate(both):
        side, style = ("ask", ASK_STYLE) if i < len(asks) else ("bid", BID_STYLE)
        changed = (side, level.price) in view.changed
        cells.append((
            Text(side, style=style),
            Text(prices[i], style=f"bold {style}"),
            Text(amounts[i], style=CHANGED_STYLE if changed else ""),
            Text(totals[i]),
            Text(notionals[i], style="dim"),
            Text("" if level.count is None else str(level.count), style="dim"),
            Text(_bar(level.total, scale), style=style),
        ))
    widths = [max([len(title)] + [row[c].cell_len for row in cells]) for c, (title, _) in enumerate(COLUMNS)]
    widths[-1] = max(widths[-1], BAR_WIDTH)

    def line(row) -> Text:
        # Padded Text lines, not a rich Table: the widths are known, and tables cost
        # several times more per frame (the live view draws many frames a second).
        out = Text(no_wrap=True, overflow="crop")
        for (title, justify), width, cell in zip(COLUMNS, widths, row):
            pad = " " * (width - cell.cell_len)
            if justify == "right":
                out.append(pad)
            out.append_text(cell)
            if justify == "left":
                out.append(pad)
            out.append(" ")
        out.rstrip()
        if view.stale:
            out.stylize("dim")
        return out

    titles = line([Text(title, style="bold") for title, _ in COLUMNS])
    ask_lines = [line(row) for row in cells[: len(asks)][::-1]]  # worst ask on top, best ask next to the spread
    bid_lines = [line(row) for row in cells[len(asks):]]
    return Group(titles, *ask_lines, _spread_row(book), *bid_lines)


def _impact_lines(book: Book, size: Decimal) -> Text:
    from orderbook_cli.impact import market_impact

    text = Text()
    for fill in market_impact(book, size):
        verb = "buy " if fill.side == "buy" else "sell"
        if fill.average_price is None:
            text.append(f"{verb} {plain(size)}: no liquidity on this side\n", style="yellow")
            continue
        text.append(f"{verb} {plain(size)}: avg {plain(fill.average_price)}  worst {plain(fill.worst_price)}")
        if fill.slippage_bps is not None:
            text.append(f"  slippage {plain(fill.slippage_bps)} bps")
        if not fill.complete:
            text.append(f"  book too thin: only {plain(fill.filled)} fillable", style="bold yellow")
        text.append("\n")
    text.rstrip()
    return text


HELP_LINE = "keys: q quit · +/- depth · g grouping · space pause · ? help"


def ladder(book: Book | None, view: LadderView, venue: str = "", symbol: str = "") -> RenderableType:
    parts: list[RenderableType] = [header(book, view, venue, symbol)]
    if view.notice:
        parts.append(Text(sanitize(view.notice), style="yellow"))
    if book is None:
        parts.append(Text("waiting for the first book…", style="dim"))
    else:
        parts.append(ladder_lines(book, view))
        if view.impact is not None:
            parts.append(_impact_lines(book, view.impact))
    footer = []
    if view.group is not None:
        footer.append(f"grouped by {plain(view.group)}")
    if view.depth is not None:
        footer.append(f"depth {view.depth}")
    if view.show_help or footer:
        footer.append(HELP_LINE if view.show_help else "? for keys")
        parts.append(Text(" · ".join(footer), style="dim"))
    return Group(*parts)


def console(no_color: bool = False, file=None) -> Console:
    return Console(file=file or sys.stdout, highlight=False, no_color=no_color or None, emoji=False, markup=False)


def print_ladder(book: Book, *, impact: Decimal | None = None, no_color: bool = False) -> None:
    console(no_color).print(ladder(book, LadderView(state="snapshot", impact=impact)))


def print_venues(rows: list[dict]) -> None:
    """A table that fits 80 columns (short cells only), then each venue's details,
    wrapped under its id rather than back to the left margin."""
    out = console()
    table = Table(header_style="bold", box=None, padding=(0, 2, 0, 0))
    for title in ("venue", "transport", "auth", "depth", "symbol"):
        table.add_column(title, no_wrap=True)
    for row in rows:
        depth = f"{row['default_depth']} (max {row['max_depth'] or 'all'})"
        table.add_row(Text(row["id"], style="bold"), Text(row["transport"]), Text(row["auth"]), Text(depth), Text(row["symbol_format"]))
    out.print(table)
    out.print()
    details = Table.grid(padding=(0, 2, 1, 0))
    details.add_column(no_wrap=True)
    details.add_column(overflow="fold")
    for row in rows:
        text = Text(row["name"], style="bold")
        if row.get("summary"):
            text.append(f": {row['summary']}")
        text.append(f"\n{row['endpoint']} (override: {row['endpoint_env']})", style="dim")
        if row.get("credentials"):
            unusable = row.get("credentials_state") == "unusable"
            text.append(f"\n{row['credentials']}", style="yellow" if unusable else "")
        details.add_row(Text(row["id"], style="bold"), text)
    out.print(details)
