"""Market impact: what buying or selling SIZE base units would cost against a book."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from orderbook_cli.book import EXACT, Book, Level, bps_of, plain

_PRICE_PLACES = Decimal("1e-12")


@dataclass(frozen=True)
class Fill:
    side: str  # "buy" walks the asks, "sell" walks the bids
    size: Decimal
    filled: Decimal
    notional: Decimal  # quote currency spent (buy) or received (sell)
    average_price: Decimal | None
    worst_price: Decimal | None
    slippage_bps: Decimal | None  # average price versus mid, positive = worse

    @property
    def complete(self) -> bool:
        return self.filled == self.size


def _walk(side: str, levels: tuple[Level, ...], size: Decimal, mid: Decimal | None) -> Fill:
    with localcontext(EXACT):
        remaining, notional, worst = size, Decimal(0), None
        for level in levels:
            if not remaining:
                break
            take = min(remaining, level.amount)
            notional += take * level.price
            remaining -= take
            worst = level.price
        filled = size - remaining
        average = slippage = None
        if filled:
            average = (notional / filled).quantize(_PRICE_PLACES).normalize()
            if mid:
                change = (average - mid) if side == "buy" else (mid - average)
                slippage = bps_of(change, mid)
    return Fill(side, size, filled, notional, average, worst, slippage)


def market_impact(book: Book, size: Decimal) -> tuple[Fill, Fill]:
    """(buy, sell) fills of ``size`` against the visible book."""
    mid = book.mid
    return _walk("buy", book.asks, size, mid), _walk("sell", book.bids, size, mid)


def impact_to_dict(fills: tuple[Fill, Fill]) -> dict:
    def one(fill: Fill) -> dict:
        maybe = lambda n: None if n is None else plain(n)  # noqa: E731
        return {
            "filled": plain(fill.filled),
            "notional": plain(fill.notional),
            "average_price": maybe(fill.average_price),
            "worst_price": maybe(fill.worst_price),
            "slippage_bps": maybe(fill.slippage_bps),
            "complete": fill.complete,
        }

    buy, sell = fills
    return {"size": plain(buy.size), "buy": one(buy), "sell": one(sell)}
