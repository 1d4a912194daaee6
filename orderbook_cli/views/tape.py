"""The time-and-sales list: newest trade first, the taker's side by colour and by
sign (+ bought, - sold, ? the venue does not say), size, price, time, and the
volume bought and sold since start. Columns are dropped, never numbers cut.
"""

from __future__ import annotations

from datetime import datetime

from rich.console import Group
from rich.text import Span, Text

from orderbook_cli.book import plain
from orderbook_cli.errors import sanitize
from orderbook_cli.trades import BUY, SELL, Tape, Trade
from orderbook_cli.views.layout import Item, words
from orderbook_cli.views.numbers import aligned
from orderbook_cli.views.theme import DEFAULT, Theme

SIGNS = {BUY: "+", SELL: "-", None: "?"}
GAP = "  "


def _time(stamp: datetime | None) -> str:
    return stamp.strftime("%H:%M:%S.%f")[:12] if stamp else "--:--:--.---"


def header(tape: Tape, title: str, width: int) -> Text:
    """What is followed, then volume by taker side since start; parts that do not fit are left out whole."""
    parts = [sanitize(title, 80), f"bought {plain(tape.bought)}", f"sold {plain(tape.sold)}", f"delta {_signed(tape.delta)}"]
    if tape.unsided:
        parts.append(f"side unknown {plain(tape.unsided)}")
    parts.append(f"{len(tape.trades)} shown")
    line = ""
    for part in parts:
        candidate = f"{line}{GAP}{part}" if line else part
        if len(candidate) > width:
            break  # the rest would say less than what is shown
        line = candidate
    return _styled(line, "bold")


def _styled(line: str, style: str) -> Text:
    """One line of the pane in `style` (a span over the line, as the pane's lines always had:
    their padding beside the ladder is unstyled)."""
    return Text(line, spans=[Span(0, len(line), style)] if style and line else None)


def _signed(amount) -> str:
    return f"{'+' if amount > 0 else ''}{plain(amount)}"


def volume_items(tape: Tape, theme: Theme = DEFAULT) -> list[Item]:
    """The header's volume since start, for `watch` (views.header takes them via
    LadderView.header_items): the delta first, then what it is made of; each item is
    dropped whole when the line is short. Volume whose side the venue does not say is
    its own item, never in the delta."""
    items = []
    if tape.bought or tape.sold or not tape.unsided:
        delta = tape.delta
        style = theme.bid if delta > 0 else theme.ask if delta < 0 else ""
        items.append(Item(2, Text.assemble(("delta ", "bold"), (_signed(delta), style))))
        items.append(Item(7, Text(f"bought {plain(tape.bought)} sold {plain(tape.sold)}")))
    if tape.unsided:
        items.append(Item(2, Text.assemble(("traded ", "bold"), plain(tape.unsided), " (side unknown)")))
    return items


def rows(trades: list[Trade], width: int, *, theme: Theme = DEFAULT, colour: bool = True, venues: bool = False) -> list[Text]:
    """One line per trade, newest first as given. Columns: time, side, size, price, venue;
    the venue, then the time, then the size go whole when the width is short (side and
    price stay); no rows only when not even the price fits."""
    if not trades:
        return []
    sizes = aligned([t.amount for t in trades])
    prices = aligned([t.price for t in trades])
    size_width, price_width = max(map(len, sizes)), max(map(len, prices))
    venue_width = max(len(t.venue) for t in trades)
    used = 1 + len(GAP) + price_width  # the side and the price
    if used > width:
        return []
    show_size = used + len(GAP) + size_width <= width
    used += len(GAP) + size_width if show_size else 0
    show_time = show_size and used + len(GAP) + 12 <= width
    used += len(GAP) + 12 if show_time else 0
    show_venue = venues and show_time and used + len(GAP) + venue_width <= width
    out = []
    for trade, size, price in zip(trades, sizes, prices):
        cells = [_time(trade.timestamp or trade.received_at)] if show_time else []
        cells += [SIGNS[trade.side], *([size.rjust(size_width)] if show_size else []), price.rjust(price_width)]
        if show_venue:
            cells.append(trade.venue)
        style = ""
        if colour and trade.side is not None:
            style = theme.bid if trade.side == BUY else theme.ask
        out.append(_styled(GAP.join(cells), style))
    return out


def frame(tape: Tape, title: str, *, width: int, height: int, theme: Theme = DEFAULT, colour: bool = True,
          venues: bool = False, status: str = "") -> Group:
    """The pane's lines: the header, a status when the trades are not live, the newest trades."""
    lines = [header(tape, title, width)]
    if status:
        said = words(status, width, style=theme.warn)  # cut between words, styled as a whole (it has no spans)
        lines.append(_styled(said.plain, str(said.style)))
    room = max(0, height - len(lines))
    lines += rows(tape.newest_first()[:room], width, theme=theme, colour=colour, venues=venues)
    return Group(*lines)
