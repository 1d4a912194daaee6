"""The header line every view shares: who, connection state, how fresh."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from orderbook_cli.book import Book, bps_of, plain
from orderbook_cli.errors import sanitize
from orderbook_cli.timefmt import iso_utc
from orderbook_cli.views.layout import Item, fit
from orderbook_cli.views.state import LadderView
from orderbook_cli.views.theme import DEFAULT, Theme


def header_items(book: Book | None, view: LadderView) -> list[Item]:
    """The header's pieces by priority (0 is never dropped, then 1, 2…): the name and the
    state first, then PAUSED/STALE, the age before the clock. Views add theirs via view.header_items."""
    live = view.state in ("live", "snapshot")
    items = [Item(0, Text(f"● {view.state if live else view.state.upper()}", style="bold green" if live else view.theme.warn))]
    if view.state == "replay":
        items = [Item(0, Text("▶ REPLAY", style="bold black on cyan"))]
    if view.paused:
        items.append(Item(1, Text("PAUSED", style="bold magenta")))
    if view.alert:
        items.append(Item(1, Text(f"ALERT {sanitize(view.alert, 100)}", style=view.theme.warn)))
    if book and book.spread is not None and book.spread < 0:
        items.append(Item(0, Text("CROSSED", style=view.theme.warn)))
    if view.age is not None and view.stale:
        items.append(Item(1, Text(f"age {view.age:.1f}s STALE", style=view.theme.warn)))
    elif view.age is not None:
        items.append(Item(2, Text(f"age {view.age:.1f}s")))
    if view.malformed:
        items.append(Item(3, Text(f"{view.malformed} bad frames", style="yellow")))
    if book is not None and book.sequence is not None:  # a sequence-checked book: which message it reflects
        items.append(Item(5, Text(f"seq {book.sequence}")))
    mark = checksum_mark(book)
    if mark is not None:
        items.append(Item(5, mark))
    if view.resyncs:
        items.append(Item(3, Text(f"{view.resyncs} resync{'s' if view.resyncs > 1 else ''}, last at {view.last_resync}", style="yellow")))
    if book:
        items.append(Item(4, Text(book_time(book, view.dated))))
    if view.updates_per_second is not None:
        items.append(Item(6, Text(f"{view.updates_per_second:.1f} upd/s")))
    return items + list(view.health) + list(view.header_items)


def checksum_mark(book: Book | None) -> Text | None:
    """A checksummed book's mark: how often the venue's own checksum confirmed it (None: it has none)."""
    return Text(f"crc ✓ {book.verified}") if book is not None and book.verified else None


def health_items(verdict_age: float | None, verdict: Any = None, mismatches: int = 0, delay: float | None = None,
                 clock_off: float | None = None, *, theme: Theme = DEFAULT, short: bool = False) -> list[Item]:
    """What the venue's own evidence says: the last comparison with its REST book (a verify.Check,
    `verdict_age` seconds ago), the median delay of its stamped messages, a clock found off
    (`short`: the verdict without where and how many, for a line with little room)."""
    items = []
    if verdict is not None and verdict_age is not None:
        if verdict.match:
            counted = f" ({mismatches} mismatch{'es' * (mismatches > 1)})" if mismatches and not short else ""
            items.append(Item(3, Text(f"verified {verdict_age:.0f}s ago{counted}")))
        else:
            where = f" {verdict.where().split(' (')[0]}" if verdict.sequence is not None and not short else ""
            counted = "" if short else f" ({mismatches} in all)"
            items.append(Item(1, Text(f"MISMATCH{where} {verdict_age:.0f}s ago{counted}", style=theme.warn)))
    if clock_off is not None:
        items.append(Item(2, Text(f"clock off {_signed_span(clock_off)}", style=theme.warn)))
    elif delay is not None:
        items.append(Item(6, Text(f"delay {delay * 1000:.0f}ms" if abs(delay) < 1 else f"delay {delay:.1f}s")))
    return items


def _signed_span(seconds: float) -> str:
    """+2.3s, -12m, +5h, +341d: short whatever the size (a venue stamp may be far off)."""
    size = abs(seconds)
    text = f"{size:.1f}s" if size < 60 else f"{size / 60:.0f}m" if size < 3600 else f"{size / 3600:.0f}h" if size < 86400 else f"{size / 86400:.0f}d"
    return ("-" if seconds < 0 else "+") + text


def book_time(book: Book, dated: bool) -> str:
    """When the book is from: "as of 15:30:02 UTC" (the venue's time) or "received …" (ours), with the date when asked."""
    stamp = iso_utc(book.timestamp or book.received_at)
    when = stamp[:19].replace("T", " ") if dated else stamp[11:19]
    return f"{'as of' if book.timestamp else 'received'} {when} UTC"


# States that need no word when the line is short (their glyph and colour say it); warnings keep theirs.
_GLYPH_ONLY = {"● live": "●", "● snapshot": "●", "▶ REPLAY": "▶"}


def header(book: Book | None, view: LadderView, venue: str = "", symbol: str = "", width: int | None = None) -> Text:
    """One line: who, connection state, how fresh; less important items go first when narrow."""
    items = header_items(book, view)
    name = sanitize(f"{book.venue} {book.symbol}" if book else f"{venue} {symbol}", 60)
    if width is not None:
        room = width - sum(i.text.cell_len + 2 for i in items if i.priority == 0)
        if len(name) > room and items and items[0].text.plain in _GLYPH_ONLY:  # a calm state gives way to the name first
            state = items[0].text
            items[0] = Item(0, Text(_GLYPH_ONLY[state.plain], style=state.style))
            room += state.cell_len - items[0].text.cell_len
        if len(name) > room:  # a name is text, not a number: it may be shortened
            name = name[: max(room - 1, 1)] + "…"
    return fit([Item(0, Text(name, style="bold cyan")), *items] if view.named else items, width)


def spread_row(book: Book, width: int | None, theme: Theme = DEFAULT) -> Text:
    """Spread (bps) and mid of `book` (the ungrouped one: the real spread), CROSSED/LOCKED flagged."""
    return fit(_spread_items(book, theme), width, " ")


def _spread_items(book: Book, theme: Theme) -> list[Item]:
    if book.spread is None:
        return [Item(0, Text("spread —", style="dim")), Item(1, Text("(one side of the book is empty)", style="dim"))]
    items = [Item(0, Text.assemble(("spread ", "bold"), plain(book.spread)))]
    if book.mid:
        items.append(Item(1, Text(f"({plain(bps_of(book.spread, book.mid))} bps)")))
    if book.mid is not None:
        items.append(Item(2, Text.assemble(("  mid ", "bold"), plain(book.mid))))
    if book.spread < 0:
        items.insert(0, Item(0, Text("CROSSED", style=theme.warn)))
    elif book.spread == 0:
        items.insert(0, Item(0, Text("LOCKED", style=theme.warn)))
    return items
