"""The ladder at every size: whole numbers only, columns dropped in order, stable
widths, units and precision, CROSSED, levels shown, liquidity, the level cursor."""

import json
import re
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from rich.console import Console
from rich.text import Text

from orderbook_cli.book import RawLevel, make_book
from orderbook_cli.impact import ImpactSize
from orderbook_cli.jsonout import book_to_dict, dumps, liquidity_to_dict
from orderbook_cli.liquidity import liquidity
from orderbook_cli.pipeline.live import LiveLadder, group_presets
from orderbook_cli.shape import ShapeSpec, shape
from orderbook_cli.views.header import header
from orderbook_cli.views.keys import DOWN, ESCAPE, LADDER_ACTIONS, UP, help_keys, split_keys
from orderbook_cli.views.ladder import BAR_WIDTH, MIN_BAR_WIDTH, ladder
from orderbook_cli.views.layout import Item
from orderbook_cli.views.state import LadderView
from tests.ladder_check import check_screen, close
from tests.test_multi import two_venues  # noqa: F401 (a fixture)

T0 = datetime(2025, 8, 8, 21, 40, 36, tzinfo=UTC)


def big_book(levels=20, counts=True, symbol="btc_mxn", venue="bitso"):
    """A BTC/MXN-like book: seven-digit prices, eight-decimal amounts, notionals in millions."""
    asks = [RawLevel(D("1400100.00") + D("50.37") * i, D("0.05184399") * (i + 1) + (D("24.3534") if i == 7 else 0), (i % 5) + 1 if counts else None) for i in range(levels)]
    bids = [RawLevel(D("1399900.00") - D("41.13") * i, D("0.02715399") * (i + 2), (i % 4) + 1 if counts else None) for i in range(levels)]
    return make_book(venue, symbol, bids, asks, timestamp=T0, received_at=T0)


def small_book():
    bids = [RawLevel(D("4550"), D("0.25"), 1), RawLevel(D("4549.5"), D("1"), 3), RawLevel(D("4548"), D("2"), None)]
    asks = [RawLevel(D("4560"), D("1"), 1), RawLevel(D("4555"), D("2.1234"), 2)]
    return make_book("revx", "BTC-USD", bids, asks, timestamp=T0, received_at=T0)


def draw(renderable, width, height=200, color=False):
    console = Console(width=width, height=height, record=True, color_system="truecolor" if color else None, force_terminal=color, legacy_windows=False)
    console.print(renderable)
    return console.export_text()


def screen(book, width, height, view=None):
    view = view or LadderView(state="live", age=0.3, updates_per_second=12.5)
    if book.figures is None:  # what a feed delivers: shaped, with the liquidity the ladder always shows
        book = shape(book, ShapeSpec(liquidity=True))
    return draw(ladder(book, view, width=width, height=height), width)


SIZES = [(w, h) for w in (18, 22, 25, 30, 36, 40, 44, 48, 52, 56, 60, 64, 68, 72, 80, 100, 120) for h in (4, 5, 6, 8, 10, 15, 24, 40)]


@pytest.mark.parametrize("width,height", SIZES)
def test_every_number_is_whole_at_every_size(width, height):
    book = big_book()
    out = screen(book, width, height)
    lines = out.rstrip("\n").splitlines()
    assert len(lines) <= height, out
    seen = check_screen(out, book, width)
    if height >= 8 and width >= 30:
        assert seen["ask"] and seen["bid"], out  # a ladder, not just a summary


def test_a_cropped_value_fails_the_check():
    book = big_book()
    out = screen(book, 80, 24)
    row = next(line for line in out.splitlines() if line.startswith("ask"))
    notional = row.split()[4]
    with pytest.raises(AssertionError):
        check_screen(out.replace(notional, notional[:3]), book, 80)
    assert not close("609", D("60915.66")) and close("60.9k", D("60915.66")) and close("3.92M", D("3918941.52"))


def titles(out):
    return next(line for line in out.splitlines() if "price" in line).split()


def test_columns_drop_in_order_notional_orders_side_then_bars():
    book = big_book()
    wide = screen(book, 120, 40)
    assert titles(wide) == ["price", "MXN", "amount", "BTC", "total", "BTC", "notional", "MXN", "orders", "depth"]
    assert "█" * BAR_WIDTH in wide
    seen = []
    for width in range(120, 21, -1):
        heads = tuple(t for t in titles(screen(book, width, 40)) if t not in ("MXN", "BTC"))
        if heads not in seen:
            seen.append(heads)
    assert seen == [
        ("price", "amount", "total", "notional", "orders", "depth"),
        ("price", "amount", "total", "orders", "depth"),
        ("price", "amount", "total", "depth"),
        ("price", "amount", "total"),
        ("price", "amount"),
    ]
    narrow = screen(book, 62, 15)
    assert re.search(r"\d\.\d\d[kM] ", narrow), narrow  # notional abbreviated before it is dropped
    bars = [len(re.search(r"[█▏▎▍▌▋▊▉]+$", line).group()) for line in narrow.splitlines() if re.search(r"█$", line)]
    assert bars and max(bars) >= MIN_BAR_WIDTH  # a bar is a bar, not one block


def test_side_labels_go_after_orders():
    book = big_book()
    sides = {width: screen(book, width, 24).splitlines()[2].split()[0] for width in (72, 56, 48)}
    widths_with_labels = [w for w, first in sides.items() if first == "ask"]
    assert 72 in widths_with_labels


def test_compact_summary_below_the_minimum():
    book = big_book()
    for width, height in ((20, 10), (40, 4), (18, 3)):
        out = screen(book, width, height)
        assert "spread 200" in out or "bid 1399900.00" in out, out
        assert check_screen(out, book, width)["compact"], out
        assert len(out.rstrip("\n").splitlines()) <= height


def test_widths_stay_put_between_frames():
    view = LadderView(state="live")
    first = big_book()
    thinner = make_book("bitso", "btc_mxn", [RawLevel(D("1399900"), D("0.1"), 1)], [RawLevel(D("1400100"), D("0.2"), 1)], timestamp=T0, received_at=T0)
    one = draw(ladder(first, view, width=100, height=24), 100)
    two = draw(ladder(thinner, view, width=100, height=24), 100)
    assert titles(one) == titles(two)
    column = lambda out: next(line for line in out.splitlines() if "price" in line).index("notional")  # noqa: E731
    assert column(one) == column(two)
    # widths come from the whole book, not only the rows that fit
    only_three = draw(ladder(big_book(), LadderView(state="live"), width=100, height=12), 100)
    assert column(only_three) == column(one)


def test_quote_amounts_at_currency_precision_and_units_labelled():
    book = big_book()
    out = screen(book, 120, 40)
    assert "price MXN" in out and "amount BTC" in out and "notional MXN" in out
    best_ask = next(line for line in out.splitlines() if line.startswith("ask") and "1400100.00" in line)
    assert re.search(r" 72586\.77 ", best_ask), best_ask  # 0.05184399 × 1400100 = 72586.770399: cents only
    impact = draw(ladder(shape(book, ShapeSpec(impact=ImpactSize(D("1")))), LadderView(state="live"), width=120), 120)
    avg = re.search(r"buy  1 BTC:  avg (\d+\.(\d+))", impact)
    assert avg and len(avg.group(2)) == 4, impact  # price precision 2, plus 2


def test_no_orders_column_when_the_venue_sends_no_counts():
    out = screen(big_book(counts=False, venue="bitmart-v3", symbol="BTC_USDT"), 120, 40)
    assert "orders" not in out and "notional USDT" in out


def test_levels_shown_of_held():
    out = screen(big_book(), 80, 24)
    shown = sum(line.startswith("bid") for line in out.splitlines())
    assert f"{shown} of 20 levels shown" in out and shown < 20
    assert "20 levels" in screen(big_book(), 80, 60) and "of 20" not in screen(big_book(), 80, 60)
    assert "· 1 level ·" in screen(big_book(levels=1), 80, 24).replace("\n", " · ")


def test_crossed_and_locked_books_are_flagged():
    crossed = make_book("bitso", "btc_mxn", [RawLevel(D("101"), D("1"), 1)], [RawLevel(D("100"), D("1"), 1)], timestamp=T0, received_at=T0)
    out = screen(crossed, 80, 24)
    assert "CROSSED spread -1 (-99.50 bps)" in out and "CROSSED" in out.splitlines()[0]
    locked = make_book("bitso", "btc_mxn", [RawLevel(D("100"), D("1"), 1)], [RawLevel(D("100"), D("1"), 1)], timestamp=T0, received_at=T0)
    assert "LOCKED spread 0" in screen(locked, 80, 24)
    assert "CROSSED" in screen(crossed, 20, 5)  # the compact summary says so too


def test_header_drops_items_by_priority_and_takes_extensions():
    view = LadderView(state="live", age=0.3, updates_per_second=12.5, malformed=4)
    view.header_items.append(Item(1, Text("SYNCED seq 42")))
    book = big_book()
    wide = header(book, view, width=120).plain
    assert wide == "bitso btc_mxn  ● live  age 0.3s  4 bad frames  as of 21:40:36 UTC  12.5 upd/s  SYNCED seq 42"
    narrow = header(book, view, width=40).plain
    assert narrow == "bitso btc_mxn  ● live  SYNCED seq 42"
    stale = LadderView(state="reconnecting", age=9, stale=True, paused=True)
    assert header(book, stale, width=36).plain == "bitso btc_mxn  ● RECONNECTING"  # the name before PAUSED and STALE
    assert header(book, stale, width=46).plain == "bitso btc_mxn  ● RECONNECTING  PAUSED"
    assert header(book, LadderView(state="live", age=1.5), width=40).plain == "bitso btc_mxn  ● live  age 1.5s"  # the age before the clock
    # short lines: a calm state shrinks to its glyph before the name is cut; a warning keeps its word
    assert header(book, LadderView(state="live"), width=20).plain == "bitso btc_mxn  ●"
    assert header(book, LadderView(state="replay"), width=16).plain == "bitso btc_mxn  ▶"
    assert header(book, LadderView(state="replay"), width=30).plain == "bitso btc_mxn  ▶ REPLAY"
    assert header(book, LadderView(state="reconnecting"), width=22).plain == "bitso…  ● RECONNECTING"


def test_group_presets_from_the_price_in_bps():
    book = big_book()  # mid 1,400,000 MXN: 1 bp = 140
    assert group_presets(book) == [D(100), D(500), D(1000), D(5000)]
    assert group_presets(small_book()) == [D("0.5"), D(2), D(5), D(20)]  # 4549.5: the book's step is 0.1
    cheap = make_book("x", "DOGE-USD", [RawLevel(D("0.12345"), D(1), 1)], [RawLevel(D("0.12355"), D(1), 1)], timestamp=T0, received_at=T0)
    assert group_presets(cheap) == [D("0.00005"), D("0.0001"), D("0.0005")]


def test_grouped_ladder_shows_the_real_spread_and_the_tick_as_typed():
    book = big_book()
    view = LadderView(state="live", group=D(1000))
    out = draw(ladder(shape(book, ShapeSpec(depth=20, group=D(1000), liquidity=True)), view, width=100, height=24), 100)
    assert "spread 200.00 (1.43 bps)" in out  # not the grouped 2000
    assert "grouped by 1000 (≈7.1 bps)" in out


@pytest.mark.parametrize("group, said", [(D(5), "≈0.75 bps"), (D("0.3"), "≈0.04 bps"), (D("0.0001"), "≈<0.01 bps"), (D(1000), "≈149.3 bps")])
def test_the_grouping_tick_in_bps_is_rounded_once(group, said):
    """5 at a 67,000 mid is 0.746 bps: 0.75, never 0.8 (0.75 rounded again), nor 0.0 for a real tick."""
    from orderbook_cli.book import RawLevel, make_book
    book = make_book("revx", "BTC-USD", [RawLevel(D("66999"), D(1), 1)], [RawLevel(D("67001"), D(1), 1)], timestamp=None, received_at=T0)
    out = draw(ladder(shape(book, ShapeSpec(group=group)), LadderView(state="live", group=group), width=120, height=24), 120)
    assert f"grouped by {group} ({said})" in out, out


def test_liquidity_bands_by_hand():
    book = small_book()  # mid 4552.5; 10 bps = 4.5525 -> [4547.9475, 4557.0525]
    bands = liquidity(book.bids, book.asks, book.mid)
    assert [band.bps for band in bands] == [10, 25, 50, 100]
    ten = bands[0]
    assert ten.bid == D("3.25") and ten.ask == D("2.1234")  # every bid, the 4555 ask only
    assert ten.bid_notional == D("14783.00") and ten.ask_notional == D("9672.0870")
    assert ten.imbalance == D("0.2097")  # (3.25 - 2.1234) / 5.3734
    assert not ten.complete  # the bids end inside the band: a lower bound
    data = liquidity_to_dict(book.mid, bands)
    assert data["mid"] == "4552.5" and data["bands"][0] == {
        "bps": 10, "bid": "3.25", "ask": "2.1234", "bid_notional": "14783.00", "ask_notional": "9672.0870", "imbalance": "0.2097", "complete": False}
    assert data["bands"][1]["ask"] == "3.1234"
    line = next(line for line in screen(book, 120, 24).splitlines() if line.startswith("near mid"))
    assert line.startswith("near mid BTC bid|ask:  ±10bps ≥3.25|2.12 (60% bids)  ±25bps"), line  # 3.25 of 5.3734; the asks reach past
    one_sided = make_book("x", "A-B", [], [RawLevel(D(1), D(1), 1)], timestamp=T0, received_at=T0)
    assert liquidity(one_sided.bids, one_sided.asks, one_sided.mid) == ()


def test_liquidity_complete_when_the_book_reaches_past_the_band():
    book = big_book()  # mid 1,400,000: 1 bp = ±140, 10 bps = ±1400
    one, ten = liquidity(book.bids, book.asks, book.mid, bands=(1, 10))
    assert one.complete and one.bid == book.bids[0].amount and one.ask == book.asks[0].amount  # the next levels lie beyond
    assert not ten.complete  # the deepest ask 1401057.03 is still inside 1401400
    assert ten.ask == book.asks[-1].total


def test_level_cursor_moves_and_reports_cumulative_size_notional_and_distance():
    live = LiveLadder("bitso", "btc_mxn", ShapeSpec(depth=20, group=None), stale_after=5)
    book = big_book()
    live.on_book(book, 0.0)
    live.frame(0.1, 24, 0.0, 1.0, 0, width=100)
    live.on_key(UP, 0.2)
    assert live.view.cursor == 1  # the best ask
    for key in ("k", "k", "j"):
        live.on_key(key, 0.2)
    assert live.view.cursor == 2
    out = draw(live.frame(0.3, 24, 0.0, 1.0, 0, width=100), 100)
    level = book.asks[1]
    notional = book.asks[0].price * book.asks[0].amount + level.price * level.amount
    line = next(line for line in out.splitlines() if line.startswith("▸"))
    assert f"▸ ask 2 @ {level.price}" in line and f"cum {level.total} BTC" in line
    assert f"{notional.quantize(D('0.01'))} MXN" in line
    assert f"avg {(notional / level.total).quantize(D('0.0001'))}" in line  # sweeping to it: price precision + 2
    assert "+1.07 bps from mid" in line  # (1400150.37 - 1400000) / 1400000 × 1e4 = 1.074
    for _ in range(5):
        live.on_key(DOWN, 0.4)
    assert live.view.cursor == -4  # ask 2, ask 1, then across the spread: bid 1 … bid 4
    for _ in range(50):
        live.on_key("j", 0.4)
    assert live.view.cursor == -live.view.rows_shown  # never off screen
    live.on_key(ESCAPE, 0.5)
    assert live.view.cursor == 0


def test_cursor_row_is_highlighted():
    view = LadderView(state="live", cursor=-1)
    coloured = Console(width=100, record=True, color_system="truecolor", force_terminal=True)
    coloured.print(ladder(big_book(), view, width=100, height=24))
    row = next(line for line in coloured.export_text(styles=True).splitlines() if "1399900.00" in line)
    assert "\x1b[7m" in row or ";7m" in row or "7;" in row


def test_arrow_keys_are_read_whole():
    assert split_keys("\x1b[Ak\x1b[Bj\x1bOAq\x1b") == [UP, "k", DOWN, "j", UP, "q", ESCAPE]
    assert split_keys("\x1b[5~+") == ["+"]  # other sequences (PgUp) are not read as letters


def test_snapshot_ladder_grouped_shows_the_real_spread(obook, http_venue):
    from tests.servers.http_venue import Reply, payload

    http_venue.route("/api/2.0/public/order-book/BTC-USD", Reply(body=payload("revolutx_1.json")))
    run = obook("snapshot", "revx", "BTC-USD", "--group", "10", env={"OBOOK_REVX_URL": http_venue.url, "COLUMNS": "100"})
    assert run.code == 0, run
    assert re.search(r"ask\s+2100\s+9\.96165567", run.stdout) and re.search(r"bid\s+2090\s+2\.33801954", run.stdout), run
    assert "spread 7.00 (33." in run.stdout, run  # 2097.13 - 2090.13, not the grouped 10
    assert "grouped by 10" in run.stdout


def test_long_notices_are_cut_between_words():
    notice = "the venue closed the connection (code 1006); retrying in 12.5s, attempt 3 of 10"
    view = LadderView(state="reconnecting", notice=notice)
    for width in range(20, len(notice) + 1):
        out = draw(ladder(big_book(), view, width=width, height=24), width)
        lines = out.splitlines()[1:3]  # two lines at most, then the column titles
        if "price" in lines[1]:
            lines = lines[:1]
        assert all(len(line) <= width for line in lines), (width, lines)
        kept = " ".join(lines).rstrip("…").split()
        assert kept == notice.split()[: len(kept)], (width, lines)  # whole words only
        assert kept == notice.split() or lines[-1].endswith("…"), (width, lines)
        if width >= 41:  # two lines hold it all: the countdown is never cut
            assert kept == notice.split(), (width, lines)


def test_help_wraps_between_keys():
    for width in (30, 40, 60, 120):
        out = screen(big_book(), width, 40, LadderView(state="live", show_help=True))
        lines = out.splitlines()
        help_text = " · ".join(lines[next(i for i, line in enumerate(lines) if "keys:" in line):])  # the help is last
        for key in help_keys(LADDER_ACTIONS):
            assert key in help_text, (width, out)


def test_json_liquidity_object(obook, tmp_path):
    book = big_book()
    path = tmp_path / "book.ndjson"
    path.write_text(dumps(book_to_dict(book)) + "\n")
    run = obook("replay", str(path), "--liquidity")
    assert run.code == 0, run
    data = json.loads(run.stdout.splitlines()[0])
    bands = data["liquidity"]["bands"]
    assert data["liquidity"]["mid"] == "1400000.00" and [band["bps"] for band in bands] == [10, 25, 50, 100]
    assert bands[0]["bid"] == str(book.bids[-1].total) and bands[0]["complete"] is False
    assert "liquidity" not in json.loads(obook("replay", str(path)).stdout.splitlines()[0])


def test_json_liquidity_of_a_consolidated_book(obook, two_venues):  # noqa: F811  (the fixture imported above)
    run = obook("snapshot", "--feed", "top", "bitso:btc_usd", "revx:BTC-USD", "--merge", "--json", "--liquidity", env=two_venues)
    assert run.code == 0, run
    ten = run.json()["liquidity"]["bands"][0]
    # mid 86613.5, ±86.61: every bid (86612, 86610, 86600) and both asks (86615, 86620)
    assert (ten["bps"], ten["bid"], ten["ask"], ten["imbalance"]) == (10, "1.72311818", "1.7", "0.0068")


def test_a_label_is_never_left_without_its_value():
    """Items parted by two spaces are cut between items: "age…" would say an age is there, cut."""
    from rich.text import Text

    from orderbook_cli.views.layout import Item, clip_words, pack

    line = "A kraken BTC/USD ● live  age 20.0s"
    for width in range(len("A kraken BTC/USD ● live…"), len(line)):
        assert clip_words(Text(line), width).plain == "A kraken BTC/USD ● live…", width
    assert clip_words(Text(line), len(line)).plain == line
    assert clip_words(Text("retrying in 12.5s, attempt 3"), 20).plain == "retrying in 12.5s,…"  # one item: between words
    legend = pack([Item(0, Text(line)), Item(0, Text("B bitso btc_usd ● live  age 0.4s"))], 40, 1)
    assert [row.plain for row in legend] == [line]  # parts are whole: the count goes only where it fits
    assert [row.plain for row in pack([Item(1, Text(line)), Item(0, Text("B"))], 20, 1)] == ["B +1 more"]  # by priority
    assert pack([Item(0, Text(line))], 30, 1) == []  # a part is never cut: it is left out


@pytest.mark.parametrize("width", [20, 22, 25])
def test_impact_and_footer_never_show_a_label_without_its_value(width):
    """At 20 columns the impact lines read 'buy  2 BTC:' with no figure and the footer
    '17 of 20 levels…': now a side's label goes with its average or the lines are left
    out, and the footer says the count in a shorter wording that fits whole."""
    bids = [RawLevel(D("98700.00") - D("0.37") * i, D("0.25") + D("0.01") * i, 1) for i in range(20)]
    asks = [RawLevel(D("98701.00") + D("0.41") * i, D("0.25") + D("0.01") * i, 1) for i in range(20)]
    raw = make_book("bitso", "btc_usd", bids, asks, timestamp=T0, received_at=T0)
    book = shape(raw, ShapeSpec(impact=ImpactSize(D(2)), liquidity=True))
    out = draw(ladder(book, LadderView(state="live", actions=LADDER_ACTIONS), width=width, height=40), width)
    assert "…" not in out, out
    assert not re.search(r"(buy|sell) +2 BTC:\s*$", out, re.M), out
    if "buy  2 BTC:" in out:
        assert re.search(r"^buy  2 BTC:  avg \d+\.\d+", out, re.M) and re.search(r"^sell 2 BTC:  avg \d+\.\d+", out, re.M), out
    assert re.search(r"^(\d+ of 20 levels shown|\d+/20( levels( shown)?)?)\b", out, re.M), out


def test_side_by_side_footers_are_whole_at_41_columns():
    from orderbook_cli.views.boards import BoardView
    from tests.test_boards import BITSO, REVX, board, picture
    from tests.test_boards import draw as draw_board

    deep = [make_book(b.venue, b.symbol, [RawLevel(lv.price - i, lv.amount, 1) for i in range(20) for lv in b.bids[:1]],
                      [RawLevel(lv.price + i, lv.amount, 1) for i in range(20) for lv in b.asks[:1]], timestamp=T0, received_at=T0)
            for b in (BITSO, REVX)]
    for height in (10, 15, 24):
        out = draw_board(picture(board(deep, merged=False), BoardView(), 41, height), width=41)
        assert "levels…" not in out and "…" not in out, out
        assert re.search(r"\d+/20 levels", out), out


def test_liquidity_line_says_the_heavier_sides_share_never_0_percent():
    """'±10bps 19.1|19.1 (0% asks)' read as no asks at all: the heavier side's share is said
    instead, and nothing when the two are even to the percent."""
    even = make_book("bitso", "btc_usd", [RawLevel(D("98700"), D("19.1"), 1)], [RawLevel(D("98701"), D("19.2"), 1)], timestamp=T0, received_at=T0)
    line = next(line for line in screen(even, 120, 24).splitlines() if line.startswith("near mid"))
    assert "±10bps ≥19.1|≥19.2  " in line and "%" not in line, line  # imbalance -0.0026: even, not "0% asks"
    heavy = make_book("bitso", "btc_usd", [RawLevel(D("98700"), D("1"), 1)], [RawLevel(D("98701"), D("3"), 1)], timestamp=T0, received_at=T0)
    line = next(line for line in screen(heavy, 120, 24).splitlines() if line.startswith("near mid"))
    assert "±10bps ≥1|≥3 (75% asks)" in line, line  # 3 of 4 rest on the ask side (imbalance -50%)
