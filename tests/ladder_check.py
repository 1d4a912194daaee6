"""Checks shared by the ladder tests: every number on a screen is whole.

A screen (from a fixed Rich console or from tmux) is compared with the book it
shows: every ladder row's price, amount, total, notional and order count must
be that level's value, exactly or (for rounded quote amounts) within the
rounding of the digits shown. A value cut short at the edge fails.
"""

from __future__ import annotations

import re
from decimal import Decimal

from orderbook_cli.book import Book
from orderbook_cli.liquidity import liquidity

NUMBER = re.compile(r"[≥+-]?\d[\d.]*[kMB%]?")
SUFFIX = {"k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "B": Decimal(10) ** 9, "%": Decimal("0.01")}


def close(token: str, exact: Decimal) -> bool:
    """`token` is `exact` rounded to the digits it shows (k/M/B/% scaled); a lower bound ("≥")
    rounded down: at most `exact`, less by under one unit of its last digit."""
    at_least = token.startswith("≥")
    token = token.lstrip("≥+")
    factor = SUFFIX.get(token[-1], Decimal(1))
    digits = token.rstrip("kMB%")
    if digits.endswith(".") or not re.fullmatch(r"-?\d+(\.\d+)?", digits):
        return False
    places = len(digits.split(".")[1]) if "." in digits else 0
    shown = Decimal(digits) * factor
    if at_least:
        return shown <= exact < shown + Decimal(1).scaleb(-places) * factor
    return abs(shown - exact) <= Decimal(5).scaleb(-places - 1) * factor


def cumulative(levels):
    running, out = Decimal(0), []
    for level in levels:
        running += level.price * level.amount
        out.append(running)
    return out


def check_screen(screen: str, book: Book, width: int, *, raw: Book | None = None) -> dict:
    """Assert every number on the screen is whole; return what was seen (rows a side, lines)."""
    raw = raw or book
    lines = screen.rstrip("\n").splitlines()
    assert all(len(line) <= width for line in lines), screen
    prices = {lv.price: ("ask", i, lv) for i, lv in enumerate(book.asks)}
    prices.update({lv.price: ("bid", i, lv) for i, lv in enumerate(book.bids)})
    notionals = {"ask": cumulative(book.asks), "bid": cumulative(book.bids)}
    seen = {"ask": 0, "bid": 0, "compact": False}
    for line in lines[1:]:
        words = line.split()
        if not words:
            continue
        if words[0] in ("bid", "ask") and (len(words) == 2 or len(words) == 4 and words[2] in ("bid", "ask")):
            seen["compact"] = True
            for name, value in zip(words[::2], words[1::2]):
                assert Decimal(value) == (raw.best_bid if name == "bid" else raw.best_ask), line
            continue
        tokens = words[1:] if words[0] in ("ask", "bid") and len(words) > 2 and words[1] != "ask" else words
        if re.fullmatch(r"\d+(\.\d+)?", tokens[0]) and Decimal(tokens[0]) in prices:
            side, index, level = prices[Decimal(tokens[0])]
            seen[side] += 1
            numbers = [t for t in tokens[1:] if NUMBER.fullmatch(t)]
            assert 1 <= len(numbers) <= 4, line
            assert Decimal(numbers[0]) == level.amount, line
            if len(numbers) >= 2:
                assert Decimal(numbers[1]) == level.total, line
            if len(numbers) == 4:
                assert close(numbers[2], notionals[side][index]) and numbers[3] == str(level.count), line
            if len(numbers) == 3:  # notional, or orders when notional was dropped
                assert close(numbers[2], notionals[side][index]) or numbers[2] == str(level.count), line
        elif words[0] in ("spread", "CROSSED", "LOCKED"):
            _check_spread(line, raw)
        elif re.search(r"levels", line):
            match = re.search(r"(?:(\d+) of )?(\d+) levels", line)
            assert match and int(match.group(2)) == max(len(book.asks), len(book.bids)), line
        elif line.startswith("near mid"):
            _check_liquidity(line, raw)
        else:
            for token in NUMBER.findall(line):  # titles, header-like lines: whole words only
                assert not token.endswith("."), (line, token)
    return seen


def _check_spread(line: str, book: Book) -> None:
    match = re.search(r"spread (-?[\d.]+)(?: \((-?[\d.]+) bps\))?(?:\s+mid ([\d.]+))?$", line)
    assert match, line
    assert Decimal(match.group(1)) == book.spread, line
    if match.group(2):
        assert close(match.group(2), book.spread / book.mid * 10000), line
    if match.group(3):
        assert Decimal(match.group(3)) == book.mid, line


def _check_liquidity(line: str, book: Book) -> None:
    bands = {band.bps: band for band in liquidity(book.bids, book.asks, book.mid)}
    found = re.findall(r"±(\d+)bps (≥?[\d.]+[kMB]?)\|(≥?[\d.]+[kMB]?)(?: \((>?\d+%) (bids|asks)\))?", line)
    assert found, line
    assert line.count("±") == len(found), line  # no band cut short
    for bps, bid, ask, share, heavier in found:
        band = bands[int(bps)]
        assert close(bid, band.bid) and close(ask, band.ask), (line, band)
        if share:  # the heavier side's share: (1 + |imbalance|) / 2
            assert (heavier == "asks") == (band.imbalance < 0), (line, band)
            exact = (1 + abs(band.imbalance)) / 2
            assert exact > Decimal("0.99") if share.startswith(">") else close(share, exact), (line, band)
