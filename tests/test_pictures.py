"""The depth chart, the heatmap and the view switch on fixed-size consoles: known book, known picture."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from rich.console import Console

from orderbook_cli.book import RawLevel, make_book
from orderbook_cli.pipeline.live import LiveLadder
from orderbook_cli.shape import ShapeSpec
from orderbook_cli.views.chart import depth_chart
from orderbook_cli.views.choose import VIEWS, next_view
from orderbook_cli.views.heatmap import History, heatmap

T0 = datetime(2025, 8, 8, 21, 40, 36, tzinfo=UTC)
BRAILLE = re.compile("[\u2801-\u28ff]")


def draw(renderable, width, height=None, color=None):
    """color: None (no colour), "256" or "truecolor"."""
    console = Console(width=width, height=height, record=True, color_system=color, force_terminal=color is not None, legacy_windows=False)
    console.print(renderable)
    return console.export_text(styles=color is not None)


def ten_each_side(at=T0, wall=None):
    """Bids 99..90 and asks 101..110, one unit each (mid 100); `wall` adds size at one price."""
    bids = [RawLevel(D(99 - i), D(1), 1) for i in range(10)]
    asks = [RawLevel(D(101 + i), D(1), 1) for i in range(10)]
    if wall:
        (bids if wall[0] < 100 else asks).append(RawLevel(D(wall[0]), D(wall[1]), 1))
    return make_book("revx", "TEST-USD", bids, asks, timestamp=at, received_at=at)


def cells(renderable, width, height):
    """The picture as rows of (character, colour name or None), as a 256-colour terminal gets it."""
    console = Console(width=width, height=height, color_system="256", force_terminal=True, legacy_windows=False)
    grid = []
    for line in console.render_lines(renderable, console.options.update(height=None), pad=False):
        row = []
        for segment in line:
            colour = segment.style.color.name if segment.style and segment.style.color else None
            row += [(ch, colour) for ch in segment.text]
        grid.append(row)
    return grid


# --- depth chart ---

def test_chart_bids_left_of_mid_asks_right_round_price_labels():
    out = draw(depth_chart(ten_each_side(), 80, 24), 80)
    lines = out.splitlines()
    assert len(lines) == 24 and max(len(line) for line in lines) <= 80
    assert "best bid 99" in lines[0] and "best ask 101" in lines[0] and "mid 100" in lines[0]
    plot = lines[1:-2]
    mid = {line.index("┊") for line in plot if "┊" in line}
    assert len(mid) == 1
    mid = mid.pop()
    sides = {"green": set(), "red": set()}
    for row in cells(depth_chart(ten_each_side(), 80, 24), 80, 24)[1:-2]:
        for col, (ch, colour) in enumerate(row):
            if BRAILLE.match(ch):
                sides[colour].add(col)
    assert sides["green"] and sides["red"]
    assert max(sides["green"]) < mid < min(sides["red"])  # bids left of mid, asks right
    for line in plot:  # without colour: solid bids, hatched asks
        assert "⣿" not in line[mid:] and "⡇⡇" not in line[:mid]
    assert sum(line.count("⣿") for line in plot) > 100 and sum(line.count("⡇") for line in plot) > 50
    axis, labels = lines[-2], lines[-1]
    ticks = [(m.start(), m.group()) for m in re.finditer(r"\d+", labels)]
    assert [text for _, text in ticks] == ["90", "95", "100", "105", "110"]
    for start, text in ticks:
        assert axis[start + len(text) // 2] in "┬▲"  # each label sits under its tick
    hundred = next(start + 1 for start, text in ticks if text == "100")
    assert abs(hundred - mid) <= 1  # 100 is the mid
    assert axis.count("▲") == 2  # best bid and best ask marked
    # cumulative amount axis: 0 at the bottom, the 10 units of a side at the top
    assert plot[-1].lstrip().startswith("0┤") and plot[0].lstrip().startswith("10┤")


def test_chart_staircase_rises_away_from_mid():
    lines = draw(depth_chart(ten_each_side(), 80, 24), 80).splitlines()[1:-2]
    height = lambda col: sum(1 for line in lines if BRAILLE.match(line[col]))  # noqa: E731
    gutter = lines[0].index("┤") + 1
    mid = next(line.index("┊") for line in lines if "┊" in line)
    bid_heights = [height(c) for c in range(gutter, mid)]
    ask_heights = [height(c) for c in range(mid + 1, 80)]
    assert bid_heights == sorted(bid_heights, reverse=True) and bid_heights[0] > bid_heights[-1]
    nonzero = [h for h in ask_heights if h]
    assert nonzero == sorted(nonzero) and nonzero[-1] > nonzero[0]


def test_chart_marks_the_real_best_prices_whatever_the_grouping():
    """--group buckets the staircase; the ▲ marks stay at the best bid and ask the legend names (99, 101), not at the buckets' bounds."""
    from orderbook_cli.shape import shape

    def marks(group):
        lines = draw(depth_chart(shape(ten_each_side(), ShapeSpec(group=group)), 80, 24), 80).splitlines()
        axis = next(line for line in lines if "└" in line)
        return lines[0], [i for i, ch in enumerate(axis) if ch == "▲"]

    legend, ungrouped = marks(None)
    grouped_legend, grouped = marks(D(5))
    assert len(ungrouped) == 2 and grouped == ungrouped
    assert "best bid 99" in grouped_legend and "best ask 101" in grouped_legend


def test_chart_colours_sides_and_reads_without_colour():
    coloured = draw(depth_chart(ten_each_side(), 80, 24), 80, color="256")
    assert re.search(r"\x1b\[32m⣿", coloured) and re.search(r"\x1b\[31m[⡇⢀⣀]", coloured)
    plain_out = draw(depth_chart(ten_each_side(), 80, 24), 80)
    assert "\x1b[" not in plain_out and "⣿" in plain_out and "⡇" in plain_out


@pytest.mark.parametrize("size", [(40, 8), (80, 24), (150, 45), (20, 6), (12, 4)])
def test_chart_fills_any_size_without_cut_numbers(size):
    width, height = size
    book = make_book("revx", "BTC-USD", [RawLevel(D("64123.45") - i * D("7.5"), D("0.125") * (i + 1), None) for i in range(40)],
                     [RawLevel(D("64130.05") + i * D("5.25"), D("0.3"), None) for i in range(40)], timestamp=T0, received_at=T0)
    lines = draw(depth_chart(book, width, height), width).splitlines()
    assert len(lines) <= height and max(len(line) for line in lines) <= width
    if width >= 40:
        labels = lines[-1]
        numbers = re.findall(r"\S+", labels)
        assert numbers and all(re.fullmatch(r"\d+(\.\d+)?", n) and 63800 <= float(n) <= 64400 for n in numbers), labels
        for line in lines[1:-2]:  # every amount label is a whole number in the gutter
            label = line.split("┤")[0].strip() if "┤" in line else ""
            assert label == "" or re.fullmatch(r"\d+(\.\d+)?", label), line


# --- heatmap ---

def history_of(books):
    history = History()
    for book in books:
        history.add(book)
    return history


def test_history_columns_come_from_book_time_and_stay_bounded():
    start = T0
    # 30 seconds of books arriving all at once (a replay at --speed max): 31 columns
    history = history_of([ten_each_side(start + timedelta(milliseconds=250 * i)) for i in range(121)])
    assert len(history.columns()) == 31
    # a silent gap: the resting book fills the empty slots
    history.add(ten_each_side(start + timedelta(seconds=40)))
    assert len(history.columns()) == 41
    small = History(capacity=5)
    for i in range(1000):
        small.add(ten_each_side(start + timedelta(seconds=i)))
    assert len(small.ring) == 5 and len(small.columns()) == 6
    long_gap = History(capacity=5)
    long_gap.add(ten_each_side(start))
    long_gap.add(ten_each_side(start + timedelta(days=3650)))  # no loop over ten years of empty slots
    assert len(long_gap.columns()) == 6
    # a replay jumping back to its start begins the picture again; a little jitter does not
    history.add(ten_each_side(start + timedelta(seconds=39)))
    assert len(history.columns()) == 41
    history.add(ten_each_side(start))
    assert len(history.columns()) == 1


def rows_by_price(out: str) -> dict[str, str]:
    return {m.group(2): m.group(1) for m in (re.match(r"(.*)┤(\d+)\s*$", line) for line in out.splitlines()) if m}


def test_heatmap_wall_appears_at_now_traces_and_legend():
    books = [ten_each_side(T0 + timedelta(seconds=s)) for s in range(20)]
    books.append(ten_each_side(T0 + timedelta(seconds=20), wall=(95, 50)))  # a wall appears at 95
    history = history_of(books)
    out = draw(heatmap(history.columns(), history.book, step=D(1), depth=None, width=70, height=22, colour="none"), 70)
    lines = out.splitlines()
    assert len(lines) <= 22 and max(len(line) for line in lines) <= 70
    assert lines[0].startswith("size ·>0 :") and "(max 51)" in lines[0] and "─ best ask" in lines[0] and "═ best bid" in lines[0]
    rows = rows_by_price(out)
    assert set(rows) >= {"95", "100", "105"}  # round prices every 5 rows
    wall = rows["95"]
    assert wall.endswith(":█") and set(wall.strip()) == {":", "█"}  # thick now (right edge), one unit before
    plot = [line for line in lines if "│" in line or "┤" in line]
    by_price = {100 + len(plot) // 2 - i: line for i, line in enumerate(plot)}
    assert by_price[99].rstrip().split("┤")[0].split("│")[0].endswith("═" * 21)  # best bid traced through time
    assert by_price[101].split("│")[0].split("┤")[0].endswith("─" * 21)  # best ask
    assert "now" in lines[-1] and lines[-1].rstrip().endswith("now")


@pytest.mark.parametrize("mode, escape", [("truecolor", "\x1b[48;2;"), ("256", "\x1b[48;5;")])
def test_heatmap_colour_modes(mode, escape):
    history = history_of([ten_each_side(T0 + timedelta(seconds=s), wall=(103, 20)) for s in range(5)])
    out = draw(heatmap(history.columns(), history.book, step=D(1), depth=None, width=60, height=20, colour=mode), 60, color=mode)
    assert escape in out
    assert "·" not in out and "░" not in out  # colour replaces the character ramp


def test_heatmap_grouping_merges_rows():
    history = history_of([ten_each_side(T0)])
    out = draw(heatmap(history.columns(), history.book, step=D(5), depth=None, width=40, height=12, colour="none"), 40)
    lines = out.splitlines()
    assert "(max 5)" in lines[0]  # five units in each 5-wide row
    assert rows_by_price(out)["100"].strip() == ""  # the spread: 99..95 is the 95 row, 101..105 the 105 row
    filled = [line for line in lines[1:-1] if line.split("│")[0].split("┤")[0].strip()]
    assert len(filled) == 4



def test_heatmap_near_zero_labels_no_negative_price():
    """A book whose mid is a few rows above zero: rows below zero hold no price and get no label."""
    book = make_book("revx", "TEST-USD", [RawLevel(D("0.1"), D(1), 1)], [RawLevel(D("0.3"), D(1), 1)], timestamp=T0, received_at=T0)
    history = history_of([book])
    out = draw(heatmap(history.columns(), history.book, step=D("0.1"), depth=None, width=40, height=30, colour="none"), 40)
    labels = [m.group(1) for m in (re.search(r"┤(\S+)\s*$", line) for line in out.splitlines()) if m]
    assert "0.0" in labels  # zero is labelled, the rows under it are not
    assert not [text for text in labels if text.startswith("-")], labels

# --- the view switch in the live view ---

def live_with_history(view="ladder", group=None):
    live = LiveLadder("revx", "TEST-USD", ShapeSpec(depth=20, group=group), stale_after=5, view=view)
    for s in range(10):
        live.on_book(ten_each_side(T0 + timedelta(seconds=s)), float(s))
    return live


def test_v_cycles_views_and_every_view_keeps_the_header():
    assert [next_view(v) for v in VIEWS] == ["chart", "heatmap", "ladder"]
    live = live_with_history()
    seen = []
    for _ in range(3):
        out = draw(live.frame(10.0, 24, 9.5, 3.0, 0, width=80), 80)
        first = out.splitlines()[0]
        assert "revx TEST-USD" in first and "age 0.5s" in first and "upd/s" in first
        seen.append(live.view_name)
        live.on_key("v", 10.0)
    assert seen == ["ladder", "chart", "heatmap"] and live.view_name == "ladder"


@pytest.mark.parametrize("view", ["chart", "heatmap"])
@pytest.mark.parametrize("width, height", [(40, 10), (80, 24), (150, 45)])
def test_views_fill_the_screen_and_keep_keys(view, width, height):
    live = live_with_history(view)
    out = draw(live.frame(10.0, height, 9.5, 3.0, 0, width=width), width)
    lines = out.rstrip("\n").splitlines()
    assert len(lines) == height and max(len(line) for line in lines) <= width
    assert lines[-1].startswith(view)
    grouped = live_with_history(view, group=D(5))  # grouping applies to the pictures too
    out = draw(grouped.frame(10.0, height, 9.5, 3.0, 0, width=width), width)
    assert "grouped by 5" in out or width < 50
    if view == "heatmap" and width > 50:
        assert "row 5" in out
    live = grouped
    live.on_key(" ", 10.0)
    live.on_book(ten_each_side(T0 + timedelta(seconds=60), wall=(97, 80)), 11.0)
    frozen = draw(live.frame(11.0, height, 11.0, 3.0, 0, width=width), width)
    assert "PAUSED" in frozen and frozen.splitlines()[-(height - 3):] == out.splitlines()[-(height - 3):]  # frozen picture
    live.on_key(" ", 12.0)
    resumed = draw(live.frame(12.0, height, 11.0, 3.0, 0, width=width), width)
    assert resumed.splitlines()[-(height - 3):] != out.splitlines()[-(height - 3):]


def test_waiting_screen_before_the_first_book():
    live = LiveLadder("bitso", "btc_mxn", ShapeSpec(depth=20, group=None), stale_after=5, view="heatmap")
    out = draw(live.frame(0.0, 24, None, 0.0, 0, width=80), 80)
    assert "bitso btc_mxn" in out and "waiting for the first book" in out


# --- snapshot --svg ---

def svg_text(path):
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()  # valid XML, or this raises
    assert root.tag.endswith("svg")
    return "".join(el.text or "" for el in root.iter() if el.tag.endswith("text")).replace("\xa0", " ")


@pytest.fixture
def revx_book(http_venue):
    from tests.servers.http_venue import Reply, payload

    http_venue.route("/api/1.0/public/order-book/ETH-USD", Reply(body=payload("revx_doc_public_v1.json")))
    return {"OBOOK_REVX_URL": http_venue.url}


def test_snapshot_svg_is_xml_with_the_books_prices(obook, revx_book, tmp_path):
    target = tmp_path / "book.svg"
    run = obook("snapshot", "revx", "ETH-USD", "--svg", str(target), env=revx_book)
    assert run.code == 0, run
    assert run.stdout == "" and f"wrote {target}" in run.stderr
    text = svg_text(target)
    for number in ("4000.00", "4005.00", "3995.00", "4010.00", "1.7000", "0.2500"):
        assert number in text  # best bid and ask, deeper levels and amounts, as text
    assert "revx ETH-USD" in text and "spread 5.00" in text
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()  # a picture, not a program: as open() would create it


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_snapshot_chart_svg_and_json_together(obook, revx_book, tmp_path):
    target = tmp_path / "depth.svg"
    run = obook("snapshot", "revx", "ETH-USD", "--view", "chart", "--svg", str(target), "--json", env=revx_book)
    assert run.code == 0, run
    assert run.json()["best_bid"] == "4000.00"  # stdout stays data
    text = svg_text(target)
    assert "best bid 4000.00" in text and "best ask 4005.00" in text and "⣿" in text


@pytest.mark.parametrize("where", ["missing-dir/book.svg", ".", "a" * 5000])
def test_snapshot_svg_unwritable_path_is_a_usage_error(obook, revx_book, tmp_path, where):
    from tests.conftest import assert_clean_failure

    run = obook("snapshot", "revx", "ETH-USD", "--svg", str(tmp_path / where), env=revx_book)
    assert_clean_failure(run, 2, "--svg")


def test_snapshot_heatmap_is_refused(obook, revx_book):
    from tests.conftest import assert_clean_failure

    assert_clean_failure(obook("snapshot", "revx", "ETH-USD", "--view", "heatmap", env=revx_book), 2, "heatmap")


def test_cli_offers_exactly_the_registered_views():
    from orderbook_cli import cli

    assert cli.VIEW_NAMES == VIEWS


@pytest.mark.parametrize("width", [40, 80])
def test_help_in_a_picture_lists_its_keys_whole(width):
    live = live_with_history("chart")
    live.on_key("?", 10.0)
    out = draw(live.frame(10.0, 24, 9.5, 3.0, 0, width=width), width)
    lines = out.rstrip("\n").splitlines()
    assert len(lines) == 24 and max(len(line) for line in lines) <= width
    help_text = " · ".join(lines[next(i for i, line in enumerate(lines) if line.startswith("keys:")):])
    for key in ("q quit", "v view", "+/- depth", "g grouping", "space pause", "? help"):
        assert key in help_text
    assert "level" not in help_text
