"""The consolidated book: several venues' books of one pair merged into one.

Pure and exact: levels at the same price are summed, every level keeps each
source's amount (its `venues` map), counts add up only when every
contributor knows its count. Also what only a merged view can show: a bid
on one venue above an ask on another. (A market order routed across venues
is impact.py's walk over the merged levels' `venues`.)
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, localcontext
from operator import is_, itemgetter
from typing import NamedTuple

from orderbook_cli.book import EXACT, Book, Level, bps_of
from orderbook_cli.errors import UsageError, sanitize
from orderbook_cli.symbols import Pair

VENUE = "consolidated"
MAX_ALIASES = 20
_CURRENCY = re.compile(r"[A-Za-z0-9]{1,20}")


class SourceBook(NamedTuple):
    key: str  # the source's name in `venues` maps: its venue id, or venue:symbol when the venue repeats
    book: Book


def source_keys(sources: Sequence[tuple[str, str]]) -> list[str]:
    """Names for (venue id, venue symbol) sources: the venue id, or `venue:symbol`
    for a venue that appears more than once (bitso:btc_usd, bitso:btc_usdt)."""
    repeats = Counter(venue for venue, _ in sources)
    return [venue if repeats[venue] == 1 else f"{venue}:{symbol}" for venue, symbol in sources]


def parse_aliases(texts: Iterable[str]) -> dict[str, str]:
    """--quote-alias USDT=USD (repeatable): quote currency -> the one it counts as."""
    aliases: dict[str, str] = {}
    for text in texts:
        alias, _, canonical = text.partition("=")
        if not (_CURRENCY.fullmatch(alias.strip()) and _CURRENCY.fullmatch(canonical.strip())):
            raise UsageError(f"--quote-alias {sanitize(text, 45)!r} is not CURRENCY=CURRENCY", hint="e.g. --quote-alias USDT=USD")
        aliases[alias.strip().upper()] = canonical.strip().upper()
        if len(aliases) > MAX_ALIASES:
            raise UsageError(f"more than {MAX_ALIASES} --quote-alias options")
    return aliases


def common_pair(pairs: Sequence[tuple[str, Pair]], aliases: Mapping[str, str]) -> Pair:
    """The one pair all (label, pair) sources trade; a usage error naming the odd one out."""
    def quote(pair: Pair) -> str:
        return aliases.get(pair.quote, pair.quote)

    (first_label, first), *rest = pairs
    for label, pair in rest:
        if pair.base != first.base:
            raise UsageError(f"cannot merge {first.base} ({first_label}) with {pair.base} ({label}): different base currencies",
                             hint="merge sources of one pair, e.g. bitso:btc_usd revx:BTC-USD")
        if quote(pair) != quote(first):
            hint = "merge sources of one quote currency"
            if same_money(pair.quote, first.quote):
                hint += f", or accept both with --quote-alias {pair.quote}={first.quote}"
            raise UsageError(f"cannot merge books quoted in {first.quote} ({first_label}) and {pair.quote} ({label})", hint=hint)
    return Pair(first.base, quote(first))


# Currencies that are the same money: a dollar and the stablecoins pegged to it, and so on.
# Only these are suggested as --quote-alias; MXN is never "USD" (a 17x price difference).
SAME_MONEY = (
    frozenset({"USD", "USDT", "USDC", "DAI", "TUSD", "USDP", "PYUSD", "FDUSD", "BUSD", "USDE", "USDS"}),
    frozenset({"EUR", "EURC", "EURT", "EUROC", "EURI"}),
    frozenset({"GBP", "GBPT"}),
    frozenset({"BRL", "BRLA"}),
    frozenset({"MXN", "MXNT"}),
)


def same_money(a: str, b: str) -> bool:
    return any(a in group and b in group for group in SAME_MONEY)


_PRICE = itemgetter(0)
_new_level = _new_book = tuple.__new__  # a Level, a Book without NamedTuple's Python-level __new__ (every field given)

# The latest consolidated sides, newest first, one list per side (by `descending`): the very
# same source sides (a kept or unchanged side is handed over as the same tuple) merged to the
# same depth give the same consolidated side, and its JSON text is reused. A side found is
# moved to the front. (Lists are replaced, never changed in place.)
_Recent = list[tuple[tuple[str, ...], "int | None", list[tuple[Level, ...]], tuple[Level, ...]]]
_recent: dict[bool, _Recent] = {True: [], False: []}
_RECENT_MERGED = 4


def _merged_side(keys: tuple[str, ...], sides: list[tuple[Level, ...]], *, descending: bool, depth: int | None) -> tuple[Level, ...]:
    recent = _recent[descending]
    for index, entry in enumerate(recent):
        known_keys, known_depth, known, merged = entry
        if known_keys == keys and known_depth == depth and all(map(is_, sides, known)):
            if index:
                _recent[descending] = [entry, *recent[:index], *recent[index + 1:]]
            return merged
    merged = _merge_side(keys, sides, descending=descending, depth=depth)
    _recent[descending] = [(keys, depth, sides, merged), *recent[:_RECENT_MERGED - 1]]
    return merged


def _merge_side(keys: Sequence[str], sides: Sequence[tuple[Level, ...]], *, descending: bool, depth: int | None = None) -> tuple[Level, ...]:
    """Every source's levels sorted together (stable: equal prices keep the sources' order,
    so each `venues` map lists them as given), then equal neighbours summed as the walk
    totals them, up to `depth` levels (None: all): no hashing of Decimals, and each
    source's side is already sorted, so the sort only merges runs. Sums are exact
    (EXACT), so adding as the walk goes gives what summing each level's `venues` gives.
    Only a source's best `depth` levels can be among the best `depth` merged ones (its
    prices are distinct), so no more are read: a full book's thousands are not sorted."""
    rows = [(level[0], key, level[1], level[3]) for key, levels in zip(keys, sides) for level in (levels if depth is None else levels[:depth])]
    rows.sort(key=_PRICE, reverse=descending)
    out: list[Level] = []
    total = zero = Decimal(0)
    last: Decimal | None = None
    amount, count, per_source = zero, None, {}  # type: tuple[Decimal, int | None, dict[str, Decimal]]
    for price, key, part, part_count in rows:
        if price == last:
            per_source[key] = zero + part  # a source's prices are distinct: its only part here (zero +: as the sum from 0 spells it)
            amount += part
            count = None if count is None or part_count is None else count + part_count
            continue
        if last is not None:
            total += amount
            out.append(_new_level(Level, (last, amount, total, count, per_source, None)))
            if len(out) == depth:
                return tuple(out)
        last, amount, count, per_source = price, zero + part, part_count, {key: part}  # zero +: as sum() from 0 spells it
    if last is not None:
        total += amount
        out.append(_new_level(Level, (last, amount, total, count, per_source, None)))
    return tuple(out)


def merge(sources: Sequence[SourceBook], symbol: str, depth: int | None = None) -> Book | None:
    """One book from the sources' books (None without any): equal prices summed,
    each level's `venues` saying who contributes what. Its timestamp and
    received_at are the newest among the sources. Each side holds its best `depth`
    levels (None: every level): the shape step computes its figures from what it is
    given, then trims and groups (ShapeSpec.reads_depth says how deep it reads)."""
    if not sources:
        return None
    keys = tuple([s.key for s in sources])
    with localcontext(EXACT):
        bids = _merged_side(keys, [s.book.bids for s in sources], descending=True, depth=depth)
        asks = _merged_side(keys, [s.book.asks for s in sources], descending=False, depth=depth)
    stamps: list[datetime] = [s.book.timestamp for s in sources if s.book.timestamp is not None]
    return _new_book(Book, (VENUE, symbol, bids, asks, max(stamps) if stamps else None, max([s.book.received_at for s in sources]),
                            None, None, None))  # sequence, figures (shape's), verified


class Crossing(NamedTuple):
    """A bid on one venue above an ask on another."""

    bid_key: str
    bid: Decimal
    ask_key: str
    ask: Decimal

    @property
    def gap(self) -> Decimal:
        return self.bid - self.ask

    @property
    def gap_bps(self) -> Decimal:
        """The gap relative to the ask (what buying there and selling here would earn)."""
        return bps_of(self.gap, self.ask)


def crossing(sources: Sequence[SourceBook]) -> Crossing | None:
    """The widest cross between two different sources, or None."""
    bids = [s.book.best_bid for s in sources]
    asks = [s.book.best_ask for s in sources]
    best_bids, best_asks = [bid for bid in bids if bid is not None], [ask for ask in asks if ask]
    if not best_bids or not best_asks or max(best_bids) <= min(best_asks):
        return None  # no bid above any ask (the usual case), without comparing every pair
    widest = None
    gap = Decimal(0)
    for bidder, bid in enumerate(bids):
        if bid is None:
            continue
        for asker, ask in enumerate(asks):
            if bidder == asker or ask is None or not ask or bid <= ask:
                continue
            if widest is None or bid - ask > gap:
                widest, gap = Crossing(sources[bidder].key, bid, sources[asker].key, ask), bid - ask
    return widest
