"""The condition grammar of `--until` / `--alert` and its evaluation on a book's figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple

import pytest

from orderbook_cli import conditions
from orderbook_cli.book import RawLevel, bps_of, make_book
from orderbook_cli.conditions import (
    Condition,
    ConditionError,
    EdgeTrigger,
    Status,
    bands_needed,
    parse,
    parse_all,
)
from orderbook_cli.errors import ExitStatus
from orderbook_cli.liquidity import Band, liquidity

D = Decimal
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
LIVE = Status()


class Figures(NamedTuple):
    best_bid: Decimal | None
    best_ask: Decimal | None
    spread: Decimal | None
    mid: Decimal | None
    spread_bps: Decimal | None
    condition_bands: Sequence[Band]

    @property
    def crossed(self) -> bool:
        return self.spread is not None and self.spread < 0


def book(bids, asks):
    return make_book("test", "BTC-USD", [RawLevel(D(p), D(a)) for p, a in bids], [RawLevel(D(p), D(a)) for p, a in asks],
                     timestamp=None, received_at=NOW)


def figures(bids, asks, bands=(10, 25, 50, 100)) -> Figures:
    """The figures of the whole book, with the liquidity bands computed by liquidity.py (one computation)."""
    b = book(bids, asks)
    spread_bps = bps_of(b.spread, b.mid) if b.mid else None
    return Figures(b.best_bid, b.best_ask, b.spread, b.mid, spread_bps, liquidity(b.bids, b.asks, b.mid, tuple(bands)))


# mid 100, spread 1 (100 bps). Within 25 bps (99.75..100.25) nothing rests; within 100 bps (99..101):
# bids 99.5 (2) + 99 (1) = 3, asks 100.5 (1) + 101 (0.5) = 1.5 -> imbalance (3-1.5)/4.5 = 33.33 %.
BOOK = figures(
    [("99.5", "2"), ("99", "1"), ("90", "100")],
    [("100.5", "1"), ("101", "0.5"), ("120", "100")],
)


def holds(text: str, fig=BOOK, status: Status = LIVE) -> bool:
    return parse(text).evaluate(fig, status).holds


# -- grammar ------------------------------------------------------------------

@pytest.mark.parametrize("text, field, op, threshold, bps, in_bps", [
    ("spread<10", "spread", "<", D(10), None, False),
    ("spread>20bps", "spread", ">", D(20), None, True),
    ("spread <= 0.5", "spread", "<=", D("0.5"), None, False),
    ("  SPREAD >= 3 BPS ", "spread", ">=", D(3), None, True),
    ("spread<-1", "spread", "<", D(-1), None, False),
    ("mid=65000", "mid", "=", D(65000), None, False),
    ("best_bid>100.25", "best_bid", ">", D("100.25"), None, False),
    ("best_ask<1e3", "best_ask", "<", D(1000), None, False),
    ("bid_depth@25bps<2", "bid_depth", "<", D(2), 25, False),
    ("ask_depth@1bps>=0.001", "ask_depth", ">=", D("0.001"), 1, False),
    ("imbalance@50bps>30", "imbalance", ">", D(30), 50, False),
    ("imbalance@10000bps<-30%", "imbalance", "<", D(-30), 10000, False),
])
def test_parse_fields_operators_and_units(text, field, op, threshold, bps, in_bps):
    c = parse(text)
    assert (c.field, c.op, c.threshold, c.bps, c.in_bps) == (field, op, threshold, bps, in_bps)


@pytest.mark.parametrize("word", ["crossed", "stale", "resync", " Stale "])
def test_parse_words(word):
    c = parse(word)
    assert c.field == word.strip().lower() and c.op is None and c.threshold is None


@pytest.mark.parametrize("text, canonical", [
    ("spread > 20 bps", "spread>20bps"),
    ("imbalance@25bps<-30%", "imbalance@25bps<-30"),
    ("mid=1e3", "mid=1000"),
    ("crossed", "crossed"),
])
def test_canonical_text(text, canonical):
    assert parse(text).text == canonical


@pytest.mark.parametrize("text, says", [
    ("", "empty"),
    ("   ", "empty"),
    ("x" * 101, "longer than 100"),
    ("spread<10€", "ASCII"),
    ("spread<1\x1b[2J", "ASCII"),
    ("spread", "no comparison"),
    ("spred<10", "unknown field 'spred'"),
    ("<10", "no field"),
    ("spread<", "no number"),
    ("spread==10", "'==' is not an operator"),
    ("spread=<10", "'=<' is not an operator"),
    ("spread<>10", "'<>' is not an operator"),
    ("mid>20bps", "bps threshold is for spread only"),
    ("bid_depth@25bps>2bps", "bps threshold is for spread only"),
    ("spread>5%", "% threshold is for imbalance only"),
    ("bid_depth<2", "needs a band"),
    ("imbalance>10", "needs a band"),
    ("spread@25bps<2", "takes no band"),
    ("bid_depth@0bps<2", "from 1 to 10000"),
    ("bid_depth@10001bps<2", "from 1 to 10000"),
    ("bid_depth@1234567bps<2", "not bid_depth or bid_depth@Nbps"),
    ("bid_depth@2.5bps<2", "not bid_depth or bid_depth@Nbps"),
    ("bid_depth@25<2", "not bid_depth or bid_depth@Nbps"),
    ("imbalance@25bps>101", "from -100 to 100"),
    ("imbalance@25bps<-100.5", "from -100 to 100"),
    ("mid<-5", "never negative"),
    ("bid_depth@25bps>-1", "never negative"),
    ("spread<nan", "not a plain decimal"),
    ("spread<inf", "not a plain decimal"),
    ("spread<1e999", "not a plain decimal"),
    ("spread<1_000", "not a plain decimal"),
    ("spread<0x10", "not a plain decimal"),
    ("spread<" + "1" * 70, "not a plain decimal"),
    ("spread<-", "no number after the sign"),
    ("spread<--1", "not a plain decimal"),
    ("crossed=1", "word condition"),
    ("stale>0", "word condition"),
])
def test_malformed_conditions_are_usage_errors_naming_them(text, says):
    with pytest.raises(ConditionError) as caught:
        parse(text, "--alert")
    error = caught.value
    assert error.exit_status == ExitStatus.USAGE
    assert says in error.message
    assert error.message.startswith("--alert '")
    assert "FIELD OP NUMBER[UNIT]" in error.hint


def test_a_malformed_condition_message_is_bounded_and_safe():
    with pytest.raises(ConditionError) as caught:
        parse("\x1b]0;pwned\x07" * 5, "--until")
    assert "\x1b" not in caught.value.message and "\x07" not in caught.value.message
    assert len(caught.value.message) < 200


def test_not_a_string_is_a_usage_error():
    with pytest.raises(ConditionError, match="must be a string"):
        parse(5, "boards.majors.until")  # type: ignore[arg-type]  # a TOML integer


def test_parse_all_bounds_the_number_of_conditions():
    assert len(parse_all(["spread<1"] * conditions.MAX_CONDITIONS, "--alert")) == conditions.MAX_CONDITIONS
    with pytest.raises(ConditionError, match="at most 16"):
        parse_all(["spread<1"] * (conditions.MAX_CONDITIONS + 1), "--alert")


def test_bands_needed_are_the_bands_the_conditions_read():
    cs = parse_all(["bid_depth@25bps<2", "imbalance@7bps>1", "ask_depth@25bps>1", "spread<1", "stale"], "--alert")
    assert bands_needed(cs) == (7, 25)


# -- evaluation ---------------------------------------------------------------

def test_spread_in_quote_units_and_in_bps_of_mid():
    assert BOOK.spread == 1 and BOOK.mid == 100 and BOOK.spread_bps == 100
    assert holds("spread=1") and holds("spread<=1") and holds("spread>=1")
    assert not holds("spread<1") and not holds("spread>1")
    assert holds("spread=100bps") and holds("spread>99.99bps") and not holds("spread>100bps")
    reading = parse("spread>20bps").evaluate(BOOK, LIVE)
    assert reading.value == 100 and reading.text == "spread 100.00 bps"


@pytest.mark.parametrize("text, expected", [
    ("mid=100", True), ("mid>100", False), ("mid<100.0001", True),
    ("best_bid=99.5", True), ("best_bid<99.5", False), ("best_bid>=99.5", True),
    ("best_ask=100.5", True), ("best_ask>100.5", False), ("best_ask<=100.5", True),
])
def test_price_fields(text, expected):
    assert holds(text) is expected


def test_depth_within_a_band_is_the_liquidity_band():
    # Within 25 bps of 100 nothing rests; within 100 bps 3 bid and 1.5 ask.
    assert holds("bid_depth@25bps=0") and holds("ask_depth@25bps=0")
    assert holds("bid_depth@100bps=3") and holds("ask_depth@100bps=1.5")
    assert holds("bid_depth@100bps>2.9") and not holds("ask_depth@100bps>1.5")
    band = next(b for b in BOOK.condition_bands if b.bps == 100)
    assert parse("bid_depth@100bps>0").evaluate(BOOK, LIVE).value == band.bid
    assert parse("ask_depth@100bps>0").evaluate(BOOK, LIVE).value == band.ask


def test_imbalance_in_percent():
    reading = parse("imbalance@100bps>33").evaluate(BOOK, LIVE)
    assert reading.holds and reading.value == D("33.33") and reading.text == "imbalance@100bps 33.33%"
    assert holds("imbalance@100bps<33.34") and not holds("imbalance@100bps<-1")
    asks_heavy = figures([("99.9", "1")], [("100.1", "3")], bands=(50,))
    assert parse("imbalance@50bps<-49").evaluate(asks_heavy, LIVE).value == D("-50.00")


def test_imbalance_with_nothing_in_the_band_is_unknown_not_zero():
    reading = parse("imbalance@25bps=0").evaluate(BOOK, LIVE)
    assert not reading.holds and reading.value is None and "unknown" in reading.text


def test_a_book_shallower_than_the_band_says_its_depth_is_a_lower_bound():
    shallow = figures([("99.9", "1")], [("100.1", "3")], bands=(100,))
    reading = parse("bid_depth@100bps<2").evaluate(shallow, LIVE)
    assert reading.holds and "at least" in reading.text


def test_an_empty_side_makes_every_figure_condition_false():
    one_sided = figures([("99", "1")], [])
    for text in ("spread<1000", "spread>-1000", "spread<1000bps", "mid>0", "best_ask>0", "best_ask<1e9",
                 "bid_depth@25bps>=0", "imbalance@25bps<=100", "crossed"):
        reading = parse(text).evaluate(one_sided, LIVE)
        assert not reading.holds, text
    assert holds("best_bid=99", one_sided)  # the side that is there still reads


def test_no_book_yet_makes_figure_conditions_false_and_words_still_read():
    assert not parse("spread<1000").evaluate(None, LIVE).holds
    assert parse("stale").evaluate(None, Status(stale=True, detail="nothing heard for 6s")).holds


def test_crossed_and_locked():
    crossed = figures([("101", "1")], [("100", "1")])
    locked = figures([("100", "1")], [("100", "1")])
    reading = parse("crossed").evaluate(crossed, LIVE)
    assert reading.holds and reading.text == "crossed (best bid 101 above best ask 100)"
    assert holds("spread<0", crossed) and holds("spread=-1", crossed)
    assert not holds("crossed", locked) and not holds("crossed")
    assert parse("crossed").evaluate(BOOK, LIVE).text == "not crossed"


def test_stale_and_resync_read_the_source_status():
    stale = Status(stale=True, detail="nothing heard for 6s")
    resyncing = Status(stale=True, resyncing=True, detail="sequence gap")
    assert holds("stale", status=stale) and not holds("stale")
    assert parse("stale").evaluate(BOOK, stale).text == "stale (nothing heard for 6s)"
    assert holds("resync", status=resyncing) and not holds("resync", status=stale)
    assert parse("resync").evaluate(BOOK, resyncing).text == "resync (sequence gap)"


def test_a_band_the_shaping_step_was_not_asked_for_is_a_loud_bug():
    with pytest.raises(LookupError, match="7 bps band"):
        parse("bid_depth@7bps<1").evaluate(BOOK, LIVE)


def test_exact_decimals_no_float_rounding():
    fig = figures([("0.1", "0.1")], [("0.3", "0.2")])
    assert fig.mid == D("0.2")  # a float would say 0.19999999999999998
    assert holds("mid=0.2", fig) and holds("spread=0.2", fig)
    big = figures([("12345678901234567890.123456789", "1")], [("12345678901234567890.123456791", "1")])
    assert holds("spread=0.000000002", big) and holds("best_ask>12345678901234567890.12345679", big)


# -- edges --------------------------------------------------------------------

def test_alerts_fire_on_the_rising_edge_only():
    trigger = EdgeTrigger([parse("spread>50bps"), parse("crossed")])
    wide, narrow = BOOK, figures([("99.99", "1")], [("100.01", "1")])
    assert [r.condition.text for r in trigger.check(wide, LIVE)] == ["spread>50bps"]  # true at the first book: fires
    assert trigger.check(wide, LIVE) == []  # still true: no second alert
    assert trigger.check(narrow, LIVE) == []  # falls: nothing
    assert [r.condition.text for r in trigger.check(wide, LIVE)] == ["spread>50bps"]  # rises again: fires again


def test_unknown_figures_re_arm_the_edge():
    trigger = EdgeTrigger([parse("mid>50")])
    assert len(trigger.check(BOOK, LIVE)) == 1
    assert trigger.check(figures([], [("1", "1")]), LIVE) == []  # no mid: false
    assert len(trigger.check(BOOK, LIVE)) == 1


def test_word_edges_follow_the_status():
    trigger = EdgeTrigger([parse("stale"), parse("resync")])
    assert trigger.check(BOOK, LIVE) == []
    risen = trigger.check(BOOK, Status(stale=True, resyncing=True, detail="sequence gap"))
    assert [r.condition.field for r in risen] == ["stale", "resync"]
    assert trigger.check(BOOK, Status(stale=True, resyncing=True)) == []
    assert trigger.check(BOOK, LIVE) == []
    assert [r.condition.field for r in trigger.check(None, Status(stale=True))] == ["stale"]


def test_condition_is_a_value():
    assert parse("spread > 20 bps") == parse("spread>20bps") == Condition("spread", ">", D(20), None, True)
