"""Liquidity near the mid: how much rests within ±N bps on each side, and the imbalance."""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import NamedTuple

from orderbook_cli.book import EXACT, Book, Level, plain

BANDS_BPS = (10, 25, 50, 100)
_IMBALANCE_PLACES = Decimal("0.0001")


class Band(NamedTuple):
    bps: int
    bid: Decimal  # base units resting at or above mid - bps
    ask: Decimal  # base units resting at or below mid + bps
    bid_notional: Decimal  # the same in quote units (price × amount, exact)
    ask_notional: Decimal
    imbalance: Decimal | None  # (bid - ask) / (bid + ask), from -1 (all asks) to 1 (all bids)
    complete: bool  # both sides of the book reach past the band, so nothing in it is missing


def _within(levels: tuple[Level, ...], inside) -> tuple[Decimal, Decimal, bool]:
    amount = notional = Decimal(0)
    for level in levels:
        if not inside(level.price):
            return amount, notional, True
        amount += level.amount
        notional += level.amount * level.price
    return amount, notional, False  # the book ends inside the band: a lower bound


def liquidity(book: Book, bands: tuple[int, ...] = BANDS_BPS) -> tuple[Band, ...]:
    """Depth within each band around the mid (empty when a side is empty)."""
    mid = book.mid
    if mid is None:
        return ()
    out = []
    with localcontext(EXACT):
        for bps in bands:
            reach = mid * bps / 10000
            low, high = mid - reach, mid + reach
            bid, bid_notional, bids_past = _within(book.bids, lambda price: price >= low)
            ask, ask_notional, asks_past = _within(book.asks, lambda price: price <= high)
            both = bid + ask
            imbalance = ((bid - ask) / both).quantize(_IMBALANCE_PLACES) if both else None
            out.append(Band(bps, bid, ask, bid_notional, ask_notional, imbalance, bids_past and asks_past))
    return tuple(out)


def liquidity_to_dict(book: Book, bands: tuple[Band, ...]) -> dict:
    """The JSON `liquidity` object (exact decimal strings, like the rest of the book)."""
    return {
        "mid": None if book.mid is None else plain(book.mid),
        "bands": [
            {
                "bps": band.bps,
                "bid": plain(band.bid),
                "ask": plain(band.ask),
                "bid_notional": plain(band.bid_notional),
                "ask_notional": plain(band.ask_notional),
                "imbalance": None if band.imbalance is None else plain(band.imbalance),
                "complete": band.complete,
            }
            for band in bands
        ],
    }
