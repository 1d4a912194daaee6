"""The normalized order book: what every venue parser produces.

Venue parsers hand over raw levels (price, amount, order count) in whatever
order and shape the wire had; :func:`make_book` turns them into a :class:`Book`
with exact decimals, one level per distinct price, bids best (highest) first,
asks best (lowest) first, running totals.
No float ever touches a price or an amount.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Context, Decimal, localcontext
from functools import wraps
from itertools import chain
from operator import is_, itemgetter
from typing import Any, NamedTuple

from orderbook_cli.errors import MalformedData
from orderbook_cli.memo import remember


class RawLevel(NamedTuple):
    """One level as a venue sent it, already converted to exact types."""

    price: Decimal
    amount: Decimal
    count: int | None = None  # type: ignore[assignment]  # the venue's order count; shadows tuple.count, never called


class Level(NamedTuple):
    price: Decimal
    amount: Decimal
    total: Decimal  # running sum of amount from the best level down to this one
    count: int | None  # type: ignore[assignment]  # shadows tuple.count, never called
    venues: Mapping[str, Decimal] | None = None  # consolidated books only: each source's amount at this price
    # a --group bucket's quote amount: the sum of price × amount over the real levels in it (its edge price × its
    # amount would price every order at the bucket's bound); None: a real level, whose is price × amount
    notional: Decimal | None = None


class Figures(NamedTuple):
    """What shape.shape computed from the whole book obook holds, before grouping and
    whatever depth is shown: every view and the JSON read these, never the shown levels."""

    best_bid: Decimal | None
    best_ask: Decimal | None
    spread: Decimal | None
    mid: Decimal | None
    spread_bps: Decimal | None
    impact: tuple[Any, Any] | None = None  # impact.Fill (buy, sell), when asked for
    liquidity: tuple[Any, ...] | None = None  # liquidity.Band per band, when asked for
    group: Decimal | None = None  # the tick the shown levels are bucketed by
    best_venues: tuple[Mapping[str, Decimal] | None, Mapping[str, Decimal] | None] = (None, None)  # consolidated: who quotes the best bid, ask
    condition_bands: tuple[Any, ...] = ()  # liquidity.Band for each band --until/--alert conditions read (conditions.bands_needed)
    held_levels: tuple[int, int] = (0, 0)  # levels a side of the whole book shaped (what + can show, whatever the depth shown)

    @property
    def crossed(self) -> bool:
        return self.spread is not None and self.spread < 0

    @property
    def locked(self) -> bool:
        return self.spread is not None and self.spread == 0


class Book(NamedTuple):
    venue: str
    symbol: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    timestamp: datetime | None  # the venue's time for the book, if it sends one
    received_at: datetime
    sequence: int | None = None  # the venue's sequence/version this book reflects, if it has one
    figures: Figures | None = None  # set once shaped (shape.py): the real book's figures
    verified: int | None = None  # times the venue's own integrity check (a checksum) confirmed the kept book, this feed; None: it has none

    @property
    def best_bid(self) -> Decimal | None:
        if self.figures is not None:
            return self.figures.best_bid
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        if self.figures is not None:
            return self.figures.best_ask
        return self.asks[0].price if self.asks else None

    @property
    def spread(self) -> Decimal | None:
        if self.figures is not None:
            return self.figures.spread
        if not (self.bids and self.asks):
            return None
        with localcontext(EXACT):
            return self.asks[0].price - self.bids[0].price

    @property
    def mid(self) -> Decimal | None:
        if self.figures is not None:
            return self.figures.mid
        if not (self.bids and self.asks):
            return None
        with localcontext(EXACT):
            return (self.asks[0].price + self.bids[0].price) / 2


# Inputs are bounded to 61 significant digits (see to_decimal); 130 digits of
# working precision keep every sum, half, bucket and price x amount product
# (impact notionals) exact.
EXACT = Context(prec=130)
BPS_PLACES = Decimal("0.01")


def bps_of(difference: Decimal, base: Decimal) -> Decimal:
    """`difference` in basis points of `base` (a mid, an ask), to 0.01 bps: derived figures are computed exactly."""
    with localcontext(EXACT):
        return (difference / base * 10000).quantize(BPS_PLACES)

# Plain decimal numbers only: no NaN/Infinity, no underscores, no signs but '+'. Compiled
# on first use (re's own cache): to_decimal's fast path takes what venues almost always send.
_NUMBER = r"\s*\+?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*"
# Bounds that keep plain-notation output short whatever a hostile venue sends.
_MAX_ADJUSTED_EXPONENT = 30
_MIN_EXPONENT = -30
_MAX_TEXT = 64
# A string of at most this many ASCII digits and one dot is within both bounds
# by construction (31 integer digits at most, 30 fraction digits at most).
_PLAIN_MAX_LEN = 31
_MAX_INTEGER = 10 ** (_MAX_ADJUSTED_EXPONENT + 1)
# Order counts (and other venue integers) above this are not believable.
MAX_COUNT = 10**18


# How many distinct number strings to_decimal remembers (memo.remember: then the oldest are forgotten).
REMEMBERED_NUMBERS = 4096


def _remembering(convert: Callable[[object, str], Decimal]) -> Callable[[object, str], Decimal]:
    """Venues send the same price and amount strings frame after frame: check and
    convert each once. Failures are never remembered; once full, the oldest eighth
    is forgotten (memo.remember), so memory stays level. (Forgetting the oldest one
    by one, an OrderedDict's way, cost a feed of ever-new quantities 4% of its CPU: Kraken's.)"""
    known: dict[str, Decimal] = {}

    @wraps(convert)
    def remembered(value: object, field: str) -> Decimal:  # (its `known` is read directly by hot loops: remembered_number)
        if value.__class__ is not str:
            return convert(value, field)
        number = known.get(value)  # type: ignore[call-overload]
        if number is None:
            number = remember(known, value, convert(value, field), REMEMBERED_NUMBERS)  # type: ignore[arg-type]
        return number

    remembered.known = known  # type: ignore[attr-defined]
    return remembered


@_remembering
def to_decimal(value: object, field: str) -> Decimal:
    """A non-negative exact decimal from a JSON string or integer.

    JSON numbers with a fraction arrive as Decimal (parsers load with
    ``parse_float=Decimal``); floats are refused so none can slip in.
    """
    # Fast path: what venues send almost always ("4550.25"). Nothing to bound.
    if value.__class__ is str and len(value) <= _PLAIN_MAX_LEN and value.isascii() and value.replace(".", "", 1).isdigit():
        return Decimal(value)
    return _checked_decimal(value, field)


def _checked_decimal(value: object, field: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise MalformedData(f"{field} is {value!r}, not a number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        if not -_MAX_INTEGER < value < _MAX_INTEGER:  # checked before any conversion
            raise MalformedData(f"{field} {_short(value)} is out of range")
        number = Decimal(value)
    elif isinstance(value, str):
        if len(value) > _MAX_TEXT or not re.fullmatch(_NUMBER, value, re.ASCII):
            raise MalformedData(f"{field} {value[:40]!r} is not a decimal number")
        number = Decimal(value)
    else:
        raise MalformedData(f"{field} has type {type(value).__name__}, not a number")
    if not number.is_finite() or number < 0:
        raise MalformedData(f"{field} {_short(number)} is not a finite non-negative number")
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite (checked above): never 'n', 'N' or 'F'
    if number.adjusted() > _MAX_ADJUSTED_EXPONENT or exponent < _MIN_EXPONENT:
        raise MalformedData(f"{field} {_short(number)} is out of range")
    return number


# What to_decimal has already checked and converted, by its text: a hot loop reads it
# directly (`remembered_number(text) or to_decimal(text, field)`) and saves a call per
# number. A miss (or a zero, which is falsy) goes through to_decimal as usual; it raises
# TypeError for an unhashable value, so such a loop falls back to to_decimal for each.
remembered_number = to_decimal.known.get  # type: ignore[attr-defined]


def to_sequence(value: object, field: str) -> int:
    """A sequence or version number: a JSON integer, or an ASCII digit string (Bitso's REST)."""
    if isinstance(value, str) and len(value) <= 18 and value.isascii() and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
        return value
    raise MalformedData(f"{field} {str(value)[:30]!r} is not a non-negative integer")


def to_count(value: object, field: str = "count") -> int | None:
    """An order count from an integer or an ASCII digit string; None when absent.

    Sizes are checked before any conversion, so no venue value can cost
    unbounded time (int() of a 1e999999 Decimal) or overflow later sums.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise MalformedData(f"{field} is {value!r}, not an integer")
    if isinstance(value, int):
        if 0 <= value < MAX_COUNT:
            return value
    elif isinstance(value, str):
        text = value.strip()
        if 0 < len(text) <= 18 and text.isascii() and text.isdigit():
            return int(text)
    elif isinstance(value, Decimal):
        if value.is_finite() and value >= 0 and value.adjusted() < 18 and value == value.to_integral_value():
            return int(value)
    raise MalformedData(f"{field} {_short(value)!r} is not a non-negative integer below {MAX_COUNT}")


def _short(value: object) -> str:
    """A venue value for a message: its start only, and never str() of a huge int
    (Python refuses to print integers of over 4,300 digits)."""
    if isinstance(value, int) and not -(10**40) < value < 10**40:
        return "(a very large integer)"
    return str(value)[:40]


# Levels are built directly as tuples (a third cheaper than Level(...)), with
# whatever fields come after the first four at their declared defaults.
_new_level = tuple.__new__
_LEVEL_DEFAULTS = tuple(Level._field_defaults[name] for name in Level._fields[4:])
_PRICE = itemgetter(0)


# The latest sides made, newest first, with their input: a side whose levels are the very
# same objects as one of these (to_decimal hands out one Decimal per text it remembers)
# is that side again, digit for digit, and the same tuple lets the JSON writer reuse its
# text. A top feed's unchanged side costs a comparison. (Replaced, never changed in place.)
_recent_made: list[tuple[bool, list, tuple[Level, ...]]] = []
_RECENT_MADE = 12  # both sides of six sources


def _side(levels: Iterable[RawLevel], *, descending: bool) -> tuple[Level, ...]:
    """Sorted best-first (stable: of equal prices the first sent is kept), then equal
    neighbours merged as the walk totals them: no hashing of Decimals."""
    global _recent_made
    rows = [level for level in levels if level[1]]  # an empty level is no level
    flat = list(chain.from_iterable(rows))
    for known_descending, known, side in _recent_made:
        if known_descending is descending and len(known) == len(flat) and all(map(is_, flat, known)):
            return side
    side = _sorted_side(rows, descending)
    _recent_made = [(descending, flat, side), *_recent_made[:_RECENT_MADE - 1]]
    return side


def _sorted_side(rows: list[RawLevel], descending: bool) -> tuple[Level, ...]:
    rows.sort(key=_PRICE, reverse=descending)
    out: list[Level] = []
    total, last_price, tail = Decimal(0), None, _LEVEL_DEFAULTS
    for price, amount, count in rows:
        total += amount
        if price == last_price:  # the same price again: merge into the last level
            last = out[-1]
            count = None if last[3] is None or count is None else last[3] + count
            out[-1] = _new_level(Level, (last[0], last[1] + amount, total, count) + tail)
            continue
        last_price = price
        out.append(_new_level(Level, (price, amount, total, count) + tail))
    return tuple(out)


def make_book(
    venue: str,
    symbol: str,
    bids: Iterable[RawLevel],
    asks: Iterable[RawLevel],
    *,
    timestamp: datetime | None,
    received_at: datetime,
    sequence: int | None = None,
) -> Book:
    """Normalize raw levels: merge equal prices, sort best-first, total. Every level is
    kept: depth and grouping are the shape step's (shape.py), after the figures."""
    with localcontext(EXACT):
        return Book(
            venue=venue,
            symbol=symbol,
            bids=_side(bids, descending=True),
            asks=_side(asks, descending=False),
            timestamp=timestamp,
            received_at=received_at,
            sequence=sequence,
        )


def plain(number: Decimal) -> str:
    """Plain decimal notation, never an exponent: 1E-7 -> 0.0000001."""
    text = str(number)  # plain already for most numbers, and cheaper than format()
    if "E" in text or text[0] == "-":
        return format(number.copy_abs() if number.is_zero() else number, "f")
    return text
