"""What a view shows besides the book: the state every view is drawn from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date
from decimal import Decimal

from orderbook_cli.book import Book
from orderbook_cli.views.keys import LADDER_ACTIONS
from orderbook_cli.views.theme import DEFAULT, Theme


@dataclass
class Memory:
    """Widest cells and most decimals seen so far, so columns keep their place
    from one frame to the next (reset when the venue, symbol or grouping changes)."""

    key: object = None
    places: dict = field(default_factory=dict)
    widths: dict = field(default_factory=dict)

    def reset_for(self, key: object) -> None:
        if key != self.key:
            self.key, self.places, self.widths = key, {}, {}

    def most(self, table: dict, name: str, seen: int) -> int:
        table[name] = max(table.get(name, 0), seen)
        return table[name]


def from_another_day(book: Book | None, today: date) -> bool:
    """The book's time (the venue's, else when it came) is not on `today` (UTC): its date is shown."""
    stamp = book.timestamp or book.received_at if book is not None else None
    return stamp is not None and stamp.astimezone(UTC).date() != today


def printed(book: Book | None, today: date, **fields) -> LadderView:
    """The view of a printed book (snapshot, SVG): no keys to press, and its date when it is not from `today`."""
    return LadderView(state="snapshot", actions=frozenset(), dated=from_another_day(book, today), **fields)


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
    changed: set = field(default_factory=set)  # {("ask"|"bid", price)} changed since the last frame
    notice: str = ""
    cursor: int = 0  # 0: none; k > 0: the k-th ask from the best; -k: the k-th bid
    header_items: list = field(default_factory=list)  # extra Items other views add to the header
    memory: Memory = field(default_factory=Memory)
    theme: Theme = DEFAULT
    named: bool = True  # False: the header leaves out the venue and symbol (a line above names them)
    rows_shown: int | None = None  # set by the renderer: levels a side that fit (None: all)
    dated: bool = False  # show the book's date too (a replay's books are not from today)
    actions: frozenset = LADDER_ACTIONS  # what the keys do here (views.keys), for the `?` help
    traded: dict | None = None  # {price: amount} traded over the last minute (trades.Tape.volume_at); None: no tape
    resyncs: int = 0  # times a sequence-checked book was dropped and seeded again
    last_resync: str = ""  # HH:MM:SS UTC of the last one
    alert: str = ""  # the latest --alert that fired (its condition), marked in the header while recent
    health: list = field(default_factory=list)  # the venue's own evidence for the header (header.health_items): verified, delay, clock


@dataclass(frozen=True)
class SourceStatus:
    """One source of a board as the views draw it: plain data the pipeline fills in
    (views never drive a feed)."""

    key: str  # its name in a consolidated book's `venues` maps
    label: str  # "bitso btc_usd"
    venue: str
    symbol: str  # the venue's spelling
    state: str  # the feed's state (feed.State's value), or "failed"
    book: Book | None = None  # the book to draw (the frozen one while paused)
    age: float | None = None  # seconds since its book last changed
    stale: bool = False  # not to be trusted (the contract's "Liveness is not change")
    notice: str = ""  # the latest problem: an error, a reconnect countdown
    updates_per_second: float | None = None
    malformed: int = 0
    merged: bool = False  # its book is in the consolidated book
    failed: bool = False
    evidence: tuple = ()  # the venue's own evidence for its header (feed.FeedStats.evidence, read by header.health_items)
