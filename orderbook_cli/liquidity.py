"""Liquidity near the mid: how much rests within ±N bps on each side, and the imbalance."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, localcontext
from typing import NamedTuple

from orderbook_cli.book import EXACT, Level, RawLevel

BANDS_BPS = (10, 25, 50, 100)
_IMBALANCE_PLACES = Decimal("0.0001")


class Band(NamedTuple):
    bps: int
    bid: Decimal  # base units resting at or above mid - bps
    ask: Decimal  # base units resting at or below mid + bps
    bid_notional: Decimal  # the same in quote units (price × amount, exact)
    ask_notional: Decimal
    imbalance: Decimal | None  # (bid - ask) / (bid + ask), from -1 (all asks) to 1 (all bids)
    bid_complete: bool  # the bids reach past the band, so none in it is missing (else `bid` is a lower bound)
    ask_complete: bool

    @property
    def complete(self) -> bool:
        """Both sides reach past the band: nothing in it is missing."""
        return self.bid_complete and self.ask_complete


def _within(levels: Iterable[Level | RawLevel], limits: list[Decimal], descending: bool) -> list[tuple[Decimal, Decimal, bool]]:
    """Per limit (narrowest first): amount and notional inside it, and whether the side
    reaches past it. One walk, stopping at the first level past the widest limit.

    Levels come best-first and limits widen, so a level inside one limit is inside every
    wider one: each level's amount and notional go to the narrowest limit that holds it,
    once, and each limit's sums are those of it and the narrower ones (exact: EXACT)."""
    count = len(limits)
    amounts = [Decimal(0)] * count
    notionals = [Decimal(0)] * count
    reached = 0  # limits the side has gone past (the narrowest ones)
    for level in levels:
        price = level[0]
        first = reached
        while first < count and (price < limits[first] if descending else price > limits[first]):
            first += 1
        reached = first
        if first == count:  # past the widest limit
            break
        amount = level[1]
        amounts[first] += amount
        notionals[first] += amount * price
    out, amount_sum, notional_sum = [], Decimal(0), Decimal(0)
    for index in range(count):
        amount_sum += amounts[index]
        notional_sum += notionals[index]
        out.append((amount_sum, notional_sum, index < reached))
    return out


def liquidity(bids: Iterable[Level | RawLevel], asks: Iterable[Level | RawLevel], mid: Decimal | None,
              bands: tuple[int, ...] = BANDS_BPS) -> tuple[Band, ...]:
    """Depth within each band around the mid, from levels sorted best-first (empty without a mid)."""
    if mid is None:
        return ()
    with localcontext(EXACT):
        reaches = [mid * bps / 10000 for bps in bands]
        bid_sums = _within(bids, [mid - reach for reach in reaches], descending=True)
        ask_sums = _within(asks, [mid + reach for reach in reaches], descending=False)
        out = []
        for bps, (bid, bid_notional, bids_past), (ask, ask_notional, asks_past) in zip(bands, bid_sums, ask_sums):
            both = bid + ask
            imbalance = ((bid - ask) / both).quantize(_IMBALANCE_PLACES) if both else None
            out.append(Band(bps, bid, ask, bid_notional, ask_notional, imbalance, bids_past, asks_past))
    return tuple(out)
