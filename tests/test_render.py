"""The ladder on a fixed-width Rich console: layout, grouping, impact, staleness, safety."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from decimal import Inexact, Rounded, localcontext

import pytest
from rich.console import Console

from orderbook_cli.book import RawLevel, make_book
from orderbook_cli.impact import ImpactSize
from orderbook_cli.jsonout import impact_to_dict
from orderbook_cli.pipeline.live import LiveLadder
from orderbook_cli.shape import ShapeSpec, shape
from orderbook_cli.views.ladder import BAR_WIDTH, MAX_BAR_WIDTH, ladder
from orderbook_cli.views.state import LadderView

T0 = datetime(2025, 8, 8, 21, 40, 36, tzinfo=UTC)


def sample(symbol="BTC-USD"):
    bids = [RawLevel(D("4550"), D("0.25"), 1), RawLevel(D("4549.5"), D("1"), 3), RawLevel(D("4548"), D("2"), None)]
    asks = [RawLevel(D("4560"), D("1"), 1), RawLevel(D("4555"), D("2.1234"), 2)]
    return make_book("revx", symbol, bids, asks, timestamp=T0, received_at=T0)


def draw(renderable, width=100, color=False):
    console = Console(width=width, record=True, color_system="truecolor" if color else None, force_terminal=color, legacy_windows=False)
    console.print(renderable)
    return console.export_text(styles=color)


def test_an_average_is_written_to_the_venues_decimals_whatever_the_grouping():
    """The impact and cursor averages: two decimals past the venue's prices, grouped or not (a bucket
    of 10 has no decimals, a bucket of 0.25 two: neither is the venue's)."""
    book = make_book("revx", "BTC-USD", [RawLevel(D("4550.5"), D("0.25"), 1), RawLevel(D("4549.5"), D("1"), 3)],
                     [RawLevel(D("4555.5"), D("2"), 2)], timestamp=T0, received_at=T0)
    for group in (None, D(10), D("0.25")):
        out = draw(ladder(shape(book, ShapeSpec(impact=ImpactSize(D(1)), group=group)), LadderView(state="live")), width=120)
        assert "sell 1 BTC:  avg 4549.750  worst 4549.5" in out, (group, out)


def test_asks_above_bids_around_spread_row():
    out = draw(ladder(sample(), LadderView(state="live")))
    lines = out.splitlines()
    row = {name: next(i for i, line in enumerate(lines) if name in line) for name in ("4560", "4555", "spread", "4550", "4549.5", "4548")}
    assert row["4560"] < row["4555"] < row["spread"] < row["4550"] < row["4549.5"] < row["4548"]
    assert "spread 5 (10.98 bps)" in out and "mid 4552.5" in out


def test_columns_totals_notional_counts_and_aligned_decimals():
    out = draw(ladder(sample(), LadderView(state="live")))
    best_ask = next(line for line in out.splitlines() if "4555" in line)
    assert re.search(r"4555\.0\s+2\.1234\s+2\.1234\s+9672\.09\s+2\s", best_ask), best_ask  # USD at cents
    deep_bid = next(line for line in out.splitlines() if "4548" in line)
    # 0.25*4550 + 1*4549.5 + 2*4548 = 14783, printed at USD's 2 decimals; no count known
    assert re.search(r"4548\.0\s+2\.0000\s+3\.2500\s+14783\.00\s+█", deep_bid), deep_bid
    # prices share one number of decimals, so the points line up
    columns = {line.index(".") for line in out.splitlines() if re.match(r"(ask|bid)\s", line)}
    assert len(columns) == 1


def test_depth_bars_share_one_scale():
    out = draw(ladder(sample(), LadderView(state="live"), width=80))
    bars = {price: line.count("█") for line in out.splitlines() for price in ("4548", "4560", "4550") if f" {price}" in line}
    full = 80 - len("ask    4560.0     1.0000    3.1234     14232.09      1 ")
    assert full > BAR_WIDTH and bars["4548"] == full  # the largest total on either side fills the bar
    assert bars["4560"] == int(3.1234 / 3.25 * full)
    assert bars["4550"] < bars["4560"]


@pytest.mark.parametrize("width", [100, 150, 200])
def test_wide_terminals_widen_the_bars_not_the_numbers(width):
    out = draw(ladder(sample(), LadderView(state="live"), width=width), width=width)
    full = max(line.count("█") for line in out.splitlines())
    assert full == min(MAX_BAR_WIDTH, width - len("ask    4560.0     1.0000    3.1234     14232.09      1 "))
    assert max(len(line) for line in out.splitlines()) <= width


def test_header_shows_venue_state_age_rate_and_malformed():
    out = draw(ladder(sample(), LadderView(state="live", age=0.4, updates_per_second=12.5, malformed=3)))
    header = out.splitlines()[0]
    for part in ("revx BTC-USD", "live", "21:40:36 UTC", "age 0.4s", "12.5 upd/s", "3 bad frames"):
        assert part in header


def test_stale_and_reconnecting_are_never_hidden():
    out = draw(ladder(sample(), LadderView(state="reconnecting", age=12.0, stale=True, notice="the venue closed the connection; retrying in 1.0s")))
    assert "RECONNECTING" in out and "age 12.0s STALE" in out and "retrying in 1.0s" in out
    coloured = draw(ladder(sample(), LadderView(state="live", age=12.0, stale=True)), color=True)
    assert "\x1b[2m" in coloured  # the ladder is dimmed


def test_grouping_in_the_ladder():
    out = draw(ladder(shape(sample(), ShapeSpec(group=D(10))), LadderView(state="live", group=D(10))))
    assert "grouped by 10" in out
    assert re.search(r"bid\s+4540\s+3\.0000\s+3\.2500", out) and re.search(r"bid\s+4550\s+0\.2500\s+0\.2500", out)
    assert re.search(r"ask\s+4560\s+3\.1234\s+3\.1234\s+\S+\s+3", out)


def test_impact_lines_match_hand_calculation():
    book = sample()
    out = draw(ladder(shape(book, ShapeSpec(impact=ImpactSize(D(2)))), LadderView(state="live")))
    # buy 2: 2 @ 4555 -> avg 4555, worst 4555; slippage (4555-4552.5)/4552.5*1e4 = 5.49 bps
    assert "buy  2 BTC:  avg 4555.000  worst 4555  slippage 5.49 bps" in out  # price precision (1) + 2
    # sell 2: 0.25 @ 4550 + 1 @ 4549.5 + 0.75 @ 4548 = 9098 -> avg 4549; (4552.5-4549)/4552.5*1e4 = 7.69 bps
    assert "sell 2 BTC:  avg 4549.000  worst 4548  slippage 7.69 bps" in out
    thin = draw(ladder(shape(book, ShapeSpec(impact=ImpactSize(D(10)))), LadderView(state="live")))
    assert "book too thin: only 3.1234 fillable" in thin


def test_impact_json_object():
    fills = shape(sample(), ShapeSpec(impact=ImpactSize(D(2)))).figures.impact
    data = impact_to_dict(fills)
    assert data == {
        "size": "2", "unit": "base",
        "buy": {"filled": "2", "notional": "9110", "average_price": "4555", "worst_price": "4555", "slippage_bps": "5.49", "complete": True},
        "sell": {"filled": "2.00", "notional": "9098.00", "average_price": "4549", "worst_price": "4548", "slippage_bps": "7.69", "complete": True},
    }


def test_no_colour_output_is_readable_with_side_labels():
    out = draw(ladder(sample(), LadderView(state="live")))
    assert "\x1b[" not in out
    assert sum(line.startswith("ask") for line in out.splitlines()) == 2
    assert sum(line.startswith("bid") for line in out.splitlines()) == 3


def test_colours_asks_red_bids_green():
    out = draw(ladder(sample(), LadderView(state="live")), color=True)
    assert "\x1b[1;31m4555.0" in out and "\x1b[1;32m4550.0" in out


def test_venue_strings_are_never_markup_or_control_sequences():
    book = sample(symbol="[bold red]X[/]\x1b[2J\x07")
    out = draw(ladder(book, LadderView(state="live", notice="evil \x1b]0;title\x07 [link=x]y[/link]")), color=True)
    assert "\x1b[2J" not in out and "\x1b]0;" not in out and "\x07" not in out
    plain = draw(ladder(book, LadderView(state="live")))
    assert "[bold red]X[/]" in plain


def test_fits_80x24_and_keys():
    live = LiveLadder("revx", "BTC-USD", ShapeSpec(depth=20, group=None), stale_after=5)
    levels = [RawLevel(D(4500 - i), D("1"), 1) for i in range(20)]
    asks = [RawLevel(D(4600 + i), D("1"), 1) for i in range(20)]
    live.on_book(make_book("revx", "BTC-USD", levels, asks, timestamp=T0, received_at=T0), 0.0)
    out = draw(live.frame(0.5, 24, 0.0, 1.0, 0), width=80)
    assert len(out.rstrip("\n").splitlines()) <= 24
    assert max(len(line) for line in out.splitlines()) <= 80
    live.on_key("-", 1.0)
    live.on_key("-", 1.0)
    assert live.view.depth == 18
    live.on_key("g", 1.0)
    assert live.view.group == D(2)  # about 5 bps of 4550 (1 bp is finer than the book's step of 1)
    live.on_key(" ", 1.0)
    assert live.view.paused
    assert live.spec == ShapeSpec(depth=18, group=D(2))  # what the feed shapes the next books by
    live.on_book(shape(make_book("revx", "BTC-USD", [RawLevel(D(4571), D(1), 1)], [], timestamp=T0, received_at=T0), live.spec), 2.0)
    assert live.shown.best_bid == D(4500)  # paused: the screen keeps the frozen book
    live.on_key(" ", 2.0)
    assert live.shown.bids[0].price == D(4570)  # resumed: the newest book, grouped by 2
    assert live.shown.best_bid == D(4571)  # its best bid the real one
    live.on_key("q", 3.0)
    assert live.quit


def test_changed_levels_are_highlighted_then_fade():
    live = LiveLadder("revx", "BTC-USD", ShapeSpec(depth=5, group=None), stale_after=5)
    live.on_book(sample(), 0.0)
    changed = make_book("revx", "BTC-USD", [RawLevel(D("4550"), D("0.5"), 1)], [RawLevel(D("4555"), D("2.1234"), 2)], timestamp=T0, received_at=T0)
    live.on_book(changed, 1.0)
    live.frame(1.1, 24, 1.0, 1.0, 0)
    assert live.view.changed == {("bid", D("4550"))}
    live.frame(2.5, 24, 1.0, 1.0, 0)
    assert live.view.changed == set()


def test_stale_threshold():
    live = LiveLadder("revx", "BTC-USD", ShapeSpec(depth=5, group=None), stale_after=2)
    live.on_book(sample(), 0.0)
    live.frame(1.0, 24, 0.0, 0.0, 0)
    assert not live.view.stale
    out = draw(live.frame(2.5, 24, 0.0, 0.0, 0))
    assert live.view.stale and "STALE" in out


# --- derived figures are exact (issue 13 item 11) ---

def huge_book(at=T0):
    """A 31-digit best ask over a best bid of 0.1: every derived figure needs more than 28 digits."""
    bids = [RawLevel(D("0.1"), D("3.000000000000000000000000001"), 1), RawLevel(D("0.05"), D("7"), 2)]
    asks = [RawLevel(D("123456789012345678901234567890.5"), D("1.000000000000000000000000003"), 1),
            RawLevel(D("123456789012345678901234567891.7"), D("2"), 1)]
    return make_book("revx", "BTC-USD", bids, asks, timestamp=at, received_at=at)


def test_spread_mid_and_bps_of_a_huge_book_show_every_digit():
    out = draw(ladder(huge_book(), LadderView(state="live")), width=220)
    assert "spread 123456789012345678901234567890.4 (20000.00 bps)" in out
    assert "mid 61728394506172839450617283945.3" in out


@pytest.mark.parametrize("view, shown", [("ladder", "spread 123456789012345678901234567890.4"),
                                         ("chart", "mid 61728394506172839450617283945.3"),
                                         ("heatmap", "┤125000000000000000000000000000")])
def test_no_derived_figure_is_rounded_outside_the_exact_context(view, shown):
    """Any price/amount arithmetic done in the default 28-digit context rounds these numbers: trap it."""
    with localcontext() as ctx:
        ctx.traps[Inexact] = ctx.traps[Rounded] = True
        spec = ShapeSpec(depth=20, impact=ImpactSize(D("2.5")), liquidity=True)
        live = LiveLadder("revx", "BTC-USD", spec, stale_after=5, view=view)
        for s in range(5):
            live.on_book(shape(huge_book(T0 + timedelta(seconds=s)), spec), float(s))
        out = draw(live.frame(5.0, 40, 4.5, 3.0, 0, width=160), width=160)
    assert shown in out
