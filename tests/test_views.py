"""What a person sees at the sizes people use (issue 25): help on small screens,
printed pictures without keys, dates on old books, side-by-side titles once,
SVGs that load nothing, a paused replay that is not late."""

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from rich.console import Console

from orderbook_cli.pipeline.live import LiveLadder
from orderbook_cli.replay import Player, Tally
from orderbook_cli.shape import ShapeSpec, shape
from orderbook_cli.views.boards import BoardView
from orderbook_cli.views.keys import LADDER_ACTIONS, REPLAY_ACTIONS, help_keys
from orderbook_cli.views.ladder import ladder
from orderbook_cli.views.state import LadderView, printed
from orderbook_cli.views.svg import to_svg
from tests.test_boards import BITMART, BITSO, REVX, board, picture
from tests.test_render import T0, sample


def draw(renderable, width, height=None):
    console = Console(width=width, height=height, record=True, color_system=None, legacy_windows=False)
    console.print(renderable)
    return console.export_text()


@pytest.mark.parametrize("width,height", [(40, 10), (50, 12), (80, 24)])
def test_help_shows_every_key_on_small_screens(width, height):
    view = LadderView(state="replay", show_help=True, actions=LADDER_ACTIONS | REPLAY_ACTIONS)
    out = draw(ladder(sample(), view, width=width, height=height), width)
    lines = out.splitlines()
    assert len(lines) <= height and max(map(len, lines)) <= width, out
    text = " · ".join(lines)
    for key in help_keys(view.actions):
        assert key in text, (key, out)


def test_printed_ladder_and_svg_offer_no_keys_and_date_an_old_book():
    view = printed(sample(), date(2026, 1, 2))
    out = draw(ladder(sample(), view, width=100), 100)
    assert "? keys" not in out and "as of 2025-08-08 21:40:36 UTC" in out.splitlines()[0], out
    today = printed(sample(), T0.date())
    assert "as of 21:40:36 UTC" in draw(ladder(sample(), today, width=100), 100)
    svg = to_svg(sample())
    assert "? keys" not in svg and "2025-08-08" in svg.replace("&#160;", " ")


def test_svg_loads_nothing_from_the_network():
    svg = to_svg(sample())
    assert "@font-face" not in svg and not re.search(r"url\((?!#)", svg) and "cdnjs" not in svg  # only the file's own clip paths
    assert re.search(r"font-family: [^;]*monospace;", svg)


def test_three_ladders_at_80_columns_name_each_source_once_with_rows_level():
    out = draw(picture(board([BITSO, REVX, BITMART], merged=False), BoardView(), 80, 24), 80)
    lines = out.splitlines()
    for name in ("bitso btc_usd", "revx BTC-USD", "bitmart-v3 BTC_USDT"):
        assert out.count(name) == 1, out
        assert name in lines[0], out
    assert "…" not in out
    titles = [i for i, line in enumerate(lines) if "price" in line]
    assert len(titles) == 1 and lines[titles[0]].count("price") == 3, out  # every column's titles on the same line
    assert lines[0].count("●") == 3, out  # each its state (a glyph where the name needs the room)


def test_a_replay_is_never_stale():
    """A recording has no link: paused, or playing slowly (--speed 0.01: seconds between books), it is only quiet."""
    player = Player(io.BytesIO(b""), 1.0, Tally())
    live = LiveLadder("bitso", "btc_mxn", ShapeSpec(depth=20), stale_after=5, player=player)
    live.on_book(sample(), 0.0)
    out = draw(live.frame(6.0, 24, 0.0, 0.0, 0, width=100), 100)
    assert "STALE" not in out and "age 6.0s" in out, out  # the recording's gap still shows as the age
    live.on_key(" ", 7.0)
    assert player.paused
    out = draw(live.frame(60.0, 24, 0.0, 0.0, 0, width=100), 100)
    assert "STALE" not in out and "PAUSED" in out, out
    live.on_key(" ", 61.0)
    out = draw(live.frame(120.0, 24, 0.0, 0.0, 0, width=100), 100)
    assert "STALE" not in out, out


def test_a_live_book_from_another_day_shows_its_date():
    """A venue stamping another day (a clock off by years, a stale feed): the header says the
    date, as a printed snapshot's and a replay's do; today's book says the time alone."""
    from datetime import UTC, datetime

    from orderbook_cli.book import RawLevel, make_book

    for stamp, dated in ((datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC), True), (datetime.now(UTC), False)):
        book = make_book("bitso", "btc_mxn", [RawLevel(Decimal(100), Decimal(1), 1)], [RawLevel(Decimal(101), Decimal(1), 1)],
                         timestamp=stamp, received_at=datetime.now(UTC))
        live = LiveLadder("bitso", "btc_mxn", ShapeSpec(depth=20), stale_after=5)
        live.on_book(shape(book, live.spec), 0.0)
        out = draw(live.frame(0.5, 24, 0.0, 1.0, 0, width=150), 150)
        assert ("as of 2023-11-14 22:13:20 UTC" in out) == dated, out
        assert (stamp.strftime("as of %H:%M:%S UTC") in out) == (not dated), out


def test_a_replay_deepens_again_after_minus_up_to_what_it_recorded():
    """- then +: the book on screen is shorter than the recorded one, and + goes back to the
    recorded depth (it said "the recording has 17 levels: no deeper book" after three -)."""
    from decimal import Decimal as D

    from orderbook_cli.book import RawLevel, make_book

    recorded = make_book("bitso", "btc_mxn", [RawLevel(D(100 - i), D(1), 1) for i in range(20)],
                         [RawLevel(D(101 + i), D(1), 1) for i in range(20)], timestamp=T0, received_at=T0)
    live = LiveLadder("bitso", "btc_mxn", ShapeSpec(), stale_after=5, player=Player(io.BytesIO(b""), 1.0, Tally()))
    live.on_book(shape(recorded, live.spec), 0.0)
    assert live.view.depth == 20
    for _ in range(3):
        live.on_key("-", 1.0)
    live.on_book(shape(recorded, live.spec), 2.0)  # the feed shapes the next book by the new depth
    assert live.view.depth == 17 and len(live.book.bids) == 17
    for _ in range(3):
        live.on_key("+", 3.0)
    assert live.view.depth == 20 and live.flash is None
    live.on_key("+", 4.0)
    assert live.view.depth == 20 and live.flash is not None and "the recording has 20 levels" in live.flash[0]


def test_a_liquidity_lower_bound_is_rounded_down_and_on_its_own_side():
    """The bids end inside ±100 bps (5.04543442 BTC in all), the asks reach past it: "≥5.04" on
    the bid side alone (it showed "≥5.05|≥…": more than is known, and a bound on the asks too)."""
    from decimal import Decimal as D

    from orderbook_cli.book import RawLevel, make_book

    book = make_book("bitso", "btc_usd", [RawLevel(D("99.99"), D("5.04543442"), 1)],
                     [RawLevel(D("100.01"), D("1.00000000"), 1), RawLevel(D("200"), D("1.00000000"), 1)], timestamp=T0, received_at=T0)
    out = draw(ladder(shape(book, ShapeSpec(liquidity=True)), LadderView(state="live"), width=150, height=30), 150)
    line = next(line for line in out.splitlines() if line.startswith("near mid"))
    assert "±100bps ≥5.04|1.00" in line, line


@pytest.mark.parametrize("width", [60, 80, 150])
def test_the_liquidity_line_says_what_it_counts(width):
    out = draw(ladder(shape(sample(), ShapeSpec(liquidity=True)), LadderView(state="live"), width=width, height=30), width)
    line = next(line for line in out.splitlines() if line.startswith("near mid"))
    assert line.startswith("near mid BTC bid|ask:  ±10bps "), line
    assert len(line) <= width


def test_merged_ladder_uses_the_single_ladders_columns_and_liquidity_line():
    out = draw(picture(board([BITSO, REVX, BITMART], merged=True), BoardView(), 120, 30), 120)
    lines = out.splitlines()
    assert any(re.match(r"side\s+price USD\s+amount BTC\s+total BTC\s+notional USD", line) for line in lines), out
    bids = [line for line in lines if line.startswith("bid ")]
    bars = [len(re.sub(r"[^ABC]", "", line.split()[-1])) if re.search(r"[ABC]+$", line) else 0 for line in bids]
    assert bars == sorted(bars) and bars[-1] > 0, out  # the bar is the running total: it only grows away from the best
    assert any(line.startswith("near mid BTC bid|ask:  ±10bps") for line in lines), out
