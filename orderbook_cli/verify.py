"""Checking a kept book against the venue's own REST book (`--verify-every`).

Knows no venue. A venue declares how its REST book compares (venues/synced.py
``rest_check``) and hands it over as a :class:`~orderbook_cli.sync.Seed`;
:class:`Verifier` decides when a check is due and what the verdict is, the
connection fetches (through the one REST seeder and its pacer) and resyncs on
a mismatch (through the engine's own resync). Two ways to compare:

- ``sequence`` (Bitso): the REST book carries the sequence it reflects, S.
  While the kept book is behind S the check waits for it (CATCH_UP seconds at
  most: a kept book that never reaches S has lost a change, even on a quiet
  book). Once the kept book is at L >= S, the REST book is brought forward by
  the kept changes S+1..L (the engine keeps the last HISTORY applied changes,
  MAX_KEPT_OPS orders or levels at most; a check that needs older ones says
  it could not verify),
  replayed by a scratch :class:`~orderbook_cli.sync.SyncEngine`, so both books
  stand at L: every level (price, amount, orders) and every order must agree.
  Nothing is racy: no level is compared at two different sequences.
- ``settled`` (BitMart): the REST book has no sequence, only the venue's time
  T. The check waits SETTLE seconds after the answer (changes stamped before T
  are then in), and leaves out every level a kept change stamped T - SETTLE
  or later touched (the two books may rightly differ there). The others are
  settled: neither side saw them move around T, so both must hold the same
  amount, within the prices both books cover (a REST book of 50 levels a side
  against 100 kept). Changes without a stamp leave their levels out too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Set
from datetime import datetime, timedelta
from decimal import Decimal, localcontext
from typing import NamedTuple

from orderbook_cli.book import EXACT, RawLevel, plain
from orderbook_cli.sync import MAX_KEPT_OPS, LevelBook, OrderBook, Seed, Side, SyncEngine
from orderbook_cli.timefmt import now_utc

SEQUENCE, SETTLED = "sequence", "settled"
HISTORY = 2048  # applied changes kept to bring a REST book forward (or to see which levels moved)
CATCH_UP = 5.0  # seconds the kept book may take to reach the REST book's sequence
SETTLE = 2.0  # seconds around the REST book's time in which a change leaves its level out (settled mode)
FAR_OFF = timedelta(hours=1)  # a REST book's time this far from the clock cannot say which levels were still then
SHOWN_DIFFERENCES = 3  # differences named in a report; the rest are counted


class Check(NamedTuple):
    """One comparison's outcome. ``match`` None: no verdict (``why`` says why)."""

    match: bool | None
    sequence: int | None = None  # the sequence both books were compared at (sequence mode)
    rest_sequence: int | None = None  # the REST book's own
    venue_time: datetime | None = None  # the REST book's time (settled mode)
    compared: str = ""  # what was compared: "412 levels, 1234 orders"
    differences: tuple[str, ...] = ()  # the first SHOWN_DIFFERENCES
    more: int = 0  # differences not named
    why: str = ""

    @property
    def conclusive(self) -> bool:
        return self.match is not None

    def where(self) -> str:
        if self.sequence is not None:
            brought = self.sequence - (self.rest_sequence or self.sequence)
            return f"at sequence {self.sequence}" + (f" (the REST book of {self.rest_sequence} + {brought} kept change{'s' * (brought > 1)})" if brought > 0 else "")
        if self.venue_time is not None:
            return f"at venue time {self.venue_time.strftime('%H:%M:%S.%f')[:-3]} UTC"
        return ""

    def verdict(self) -> str:
        """match (...) / mismatch: what differed"""
        if self.match:
            return f"match ({self.compared})"
        listed = "; ".join(self.differences) + (f" (and {self.more} more)" if self.more else "")
        return f"mismatch: {listed}"

    def line(self, label: str) -> str:
        """The one stderr line of NDJSON mode (without "obook: ")."""
        if not self.conclusive:
            return f"could not verify {label}: {self.why}"
        tail = "; resyncing" if not self.match else ""
        return " ".join(filter(None, ("verified", label, self.where()))) + f": {self.verdict()}{tail}"


def inconclusive(why: str) -> Check:
    return Check(None, why=why)


class Pending(NamedTuple):
    seed: Seed  # the venue's REST book
    asked_at: float  # clock() when it was asked for
    arrived_at: float


class Verifier:
    """One feed's checks (it outlives reconnections): when the next is due, the REST book
    waiting to be compared, the verdict."""

    def __init__(self, mode: str, every: float, venue_depth: int | None = None, clock: Callable[[], float] = time.monotonic):
        self.mode, self.every, self.venue_depth, self.clock = mode, every, venue_depth, clock
        self.next_at = clock() + every
        self.asked_at: float | None = None  # a REST book is being fetched
        self.pending: Pending | None = None

    @property
    def busy(self) -> bool:
        return self.asked_at is not None or self.pending is not None

    def due(self, now: float, engine: SyncEngine) -> bool:
        """A check may be asked for: its time has come and the kept book can be compared
        (settled mode: seeded long enough ago for levels to have stayed still)."""
        if self.busy or now < self.next_at or engine.book is None:
            return False
        return self.mode != SETTLED or (engine.seeded_at is not None and engine.seeded_at < now - SETTLE)

    def asked(self, now: float) -> None:
        self.asked_at = now

    def answered(self, seed: Seed, now: float) -> None:
        self.pending = Pending(seed, self.asked_at if self.asked_at is not None else now, now)
        self._done(now)

    def failed(self, why: str, now: float) -> Check:
        self.pending = None
        self._done(now)
        return inconclusive(why)

    def _done(self, now: float) -> None:
        self.asked_at = None
        self.next_at = now + self.every

    def attempt(self, engine: SyncEngine, now: float) -> Check | None:
        """The verdict on the waiting REST book, once it can be given (None: not yet)."""
        pending = self.pending
        if pending is None:
            return None
        if engine.book is None:
            return self.failed("the book was resynced before the comparison", now)
        check = self._at_sequence(pending, engine, now) if self.mode == SEQUENCE else self._settled(pending, engine, now)
        if check is not None:
            self.pending = None
        return check

    def _at_sequence(self, pending: Pending, engine: SyncEngine, now: float) -> Check | None:
        rest, kept = pending.seed.sequence, engine.sequence
        if rest is None or kept is None:
            return inconclusive("the venue's REST book or the kept book carries no sequence")
        if kept < rest:
            if now - pending.arrived_at <= CATCH_UP:
                return None  # the stream has not brought the kept book there yet
            return Check(False, kept, rest, differences=(f"the venue's REST book is at sequence {rest}, the kept book still at {kept} "
                                                         f"after {CATCH_UP:g}s (a change was lost)",))
        venue = brought_forward(pending.seed, engine)
        if isinstance(venue, str):
            return inconclusive(venue)
        assert engine.book is not None
        differences, compared = compare(engine.book, venue)
        orders = f", {len(engine.book.orders)} orders" if isinstance(engine.book, OrderBook) else ""
        return _verdict(differences, f"{compared} levels{orders}", sequence=kept, rest_sequence=rest)

    def _settled(self, pending: Pending, engine: SyncEngine, now: float) -> Check | None:
        if now - pending.arrived_at < SETTLE:
            return None  # changes stamped before the REST book may still be on their way
        stamp = pending.seed.timestamp
        if stamp is None:
            return inconclusive("the venue's REST book carries no time")
        if engine.seeded_at is not None and engine.seeded_at >= pending.asked_at - SETTLE:
            return inconclusive("the book was seeded afresh meanwhile")
        if stamp < datetime.min.replace(tzinfo=stamp.tzinfo) + timedelta(seconds=SETTLE):  # year 1: no time before it
            return inconclusive("the venue's REST book's time is out of range")
        if abs(stamp - now_utc()) > FAR_OFF:  # year 9999: every change would look older than the book
            return inconclusive("the venue's REST book's time is more than an hour from this machine's clock")
        moved = moving(engine, stamp - timedelta(seconds=SETTLE), pending.asked_at - SETTLE)
        if moved is None:
            return inconclusive(f"the kept changes (the last {HISTORY} at most, holding {MAX_KEPT_OPS} levels at most) do not "
                                "reach back to the REST book's time: cannot tell which levels stayed still")
        kind = OrderBook if isinstance(engine.book, OrderBook) else LevelBook
        venue = kind()
        with localcontext(EXACT):
            venue.apply(pending.seed.ops)
        assert engine.book is not None
        differences, compared = compare(engine.book, venue, left_out=moved, depths=(engine.depth, self.venue_depth))
        if not compared:
            return inconclusive("no level stayed still long enough around the REST book's time to compare")
        return _verdict(differences, f"{compared} settled level{'s' * (compared > 1)}; {len(moved)} that moved left out",
                        venue_time=stamp)


def _verdict(differences: list[str], compared: str, **where) -> Check:
    if differences:
        return Check(False, differences=tuple(differences[:SHOWN_DIFFERENCES]), more=max(0, len(differences) - SHOWN_DIFFERENCES), **where)
    return Check(True, compared=compared, **where)


def brought_forward(seed: Seed, engine: SyncEngine) -> LevelBook | str:
    """The REST book `seed` with the kept changes after its sequence applied, by a scratch
    engine (the same rules as the live one): the venue's book at the kept book's sequence,
    or why there is none (the kept changes no longer reach back to the seed, or the REST
    book itself is unusable: crossed, too large)."""
    assert seed.sequence is not None
    after = [c for c in engine.history or () if c.sequence is not None and c.sequence > seed.sequence]
    if engine.sequence != seed.sequence and (not after or after[0].sequence != seed.sequence + 1):
        return f"the changes since the REST book's sequence {seed.sequence} are no longer all kept (the book is at {engine.sequence})"
    kind = OrderBook if isinstance(engine.book, OrderBook) else LevelBook  # never a book that reports elsewhere (--order-flow)
    failed: list[str] = []
    scratch = SyncEngine(kind, lambda _timestamp: None, failed.append, max_buffer=len(after) + 1, depth=engine.depth,
                         max_ops=engine.buffer.max_ops)
    scratch.buffer.extend(after)
    scratch.seed(seed)
    if failed or scratch.book is None or scratch.sequence != engine.sequence:
        return f"the venue's REST book at sequence {seed.sequence} could not be brought to {engine.sequence}: {failed[0] if failed else 'changes missing'}"
    return scratch.book


def moving(engine: SyncEngine, since: datetime, received_since: float) -> set[tuple[bool, Decimal]] | None:
    """(is_bid, price) of every level a kept change stamped at `since` or later touched (or
    with no stamp); None when the kept changes do not reach back that far."""
    history = engine.history
    moved: set[tuple[bool, Decimal]] = set()
    reached = False
    for change in reversed(history or ()):
        if change.timestamp is not None and change.timestamp < since:
            reached = True
            break
        moved.update((op.is_bid, op.price) for op in change.ops)
    complete = reached or (history is not None and not history.dropped
                           and engine.seeded_at is not None and engine.seeded_at < received_since)
    return moved if complete else None


def _levels(side: Side) -> dict[Decimal, tuple[Decimal, int | None]]:
    return {lv.price: (lv.amount, lv.count) for lv in side.walk()}


def _covered(levels: Iterable[RawLevel], depth: int | None, descending: bool) -> Callable[[Decimal], bool]:
    """Which prices a side vouches for: all when it holds fewer than `depth` levels (it is the
    whole side), else those at or better than its last level."""
    prices = [lv.price for lv in levels]
    if depth is None or len(prices) < depth or not prices:
        return lambda price: True
    edge = prices[-1]
    return (lambda price: price >= edge) if descending else (lambda price: price <= edge)


def compare(kept: LevelBook, venue: LevelBook, *, left_out: Set[tuple[bool, Decimal]] = frozenset(),
            depths: tuple[int | None, int | None] = (None, None)) -> tuple[list[str], int]:
    """What differs between two books (each level's amount and order count; order books:
    each order too), best prices first; and how many levels were compared. `left_out`:
    (is_bid, price) not compared; `depths`: levels a side each book holds at most."""
    differences: list[str] = []
    compared = 0
    for name, is_bid, ours, theirs in (("bid", True, kept.bids, venue.bids), ("ask", False, kept.asks, venue.asks)):
        mine, other = _levels(ours), _levels(theirs)
        inside = (_covered(ours.walk(), depths[0], ours.descending), _covered(theirs.walk(), depths[1], theirs.descending))
        for price in sorted(mine.keys() | other.keys(), reverse=is_bid):
            if (is_bid, price) in left_out or not all(covers(price) for covers in inside):
                continue
            compared += 1
            here, there = mine.get(price), other.get(price)
            if here != there:
                differences.append(f"{name} {plain(price)}: {_amount(here)} here, {_amount(there)} at the venue")
    if isinstance(kept, OrderBook) and isinstance(venue, OrderBook) and not differences and kept.orders != venue.orders:
        differing = sorted(oid for oid in kept.orders.keys() | venue.orders.keys() if kept.orders.get(oid) != venue.orders.get(oid))
        differences.extend(f"order {oid}: {_order(kept.orders.get(oid))} here, {_order(venue.orders.get(oid))} at the venue"
                           for oid in differing)
    return differences, compared


def _amount(level: tuple[Decimal, int | None] | None) -> str:
    if level is None:
        return "nothing"
    amount, count = level
    return plain(amount) if count is None else f"{plain(amount)} ({count} order{'s' * (count != 1)})"


def _order(order: tuple[bool, Decimal, Decimal] | None) -> str:
    if order is None:
        return "nothing"
    is_bid, price, amount = order
    return f"{'bid' if is_bid else 'ask'} {plain(amount)} at {plain(price)}"
