"""Integrity-checked books kept from a seed and a stream of changes.

Knows no venue. A venue turns its wire format into :class:`Seed` (a whole
book) and :class:`Change` (what one message does), and declares which checks
its book gets; :class:`SyncEngine` applies them and asks for a new seed
(a resync) whenever the book can no longer be trusted:

- **sequence** (Bitso, BitMart): changes apply strictly in order; those that
  arrive before the seed wait in a buffer bounded by their number and by the
  orders or levels they hold together (the oldest go), those at or below the
  book's sequence are stale (counted; a run of STALE_RUN of them, or one more
  than STALE_DISTANCE below, means the venue reset its numbering: resync),
  a missing number resyncs. A venue with no sequence (``None``, e.g. Kraken)
  applies changes as they come and drops those that arrive with no book.
- **checksum**: a message that carries the venue's checksum is verified
  after it is applied (and truncated) by the venue's own function of the
  book; a mismatch resyncs. Amounts and prices are kept as the Decimal the
  venue's text became (its digits and trailing zeros), never normalized, so
  a checksum over the wire text can be computed from the book.
- **truncation** to the subscribed depth after every message: levels pushed
  out of it are dropped, as the venue drops them on its side.
- a book left crossed (for CROSSED_LIMIT applied messages or CROSSED_SECONDS,
  whichever comes first; a crossing that the next changes undo is tolerated)
  or grown past MAX_ENTRIES resyncs too.

A new seed always starts from an empty book, so nothing from before a
resync survives into the next book. With ``history`` the engine keeps the
last changes it applied to the current book, bounded the same way (verify.py
brings a REST book of an older sequence forward by them).

Two book kinds: :class:`LevelBook` (price levels with absolute sizes, size
0 deletes: BitMart) and :class:`OrderBook` (individual orders, levels are
sums over the live orders: Bitso). Each side keeps a dict price -> level
and a sorted price list maintained with bisect, so a change costs
O(log levels) to find its place and the top of the book costs O(depth).
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal, localcontext
from typing import NamedTuple

from orderbook_cli.book import EXACT, Level, RawLevel

MAX_BUFFER = 4096  # changes kept while waiting for a seed; the oldest go first (the seed check catches the hole)
# ... and the ops (orders or levels) kept changes may hold together, in the buffer and in the history each.
# A venue's usual change carries one order (Bitso) or a few levels (BitMart), so thousands of changes are a
# few thousand ops; counted in changes alone, valid 2 MiB frames of 14,000 orders each kept gigabytes. An op
# parsed is about 300 bytes: this keeps a queue under about 15 MB.
MAX_KEPT_OPS = 50_000
MAX_ENTRIES = 250_000  # orders or levels a book may hold (Bitso's largest book has about 6,400 orders)
CROSSED_LIMIT = 5  # a book still crossed after this many applied messages in a row is corrupt
CROSSED_SECONDS = 1.0  # ... or crossed for longer than this (a quiet book gets no more messages to count)
STALE_RUN = 100  # this many stale changes in a row and no fresh one: the venue restarted its sequence
STALE_DISTANCE = 10_000  # a change this far below the book's sequence is a restart, not a late duplicate


_new_level = tuple.__new__
_exact_add = EXACT.add


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
    completed: bool = False  # a removal the venue says was filled (Bitso's "completed"), not cancelled


class Seed(NamedTuple):
    sequence: int | None  # None: the venue numbers nothing
    ops: Sequence  # applied to an empty book
    timestamp: datetime | None = None
    checksum: int | None = None  # the venue's checksum of the book after this message, if it sends one


class Change(NamedTuple):
    sequence: int | None
    ops: Sequence
    timestamp: datetime | None = None
    checksum: int | None = None


class ChangeQueue:
    """Changes kept in arrival order, bounded by their number and by the ops they hold together
    (MAX_KEPT_OPS): past either bound the oldest go first, a change larger than the whole bound
    too, and ``dropped`` says that some went since the queue was last cleared."""

    __slots__ = ("changes", "max_changes", "max_ops", "ops", "dropped")

    def __init__(self, max_changes: int, max_ops: int = MAX_KEPT_OPS):
        self.changes: deque[Change] = deque()
        self.max_changes, self.max_ops = max_changes, max_ops
        self.ops = 0  # held by the changes kept
        self.dropped = False

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def __reversed__(self) -> Iterator[Change]:
        return reversed(self.changes)

    def append(self, change: Change) -> None:
        changes = self.changes
        changes.append(change)
        self.ops += len(change.ops)
        while changes and (len(changes) > self.max_changes or self.ops > self.max_ops):
            self.ops -= len(changes.popleft().ops)
            self.dropped = True

    def extend(self, changes: Iterable[Change]) -> None:
        for change in changes:
            self.append(change)

    def clear(self) -> None:
        self.changes.clear()
        self.ops, self.dropped = 0, False


class Side:
    """One side of a book: price -> [amount, count, wire text] plus the prices in ascending order.
    The wire text is the venue's checksum text of the level (its checksum hook writes it
    the first time it reads the level; None until then, and again whenever the amount changes):
    a checksum over the best levels writes only those that changed since the last message.

    The last :meth:`top` is kept until a change reaches it: a change at a price
    worse than its last level cannot alter it, so a deep book whose changes
    land below the shown depth is not re-totalled (and the same tuple lets the
    JSON writer reuse its text). When a change does reach it, the levels above
    the best price changed since are still true: the next top() keeps those very
    Level objects (their totals included) and totals only from there.
    """

    __slots__ = ("descending", "levels", "prices", "_shown", "_shown_depth", "_edge", "_last", "_changed")

    def __init__(self, descending: bool):
        self.levels: dict[Decimal, list] = {}
        self.prices: list[Decimal] = []
        self.descending = descending
        self._shown: tuple[Level, ...] | None = None  # the last top(), while still true
        self._shown_depth: int | None = None
        self._edge: Decimal | None = None  # its last price when it is `depth` levels long; None: it is the whole side
        self._last: tuple[Level, ...] | None = None  # the last top(), true or not
        self._changed: Decimal | None = None  # once it is not: the best price changed since (None: every level may have)

    def __len__(self) -> int:
        return len(self.prices)

    def _touch(self, price: Decimal) -> None:
        """A change at `price`: forget the last top() if the price is within it, and
        remember the best price changed since."""
        if self._shown is not None:
            edge = self._edge
            if edge is not None and (price < edge if self.descending else price > edge):
                return  # below the shown levels: they stay true
            self._shown, self._changed = None, price
            return
        changed = self._changed
        if changed is not None and (price > changed if self.descending else price < changed):
            self._changed = price

    def set(self, price: Decimal, amount: Decimal) -> None:
        """Absolute size; zero removes the level."""
        if self._last is not None:
            self._touch(price)
        level = self.levels.get(price)
        if not amount:
            if level is not None:
                self._drop(price)
        elif level is None:
            self._insert(price, [amount, None, None])
        else:
            level[0], level[2] = amount, None

    def add(self, price: Decimal, amount: Decimal, orders: int) -> None:
        """Add (or with negative values take away) one order's amount at a price."""
        if self._last is not None:
            self._touch(price)
        level = self.levels.get(price)
        if level is None:
            self._insert(price, [amount, orders, None])
            return
        level[0] += amount
        level[1] += orders
        level[2] = None
        if level[1] <= 0 or level[0] <= 0:
            self._drop(price)

    def _insert(self, price: Decimal, level: list) -> None:
        self.levels[price] = level
        self.prices.insert(bisect_left(self.prices, price), price)

    def _drop(self, price: Decimal) -> None:
        del self.levels[price]
        del self.prices[bisect_left(self.prices, price)]

    def truncate(self, depth: int) -> list[Decimal]:
        """Keep the best `depth` levels; the prices of those dropped."""
        prices = self.prices
        if len(prices) <= depth:
            return []
        cut = len(prices) - depth
        if self.descending:  # the worst bids are the lowest prices, at the front
            dropped, self.prices = prices[:cut], prices[cut:]
        else:
            dropped, self.prices = prices[depth:], prices[:depth]
        if self._last is not None:
            self._touch(dropped[-1] if self.descending else dropped[0])  # the best of those dropped
        for price in dropped:
            del self.levels[price]
        return dropped

    def walk(self) -> Iterator[RawLevel]:
        """Every level, best first, lazily: a caller that stops early pays only for what it read."""
        levels = self.levels
        for price in reversed(self.prices) if self.descending else self.prices:
            amount, count, _ = levels[price]
            yield RawLevel(price, amount, count)

    def top(self, depth: int | None) -> tuple[Level, ...]:
        """The best `depth` levels with running totals: O(depth), nothing while no change reached
        them, and from the best level a change reached on when one did."""
        shown = self._shown
        if shown is not None and self._shown_depth == depth:
            return shown
        prices, last, kept = self.prices, self._last, 0
        changed = self._changed
        if last and changed is not None and self._shown_depth == depth:  # the levels above every change since are still true
            kept = min(len(last), len(prices) - bisect_right(prices, changed) if self.descending else bisect_left(prices, changed))
        if self.descending:
            end = len(prices) - kept
            chosen: Iterable[Decimal] = reversed(prices[:end] if depth is None else prices[max(0, len(prices) - depth):end])
        else:
            chosen = prices[kept:] if depth is None else prices[kept:depth]
        if kept:
            out, total = list(last[:kept]), last[kept - 1].total  # type: ignore[index]  # kept > 0: last is a tuple
        else:
            out, total = [], Decimal(0)
        levels, add = self.levels, _exact_add  # EXACT's own add: the same sums, without entering the context
        for price in chosen:
            amount, count, _ = levels[price]
            total = add(total, amount)
            out.append(_new_level(Level, (price, amount, total, count, None, None)))  # Level(...) without its Python-level __new__
        shown = self._shown = self._last = tuple(out)
        self._shown_depth = depth
        self._edge = shown[-1].price if depth is not None and len(shown) == depth and shown else None
        return shown


class LevelBook:
    """Price levels with absolute sizes."""

    adds = False  # whether applying changes does arithmetic (then in the EXACT context); a LevelBook only stores sizes

    def __init__(self) -> None:
        self.bids, self.asks = Side(descending=True), Side(descending=False)

    def size(self) -> int:
        return len(self.bids) + len(self.asks)

    def apply(self, ops: Iterable[LevelOp]) -> None:
        for op in ops:
            (self.bids if op.is_bid else self.asks).set(op.price, op.amount)

    def truncate(self, depth: int) -> None:
        """Drop the levels beyond `depth` on each side."""
        self.bids.truncate(depth)
        self.asks.truncate(depth)


class OrderBook(LevelBook):
    """Individual orders by id; a level is the sum of its live orders and their count."""

    adds = True

    def __init__(self) -> None:
        super().__init__()
        self.orders: dict[str, tuple[bool, Decimal, Decimal]] = {}

    def size(self) -> int:
        return len(self.orders)

    def apply(self, ops: Iterable[OrderOp]) -> None:  # type: ignore[override]  # each book kind reads its own ops
        orders = self.orders
        for op in ops:
            known = orders.pop(op.order_id, None)
            if known is not None:
                was_bid, price, amount = known
                (self.bids if was_bid else self.asks).add(price, -amount, -1)
            if not op.is_open or not op.amount:
                continue
            is_bid = known[0] if op.is_bid is None and known is not None else op.is_bid
            if is_bid is None or op.price is None:
                continue  # an open order whose side or price nobody knows cannot be placed
            orders[op.order_id] = (is_bid, op.price, op.amount)
            (self.bids if is_bid else self.asks).add(op.price, op.amount, 1)

    def truncate(self, depth: int) -> None:
        """Drop the levels beyond `depth` and the orders at them."""
        dropped = {(True, p) for p in self.bids.truncate(depth)} | {(False, p) for p in self.asks.truncate(depth)}
        if dropped:
            self.orders = {oid: order for oid, order in self.orders.items() if (order[0], order[1]) not in dropped}


def wire_text(number: Decimal) -> str:
    """A kept price or amount as the venue wrote it, for a checksum over the wire text: the
    Decimal parsed from the venue's text keeps every digit and trailing zero (plain notation:
    str() would write 1E-8: then format(), twice as slow, is asked)."""
    text = str(number)
    return text if "E" not in text else format(number, "f")


BookKind = Callable[[], LevelBook]
Checksum = Callable[[LevelBook], int]  # the venue's checksum of a book, computed as the venue does


class SyncEngine:
    """Applies seeds and changes, checks the book; reports books and resyncs through callbacks.

    ``on_book(timestamp)`` after every applied seed or change (read the book
    with :meth:`top` or :meth:`walk`); ``on_resync(reason)`` when the book is
    unusable and a new seed is needed (the engine has already dropped it).
    ``checksum`` computes the venue's checksum of a book, verified against
    every message that carries one; ``depth`` (settable) truncates the book
    after every message. ``clock`` (seconds, monotonic) times how long the book
    has been crossed; call :meth:`check` between messages so a book that
    crossed and then went quiet is caught too.
    """

    def __init__(self, kind: BookKind, on_book: Callable[[datetime | None], None],
                 on_resync: Callable[[str], None], max_buffer: int = MAX_BUFFER, max_entries: int = MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic, checksum: Checksum | None = None, depth: int | None = None,
                 history: int = 0, max_ops: int = MAX_KEPT_OPS):
        self.kind = kind
        self.on_book, self.on_resync = on_book, on_resync
        self.checksum, self.depth = checksum, depth
        self.book: LevelBook | None = None
        self.sequence: int | None = None
        self.buffer = ChangeQueue(max_buffer, max_ops)
        self.max_entries = max_entries
        self.crossed_for = 0  # applied messages in a row after which the book was crossed
        self.crossed_since: float | None = None  # clock() when the book became crossed
        self.clock = clock
        self.resyncs = 0
        self.stale = 0  # changes dropped because they were at or below the book's sequence
        self.stale_run = 0  # ... in a row, since the last applied change
        self.verified = 0  # messages whose checksum matched the book
        # the last `history` changes applied to this book (max_ops ops at most), oldest first (verify.py brings a
        # REST book forward by them; when the oldest had to go, a check reaching back past them says it cannot verify)
        self.history: ChangeQueue | None = ChangeQueue(history, max_ops) if history else None
        self.seeded_at: float | None = None  # clock() of the last seed applied

    @property
    def synced(self) -> bool:
        return self.book is not None

    def seed(self, seed: Seed) -> None:
        """Replace the book with the seed, then apply what waited for it."""
        book = self.kind()
        self._apply_ops(book, seed.ops)
        if self.depth is not None:
            book.truncate(self.depth)
        self.book, self.sequence, self.crossed_for, self.crossed_since, self.stale_run = book, seed.sequence, 0, None, 0
        self.seeded_at = self.clock()
        if self.history is not None:
            self.history.clear()
        if book.size() > self.max_entries:
            self._resync(f"the seed holds more than {self.max_entries} entries", ())
            return
        if seed.sequence is None:  # nothing numbered can have waited for it
            waiting: list[Change] = []
        else:
            waiting = sorted((c for c in self.buffer if c.sequence is not None and c.sequence > seed.sequence), key=lambda c: c.sequence or 0)
        self.buffer.clear()
        if self._checksum_failed(seed, "the seed", waiting):
            return
        if waiting and waiting[0].sequence != seed.sequence + 1:  # type: ignore[operator]  # numbered: seed.sequence is set
            self._resync(f"the seed (sequence {seed.sequence}) is older than the queued changes (from {waiting[0].sequence})", waiting)
            return
        self.on_book(seed.timestamp)
        for index, change in enumerate(waiting):
            if not self._apply(change, waiting[index + 1:]):
                return

    def change(self, change: Change) -> None:
        if self.book is None:
            if change.sequence is not None:  # an unnumbered change cannot be placed after a seed: dropped
                self.buffer.append(change)
            return
        self._apply(change, ())

    def _apply(self, change: Change, rest: Sequence[Change]) -> bool:
        """Apply one change in order; False when it forced a resync."""
        assert self.book is not None
        if change.sequence is not None and self.sequence is not None:
            if change.sequence <= self.sequence:
                return self._stale(change)
            if change.sequence != self.sequence + 1:
                self._resync(f"sequence gap: expected {self.sequence + 1}, got {change.sequence}", [change, *rest])
                return False
        book = self.book
        self._apply_ops(book, change.ops)
        if self.depth is not None:
            book.truncate(self.depth)
        self.sequence, self.stale_run = change.sequence, 0
        if self.history is not None:
            self.history.append(change)
        bids, asks = book.bids.prices, book.asks.prices
        if bids and asks and bids[-1] >= asks[0]:  # crossed: best bid >= best ask
            self.crossed_for += 1
            if self.crossed_since is None:
                self.crossed_since = self.clock()
        else:
            self.crossed_for, self.crossed_since = 0, None
        if self._checksum_failed(change, None, rest):
            return False
        if self.crossed_for >= CROSSED_LIMIT:
            self._resync(f"the book stayed crossed for {CROSSED_LIMIT} changes (sequence {change.sequence})", rest)
            return False
        if self._crossed_too_long(rest):
            return False
        if book.size() > self.max_entries:
            self._resync(f"the book grew past {self.max_entries} entries", rest)
            return False
        self.on_book(change.timestamp)
        return True

    @staticmethod
    def _apply_ops(book: LevelBook, ops: Sequence) -> None:
        if book.adds:
            with localcontext(EXACT):
                book.apply(ops)
        else:
            book.apply(ops)

    def _stale(self, change: Change) -> bool:
        """A change at or below the book's sequence: dropped and counted; a restart resyncs."""
        assert change.sequence is not None and self.sequence is not None
        if change.sequence == self.sequence and not change.ops:
            return True  # a same-number heartbeat (BitMart's proof of life): nothing to do
        self.stale += 1
        self.stale_run += 1
        if self.sequence - change.sequence > STALE_DISTANCE or self.stale_run >= STALE_RUN:
            self._resync(f"the venue's sequence went back to {change.sequence} (the book is at {self.sequence}; "
                         f"{self.stale_run} stale change{'s' if self.stale_run > 1 else ''} in a row)", [change])
            return False
        return True

    def _checksum_failed(self, message: Seed | Change, what: str | None, rest: Sequence[Change]) -> bool:
        """Whether `message`'s checksum disagrees with the book (then resynced); `what` names
        it in the reason (None: a change, named by its sequence only when it fails)."""
        if message.checksum is None or self.checksum is None:
            return False
        assert self.book is not None
        computed = self.checksum(self.book)
        if computed == message.checksum:
            self.verified += 1
            return False
        if what is None:
            what = "a change" if message.sequence is None else f"change {message.sequence}"
        self._resync(f"checksum mismatch after {what}: the venue says {message.checksum}, the book gives {computed}", rest)
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

    def resync(self, reason: str) -> None:
        """Drop the book (e.g. after a frame that could not be read) and ask for a seed."""
        self._resync(reason, ())

    def drop(self) -> None:
        """Forget the book and whatever waited for a seed, reporting nothing (e.g. the depth changed)."""
        self.book, self.sequence, self.crossed_for, self.crossed_since, self.stale_run = None, None, 0, None, 0
        self.buffer.clear()
        if self.history is not None:
            self.history.clear()

    def _resync(self, reason: str, keep: Iterable[Change]) -> None:
        self.drop()
        self.buffer.extend(c for c in keep if c.sequence is not None)  # unnumbered changes belong to the dropped book
        self.resyncs += 1
        self.on_resync(reason)

    def walk(self) -> tuple[Iterator[RawLevel], Iterator[RawLevel]]:
        """(bids, asks): every level per side, best first, lazily (read them before the next change)."""
        assert self.book is not None
        return self.book.bids.walk(), self.book.asks.walk()

    def top(self, depth: int | None) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
        """(bids, asks): the best `depth` levels per side, best first, with running totals."""
        assert self.book is not None
        return self.book.bids.top(depth), self.book.asks.top(depth)
