"""How prices, amounts and notionals are written: exact, plain notation, aligned."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, localcontext
from typing import TYPE_CHECKING

from orderbook_cli.book import EXACT, Book, bps_of, plain

if TYPE_CHECKING:
    from orderbook_cli.impact import Fill

MAX_NOTIONAL_DECIMALS = 8
# Quote currencies whose amounts are conventionally shown at a fixed precision.
QUOTE_PLACES = {
    **dict.fromkeys(("USD", "EUR", "GBP", "MXN", "BRL", "ARS", "COP", "CAD", "AUD", "CHF", "USDT", "USDC", "DAI", "FDUSD", "TUSD", "PYUSD"), 2),
    **dict.fromkeys(("JPY", "KRW"), 0),
}
_SYMBOL_PARTS = re.compile(r"([A-Za-z0-9]{1,12})[-_/:]([A-Za-z0-9]{1,12})")


def decimals(number: Decimal) -> int:
    """Digits after the point in the number as written (0 for integers and exponents)."""
    exponent = number.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def aligned(numbers: Sequence[Decimal], cap: int | None = None) -> list[str]:
    """Same number of decimals for a column, so right-aligned points line up."""
    places = max((decimals(n) for n in numbers), default=0)
    if cap is not None:
        places = min(places, cap)
    return [format(n, f".{places}f") for n in numbers]


def fixed(number: Decimal, places: int, rounding: str = ROUND_HALF_EVEN) -> str:
    """The number rounded (half to even, or `rounding`) to `places` decimals, plain notation."""
    with localcontext(EXACT):
        return plain(number.quantize(Decimal(1).scaleb(-places), rounding=rounding))


def short(number: Decimal, places: int = 2, rounding: str = ROUND_HALF_EVEN) -> str:
    """Large numbers as three significant digits with k/M/B (narrow layouts);
    smaller ones with at most `places` decimals."""
    near = Decimal(1) if rounding == ROUND_DOWN else Decimal("0.9995")  # what rounds up to the next unit (none, rounding down)
    with localcontext(EXACT):
        for factor, suffix in ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "k")):
            if abs(number) >= factor * near:
                scaled = number / factor
                digits = 2 if abs(scaled) < 10 * near else 1 if abs(scaled) < 100 * near else 0
                return fixed(scaled, digits, rounding) + suffix
    return fixed(number, places, rounding)


def brief(number: Decimal, places: int, *, at_least: bool = False) -> str:
    """About three significant digits (k/M/B above a thousand), never more than `places` decimals;
    `at_least`: a lower bound, rounded down (never more than is known to be there)."""
    rounding = ROUND_DOWN if at_least else ROUND_HALF_EVEN
    if abs(number) >= 1000 or not number:
        return short(number, 0, rounding)
    return fixed(number, max(0, min(places, 2 - number.adjusted())), rounding)


def units(symbol: str) -> tuple[str, str] | None:
    """(base, quote) from a symbol like BTC-USD, btc_mxn or BMX/ETH; None when unclear."""
    match = _SYMBOL_PARTS.fullmatch(symbol)
    return (match.group(1).upper(), match.group(2).upper()) if match else None


def price_places(book: Book) -> int:
    return max((decimals(lv.price) for lv in book.bids + book.asks), default=0)


def size_words(book: Book, fill: Fill) -> str:
    """An --impact size as the user meant it: `2 BTC` (the pair's base), `50000 USD` (a quote size)."""
    base = (units(book.symbol) or ("",))[0]
    return f"{plain(fill.size)} {fill.currency or base}".rstrip()


def average_places(book: Book) -> int:
    """Decimals for an average price (impact, the cursor's): two past the venue's prices, whatever
    --group bucketed the levels by (a bucket's bound has the tick's decimals, not the venue's: a
    grouped book's real prices are its best ones)."""
    best = [price for price in (book.best_bid, book.best_ask) if price is not None]
    if book.figures is None or book.figures.group is None or not best:
        return price_places(book) + 2
    return max(map(decimals, best)) + 2


def quote_places(book: Book) -> int:
    """Decimals for quote amounts: the currency's convention, else the price's."""
    pair = units(book.symbol)
    if pair and pair[1] in QUOTE_PLACES:
        return QUOTE_PLACES[pair[1]]
    return min(price_places(book), MAX_NOTIONAL_DECIMALS)


def bps_from(price: Decimal, mid: Decimal) -> Decimal:
    with localcontext(EXACT):
        return bps_of(price - mid, mid)
