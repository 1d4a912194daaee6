"""The normalized trade (the tape): what every venue's trade parser produces.

A trade is one print: exact price and amount, the taker's (aggressor's) side
where the venue documents it, else ``None``. Each venue reads its own trade
messages in its venue file (``Venue.trades``: venues/bitso.py,
bitmart_v3.py, kraken.py, revx.py), with the bounded helpers here: numbers
by ``to_decimal``, times by ``parse_venue_time``, ids by length and frames
by trade count, so a hostile frame costs bounded time and memory and is
skipped as MalformedData. Where each side field's documented meaning comes
from: tests/payloads/trades/README.md.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from typing import Any, NamedTuple

from orderbook_cli.book import EXACT, Book, plain
from orderbook_cli.errors import MalformedData, sanitize
from orderbook_cli.jsonout import dumps
from orderbook_cli.shape import bucket_price
from orderbook_cli.timefmt import iso_utc
from orderbook_cli.transport.wire import objects

BUY, SELL = "buy", "sell"
MAX_ID = 64  # trade and order ids: longer ones are not believable
MAX_TRADES_PER_FRAME = 10_000  # more prints than this in one frame or page is not a venue talking


class Trade(NamedTuple):
    venue: str
    symbol: str
    id: str | None  # the venue's trade id; None where it sends none (BitMart)
    price: Decimal
    amount: Decimal
    side: str | None  # the taker's side, "buy"/"sell", or None where the venue does not say
    timestamp: datetime | None  # the venue's time for the trade
    received_at: datetime
    extras: tuple[tuple[str, str], ...] = ()  # venue extras, e.g. Bitso's maker_order/taker_order

    @property
    def signed_amount(self) -> Decimal:
        """The amount with the taker's sign: positive bought, negative sold, 0 unknown."""
        if self.side == BUY:
            return self.amount
        return -self.amount if self.side == SELL else Decimal(0)


def trade_to_dict(trade: Trade) -> dict[str, Any]:
    out: dict[str, Any] = {
        "venue": trade.venue,
        "symbol": trade.symbol,
        "id": trade.id,
        "price": plain(trade.price),
        "amount": plain(trade.amount),
        "side": trade.side,
        "timestamp": iso_utc(trade.timestamp) if trade.timestamp else None,
        "received_at": iso_utc(trade.received_at),
    }
    out.update(trade.extras)
    return out


def trade_line(trade: Trade) -> str:
    """One NDJSON line of the tape (control characters escaped, as books are)."""
    return dumps(trade_to_dict(trade))


# -- bounded helpers for venue fields ------------------------------------

def text_id(value: object, field: str, *, required: bool = True) -> str | None:
    """A trade or order id: a short string, or a non-negative JSON integer, as text."""
    if value is None and not required:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
        return str(value)
    if isinstance(value, str) and 0 < len(value) <= MAX_ID and value.isprintable():
        return value
    raise MalformedData(f"{field} {sanitize(str(value)[:MAX_ID], MAX_ID)!r} is not a usable id")


def side_word(value: object, field: str) -> str:
    """A venue's "buy"/"sell" label (any case), checked."""
    if isinstance(value, str) and value.lower() in (BUY, SELL):
        return value.lower()
    raise MalformedData(f"{field} {sanitize(str(value)[:20], 20)!r} is neither buy nor sell")


def entries(container: Any, key: str, what: str) -> list[dict]:
    """The list of trade objects under `key`, bounded in number."""
    found = objects(container, key, what)
    if len(found) > MAX_TRADES_PER_FRAME:
        raise MalformedData(f"{what} with {len(found)} trades; at most {MAX_TRADES_PER_FRAME} are believable")
    return found


# -- printed once, however polled windows overlap ------------------------

class SeenIds:
    """The last `capacity` trade ids: a polled window that overlaps the last one prints
    only what is new. Bounded: the oldest id is forgotten for each new one."""

    def __init__(self, capacity: int = 20_000):
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def fresh(self, trades: Iterable[Trade]) -> Iterator[Trade]:
        for trade in trades:
            if trade.id is None:
                yield trade
                continue
            if trade.id in self._ids:
                continue
            self._ids[trade.id] = None
            if len(self._ids) > self.capacity:
                self._ids.popitem(last=False)
            yield trade


# -- the tape --------------------------------------------------------------

class Tape:
    """The last trades (a ring), volume by taker side since start, and volume
    traded at each price over the last `window` seconds. Memory is bounded
    whatever the rate: both rings have a maximum length."""

    def __init__(self, capacity: int = 500, window: float = 60.0, max_recent: int = 100_000):
        self.trades: deque[Trade] = deque(maxlen=capacity)
        self.window = window
        self.bought = Decimal(0)  # taker buys since start (base units)
        self.sold = Decimal(0)
        self.unsided = Decimal(0)  # where the venue does not say whose side
        self._recent: deque[tuple[float, Decimal, Decimal]] = deque(maxlen=max_recent)  # (monotonic, price, amount)
        self._at_price: dict[Decimal, Decimal] = {}

    def add(self, trade: Trade, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.trades.append(trade)
        with localcontext(EXACT):
            if trade.side == BUY:
                self.bought += trade.amount
            elif trade.side == SELL:
                self.sold += trade.amount
            else:
                self.unsided += trade.amount
            if len(self._recent) == self._recent.maxlen:
                self._forget(*self._recent[0][1:])
            self._recent.append((now, trade.price, trade.amount))
            self._at_price[trade.price] = self._at_price.get(trade.price, Decimal(0)) + trade.amount
        self._expire(now)

    @property
    def delta(self) -> Decimal:
        """Volume delta: taker buys minus taker sells since start."""
        with localcontext(EXACT):
            return self.bought - self.sold

    def newest_first(self) -> list[Trade]:
        return list(reversed(self.trades))

    def volume_at(self, now: float | None = None) -> dict[Decimal, Decimal]:
        """Amount traded at each price over the last window."""
        self._expire(time.monotonic() if now is None else now)
        return dict(self._at_price)

    def _expire(self, now: float) -> None:
        while self._recent and self._recent[0][0] <= now - self.window:
            _, price, amount = self._recent.popleft()
            self._forget(price, amount)

    def _forget(self, price: Decimal, amount: Decimal) -> None:
        with localcontext(EXACT):
            left = self._at_price[price] - amount
        if left:
            self._at_price[price] = left
        else:
            del self._at_price[price]


def traded_by_level(book: Book, traded: Mapping[Decimal, Decimal], group: Decimal | None) -> dict[tuple[str, Decimal], Decimal]:
    """Volume traded at each shown level: a price at or below the best bid is on the bid
    side, at or above the best ask on the ask side (inside the spread: neither), bucketed
    as --group buckets that side (bids down, asks up)."""
    best_bid, best_ask = book.best_bid, book.best_ask
    out: dict[tuple[str, Decimal], Decimal] = {}
    with localcontext(EXACT):
        for price, amount in traded.items():
            if best_bid is not None and price <= best_bid:
                key = ("bid", price if group is None else bucket_price(price, group, ROUND_FLOOR))
            elif best_ask is not None and price >= best_ask:
                key = ("ask", price if group is None else bucket_price(price, group, ROUND_CEILING))
            else:
                continue
            out[key] = out.get(key, Decimal(0)) + amount
    return out
