"""The tape in `watch`'s views, on fixed-size consoles: the volume delta in the
header, the volume traded at each ladder level over the last minute (a column
dropped whole, never cut), and trades marked on the heatmap."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from orderbook_cli.book import RawLevel, make_book
from orderbook_cli.shape import ShapeSpec, shape
from orderbook_cli.trades import Tape, Trade, traded_by_level
from orderbook_cli.views.header import header
from orderbook_cli.views.heatmap import History, heatmap
from orderbook_cli.views.ladder import choose_layout, ladder
from orderbook_cli.views.state import LadderView
from orderbook_cli.views.tape import volume_items
from tests.test_ladder_layout import big_book, draw
from tests.test_pictures import draw as draw_picture
from tests.test_pictures import rows_by_price, ten_each_side

T0 = datetime(2026, 12, 5, 10, 0, 0, tzinfo=UTC)


def trade(price, amount, side, at=T0, venue="bitso"):
    return Trade(venue, "btc_mxn", None, D(price), D(amount), side, at, at)


# --- the ladder's traded column ---

def traded_volumes(book):
    """Some volume at three ask and three bid levels, one print inside the spread (shown nowhere)."""
    asks, bids = book.asks, book.bids
    return {asks[0].price: D("0.5"), asks[3].price: D("0.00012"), asks[7].price: D("12.25"),
            bids[0].price: D("1.125"), bids[1].price: D("0.3"), bids[9].price: D("7"), (asks[0].price + bids[0].price) / 2: D("99")}


def title_end(lines, title):
    row = next(line for line in lines if "price" in line and "amount" in line)
    at = row.find(title)
    return None if at < 0 else at + len(row[at:].split("  ")[0].rstrip()), row


def level_rows(lines, book):
    """{(side, price): line} for each ladder row on screen."""
    prices = {str(lv.price): ("ask", lv.price) for lv in book.asks} | {str(lv.price): ("bid", lv.price) for lv in book.bids}
    out = {}
    for line in lines:
        words = line.split()
        for word in words[:2]:
            if word in prices:
                out[prices[word]] = line
                break
    return out


@pytest.mark.parametrize("width", [30, 44, 60, 72, 80, 90, 100, 110, 120, 146, 160])
def test_traded_column_is_exact_or_dropped_whole(width):
    book = shape(big_book(), ShapeSpec(liquidity=True))
    traded = traded_volumes(book)
    view = LadderView(state="live", traded=traded)
    lines = draw(ladder(book, view, width=width, height=45), width).splitlines()
    assert all(len(line) <= width for line in lines)
    layout = choose_layout(book, view.memory, width, traded=True)
    at_level = traded_by_level(book, traded, None)
    shown = layout is not None and "traded" in layout.columns
    assert ("1m vol" in "\n".join(lines)) == shown
    if not shown:
        for value in ("1.125", "12.25", "0.00012"):
            assert not any(value in line for line in lines if "price" not in line)
        return
    index = layout.columns.index("traded")
    end = sum(layout.widths[: index + 1]) + index  # right edge of the column (one space between columns)
    cell_width = layout.widths[index]
    rows = level_rows(lines, book)
    assert rows, lines
    for key, line in rows.items():
        line = line.ljust(width)  # the export drops trailing spaces
        cell = line[end - cell_width:end]
        assert line[end - cell_width - 1] == " " and (end == width or line[end] == " "), line  # nothing runs into it
        expected = at_level.get(key)
        assert (D(cell) == expected) if expected is not None else cell.strip() == "", (key, line)
    assert rows[("ask", book.asks[3].price)][end - cell_width:end].strip() == "0.00012"  # all its digits
    assert "99" not in {cell.strip() for cell in (line[end - cell_width:end] for line in rows.values())}  # the in-spread print


def test_traded_column_only_when_trades_are_followed():
    book = shape(big_book(), ShapeSpec(liquidity=True))
    assert "1m vol" not in draw(ladder(book, LadderView(state="live"), width=160, height=30), 160)
    assert "1m vol BTC" in draw(ladder(book, LadderView(state="live", traded={}), width=160, height=30), 160)


def test_traded_volume_is_bucketed_as_the_ladder_groups():
    raw = make_book("revx", "BTC-USD", [RawLevel(D("4550"), D("1"), 1), RawLevel(D("4541"), D("1"), 1)],
                    [RawLevel(D("4555"), D("1"), 1), RawLevel(D("4569.5"), D("1"), 1)], timestamp=T0, received_at=T0)
    book = shape(raw, ShapeSpec(group=D("10")))
    traded = {D("4550"): D("0.25"), D("4541"): D("1"), D("4552"): D("5"), D("4555"): D("0.5"), D("4569.5"): D("0.125")}
    assert traded_by_level(book, traded, D("10")) == {("bid", D("4550")): D("0.25"), ("bid", D("4540")): D("1"),
                                                       ("ask", D("4560")): D("0.5"), ("ask", D("4570")): D("0.125")}
    assert traded_by_level(raw, traded, None) == {("bid", D("4550")): D("0.25"), ("bid", D("4541")): D("1"),
                                                   ("ask", D("4555")): D("0.5"), ("ask", D("4569.5")): D("0.125")}


def test_tape_volume_at_forgets_after_the_window():
    tape = Tape(window=60)
    tape.add(trade("100", "1", "buy"), now=0.0)
    tape.add(trade("100", "0.5", "sell"), now=30.0)
    tape.add(trade("101", "2", None), now=45.0)
    assert tape.volume_at(now=59.0) == {D("100"): D("1.5"), D("101"): D("2")}
    assert tape.volume_at(now=61.0) == {D("100"): D("0.5"), D("101"): D("2")}
    assert tape.volume_at(now=106.0) == {}


# --- the header's volume delta ---

def test_header_shows_the_delta_then_its_parts_dropped_whole():
    tape = Tape()
    for t in (trade("100", "1.5", "buy"), trade("100", "0.25", "sell"), trade("99", "0.75", "sell")):
        tape.add(t)
    book = shape(ten_each_side(), ShapeSpec())
    view = LadderView(state="live", header_items=volume_items(tape))
    wide = header(book, view, width=200).plain
    assert "delta +0.50" in wide and "bought 1.5 sold 1.00" in wide
    for width in range(20, 120):
        line = header(book, view, width=width).plain
        assert len(line) <= width
        numbers = re.findall(r"(?:delta|bought|sold) (\S+)", line)
        assert all(n in ("+0.50", "1.5", "1.00") for n in numbers), line  # whole or absent
        if "bought" in line:
            assert "delta" in line  # the delta goes last


def test_header_keeps_unsided_volume_apart_from_the_delta():
    tape = Tape()
    tape.add(trade("100", "2", None, venue="revx"))
    items = volume_items(tape)
    assert [i.text.plain for i in items] == ["traded 2 (side unknown)"]
    tape.add(trade("100", "1", "sell"))
    assert [i.text.plain for i in volume_items(tape)] == ["delta -1", "bought 0 sold 1", "traded 2 (side unknown)"]


# --- trades on the heatmap ---

def test_heatmap_marks_trades_at_price_and_time_sized_by_amount():
    history = History()
    for s in range(20):
        history.add(ten_each_side(T0 + timedelta(seconds=s)))
    history.trade(trade("95", "10", "sell", T0 + timedelta(seconds=19, milliseconds=500)))  # now, big
    history.trade(trade("105", "1", "buy", T0 + timedelta(seconds=16)))  # three seconds ago, small
    history.trade(trade("100", "3", None, T0 + timedelta(seconds=18)))  # a second ago, medium
    out = draw(heatmap(history.columns(), history.book, step=D(1), depth=None, width=70, height=22, colour="none",
                       marks=history.marks), 70)
    rows = rows_by_price(out)
    assert rows["95"].endswith("@")  # the right edge is now
    assert rows["105"][-4] == "o"
    assert rows["100"][-2] == "O"
    wide = draw(heatmap(history.columns(), history.book, step=D(1), depth=None, width=110, height=22, colour="none",
                        marks=history.marks), 110)
    assert "@@ trades by size" in wide.splitlines()[0]  # the key to the marks, where the legend has room
    plain_map = draw(heatmap(history.columns(), history.book, step=D(1), depth=None, width=70, height=22, colour="none"), 70)
    assert "@" not in plain_map and "trades" not in plain_map  # no marks asked for: none drawn


def test_heatmap_marks_colour_the_takers_side():
    history = History()
    history.add(ten_each_side(T0))
    history.trade(trade("99", "1", "sell", T0))
    history.trade(trade("101", "1", "buy", T0))
    out = draw_picture(heatmap(history.columns(), history.book, step=D(1), depth=None, width=40, height=16, colour="256",
                               marks=history.marks), 40, color="256")
    assert re.search(r"\x1b\[[0-9;]*31[0-9;]*m●", out) and re.search(r"\x1b\[[0-9;]*32[0-9;]*m●", out)


def test_heatmap_marks_are_a_bounded_ring():
    history = History()
    for n in range(20_000):
        history.trade(trade("100", "1", "buy", T0 + timedelta(milliseconds=n)))
    assert len(history.marks) == history.marks.maxlen == 5_000
    history.clear()
    assert not history.marks


# --- the trades tape ---

@pytest.mark.parametrize("width", [12, 16, 20, 21, 22])
def test_narrow_tape_drops_the_time_then_the_size_and_keeps_side_and_price(width):
    """`obook trades` at 20-22 columns showed only its title though trades were there: the
    time and the size now go whole, each row keeps its side and price."""
    from orderbook_cli.views.tape import frame

    tape = Tape()
    for n in range(3):
        tape.add(Trade("bitso", "btc_usd", str(n), D("98794.38") + n, D("0.41312430"), "buy" if n % 2 else "sell", T0, T0))
    lines = [line.plain for line in frame(tape, "bitso btc_usd", width=width, height=10, colour=False).renderables]
    trades = [line for line in lines[1:] if line.strip()]
    assert len(trades) == 3 and all(len(line) <= width for line in trades), lines
    assert all(re.fullmatch(r"[+-]  (0\.41312430  )?9879[4-6]\.38", line) for line in trades), trades
