"""Shape once: the one step between the book obook holds and what is shown.

A feed passes every book a venue emits through :func:`shape` (on the feed's
own thread) before delivering it. The figures (best prices, spread, mid,
spread in bps, crossed/locked, impact, liquidity bands) are computed from the
real whole book: the engine's whole kept book for full feeds, everything
received for top feeds, every source's book for a consolidated one. Only then
are levels bucketed (``group``) and trimmed (``depth``) for display. The
result is one immutable :class:`~orderbook_cli.book.Book` whose ``figures``
are set: JSON, ladder, chart, heatmap, boards and SVG all read it, so they
cannot disagree.

Cost per book is O(depth) for the display plus what the figures need: the
impact walk stops once the size is filled, the liquidity walk past the
widest band; neither reads the rest of a deep book.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from typing import TYPE_CHECKING, NamedTuple, Protocol

from orderbook_cli.book import EXACT, Book, Figures, Level, RawLevel, bps_of

if TYPE_CHECKING:
    from orderbook_cli.impact import Fill, ImpactSize

Walk = Callable[[], Iterable["Level | RawLevel"]]
_new = tuple.__new__  # every field given: a NamedTuple without its Python-level __new__ (once per book)


class ShapeSpec(NamedTuple):
    """What is shown: read afresh for every book, so keys (+/-, g) take effect on the next one."""

    depth: int | None = None  # levels (or buckets) per side shown; None: all
    group: Decimal | None = None  # bucket prices into multiples of this tick
    impact: ImpactSize | None = None  # price a market order of this size
    liquidity: bool = False  # the ±bps bands around the mid
    condition_bands: tuple[int, ...] = ()  # bands (bps) --until/--alert conditions read (conditions.bands_needed)

    @property
    def reads_depth(self) -> int | None:
        """How many best levels a side :func:`shape` reads of a normalized book: the shown
        depth (at least the best level, for the figures), or None (every level) when
        grouping, impact, liquidity or condition bands read on."""
        if self.depth is None or self.group is not None or self.impact is not None or self.liquidity or self.condition_bands:
            return None
        return max(self.depth, 1)


class KeptSide(Protocol):
    """One side of a kept book (sync.Side)."""

    def walk(self) -> Iterator[RawLevel]:
        """Every level, best first, lazily."""

    def top(self, depth: int | None) -> tuple[Level, ...]:
        """The best `depth` levels with running totals (the same tuple while they have not changed)."""

    def __len__(self) -> int:
        """How many levels the side holds."""


class WholeBook(NamedTuple):
    """A full feed's whole kept book, walked lazily best-first: valid only while the
    engine does not change, i.e. during the one :func:`shape` call it is passed to."""

    venue: str
    symbol: str
    bid_side: KeptSide
    ask_side: KeptSide
    timestamp: datetime | None
    received_at: datetime
    sequence: int | None = None
    verified: int | None = None  # the venue's integrity checks passed so far (Book.verified)


def bucket_price(price: Decimal, tick: Decimal, rounding: str) -> Decimal:
    """The multiple of `tick` a price falls in (bids round down, asks round up)."""
    steps = (price / tick).to_integral_value(rounding=rounding)
    exponent = tick.as_tuple().exponent  # an int: ticks are finite
    return (steps * tick).quantize(tick) if isinstance(exponent, int) and exponent < 0 else steps * tick


def _first(levels: Iterable[Level | RawLevel]) -> Level | RawLevel | None:
    for level in levels:
        return level
    return None


def _grouped(levels: Iterable[Level | RawLevel], *, descending: bool, depth: int | None, group: Decimal) -> tuple[Level, ...]:
    """The best `depth` buckets of `group`, each summing every level in it, however deep, its
    notional too (each real level's price × amount, not the bucket's edge price × the sum):
    levels come best-first, so a bucket's levels are neighbours (no sort, no hashing)."""
    rounding = ROUND_FLOOR if descending else ROUND_CEILING  # bids round down, asks round up
    out: list[Level] = []
    total = notional = Decimal(0)
    current = None
    for level in levels:
        amount = level.amount
        if not amount:
            continue
        bucket = bucket_price(level.price, group, rounding)
        venues: Mapping[str, Decimal] | None = getattr(level, "venues", None)
        if bucket == current:
            last = out[-1]
            total += amount
            count = None if last.count is None or level.count is None else last.count + level.count
            if venues is not None and last.venues is not None:
                summed = dict(last.venues)
                for key, part in venues.items():
                    summed[key] = summed.get(key, Decimal(0)) + part
                venues = summed
            notional += level.price * amount
            out[-1] = Level(bucket, last.amount + amount, total, count, venues, notional)
            continue
        if depth is not None and len(out) == depth:
            break
        total += amount
        current = bucket
        notional = level.price * amount
        out.append(Level(bucket, amount, total, level.count, dict(venues) if venues is not None else None, notional))
    return tuple(out)


def _impact(bids: Iterable[Level | RawLevel], asks: Iterable[Level | RawLevel], size: ImpactSize, mid: Decimal | None) -> tuple[Fill, Fill]:
    """The sweep of --impact (its module is loaded only by the books that ask for it)."""
    from orderbook_cli.impact import market_impact

    return market_impact(bids, asks, size, mid)


# The latest best prices and what follows from them: a change that leaves both best prices
# (the very objects) where they were leaves spread, mid and spread_bps as they were too.
# (Replaced whole, never changed in place: several feeds may shape at once.)
_last_spread: tuple[Decimal | None, Decimal | None, Decimal | None, Decimal | None, Decimal | None] = (None, None, None, None, None)


def _spread(best_bid: Decimal | None, best_ask: Decimal | None) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """(spread, mid, spread_bps) of two best prices, or Nones when a side is empty."""
    global _last_spread
    if best_bid is None or best_ask is None:
        return None, None, None
    last = _last_spread
    if last[0] is best_bid and last[1] is best_ask:
        return last[2], last[3], last[4]
    with localcontext(EXACT):
        spread = best_ask - best_bid
        mid = (best_ask + best_bid) / 2
        spread_bps = bps_of(spread, mid) if mid else None
    _last_spread = (best_bid, best_ask, spread, mid, spread_bps)
    return spread, mid, spread_bps


def shape(held: Book | WholeBook, spec: ShapeSpec) -> Book:
    """The book to show, with its figures computed from the whole `held` book."""
    bids: Walk
    asks: Walk
    if isinstance(held, WholeBook):
        bids, asks = held.bid_side.walk, held.ask_side.walk
        counts = (len(held.bid_side), len(held.ask_side))
    else:
        bids, asks = (lambda: held.bids), (lambda: held.asks)
        counts = (len(held.bids), len(held.asks))
    shown: tuple[tuple[Level, ...], tuple[Level, ...]] | None = None
    if isinstance(held, WholeBook) and spec.group is None and spec.depth != 0:  # the shown top starts with the best level
        shown = held.bid_side.top(spec.depth), held.ask_side.top(spec.depth)  # unchanged sides are reused
    top_bid: Level | RawLevel | None
    top_ask: Level | RawLevel | None
    if shown is not None:
        top_bid, top_ask = (shown[0][0] if shown[0] else None), (shown[1][0] if shown[1] else None)
    else:
        top_bid, top_ask = _first(bids()), _first(asks())
    best_bid = top_bid.price if top_bid is not None else None
    best_ask = top_ask.price if top_ask is not None else None
    spread, mid, spread_bps = _spread(best_bid, best_ask)
    venues = (getattr(top_bid, "venues", None), getattr(top_ask, "venues", None))
    impact = bands = None
    conditions: tuple = ()
    if spec.impact is not None or spec.liquidity or spec.condition_bands:
        from orderbook_cli.liquidity import liquidity  # only these figures need it: a plain --json book never loads it

        with localcontext(EXACT):
            impact = _impact(bids(), asks(), spec.impact, mid) if spec.impact is not None else None
            bands = liquidity(bids(), asks(), mid) if spec.liquidity else None
            conditions = liquidity(bids(), asks(), mid, spec.condition_bands) if spec.condition_bands else ()
    if spec.group is not None:
        with localcontext(EXACT):
            shown_bids = _grouped(bids(), descending=True, depth=spec.depth, group=spec.group)
            shown_asks = _grouped(asks(), descending=False, depth=spec.depth, group=spec.group)
    elif shown is not None:
        shown_bids, shown_asks = shown
    elif isinstance(held, WholeBook):
        shown_bids, shown_asks = held.bid_side.top(spec.depth), held.ask_side.top(spec.depth)
    else:  # a normalized book's levels already carry their running totals
        shown_bids, shown_asks = held.bids[:spec.depth], held.asks[:spec.depth]
    figures = _new(Figures, (best_bid, best_ask, spread, mid, spread_bps, impact, bands, spec.group, venues, conditions, counts))
    return _new(Book, (held.venue, held.symbol, shown_bids, shown_asks, held.timestamp, held.received_at, held.sequence, figures, held.verified))
