"""Fills versus cancels: how much liquidity left each level by trading and how
much was pulled, over the last minute (Bitso's order-level full feed).

Bitso's `diff-orders` says how each order changed; its `trades` channel names
the maker order of every print. Joining the two on the order id tells the
amount that left a level filled from the amount withdrawn:

- an order's amount falling, or the order going, is liquidity leaving its
  level (a modified order leaves its old price and joins the new one);
- whatever of that the order's own trades (maker order id) cover is filled,
  the rest pulled. `completed` removals are filled by the venue's own word,
  even when the trade message never came;
- the two channels are not ordered against each other: a trade that arrives
  before the diff is a credit the diff then consumes, one that arrives after
  turns the amount already counted as pulled into filled.

OrderFlow is pure: no I/O, times are passed in, memory bounded by the window
and caps. ObservedOrderBook is the full feed's order book telling an OrderFlow
how each order changed, as the sync engine applies the diffs.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from decimal import Decimal, localcontext
from typing import Any, NamedTuple

from orderbook_cli.book import EXACT, plain
from orderbook_cli.sync import OrderBook, OrderOp

ZERO = Decimal(0)
MAX_EVENTS = 200_000  # departures kept for the window, whatever the rate
MAX_ORDERS = 50_000  # orders with an unmatched fill or pull remembered


class Resting(NamedTuple):
    """An order as the book holds it."""

    is_bid: bool
    price: Decimal
    amount: Decimal


class _Departure:
    """Liquidity that left one level at one time; `filled` grows if a late trade proves it."""

    __slots__ = ("at", "filled", "is_bid", "price", "pulled")

    def __init__(self, at: float, is_bid: bool, price: Decimal, filled: Decimal, pulled: Decimal):
        self.at, self.is_bid, self.price, self.filled, self.pulled = at, is_bid, price, filled, pulled


class LevelFlow(NamedTuple):
    price: Decimal
    filled: Decimal
    pulled: Decimal


class OrderFlow:
    def __init__(self, window: float = 60.0):
        self.window = window
        self._departures: deque[_Departure] = deque(maxlen=MAX_EVENTS)
        self._credit: OrderedDict[str, Decimal] = OrderedDict()  # traded, not yet seen leaving
        self._debt: OrderedDict[str, list[_Departure]] = OrderedDict()  # left as pulled, a trade may still claim

    # -- inputs --------------------------------------------------------
    def order_changed(self, order_id: str, before: Resting | None, after: Resting | None, *, completed: bool, at: float) -> None:
        """One order change from the diff feed: its state before and after (None: absent)."""
        if before is None:
            return  # a new order adds liquidity; nothing left
        moved = after is not None and (after.price != before.price or after.is_bid != before.is_bid)
        with localcontext(EXACT):
            left = before.amount if after is None or moved else before.amount - after.amount
        if left <= 0:
            return
        if completed:
            self._record(order_id, before, left, filled=left, at=at)
            self._credit.pop(order_id, None)
            return
        credit = self._credit.pop(order_id, ZERO)
        if moved:  # a move is a withdrawal from the old price, whatever traded before it
            credit = ZERO
        with localcontext(EXACT):
            filled = min(left, credit)
            if credit > filled:
                self._remember(self._credit, order_id, credit - filled)
        self._record(order_id, before, left, filled=filled, at=at)

    def trade(self, maker_order: str | None, amount: Decimal, at: float) -> None:
        """A print from the trades channel: `amount` of `maker_order` filled."""
        self._expire(at)
        if maker_order is None:
            return
        remaining = amount
        with localcontext(EXACT):
            for departure in self._debt.get(maker_order, []):
                claim = min(remaining, departure.pulled)
                departure.pulled -= claim
                departure.filled += claim
                remaining -= claim
                if not remaining:
                    break
            pending = [d for d in self._debt.pop(maker_order, []) if d.pulled]
            if pending:
                self._remember(self._debt, maker_order, pending)
            if remaining:
                self._remember(self._credit, maker_order, self._credit.pop(maker_order, ZERO) + remaining)

    # -- outputs -------------------------------------------------------
    def levels(self, now: float) -> tuple[list[LevelFlow], list[LevelFlow]]:
        """Filled and pulled per price over the window: bids best first, asks best first."""
        self._expire(now)
        sums: dict[tuple[bool, Decimal], list[Decimal]] = {}
        with localcontext(EXACT):
            for d in self._departures:
                entry = sums.setdefault((d.is_bid, d.price), [ZERO, ZERO])
                entry[0] += d.filled
                entry[1] += d.pulled
        bids = sorted((LevelFlow(price, *v) for (is_bid, price), v in sums.items() if is_bid), key=lambda lv: lv.price, reverse=True)
        asks = sorted((LevelFlow(price, *v) for (is_bid, price), v in sums.items() if not is_bid), key=lambda lv: lv.price)
        return bids, asks

    def to_dict(self, now: float) -> dict[str, Any]:
        """The `order_flow` object of a JSON book (README: "Fills versus cancels")."""
        bids, asks = self.levels(now)
        with localcontext(EXACT):
            filled = sum((lv.filled for lv in bids + asks), ZERO)
            pulled = sum((lv.pulled for lv in bids + asks), ZERO)

        def rows(levels: list[LevelFlow]) -> list[dict[str, str]]:
            return [{"price": plain(lv.price), "filled": plain(lv.filled), "pulled": plain(lv.pulled)} for lv in levels]

        return {"window_seconds": self.window, "filled": plain(filled), "pulled": plain(pulled), "bids": rows(bids), "asks": rows(asks)}

    # -- bookkeeping ---------------------------------------------------
    def _record(self, order_id: str, before: Resting, left: Decimal, *, filled: Decimal, at: float) -> None:
        self._expire(at)
        with localcontext(EXACT):
            departure = _Departure(at, before.is_bid, before.price, filled, left - filled)
        self._departures.append(departure)
        if departure.pulled:
            self._remember(self._debt, order_id, self._debt.pop(order_id, []) + [departure])

    def _remember(self, memory: OrderedDict, key: str, value: Any) -> None:
        memory[key] = value
        memory.move_to_end(key)
        while len(memory) > MAX_ORDERS:
            memory.popitem(last=False)

    def _expire(self, now: float) -> None:
        horizon = now - self.window
        while self._departures and self._departures[0].at <= horizon:
            self._departures.popleft()
        while self._debt:  # the oldest order's departures all old: forget it
            key, departures = next(iter(self._debt.items()))
            if departures[-1].at > horizon:
                break
            del self._debt[key]


class ObservedOrderBook(OrderBook):
    """An order book (sync.OrderBook) that tells `flow` each order's state before and
    after every change it applies. A new book (a seed, a resync) starts from what the
    seed holds: orders that left while no book was kept are not counted."""

    def __init__(self, flow: OrderFlow, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.flow, self.clock = flow, clock

    def apply(self, ops: Iterable[OrderOp]) -> None:  # type: ignore[override]  # an OrderBook's ops
        at = self.clock()
        for op in ops:
            before = self.orders.get(op.order_id)
            super().apply((op,))
            after = self.orders.get(op.order_id)
            self.flow.order_changed(op.order_id, None if before is None else Resting(*before), None if after is None else Resting(*after),
                                    completed=op.completed, at=at)
