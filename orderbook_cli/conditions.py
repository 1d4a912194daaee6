"""Conditions for `--until` and `--alert`: `FIELD OP NUMBER[UNIT]`, or a word.

    spread<10            spread in quote units
    spread>20bps         spread in basis points of the mid
    mid>=65000           best_bid<100.5   best_ask<=101
    bid_depth@25bps<2    base units resting within 25 bps of the mid (ask_depth too)
    imbalance@50bps>30   percent: (bids − asks) / (bids + asks) within 50 bps, -100 to 100
    crossed  stale  resync

A condition reads the figures the shaping step computed from the whole book
obook holds (never the grouped or trimmed display): best prices, spread, mid,
spread in bps and the liquidity bands, the very numbers the ladder and the
JSON show. A figure that does not exist (a side of the book is empty) makes
the condition false, never true. Everything typed is bounded before it is
converted: the text's length, the band's width, the number (as venue numbers
are, by :func:`~orderbook_cli.book.to_decimal`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING, NamedTuple, Protocol

from orderbook_cli.book import EXACT, plain, to_decimal
from orderbook_cli.errors import MalformedData, UsageError, sanitize

if TYPE_CHECKING:
    from orderbook_cli.liquidity import Band

MAX_TEXT = 100  # characters in one condition
MAX_CONDITIONS = 16  # --alert is repeatable; a screenful of alerts is already too many
MAX_BAND_BPS = 10000  # ±100 % of the mid: every resting order
OPERATORS = ("<=", ">=", "<", ">", "=")  # two-character ones first: "<=" is not "<" then "="
WORDS = ("crossed", "stale", "resync")
PRICE_FIELDS = ("spread", "mid", "best_bid", "best_ask")
BAND_FIELDS = ("bid_depth", "ask_depth", "imbalance")
EXPECTED = (
    "expected FIELD OP NUMBER[UNIT] (OP one of < <= > >= =) with FIELD one of "
    "spread, mid, best_bid, best_ask, bid_depth@Nbps, ask_depth@Nbps, imbalance@Nbps "
    "(spread>20bps in bps of mid; imbalance in percent), or one of the words crossed, stale, resync"
)
_FIELD = re.compile(r"([a-z_]+)(?:@(\d{1,6})bps)?", re.ASCII)
_PERCENT_PLACES = Decimal("0.01")


class ConditionError(UsageError):
    """A malformed condition: exit 2, naming it and what is expected."""


class Figures(Protocol):
    """What a condition reads: the shaping step's figures for one book, all from the whole book."""

    @property
    def best_bid(self) -> Decimal | None: ...
    @property
    def best_ask(self) -> Decimal | None: ...
    @property
    def spread(self) -> Decimal | None: ...
    @property
    def mid(self) -> Decimal | None: ...
    @property
    def spread_bps(self) -> Decimal | None: ...
    @property
    def crossed(self) -> bool: ...
    @property
    def condition_bands(self) -> Sequence[Band]: ...  # the liquidity bands bands_needed() asked the shaping step for


class Status(NamedTuple):
    """A source's state apart from its book: what the words `stale` and `resync` read."""

    stale: bool = False  # nothing heard for --stale-after seconds, or its sequence broke and it is not whole yet
    resyncing: bool = False  # fetching a new seed after a gap, a bad checksum or a reconnect
    detail: str = ""  # why, for the alert's text ("nothing heard for 6s", "sequence gap")


class Reading(NamedTuple):
    """One condition evaluated once: whether it holds, the value it read, and that value as text."""

    condition: Condition
    holds: bool
    value: Decimal | bool | None  # None: the figure does not exist for this book
    text: str  # "spread 23.45 bps", "stale (nothing heard for 6s)"


@dataclass(frozen=True)
class Condition:
    field: str  # a PRICE_FIELDS, BAND_FIELDS or WORDS name
    op: str | None = None  # None for words
    threshold: Decimal | None = None  # quote units, base units, bps (spread) or percent (imbalance)
    bps: int | None = None  # the band of a BAND_FIELDS condition
    in_bps: bool = False  # spread compared in bps of the mid

    @property
    def text(self) -> str:
        """The condition written canonically: spread>20bps, imbalance@25bps<-30, stale."""
        if self.op is None or self.threshold is None:
            return self.field
        band = f"@{self.bps}bps" if self.bps is not None else ""
        return f"{self.field}{band}{self.op}{plain(self.threshold)}{'bps' if self.in_bps else ''}"

    def evaluate(self, figures: Figures | None, status: Status) -> Reading:
        """Read the condition against one book's figures (None: no book yet) and the source's status."""
        if self.field == "stale":
            return Reading(self, status.stale, status.stale, _word("stale", status.stale, status.detail))
        if self.field == "resync":
            return Reading(self, status.resyncing, status.resyncing, _word("resync", status.resyncing, status.detail))
        if self.field == "crossed":
            crossed = figures is not None and figures.crossed
            why = f"best bid {_text(figures.best_bid)} above best ask {_text(figures.best_ask)}" if figures is not None and crossed else ""
            return Reading(self, crossed, crossed, _word("crossed", crossed, why))
        value, shown = self._figure(figures)
        if value is None:
            return Reading(self, False, None, f"{self._name()} unknown (a side of the book is empty)")
        return Reading(self, _compare(value, self.op, self.threshold), value, shown)

    def _name(self) -> str:
        return f"{self.field}@{self.bps}bps" if self.bps is not None else self.field

    def _figure(self, figures: Figures | None) -> tuple[Decimal | None, str]:
        if figures is None:
            return None, ""
        if self.field in PRICE_FIELDS:
            if self.in_bps:
                value = figures.spread_bps
                return value, f"spread {plain(value)} bps" if value is not None else ""
            value = getattr(figures, self.field)
            return value, f"{self.field} {plain(value)}" if value is not None else ""
        band = _band(figures, self.bps)
        if band is None:
            return None, ""
        note = "" if band.complete else " (at least: the book ends inside the band)"
        if self.field == "bid_depth":
            return band.bid, f"{self._name()} {plain(band.bid)}{note}"
        if self.field == "ask_depth":
            return band.ask, f"{self._name()} {plain(band.ask)}{note}"
        if band.imbalance is None:  # nothing rests within the band on either side
            return None, ""
        with localcontext(EXACT):
            percent = (band.imbalance * 100).quantize(_PERCENT_PLACES)
        return percent, f"{self._name()} {plain(percent)}%"


def _text(number: Decimal | None) -> str:
    return "none" if number is None else plain(number)


def _word(word: str, holds: bool, detail: str) -> str:
    if not holds:
        return f"not {word}"
    return f"{word} ({detail})" if detail else word


def _compare(value: Decimal, op: str | None, threshold: Decimal | None) -> bool:
    assert op is not None and threshold is not None  # parse() gives every field condition both
    if op == "<":
        return value < threshold
    if op == "<=":
        return value <= threshold
    if op == ">":
        return value > threshold
    if op == ">=":
        return value >= threshold
    return value == threshold


def _band(figures: Figures, bps: int | None) -> Band | None:
    """The liquidity band the condition reads, as the shaping step computed it (None: no mid)."""
    if figures.mid is None:
        return None
    for band in figures.condition_bands:
        if band.bps == bps:
            return band
    # The shaping step is asked for every band the conditions need (bands_needed): missing one is a bug.
    raise LookupError(f"the book's figures have no {bps} bps band; the shaping step was not asked for it")


def bands_needed(conditions: Sequence[Condition]) -> tuple[int, ...]:
    """The liquidity bands (bps) these conditions read, for the shaping step to compute."""
    return tuple(sorted({c.bps for c in conditions if c.bps is not None}))


def parse(text: str, option: str = "condition") -> Condition:
    """One condition from the command line or the config file; ConditionError (exit 2) when malformed."""

    def bad(problem: str) -> ConditionError:
        return ConditionError(f"{option} {sanitize(text, 60)!r}: {problem}", hint=EXPECTED)

    if not isinstance(text, str):
        raise ConditionError(f"{option} must be a string like 'spread>20bps', not {type(text).__name__}", hint=EXPECTED)
    if len(text) > MAX_TEXT:
        raise bad(f"longer than {MAX_TEXT} characters")
    if not text.isascii() or not text.isprintable():
        raise bad("only plain ASCII characters belong in a condition")
    compact = "".join(text.split()).lower()  # spaces are allowed between the parts: 'spread > 20 bps'
    if not compact:
        raise bad("it is empty")
    if compact in WORDS:
        return Condition(compact)
    at = next((i for i, ch in enumerate(compact) if ch in "<>="), None)
    if at is None:
        raise bad("no comparison (< <= > >= =) and not one of the words crossed, stale, resync")
    left, rest = compact[:at], compact[at:]
    op = next(o for o in OPERATORS if rest.startswith(o))
    right = rest[len(op):]
    if right[:1] in ("<", ">", "="):
        raise bad(f"{sanitize(rest[:len(op) + 1])!r} is not an operator; use one of < <= > >= =")
    field, bps = _parse_field(left, bad)
    if not right:
        raise bad(f"no number after {op!r}")
    number, unit = _split_unit(right)
    if unit == "bps" and field != "spread":
        raise bad(f"a bps threshold is for spread only; {field} is compared in {_unit_of(field)}")
    if unit == "%" and field != "imbalance":
        raise bad(f"a % threshold is for imbalance only; {field} is compared in {_unit_of(field)}")
    threshold = _parse_number(number, field, bad)
    return Condition(field, op, threshold, bps, in_bps=unit == "bps")


def _parse_field(left: str, bad) -> tuple[str, int | None]:
    if not left:
        raise bad("no field before the comparison")
    match = _FIELD.fullmatch(left)
    name = match.group(1) if match else left.partition("@")[0]
    if name in WORDS:
        raise bad(f"{name} is a word condition: write just '{name}'")
    if name not in PRICE_FIELDS and name not in BAND_FIELDS:
        raise bad(f"unknown field {sanitize(name, 30)!r}")
    if match is None:
        raise bad(f"{sanitize(left, 30)!r} is not {name} or {name}@Nbps (N a whole number of bps)")
    band = match.group(2)
    if name in PRICE_FIELDS:
        if band is not None:
            raise bad(f"{name} takes no band; only bid_depth, ask_depth and imbalance do")
        return name, None
    if band is None:
        raise bad(f"{name} needs a band around the mid, e.g. {name}@25bps")
    bps = int(band)  # at most six digits by the pattern: bounded before conversion
    if not 1 <= bps <= MAX_BAND_BPS:
        raise bad(f"the band must be from 1 to {MAX_BAND_BPS} bps")
    return name, bps


def _split_unit(right: str) -> tuple[str, str | None]:
    for unit in ("bps", "%"):
        if right.endswith(unit):
            return right[: -len(unit)], unit
    return right, None


def _unit_of(field: str) -> str:
    return {"imbalance": "percent", "bid_depth": "base units", "ask_depth": "base units"}.get(field, "quote units")


def _parse_number(number: str, field: str, bad) -> Decimal:
    negative = number.startswith("-")
    digits = number[1:] if negative else number
    if not digits:
        raise bad("no number after the sign")
    try:
        value = to_decimal(digits, "number")  # the bounds venue numbers have: length, digits, exponent
    except MalformedData:
        raise bad(f"{sanitize(number, 40)!r} is not a plain decimal number from 1e-30 to below 1e31") from None
    if negative and value:
        if field not in ("spread", "imbalance"):
            raise bad(f"{field} is never negative")
        value = -value
    if field == "imbalance" and not -100 <= value <= 100:
        raise bad("imbalance is a percent from -100 to 100")
    return value


def parse_all(texts: Sequence[str], option: str) -> tuple[Condition, ...]:
    """Every --alert (or a config list), bounded in number."""
    if len(texts) > MAX_CONDITIONS:
        raise ConditionError(f"{len(texts)} {option} conditions: at most {MAX_CONDITIONS}")
    return tuple(parse(text, option) for text in texts)


class EdgeTrigger:
    """Rising edges of some conditions on one stream of books: a condition fires when it
    becomes true (and at once if it is true for the first book), then not again until it
    has been false."""

    def __init__(self, conditions: Sequence[Condition]):
        self.conditions = tuple(conditions)
        self._held = [False] * len(self.conditions)

    def check(self, figures: Figures | None, status: Status) -> list[Reading]:
        """The readings that have just become true."""
        risen = []
        for i, condition in enumerate(self.conditions):
            reading = condition.evaluate(figures, status)
            if reading.holds and not self._held[i]:
                risen.append(reading)
            self._held[i] = reading.holds
        return risen
