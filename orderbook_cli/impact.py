"""Market impact: what buying or selling a size would cost against the real book.

The size is in base units (``--impact 2``) or in the quote currency
(``--impact 50000USD``: spend or receive that much). The walk reads levels
best-first and stops once the size is filled, however deep the book.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import NamedTuple

from orderbook_cli.book import EXACT, Level, RawLevel, bps_of, to_decimal
from orderbook_cli.errors import MalformedData, UsageError

_PRICE_PLACES = Decimal("1e-12")
_AMOUNT_PLACES = Decimal("1e-18")  # base units bought with a quote amount: a quotient, kept to 18 places
_SIZE = re.compile(r"\s*([0-9.]+)\s*([A-Za-z]{2,10})?\s*", re.ASCII)


class ImpactSize(NamedTuple):
    amount: Decimal
    currency: str | None = None  # None: base units; else the quote currency it is given in (upper case)

    @property
    def in_quote(self) -> bool:
        return self.currency is not None


def parse_size(text: str) -> ImpactSize:
    """`2` (base units) or `50000USD` (quote currency); exact, positive."""
    match = _SIZE.fullmatch(text) if len(text) <= 64 else None
    if match is None:
        raise UsageError(f"--impact {text[:40]!r} is not a size", hint="give base units (--impact 2) or a quote amount (--impact 50000USD)")
    try:
        amount = to_decimal(match.group(1), "--impact")
    except MalformedData:
        raise UsageError(f"--impact {text[:40]!r} is not a size", hint="give base units (--impact 2) or a quote amount (--impact 50000USD)") from None
    if not amount:
        raise UsageError("--impact must be more than 0")
    currency = match.group(2)
    return ImpactSize(amount, currency.upper() if currency else None)


class VenueFill(NamedTuple):
    """One source's part of a fill routed across a consolidated book."""

    filled: Decimal
    notional: Decimal

    @property
    def average_price(self) -> Decimal:
        with localcontext(EXACT):
            return (self.notional / self.filled).quantize(_PRICE_PLACES).normalize()


@dataclass(frozen=True)
class Fill:
    side: str  # "buy" walks the asks, "sell" walks the bids
    size: Decimal  # as asked: base units, or quote currency when `currency` is set
    filled: Decimal  # base units filled
    notional: Decimal  # quote currency spent (buy) or received (sell)
    average_price: Decimal | None
    worst_price: Decimal | None
    slippage_bps: Decimal | None  # average price versus mid, positive = worse
    currency: str | None = None
    venues: dict[str, VenueFill] | None = None  # consolidated books: who fills what, best price first

    @property
    def complete(self) -> bool:
        return (self.notional if self.currency is not None else self.filled) == self.size


def _walk(side: str, levels: Iterable[Level | RawLevel], size: ImpactSize, mid: Decimal | None) -> Fill:
    with localcontext(EXACT):
        remaining, filled, notional, worst = size.amount, Decimal(0), Decimal(0), None
        parts: dict[str, VenueFill] | None = None
        for level in levels:
            if not remaining:
                break
            price = level.price
            if size.in_quote:
                if level.amount * price >= remaining:  # this level finishes the order: its part is a quotient
                    take, cost = (remaining / price).quantize(_AMOUNT_PLACES).normalize(), remaining
                else:
                    take, cost = level.amount, level.amount * price
                remaining -= cost
            else:
                take = min(remaining, level.amount)
                cost = take * price
                remaining -= take
            filled += take
            notional += cost
            worst = price
            venues = getattr(level, "venues", None)
            if venues is not None:  # at one price the sources fill in the order they were given
                parts = {} if parts is None else parts
                _route(parts, venues, take, price, cost)
        average = slippage = None
        if filled:
            average = (notional / filled).quantize(_PRICE_PLACES).normalize()
            if mid:
                change = (average - mid) if side == "buy" else (mid - average)
                slippage = bps_of(change, mid)
    return Fill(side, size.amount, filled, notional, average, worst, slippage, size.currency, parts)


def _route(parts: dict[str, VenueFill], venues: Mapping[str, Decimal], take: Decimal, price: Decimal, cost: Decimal) -> None:
    """Share one level's `take` (costing `cost`) among its sources, in their order. The last
    part's notional is what the level's cost leaves: a quote-sized fill's last level costs
    exactly what was left to spend while its amount is rounded, so the parts add up to the
    fill's notional, not to a hair beside it."""
    for key, amount in venues.items():
        part = min(take, amount)
        if part:
            take -= part
            part_cost = part * price if take else cost
            cost -= part_cost
            filled, notional = parts.get(key, (Decimal(0), Decimal(0)))
            parts[key] = VenueFill(filled + part, notional + part_cost)
        if not take:
            return


def market_impact(bids: Iterable[Level | RawLevel], asks: Iterable[Level | RawLevel], size: ImpactSize,
                  mid: Decimal | None) -> tuple[Fill, Fill]:
    """(buy, sell) fills of ``size`` against levels sorted best-first (the whole book)."""
    return _walk("buy", asks, size, mid), _walk("sell", bids, size, mid)
