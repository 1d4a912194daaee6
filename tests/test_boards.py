"""Several sources on a fixed-width console: side by side and consolidated, and the pure merge."""

import re
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from rich.console import Console

from orderbook_cli import consolidate
from orderbook_cli.book import RawLevel, make_book
from orderbook_cli.errors import NetworkError, UsageError
from orderbook_cli.feed import Feed, FeedRequest, State, StatusEvent
from orderbook_cli.impact import ImpactSize
from orderbook_cli.pipeline.live import BoardScreen
from orderbook_cli.pipeline.plan import Plan, Source
from orderbook_cli.pipeline.sources import Board
from orderbook_cli.shape import ShapeSpec, shape
from orderbook_cli.symbols import Pair, split_sources
from orderbook_cli.venues import get_venue
from orderbook_cli.views.boards import BoardView

T0 = datetime(2025, 11, 21, 4, 40, tzinfo=UTC)


def book(venue, symbol, bids, asks, count=1):
    return make_book(venue, symbol, [RawLevel(D(p), D(a), count) for p, a in bids], [RawLevel(D(p), D(a), count) for p, a in asks],
                     timestamp=T0, received_at=T0)


BITSO = book("bitso", "btc_usd", [("86612", "0.17311818"), ("86600", "1")], [("86620", "0.5")])
REVX = book("revx", "BTC-USD", [("86612", "0.25"), ("86610", "0.3")], [("86615", "0.2"), ("86620", "1")])
BITMART = book("bitmart-v3", "BTC_USDT", [("86618", "0.05")], [("86630", "3")], count=None)


def board(books, merged, states=None, now=100.0, impact=None):
    """A board of real (unstarted) feeds whose stats say what each source is doing."""
    sources, feeds = [], []
    keys = consolidate.source_keys([(b.venue, b.symbol) for b in books])
    for key, b in zip(keys, books):
        request = FeedRequest(venue=b.venue, symbol=b.symbol, depth=20, timeout=1)
        feed = Feed(request, lambda ctx: None)
        feed.stats.state, feed.stats.last_book_at, feed.stats.last_heard_at = State.LIVE, now - 0.5, now - 0.5
        venue = get_venue(b.venue)
        sources.append(Source(key, f"{b.venue} {b.symbol}", request, ShapeSpec(depth=20), venue.open_feed))
        feeds.append(feed)
    spec = ShapeSpec(depth=20, impact=None if impact is None else ImpactSize(impact), liquidity=True)
    plan = Plan(sources, "BTC-USD" if merged else None, spec)
    result = Board(plan)
    for state, feed, b in zip(result.states, feeds, books):
        state.feed = feed
        state.book = b if merged else shape(b, spec)  # as each source's feed delivers it
    return result


def picture(b, view, width, height, now=100.0, stale_after=5.0):
    """The board's frame as the live loop draws it: statuses and the merged book from the pipeline, drawn by the view."""
    return BoardScreen(b, view, stale_after).draw(now, width, height, "none")


def draw(renderable, width=120, color=False):
    console = Console(width=width, record=True, color_system="truecolor" if color else None, force_terminal=color, legacy_windows=False)
    console.print(renderable)
    return console.export_text(styles=color)


PRICES = {str(lv.price) for b in (BITSO, REVX, BITMART) for lv in b.bids + b.asks}


def assert_whole_numbers(out):
    """No number is cut: nothing ends in a digit then an ellipsis, and every price column holds a real price."""
    assert not re.search(r"(?<![\w-])[\d.]+…", out), out
    for line in out.splitlines():
        for cell in line.split("│"):
            match = re.match(r"\s*(?:ask|bid)?\s*(\d+(?:\.\d+)?)\s", cell)
            if match and match.group(1).startswith("86"):
                assert match.group(1) in PRICES, (match.group(1), out)


def test_side_by_side_one_ladder_per_source_with_own_header():
    out = draw(picture(board([BITSO, REVX, BITMART], merged=False), BoardView(), 120, 30))
    lines = out.splitlines()
    assert "bitso btc_usd" in lines[0] and "revx BTC-USD" in lines[0] and "bitmart-v3 BTC_USDT" in lines[0]
    assert lines[0].count("● live") == 3 and lines[0].count("│") == 2
    # each column has its own asks over its own spread over its own bids
    assert re.search(r"spread 8 \(0\.92 bps\)", out) and re.search(r"spread 3 \(0\.35 bps\)", out) and "spread 12" in out
    assert max(len(line) for line in lines) <= 120


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_side_by_side_never_cuts_a_number(width):
    out = draw(picture(board([BITSO, REVX, BITMART], merged=False), BoardView(), width, 10), width=width)
    assert max(len(line) for line in out.splitlines()) <= width
    assert len(out.rstrip("\n").splitlines()) <= 10, out
    assert_whole_numbers(out)
    if width < 60:  # three ladders do not fit in 40 columns: say which were left off
        assert "not shown: bitmart-v3 BTC_USDT" in out


@pytest.mark.parametrize(("width", "height"), [(40, 10), (50, 12), (80, 24)])
def test_side_by_side_help_and_left_out_note_are_whole_and_fit_the_screen(width, height):
    view = BoardView()
    view.show_help = True
    out = draw(picture(board([BITSO, REVX, BITMART], merged=False), view, width, height), width=width)
    lines = out.rstrip("\n").splitlines()
    assert len(lines) <= height and max(len(line) for line in lines) <= width, out
    assert "…" not in out, out  # neither the note nor the keys are cut
    assert "? help" in out and "space pause" in out and "q quit" in out, out
    if width < 60:
        assert any(line.startswith("not shown: bitmart-v3 BTC_USDT") for line in lines), out


@pytest.mark.parametrize(("width", "height"), [(40, 10), (50, 12), (80, 24)])
def test_merged_help_asked_for_stays_whole_within_the_screen(width, height):
    view = BoardView(group_key=True)
    view.show_help = True
    out = draw(picture(board([BITSO, REVX, BITMART], merged=True), view, width, height), width=width)
    lines = out.rstrip("\n").splitlines()
    assert len(lines) <= height and max(len(line) for line in lines) <= width, out
    assert "? help" in out and "g grouping" in out and "q quit" in out, out
    assert not any(line.endswith("…") and "keys" in line for line in lines), out


def test_side_by_side_marks_reconnecting_stale_and_failed():
    b = board([BITSO, REVX, BITMART], merged=False)
    b.states[0].feed.stats.state = State.RECONNECTING
    b.on_event(0, StatusEvent(State.RECONNECTING, "the venue closed the connection", retry_at=102.0))
    b.states[1].feed.stats.last_book_at = b.states[1].feed.stats.last_heard_at = 90.0  # nothing heard for 10 s
    b.fail(2, NetworkError("cannot connect to ws://x"))
    out = draw(picture(b, BoardView(), 150, 30), width=150)
    assert "RECONNECTING" in out and "the venue closed the connection; retrying in 2s" in out
    assert "age 10.0s STALE" in out
    assert len({line.index("│") for line in out.splitlines() if "│" in line}) == 1  # the columns stay in place
    assert "FAILED" in out and "cannot connect" in out


def test_merged_ladder_tags_levels_by_venue_and_names_the_best_venues():
    out = draw(picture(board([BITSO, REVX], merged=True), BoardView(), 120, 30))
    assert "\x1b[" not in out
    lines = out.splitlines()
    assert "consolidated BTC-USD" in lines[0] and "2 of 2 sources in the book" in lines[0]
    assert "A bitso btc_usd ● live" in out and "B revx BTC-USD ● live" in out
    level = next(line for line in lines if re.match(r"bid\s+86612\s", line))
    assert re.search(r"0\.42311818\s+0\.42311818\s+36647\.11\s+2\s+AB\s+A+B+", level), level  # notional, tags, the bar split A then B
    assert re.search(r"side\s+price USD\s+amount BTC\s+total BTC\s+notional USD\s+orders\s+venues\s+depth by venue", out), out
    assert re.search(r"ask\s+86615\s.*\s·B\s+B+", out)
    assert "best bid 86612 A bitso+B revx" in out and "best ask 86615 B revx" in out
    assert "CROSSED" not in out


def test_merged_ladder_shows_crossing_routed_impact_and_colours():
    b = board([BITSO, REVX, BITMART], merged=True, impact=D("0.5"))
    out = draw(picture(b, BoardView(), 120, 40))
    assert "CROSSED: C bitmart-v3 bid 86618 > B revx ask 86615 by 3 (0.35 bps)" in out
    # the average and each venue's written as the ladder writes an average (two past the prices' decimals), the size with its unit
    assert "buy  0.5 BTC: avg 86618.00" in out and "B revx 0.2 @ 86615.00" in out and "A bitso 0.3 @ 86620.00" in out
    coloured = draw(picture(b, BoardView(), 120, 40), color=True)
    assert "\x1b[" in coloured  # venue colours are on top of the letters, not instead of them


def test_merged_ladder_keeps_a_quiet_live_source():
    b = board([BITSO, REVX], merged=True)
    b.states[0].feed.stats.last_book_at = 90.0  # its book has not changed for 10 s, but its keep-alives arrive
    out = draw(picture(b, BoardView(), 120, 30))
    assert "2 of 2 sources in the book" in out and "A bitso btc_usd ● live  age 10.0s ·" in out and "STALE" not in out, out
    assert re.search(r"bid\s+86600\s", out)  # bitso's own level is in


def test_merged_ladder_drops_stale_sources_and_says_so():
    b = board([BITSO, REVX], merged=True)
    b.states[0].feed.stats.last_book_at = b.states[0].feed.stats.last_heard_at = 90.0  # nothing at all for 10 s
    out = draw(picture(b, BoardView(), 120, 30))
    assert "PAUSED" not in out
    assert "1 of 2 sources in the book" in out and "age 10.0s  STALE" in out and "(left out)" in out
    assert not re.search(r"^bid\s+86600", out, re.M)  # bitso's own level is gone
    assert re.search(r"bid\s+86612\s+0\.25\s", out)  # only revx's amount remains


def test_merged_legend_shows_each_sources_integrity_marks_as_its_own_ladder_does():
    """A trader reading the merged book sees which sources the venues proved: the checksum
    confirmations, the last REST comparison (a mismatch first) and a clock found off."""
    from orderbook_cli.verify import Check

    b = board([BITSO, REVX, BITMART], merged=True)
    b.states[0].book = b.states[0].book._replace(verified=1234)  # a checksummed source
    stats = b.states[1].feed.stats
    stats.verdict, stats.verdict_at, stats.mismatches = Check(match=False, sequence=77), 88.0, 1  # 12 s before now=100
    out = draw(picture(b, BoardView(), 150, 30), width=150)
    legend = next(line for line in out.splitlines() if "A bitso btc_usd" in line)
    assert "A bitso btc_usd ● live  age 0.5s  crc ✓ 1234" in legend, out
    assert "B revx BTC-USD ● live  age 0.5s  MISMATCH at sequence 77 12s ago (1 in all)" in out, out
    assert "C bitmart-v3 BTC_USDT ● live  age 0.5s" in out and "crc ✓" not in out.split("C bitmart-v3", 1)[1].split("\n", 1)[0], out
    snapshot = draw(picture(b, BoardView(live=False), 150, 30), width=150)
    assert "crc ✓" not in snapshot and "MISMATCH" not in snapshot  # a printed snapshot proves nothing over time
    narrower = draw(picture(b, BoardView(), 60, 24), width=60)  # the short form where the whole one does not fit
    assert "B revx BTC-USD ● live  age 0.5s  MISMATCH 12s ago" in narrower and "A bitso btc_usd ● live  age 0.5s  crc ✓ 1234" in narrower
    for width, height in ((40, 10), (50, 12), (60, 15)):  # a mark never pushes the age out, nor is a number cut
        narrow = draw(picture(b, BoardView(), width, height), width=width)
        assert max(len(line) for line in narrow.splitlines()) <= width and not re.search(r"✓ \d*…|\d…|age…", narrow), narrow
        assert "A bitso btc_usd ● live  age 0.5s" in narrow, narrow


@pytest.mark.parametrize("width, height", [(40, 10), (60, 15), (80, 24)])
def test_merged_ladder_fits_small_terminals(width, height):
    out = draw(picture(board([BITSO, REVX, BITMART], merged=True, impact=D(1)), BoardView(), width, height), width=width)
    lines = out.rstrip("\n").splitlines()
    assert max(len(line) for line in lines) <= width
    assert len(lines) <= height, out
    assert sum(bool(re.match(r"(ask|bid)\s", line)) for line in lines) >= 2, out  # at least a level a side
    assert_whole_numbers(out)


@pytest.mark.parametrize("width, height", [(20, 8), (23, 24), (26, 8), (26, 24), (40, 10), (60, 15)])
def test_merged_ladder_drops_whole_items_and_keeps_the_key_figures(width, height):
    """A narrow merged board leaves out venue names, then mid and bps, never a figure after its
    label: no "best bid…", "avg…", bare "CROSSED:" or a crossing without its size; best bid,
    best ask and spread come before the venues' names."""
    b = board([BITSO, REVX, BITMART], merged=True, impact=D(2))
    out = draw(picture(b, BoardView(), width, height), width=width)
    lines = out.rstrip("\n").splitlines()
    assert max(len(line) for line in lines) <= width and len(lines) <= height, out
    assert not re.search(r"((?<![\w-])[\d.]+|\b(?:bid|ask|avg|worst|slippage|spread|sources|live|age|CROSSED:?))…", out), out
    assert not re.search(r"\b(?:avg|worst|slippage|best bid|best ask)\b(?! -?\d)", out), out  # a label has its value
    assert not any(line.rstrip() in ("CROSSED", "CROSSED:") for line in lines), out
    assert "CROSSED by 3" in out or "by 3 (0.35 bps)" in out, out  # the crossing says by how much
    assert re.search(r"^(best )?bid 86618\b", out, re.M), out  # the best line, between the asks and the bids
    if width >= 26:
        assert re.search(r"^(best )?bid 86618.*ask 86615|^(best )?ask 86615", out, re.M), out
    if width >= 60:
        assert "best bid 86618 C · best ask 86615 B · CROSSED spread -3" in out, out  # letters for names: the spread fits


def test_merge_is_exact_and_counts_only_when_everyone_counts():
    merged = consolidate.merge([consolidate.SourceBook("bitso", BITSO), consolidate.SourceBook("bitmart-v3", BITMART),
                                consolidate.SourceBook("revx", REVX)], "BTC-USD")
    assert [lv.price for lv in merged.bids] == [D("86618"), D("86612"), D("86610"), D("86600")]
    assert merged.bids[1].amount == D("0.42311818") and merged.bids[1].count == 2
    assert dict(merged.bids[1].venues) == {"bitso": D("0.17311818"), "revx": D("0.25")}
    assert merged.bids[0].count is None  # bitmart gives no counts
    assert merged.asks[1].venues == {"bitso": D("0.5"), "revx": D("1")} and merged.asks[1].total == D("1.7")


def test_pairs_and_aliases():
    aliases = consolidate.parse_aliases(["usdt=USD"])
    assert consolidate.common_pair([("a", Pair("BTC", "USD")), ("b", Pair("BTC", "USDT"))], aliases) == Pair("BTC", "USD")
    with pytest.raises(UsageError, match="MXN.*USD"):
        consolidate.common_pair([("a", Pair("BTC", "MXN")), ("b", Pair("BTC", "USD"))], {})
    assert consolidate.source_keys([("bitso", "btc_usd"), ("revx", "BTC-USD"), ("bitso", "btc_usdt")]) == [
        "bitso:btc_usd", "revx", "bitso:btc_usdt"]


def test_split_sources_tells_the_two_forms_apart():
    assert split_sources(["bitso", "btc_mxn"]) == [("bitso", "btc_mxn")]
    assert split_sources(["bitso:btc_mxn"]) == [("bitso", "btc_mxn")]
    assert split_sources(["bitso:btc_usd", "revx:BTC-USD"]) == [("bitso", "btc_usd"), ("revx", "BTC-USD")]
    for bad in (["bitso"], ["bitso", "btc_mxn", "revx:BTC-USD"], ["a", "b", "c"], [":x"], ["x:"]):
        with pytest.raises(UsageError):
            split_sources(bad)


def test_keys_depth_pause_help_and_quit():
    b = board([BITSO, REVX], merged=True)
    screen = BoardScreen(b, BoardView(), 5.0)
    for _ in range(25):
        screen.on_key("-", 100.0)
    assert screen.view.depth == 1 and not screen.quit
    out = draw(screen.draw(100.0, 120, 30, "none"))
    assert sum(bool(re.match(r"(ask|bid)\s", line)) for line in out.splitlines()) == 2 and "depth 1 · ? for keys" in out
    screen.on_key("+", 100.0)
    screen.on_key(" ", 100.0)
    b.states[0].book = book("bitso", "btc_usd", [("86500", "9")], [("86700", "9")])
    paused = draw(screen.draw(100.0, 120, 30, "none"))
    assert "PAUSED" in paused and "86500" not in paused and re.search(r"bid\s+86612\s+0\.42311818\s", paused)  # the frozen books
    screen.on_key(" ", 100.0)
    assert "0.42311818" not in draw(screen.draw(100.0, 120, 30, "none"))  # resumed: the new Bitso book, without 86612
    screen.on_key("?", 100.0)
    assert "q quit · +/- depth" in draw(screen.draw(100.0, 120, 30, "none"))
    screen.on_key("q", 100.0)
    assert screen.quit


def test_g_groups_every_source_alike_in_the_merged_view():
    b = board([BITSO, REVX], merged=True)
    view = BoardView(group_key=True)
    screen = BoardScreen(b, view, 5.0)
    screen.on_key("g", 100.0)
    assert view.group == D(10)  # about 1 bps of 86613.5, as a 1-2-5 tick
    out = draw(picture(b, view, 120, 30))
    # bids round down: bitso 86612 + 0.17311818 and revx 86612 0.25, 86610 0.3 -> 86610; bitso 86600 -> 86600
    assert re.search(r"bid\s+86610\s+0\.72311818\s.*\sAB\s", out), out
    assert re.search(r"ask\s+86620\s+1\.70000000\s", out), out  # asks round up: 86615 and 86620 -> 86620
    assert "grouped by 10" in out and "best bid 86612 A bitso+B revx · best ask 86615 B revx · spread 3" in out  # the real prices
    while view.group is not None:
        screen.on_key("g", 100.0)
    assert "grouped by" not in draw(picture(b, view, 120, 30))
    side = BoardView()
    BoardScreen(board([BITSO, REVX], merged=False), side, 5.0).on_key("g", 100.0)  # side by side: pairs may differ, no common tick
    assert side.group is None


def test_consolidated_lines_go_out_in_batches_bounded_by_characters(monkeypatch):
    """While several sources deliver, lines wait and go out together; a batch stays under
    BATCH_CHARS (plus its last line) so its text never reaches glibc's mmap threshold, and
    every line arrives whole, in order."""
    import json

    from orderbook_cli.feed import BookEvent
    from orderbook_cli.pipeline import output

    class Recorder:
        def __init__(self):
            self.writes: list[str] = []

        def write(self, text):
            self.writes.append(text)
            return len(text)

        def flush(self):
            pass

    recorder = Recorder()
    monkeypatch.setattr("sys.stdout", recorder)
    monkeypatch.setattr(output, "BATCH_CHARS", 2000)
    b = board([BITSO, REVX, BITMART], merged=True)
    writer = output.NdjsonWriter(b, count=None, stale_after=1e9)
    writer.batching = True
    books = [BITSO, REVX, BITMART] * 10
    for index, book_ in enumerate(books):
        assert writer.on_event(index % 3, BookEvent(book_))
    writer.flush()
    lines = "".join(recorder.writes).splitlines()
    assert len(lines) == len(books) == writer.written
    assert all(json.loads(line)["venue"] == "consolidated" for line in lines)
    longest = max(len(line) for line in lines)
    assert len(recorder.writes) > 1
    assert all(len(text) <= 2000 + longest + 1 for text in recorder.writes), [len(t) for t in recorder.writes]
    assert all(len(text.splitlines()) < output.BATCH_LINES for text in recorder.writes)  # the characters ended each batch here
