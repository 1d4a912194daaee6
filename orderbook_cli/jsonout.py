"""The contract's JSON book: the one place books become JSON text."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from orderbook_cli.book import Book, Level, plain
from orderbook_cli.errors import UNSAFE_BEYOND_C0
from orderbook_cli.memo import remember
from orderbook_cli.stdio import writes_unicode
from orderbook_cli.timefmt import iso_utc

if TYPE_CHECKING:
    from orderbook_cli.impact import Fill
    from orderbook_cli.liquidity import Band


def _maybe(number: Any) -> str | None:
    return None if number is None else plain(number)


def _levels(levels: tuple[Level, ...]) -> list[dict[str, Any]]:
    return [
        {"price": plain(lv.price), "amount": plain(lv.amount), "total": plain(lv.total), "count": lv.count}
        for lv in levels
    ]


def book_to_dict(book: Book, extra: dict[str, Any] | None = None, *, levels: Callable[[tuple[Level, ...]], Any] = _levels) -> dict[str, Any]:
    out: dict[str, Any] = {
        "venue": book.venue,
        "symbol": book.symbol,
        "timestamp": iso_utc(book.timestamp) if book.timestamp else None,
        "received_at": iso_utc(book.received_at),
        "bids": levels(book.bids),
        "asks": levels(book.asks),
        "best_bid": _maybe(book.best_bid),
        "best_ask": _maybe(book.best_ask),
        "spread": _maybe(book.spread),
        "mid": _maybe(book.mid),
        "sequence": book.sequence,
    }
    if levels is _levels and (book.bids or book.asks) and (book.bids or book.asks)[0].venues is not None:
        _add_venues(out, book)
    out.update(_figure_objects(book))
    if extra:
        out.update(extra)
    return out


def _figure_objects(book: Book) -> dict[str, Any]:
    """The book's `impact` and `liquidity` objects, those its figures hold."""
    out: dict[str, Any] = {}
    figures = book.figures
    if figures is not None and figures.impact is not None:
        out["impact"] = impact_to_dict(figures.impact)
    if figures is not None and figures.liquidity is not None:
        out["liquidity"] = liquidity_to_dict(figures.mid, figures.liquidity)
    return out


def impact_to_dict(fills: tuple[Fill, Fill]) -> dict[str, Any]:
    """The `impact` object; a consolidated book's fills say which venue fills what."""
    def one(fill: Fill) -> dict[str, Any]:
        out: dict[str, Any] = {
            "filled": plain(fill.filled),
            "notional": plain(fill.notional),
            "average_price": _maybe(fill.average_price),
            "worst_price": _maybe(fill.worst_price),
            "slippage_bps": _maybe(fill.slippage_bps),
            "complete": fill.complete,
        }
        if fill.venues is not None:
            out["venues"] = {
                key: {"filled": plain(part.filled), "notional": plain(part.notional), "average_price": plain(part.average_price)}
                for key, part in fill.venues.items()
            }
        return out

    buy, sell = fills
    return {"size": plain(buy.size), "unit": buy.currency or "base", "buy": one(buy), "sell": one(sell)}


def liquidity_to_dict(mid: Decimal | None, bands: tuple[Band, ...]) -> dict[str, Any]:
    """The `liquidity` object (exact decimal strings, like the rest of the book)."""
    return {
        "mid": _maybe(mid),
        "bands": [
            {
                "bps": band.bps,
                "bid": plain(band.bid),
                "ask": plain(band.ask),
                "bid_notional": plain(band.bid_notional),
                "ask_notional": plain(band.ask_notional),
                "imbalance": _maybe(band.imbalance),
                "complete": band.complete,
            }
            for band in bands
        ],
    }


# json.dumps(ensure_ascii=False) escapes C0 in strings but leaves DEL, C1, the line
# separators and the bidi controls raw; inside JSON they only occur in strings, so
# escaping them there keeps the document equal and the terminal safe (C0 outside
# strings is the pretty form's own newlines: kept). On a stdout whose encoding is not
# a UTF one (PYTHONIOENCODING=ascii), every non-ASCII character is escaped the same way.
_UNSAFE = re.compile(f"[{UNSAFE_BEYOND_C0}]" if writes_unicode(sys.stdout) else "[^\x00-\x7e]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # JSON spells it as a UTF-16 surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _add_venues(out: dict[str, Any], book: Book) -> None:
    """A consolidated book's per-level breakdown: venue -> amount at that price."""
    for side, levels in (("bids", book.bids), ("asks", book.asks)):
        for entry, level in zip(out[side], levels):
            entry["venues"] = {key: plain(amount) for key, amount in (level.venues or {}).items()}


_encode_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _safe(text: str) -> str:
    return _UNSAFE.sub(_escape, text)


def _compact(data: Any) -> str:
    return _safe(_encode_compact(data))


def dumps(data: Any, *, pretty: bool = False) -> str:
    if pretty:
        return _safe(json.dumps(data, indent=2, ensure_ascii=False))
    return _compact(data)


# One level as compact JSON text. Its values are non-negative decimals and an
# int (to_count's, never a bool) or null: nothing to escape, and str() is plain notation unless it shows
# an exponent (checked once for the side's new text, then plain() where needed). A consolidated
# book's level adds its `venues` object, as _add_venues makes it.
_LEVEL_FIELDS = 4  # then `venues` (and a --group bucket's `notional`, which the JSON book does not carry)


# The text of the latest sides written, by their best level (the very Level object), with
# each level's text: a kept book hands over the very tuple it showed before while no change
# reached the shown depth, and its text is reused; when a change did below its best level,
# the levels above the change are the very Level objects shown before (sync.Side.top), and
# so are their texts. (Entries are replaced whole: several sources may write.)
_sides: dict[int, tuple[tuple[Level, ...], str, list[str]]] = {}
_MAX_SIDES = 64  # then the oldest are forgotten: both sides of up to six sources fit many times over


def _level_texts(levels: tuple[Level, ...], number: Callable[[Decimal], str]) -> list[str]:
    """Each level's text, its numbers through `number`: str, or plain() for a side where
    str() shows an exponent (as _venue_levels does for a consolidated side)."""
    if number is str:  # !s: str() itself (an f-string's plain {} calls Decimal.__format__, twice as slow)
        return [f'{{"price":"{lv[0]!s}","amount":"{lv[1]!s}","total":"{lv[2]!s}","count":{"null" if lv[3] is None else lv[3]!s}}}'
                for lv in levels]
    return [f'{{"price":"{number(lv[0])}","amount":"{number(lv[1])}","total":"{number(lv[2])}","count":{"null" if lv[3] is None else lv[3]!s}}}'
            for lv in levels]


def _levels_json(levels: tuple[Level, ...]) -> str:
    if not levels:
        return "[]"
    first = levels[0]
    known = _sides.get(id(first))
    if known is not None and known[0] is levels:
        return known[1]
    parts: list[str] = []
    if first[_LEVEL_FIELDS] is not None:
        text = _venue_levels(levels, str)
        if "E" in text or "-" in text:  # an exponent (or a key's own text): plain() throughout
            text = _venue_levels(levels, plain)
    else:
        same = 0
        reused: list[str] = []
        if known is not None and known[0][0] is first:  # the same side, changed below its best level
            before = known[0]
            most = min(len(before), len(levels))
            while same < most and before[same] is levels[same]:
                same += 1
            reused = known[2][:same]
        parts = reused + _level_texts(levels[same:], str)
        text = ",".join(parts)
        if "E" in text or "-" in text:  # in a new level's text: those reused were written plain
            parts = reused + _level_texts(levels[same:], plain)
            text = ",".join(parts)
    text = "[" + text + "]"
    remember(_sides, id(first), (levels, text, parts), _MAX_SIDES)  # the entry holds `first`: its id names no other object meanwhile
    return text


def _venue_levels(levels: tuple[Level, ...], number: Callable[[Decimal], str]) -> str:
    """A consolidated side's levels, each through the text template of its venues' keys."""
    out = []
    for lv in levels:
        venues = lv[4] or {}
        template = _venue_templates.get(keys := tuple(venues))
        if template is None:
            template = _venue_template(keys)
        count = "null" if lv[3] is None else lv[3]
        if number is str:
            out.append(template % (lv[0], lv[1], lv[2], count, *venues.values()))
        else:
            out.append(template % (number(lv[0]), number(lv[1]), number(lv[2]), count, *[number(amount) for amount in venues.values()]))
    return ",".join(out)


# A level's text template per tuple of `venues` keys (a handful per run), each key as
# JSON text escaped as _compact escapes it ("%" doubled: the template is %-formatted).
_venue_templates: dict[tuple[str, ...], str] = {}


def _venue_template(keys: tuple[str, ...]) -> str:
    named = ",".join(_safe(_encode_compact(key)).replace("%", "%%") + ':"%s"' for key in keys)
    template = '{"price":"%s","amount":"%s","total":"%s","count":%s,"venues":{' + named + "}}"
    if len(_venue_templates) < 64:
        _venue_templates[keys] = template
    return template


# Where book_line puts the two sides: no JSON string's text holds it (quotes
# inside strings are escaped), and bids/asks come before any extra key.
_NO_LEVELS = '"bids":null,"asks":null'


class Encoded(str):
    """A value of book_line's `extra` that is already its compact JSON text (as _compact
    writes it): spliced as is instead of encoded again."""


def _decoded(extra: dict[str, Any]) -> dict[str, Any]:
    return {key: json.loads(value) if type(value) is Encoded else value for key, value in extra.items()}


_MAX_MEMO = 64  # entries in each of the memories below: far more than a run's sources write at once
_names: dict[str, str] = {}  # an extra's key as _compact writes it, with its colon: a handful per run


def _tail_text(tail: dict[str, Any]) -> str:
    """_compact(tail) with its Encoded values spliced in: the same text (an object's
    compact text is its members' texts joined by commas; the others are encoded together)."""
    if not any(type(value) is Encoded for value in tail.values()):
        return _compact(tail)
    parts: list[str] = []
    rest: dict[str, Any] = {}
    for key, value in tail.items():
        if type(value) is Encoded:
            if rest:
                parts.append(_compact(rest)[1:-1])
                rest = {}
            named = _names.get(key)
            if named is None:
                named = remember(_names, key, _compact(key) + ":", _MAX_MEMO)
            parts.append(named + value)
        else:
            rest[key] = value
    if rest:
        parts.append(_compact(rest)[1:-1])
    return "{" + ",".join(parts) + "}"


def source_text(venue: str, symbol: str, timestamp: Any, received_at: Any, sequence: int | None) -> str:
    """A consolidated book's entry in `sources` as compact JSON text: the encoder's text of
    {"venue", "symbol", "timestamp", "received_at", "sequence"}, through book_line's template."""
    return (f'{_head(venue, symbol)},"timestamp":{"null" if timestamp is None else _quoted_time(timestamp)},'
            f'"received_at":{_quoted_time(received_at)},"sequence":{"null" if sequence is None else int.__repr__(sequence)}}}')


def book_line(book: Book, extra: dict[str, Any] | None = None) -> str:
    """``dumps(book_to_dict(book, extra))``, the same text, without building and
    encoding a dict per level: the streaming hot path (`watch --json`). The book's own
    fields are written into a template (venue and symbol encoded once per pair; times and
    numbers need no escaping); only its impact, liquidity and `extra` go through the
    encoder (an Encoded value of `extra` is already text)."""
    bids, asks = _levels_json(book.bids), _levels_json(book.asks)
    tail = _figure_objects(book)
    if extra:
        if not _BOOK_KEYS.isdisjoint(extra):  # an extra that replaces a book field keeps its place: the encoder's way
            return _compact(book_to_dict(book, _decoded(extra), levels=_no_levels)).replace(_NO_LEVELS, f'"bids":{bids},"asks":{asks}', 1)
        tail.update(extra)
    stamp, sequence = book.timestamp, book.sequence
    line = (f'{_head(book.venue, book.symbol)},"timestamp":{"null" if stamp is None else _quoted_time(stamp)},'
            f'"received_at":{_quoted_time(book.received_at)},"bids":{bids},"asks":{asks},{_prices_text(book)},'
            f'"sequence":{"null" if sequence is None else int.__repr__(sequence)}')
    return line + ("," + _tail_text(tail)[1:] if tail else "}")


# The latest best_bid .. mid members and the very numbers they were written from: a book
# whose best prices did not move hands over the same figures (shape._spread).
# (Replaced whole, never changed in place: several sources may write.)
_last_prices: tuple[Any, ...] = (None, None, None, None, "")


def _prices_text(book: Book) -> str:
    global _last_prices
    figures = book.figures
    if figures is not None:
        best_bid, best_ask, spread, mid = figures[0], figures[1], figures[2], figures[3]
    else:
        best_bid, best_ask, spread, mid = book.best_bid, book.best_ask, book.spread, book.mid
    last = _last_prices
    if last[0] is best_bid and last[1] is best_ask and last[2] is spread and last[3] is mid and last[4]:
        return last[4]
    text = (f'"best_bid":{_quoted_number(best_bid)},"best_ask":{_quoted_number(best_ask)},'
            f'"spread":{_quoted_number(spread)},"mid":{_quoted_number(mid)}')
    _last_prices = (best_bid, best_ask, spread, mid, text)
    return text


# book_to_dict's own keys, in its order (an extra may only add keys after them)
_BOOK_KEYS = frozenset(("venue", "symbol", "timestamp", "received_at", "bids", "asks", "best_bid", "best_ask", "spread", "mid",
                        "sequence", "impact", "liquidity"))
_heads: dict[tuple[str, str], str] = {}  # '{"venue":..,"symbol":..' per pair: a handful per run


def _head(venue: str, symbol: str) -> str:
    text = _heads.get((venue, symbol))
    if text is None:
        text = _compact({"venue": venue, "symbol": symbol})[:-1]
        if len(_heads) < 64:
            _heads[venue, symbol] = text
    return text


# The latest times written, by identity (the object kept, so its id is not reused): a
# consolidated book's times are its sources' very own, whose entries in `sources` wrote them.
_times: dict[int, tuple[Any, str]] = {}


def _quoted_time(stamp: Any) -> str:
    known = _times.get(id(stamp))
    if known is not None and known[0] is stamp:
        return known[1]
    text = '"' + iso_utc(stamp) + '"'  # digits, "-", ":", "T", "." and "Z": nothing to escape
    remember(_times, id(stamp), (stamp, text), _MAX_MEMO)
    return text


def _quoted_number(number: Decimal | None) -> str:
    return "null" if number is None else '"' + plain(number) + '"'  # digits, ".", "-"


def _no_levels(levels: tuple[Level, ...]) -> None:
    return None


def write_line(text: str) -> None:
    """One line of data on stdout, flushed at once (NDJSON consumers read per line).

    A closed or vanished stdout raises BrokenPipeError, a failing one
    OutputError (see stdio.GuardedStdout, installed by cli.main).
    """
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def write_lines(lines: list[str]) -> None:
    """Several lines of data on stdout in one write and one flush (write_line's way otherwise)."""
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def book_from_dict(data: Any) -> Book:
    """A recorded book (one NDJSON line of `watch --json`) back into a Book; totals are recomputed."""
    from orderbook_cli.book import RawLevel, make_book, to_count, to_decimal
    from orderbook_cli.errors import MalformedData
    from orderbook_cli.timefmt import parse_venue_time

    if not isinstance(data, dict):
        raise MalformedData("a recorded book is not a JSON object")
    sides = {}
    for side in ("bids", "asks"):
        levels = data.get(side)
        if not isinstance(levels, list) or not all(isinstance(level, dict) for level in levels):
            raise MalformedData(f"a recorded book without a {side} list")
        sides[side] = [RawLevel(to_decimal(lv.get("price"), "price"), to_decimal(lv.get("amount"), "amount"), to_count(lv.get("count"))) for lv in levels]
    received = parse_venue_time(data.get("received_at"))
    if received is None:
        raise MalformedData("a recorded book without received_at")
    venue, symbol = data.get("venue"), data.get("symbol")
    if not isinstance(venue, str) or not isinstance(symbol, str):
        raise MalformedData("a recorded book without venue and symbol")
    sequence = data.get("sequence")  # absent in recordings older than the field
    if sequence is not None and (isinstance(sequence, bool) or not isinstance(sequence, int) or not 0 <= sequence < 2**63):
        raise MalformedData("a recorded book whose sequence is not a non-negative integer")
    return make_book(venue, symbol, sides["bids"], sides["asks"], timestamp=parse_venue_time(data.get("timestamp")),
                     received_at=received, sequence=sequence)
