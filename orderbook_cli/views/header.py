"""The header line every view shares: who, connection state, how fresh."""

from __future__ import annotations

from rich.text import Text

from orderbook_cli.book import Book, bps_of, plain
from orderbook_cli.errors import sanitize
from orderbook_cli.timefmt import iso_utc
from orderbook_cli.views.layout import Item, fit
from orderbook_cli.views.state import LadderView
from orderbook_cli.views.theme import DEFAULT, Theme


def header_items(book: Book | None, view: LadderView) -> list[Item]:
    """The header's pieces by priority (0 is never dropped). Views add theirs via view.header_items."""
    live = view.state in ("live", "snapshot")
    items = [Item(0, Text(f"● {view.state if live else view.state.upper()}", style="bold green" if live else view.theme.warn))]
    if view.state == "replay":
        items = [Item(0, Text("▶ REPLAY", style="bold black on cyan"))]
    if view.paused:
        items.append(Item(0, Text("PAUSED", style="bold magenta")))
    if book and book.spread is not None and book.spread < 0:
        items.append(Item(0, Text("CROSSED", style=view.theme.warn)))
    if view.age is not None and view.stale:
        items.append(Item(0, Text(f"age {view.age:.1f}s STALE", style=view.theme.warn)))
    elif view.age is not None:
        items.append(Item(4, Text(f"age {view.age:.1f}s")))
    if view.malformed:
        items.append(Item(2, Text(f"{view.malformed} bad frames", style="yellow")))
    if book is not None and book.sequence is not None:  # a sequence-checked book: which message it reflects
        items.append(Item(3, Text(f"seq {book.sequence}")))
    if view.resyncs:
        items.append(Item(2, Text(f"{view.resyncs} resync{'s' if view.resyncs > 1 else ''}, last {view.last_resync}", style="yellow")))
    if book:
        stamp = book.timestamp or book.received_at
        when = iso_utc(stamp)[:19].replace("T", " ") if view.dated else iso_utc(stamp)[11:19]
        items.append(Item(1 if view.dated else 3, Text(f"{when} UTC{'' if book.timestamp else ' (received)'}")))
    if view.updates_per_second is not None:
        items.append(Item(5, Text(f"{view.updates_per_second:.1f} upd/s")))
    return items + list(view.header_items)


def header(book: Book | None, view: LadderView, venue: str = "", symbol: str = "", width: int | None = None) -> Text:
    """One line: who, connection state, how fresh; less important items go first when narrow."""
    items = header_items(book, view)
    name = sanitize(f"{book.venue} {book.symbol}" if book else f"{venue} {symbol}", 60)
    if width is not None:
        room = width - sum(i.text.cell_len + 2 for i in items if i.priority == 0)
        if len(name) > room:  # a name is text, not a number: it may be shortened
            name = name[: max(room - 1, 1)] + "…"
    return fit([Item(0, Text(name, style="bold cyan")), *items], width)


def spread_row(book: Book, width: int | None, theme: Theme = DEFAULT) -> Text:
    """Spread (bps) and mid of `book` (the ungrouped one: the real spread), CROSSED/LOCKED flagged."""
    return fit(_spread_items(book, theme), width, " ")


def _spread_items(book: Book, theme: Theme) -> list[Item]:
    if book.spread is None:
        return [Item(0, Text("spread —", style="dim")), Item(1, Text("(one side of the book is empty)", style="dim"))]
    items = [Item(0, Text.assemble(("spread ", "bold"), plain(book.spread)))]
    if book.mid:
        items.append(Item(1, Text(f"({plain(bps_of(book.spread, book.mid))} bps)")))
    items.append(Item(2, Text.assemble(("  mid ", "bold"), plain(book.mid))))
    if book.spread < 0:
        items.insert(0, Item(0, Text("CROSSED", style=theme.warn)))
    elif book.spread == 0:
        items.insert(0, Item(0, Text("LOCKED", style=theme.warn)))
    return items
