"""Sequence-checked books kept from a seed and a stream of numbered changes.

Knows no venue. A venue turns its wire format into :class:`Seed` (a whole
book and the sequence it reflects) and :class:`Change` (the next sequence
number and what it does); :class:`SyncEngine` applies them strictly in
order: changes that arrive before the seed wait in a bounded buffer, those
at or below the book's sequence are dropped, a missing number or a book
left crossed (for CROSSED_LIMIT applied messages or CROSSED_SECONDS, whichever
comes first; a crossing that the next changes undo is tolerated) asks for a
new seed, and a new seed always starts from an
empty book, so nothing from before a resync survives into the next book.

Two book kinds: :class:`LevelBook` (price levels with absolute sizes, size
0 deletes: BitMart) and :class:`OrderBook` (individual orders, levels are
sums over the live orders: Bitso). Each side keeps a dict price -> level
and a sorted price list maintained with bisect, so a change costs
O(log levels) to find its place and the top of the book costs O(depth).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import deque
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

from orderbook_cli.book import EXACT, Level, RawLevel

MAX_BUFFER = 4096  # changes kept while waiting for a seed; the oldest go first (the seed check catches the hole)
MAX_ENTRIES = 250_000  # orders or levels a book may hold (Bitso's largest book has about 6,400 orders)
CROSSED_LIMIT = 5  # a book still crossed after this many applied messages in a row is corrupt
CROSSED_SECONDS = 1.0  # ... or crossed for longer than this (a quiet book gets no more messages to count)


class LevelOp(NamedTuple):
    """A price-level book change: the level's new absolute size (0 deletes)."""

    is_bid: bool
    price: Decimal
    amount: Decimal


class OrderOp(NamedTuple):
    """An order-level book change: open (insert or move) or remove one order."""

    order_id: str
    is_open: bool
    is_bid: bool | None = None  # None on a removal: the known order says
    price: Decimal | None = None
    amount: Decimal | None = None


class Seed(NamedTuple):
    sequence: int
    ops: Sequence  # applied to an empty book
    timestamp: datetime | None = None


class Change(NamedTuple):
    sequence: int
    ops: Sequence
    timestamp: datetime | None = None


class Side:
    """One side of a book: price -> [amount, count] plus the prices in ascending order."""

    __slots__ = ("levels", "prices", "descending")

    def __init__(self, descending: bool):
        self.levels: dict[Decimal, list] = {}
        self.prices: list[Decimal] = []
        self.descending = descending

    def __len__(self) -> int:
        return len(self.prices)

    def set(self, price: Decimal, amount: Decimal) -> None:
        """Absolute size; zero removes the level."""
        level = self.levels.get(price)
        if not amount:
            if level is not None:
                self._drop(price)
        elif level is None:
            self._insert(price, [amount, None])
        else:
            level[0] = amount

    def add(self, price: Decimal, amount: Decimal, orders: int) -> None:
        """Add (or with negative values take away) one order's amount at a price."""
        level = self.levels.get(price)
        if level is None:
            self._insert(price, [amount, orders])
            return
        level[0] += amount
        level[1] += orders
        if level[1] <= 0 or level[0] <= 0:
            self._drop(price)

    def _insert(self, price: Decimal, level: list) -> None:
        self.levels[price] = level
        self.prices.insert(bisect_left(self.prices, price), price)

    def _drop(self, price: Decimal) -> None:
        del self.levels[price]
        del self.prices[bisect_left(self.prices, price)]

    def best(self) -> Decimal | None:
        if not self.prices:
            return None
        return self.prices[-1] if self.descending else self.prices[0]

    def walk(self) -> Iterator[RawLevel]:
        """Every level, best first, lazily: a caller that stops early pays only for what it read."""
        levels = self.levels
        for price in reversed(self.prices) if self.descending else self.prices:
            amount, count = levels[price]
            yield RawLevel(price, amount, count)

    def top(self, depth: int | None) -> tuple[Level, ...]:
        """The best `depth` levels with running totals: O(depth)."""
        prices = self.prices
        if self.descending:
            chosen: Iterable[Decimal] = reversed(prices if depth is None else prices[-depth:] if depth else ())
        else:
            chosen = prices if depth is None else prices[:depth]
        out, total, levels = [], Decimal(0), self.levels
        for price in chosen:
            amount, count = levels[price]
            total += amount
            out.append(Level(price, amount, total, count))
        return tuple(out)


class LevelBook:
    """Price levels with absolute sizes."""

    def __init__(self) -> None:
        self.bids, self.asks = Side(descending=True), Side(descending=False)

    def size(self) -> int:
        return len(self.bids) + len(self.asks)

    def apply(self, ops: Iterable[LevelOp]) -> None:
        for op in ops:
            (self.bids if op.is_bid else self.asks).set(op.price, op.amount)


class OrderBook(LevelBook):
    """Individual orders by id; a level is the sum of its live orders and their count."""

    def __init__(self) -> None:
        super().__init__()
        self.orders: dict[str, tuple[bool, Decimal, Decimal]] = {}

    def size(self) -> int:
        return len(self.orders)

    def apply(self, ops: Iterable[OrderOp]) -> None:
        orders = self.orders
        for op in ops:
            known = orders.pop(op.order_id, None)
            if known is not None:
                is_bid, price, amount = known
                (self.bids if is_bid else self.asks).add(price, -amount, -1)
            if not op.is_open or not op.amount:
                continue
            is_bid = known[0] if op.is_bid is None and known is not None else op.is_bid
            if is_bid is None or op.price is None:
                continue  # an open order whose side or price nobody knows cannot be placed
            orders[op.order_id] = (is_bid, op.price, op.amount)
            (self.bids if is_bid else self.asks).add(op.price, op.amount, 1)


BookKind = Callable[[], LevelBook]


class SyncEngine:
    """Applies seeds and changes in sequence order; reports books and resyncs through callbacks.

    ``on_book(timestamp)`` after every applied seed or change (read the book
    with :meth:`top`); ``on_resync(reason)`` when the book is unusable and a
    new seed is needed (the engine has already dropped it). ``clock`` (seconds,
    monotonic) times how long the book has been crossed; call :meth:`check`
    between messages so a book that crossed and then went quiet is caught too.
    """

    def __init__(self, kind: BookKind, on_book: Callable[[datetime | None], None],
                 on_resync: Callable[[str], None], max_buffer: int = MAX_BUFFER, max_entries: int = MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic):
        self.kind = kind
        self.on_book, self.on_resync = on_book, on_resync
        self.book: LevelBook | None = None
        self.sequence: int | None = None
        self.buffer: deque[Change] = deque(maxlen=max_buffer)
        self.max_entries = max_entries
        self.crossed_for = 0  # applied messages in a row after which the book was crossed
        self.crossed_since: float | None = None  # clock() when the book became crossed
        self.clock = clock
        self.resyncs = 0

    @property
    def synced(self) -> bool:
        return self.book is not None

    def seed(self, seed: Seed) -> None:
        """Replace the book with the seed, then apply what waited for it."""
        book = self.kind()
        with localcontext(EXACT):
            book.apply(seed.ops)
        self.book, self.sequence, self.crossed_for, self.crossed_since = book, seed.sequence, 0, None
        if book.size() > self.max_entries:
            self._resync(f"the seed holds more than {self.max_entries} entries", ())
            return
        waiting = sorted((c for c in self.buffer if c.sequence > seed.sequence), key=lambda c: c.sequence)
        self.buffer.clear()
        if waiting and waiting[0].sequence != seed.sequence + 1:
            self._resync(f"the seed (sequence {seed.sequence}) is older than the queued changes (from {waiting[0].sequence})", waiting)
            return
        self.on_book(seed.timestamp)
        for index, change in enumerate(waiting):
            if not self._apply(change, waiting[index + 1:]):
                return

    def change(self, change: Change) -> None:
        if self.book is None:
            self.buffer.append(change)
            return
        self._apply(change, ())

    def _apply(self, change: Change, rest: Sequence[Change]) -> bool:
        """Apply one change in order; False when it forced a resync."""
        assert self.book is not None and self.sequence is not None
        if change.sequence <= self.sequence:
            return True  # stale or duplicate (a same-version heartbeat too): nothing to do
        if change.sequence != self.sequence + 1:
            self._resync(f"sequence gap: expected {self.sequence + 1}, got {change.sequence}", [change, *rest])
            return False
        with localcontext(EXACT):
            self.book.apply(change.ops)
        self.sequence = change.sequence
        if self.crossed():
            self.crossed_for += 1
            if self.crossed_since is None:
                self.crossed_since = self.clock()
        else:
            self.crossed_for, self.crossed_since = 0, None
        if self.crossed_for >= CROSSED_LIMIT:
            self._resync(f"the book stayed crossed for {CROSSED_LIMIT} changes (sequence {change.sequence})", rest)
            return False
        if self._crossed_too_long(rest):
            return False
        if self.book.size() > self.max_entries:
            self._resync(f"the book grew past {self.max_entries} entries", rest)
            return False
        self.on_book(change.timestamp)
        return True

    def check(self) -> None:
        """Between messages: resync a book that has stayed crossed for too long."""
        if self.book is not None:
            self._crossed_too_long(())

    def _crossed_too_long(self, rest: Sequence[Change]) -> bool:
        if self.crossed_since is None or self.clock() - self.crossed_since <= CROSSED_SECONDS:
            return False
        self._resync(f"the book stayed crossed for more than {CROSSED_SECONDS:g}s (sequence {self.sequence})", rest)
        return True

    def crossed(self) -> bool:
        book = self.book
        if book is None:
            return False
        bid, ask = book.bids.best(), book.asks.best()
        return bid is not None and ask is not None and bid >= ask

    def resync(self, reason: str) -> None:
        """Drop the book (e.g. after a frame that could not be read) and ask for a seed."""
        self._resync(reason, ())

    def _resync(self, reason: str, keep: Iterable[Change]) -> None:
        self.book, self.sequence, self.crossed_for, self.crossed_since = None, None, 0, None
        self.buffer.clear()
        self.buffer.extend(keep)
        self.resyncs += 1
        self.on_resync(reason)

    def walk(self) -> tuple[Iterator[RawLevel], Iterator[RawLevel]]:
        """(bids, asks): every level per side, best first, lazily (read them before the next change)."""
        assert self.book is not None
        return self.book.bids.walk(), self.book.asks.walk()

    def top(self, depth: int | None) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
        """(bids, asks): the best `depth` levels per side, best first, with running totals."""
        assert self.book is not None
        with localcontext(EXACT):
            return self.book.bids.top(depth), self.book.asks.top(depth)
