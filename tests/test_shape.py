"""Shape once: figures from the real whole book, whatever --group and --depth show;
the ladder and the JSON of one book and one set of options show the same numbers."""

import gzip
import json
import random
import re
from datetime import UTC, datetime
from decimal import Decimal as D
from decimal import localcontext

import pytest
from rich.console import Console

from orderbook_cli.book import RawLevel, make_book, plain
from orderbook_cli.impact import ImpactSize, parse_size
from orderbook_cli.jsonout import book_from_dict, book_to_dict
from orderbook_cli.replay import SAMPLE
from orderbook_cli.shape import ShapeSpec, WholeBook, shape
from orderbook_cli.sync import LevelBook, LevelOp, OrderBook, OrderOp, Side
from orderbook_cli.views.ladder import ladder
from orderbook_cli.views.state import LadderView
from tests.servers.http_venue import Reply, payload

T0 = datetime(2025, 8, 8, 21, 40, 36, tzinfo=UTC)
FIGURES = ("best_bid", "best_ask", "spread", "mid", "spread_bps", "impact", "liquidity")


def sample_book():
    with gzip.open(SAMPLE, "rt") as lines:
        return book_from_dict(json.loads(next(lines)))


def random_book(rng):
    def side(low, high):
        return [RawLevel(D(rng.randint(low, high)) / 100, D(rng.randint(1, 500)) / 1000, rng.choice([None, 1, 3]))
                for _ in range(rng.randint(0, 40))]

    return make_book("x", "BTC-USD", side(90000, 99990), side(100000, 110000), timestamp=None, received_at=T0)


def figures(book):
    return {name: getattr(book.figures, name) for name in FIGURES}


@pytest.mark.parametrize("seed", range(30))
def test_group_and_depth_never_change_the_figures(seed):
    rng = random.Random(seed)
    book = sample_book() if seed == 0 else random_book(rng)
    asks = {"impact": ImpactSize(D(rng.choice(["0.001", "0.5", "3", "1000"]))), "liquidity": True}
    whole = figures(shape(book, ShapeSpec(**asks)))
    for depth in (None, 1, 2, 3, 20):
        for group in (None, D("0.01"), D("0.5"), D(5), D(10), D(100000)):
            shaped = shape(book, ShapeSpec(depth=depth, group=group, **asks))
            assert figures(shaped) == whole, (depth, group)
            assert depth is None or max(len(shaped.bids), len(shaped.asks)) <= depth
            # the shown book's own fields say the same
            assert (shaped.best_bid, shaped.best_ask, shaped.spread, shaped.mid) == (whole["best_bid"], whole["best_ask"], whole["spread"], whole["mid"])


def test_the_issue_figures_on_the_sample():
    book = sample_book()
    grouped = shape(book, ShapeSpec(group=D(100000), impact=ImpactSize(D(5)), liquidity=True))
    assert grouped.mid == D("139887.035")  # not the bucket midpoint 150000
    assert [lv.price for lv in grouped.bids] == [D(100000)] and [lv.price for lv in grouped.asks] == [D(200000)]
    shown_one, shown_three = (shape(book, ShapeSpec(depth=depth, liquidity=True)) for depth in (1, 3))
    assert shown_one.figures.liquidity == shown_three.figures.liquidity  # -d 1 and -d 3: the same bands


def test_buckets_sum_every_level_however_deep_and_count_orders():
    book = make_book("x", "A-B", [RawLevel(D("1009"), D("0.1"), 1), RawLevel(D("1005"), D("0.6"), 2), RawLevel(D("999"), D(1), 1),
                                  RawLevel(D("989"), D(5), 1)],
                     [RawLevel(D("1011"), D(1), None), RawLevel(D("1019"), D(1), 1), RawLevel(D("1021"), D(2), 1)], timestamp=None, received_at=T0)
    shaped = shape(book, ShapeSpec(depth=2, group=D(10)))
    assert [(lv.price, lv.amount, lv.total, lv.count) for lv in shaped.bids] == [(D(1000), D("0.7"), D("0.7"), 3), (D(990), D(1), D("1.7"), 1)]
    assert [(lv.price, lv.amount, lv.count) for lv in shaped.asks] == [(D(1020), D(2), None), (D(1030), D(2), 1)]
    assert shaped.best_bid == D(1009) and shaped.best_ask == D(1011)


def test_a_buckets_notional_is_what_its_real_levels_cost_not_its_edge_price():
    """--group 500 on the sample's first book: the 141000 ask bucket holds 3873501.52 MXN of
    orders, not 141000 × 27.52705149 = 3881314.26 (every order priced at the bucket's edge);
    the 139000 bid bucket 369814.35, not 369667.32. Computed once, in the shaping step."""
    grouped = shape(sample_book(), ShapeSpec(group=D(500)))
    ask, bid = grouped.asks[0], grouped.bids[0]
    assert (ask.price, ask.amount, bid.price) == (D(141000), D("27.52705149"), D(139000))
    assert (round(ask.notional, 2), round(bid.notional, 2)) == (D("3873501.52"), D("369814.35"))
    console = Console(width=140, record=True, color_system=None, legacy_windows=False)
    console.print(ladder(grouped, LadderView(state="snapshot", group=D(500)), width=140))
    text = console.export_text()  # the ladder's notional column reads the same figure
    assert "3873501.52" in text and "369814.35" in text and "3881314.26" not in text, text


@pytest.mark.parametrize("seed", range(10))
def test_every_buckets_notional_is_the_exact_sum_over_its_real_levels(seed):
    from orderbook_cli.book import EXACT
    from orderbook_cli.shape import bucket_price

    rng = random.Random(seed)
    book = sample_book() if seed == 0 else random_book(rng)
    bids, asks = Side(descending=True), Side(descending=False)
    for side, levels in ((bids, book.bids), (asks, book.asks)):
        for level in levels:
            side.set(level.price, level.amount)
    for held in (book, WholeBook("x", "BTC-USD", bids, asks, None, T0)):
        for group in (D("0.01"), D(5), D(500)):
            shaped = shape(held, ShapeSpec(group=group, depth=rng.choice([None, 3])))
            for buckets, levels, rounding in ((shaped.bids, book.bids, "ROUND_FLOOR"), (shaped.asks, book.asks, "ROUND_CEILING")):
                for bucket in buckets:
                    with localcontext(EXACT):
                        real = sum((lv.price * lv.amount for lv in levels if bucket_price(lv.price, group, rounding) == bucket.price), D(0))
                    assert bucket.notional == real, (group, bucket)


def test_a_whole_book_view_shapes_like_the_book_it_walks():
    rng = random.Random(7)
    for _ in range(20):
        book = random_book(rng)
        bids, asks = Side(descending=True), Side(descending=False)
        for level in book.bids:
            bids.set(level.price, level.amount)
        for level in book.asks:
            asks.set(level.price, level.amount)
        whole = WholeBook("x", "BTC-USD", bids, asks, None, T0)
        for spec in (ShapeSpec(depth=3), ShapeSpec(depth=2, group=D(5)), ShapeSpec(impact=ImpactSize(D(2)), liquidity=True)):
            plain_levels = book._replace(bids=tuple(lv._replace(count=None) for lv in book.bids),
                                         asks=tuple(lv._replace(count=None) for lv in book.asks))
            expected, got = shape(plain_levels, spec), shape(whole, spec)
            assert figures(got) == figures(expected)
            assert [lv[:3] for lv in got.bids] == [lv[:3] for lv in expected.bids]
            assert [lv[:3] for lv in got.asks] == [lv[:3] for lv in expected.asks]


def test_shaping_a_deep_whole_book_reads_only_what_it_needs():
    bids, asks = Side(descending=True), Side(descending=False)
    for i in range(1, 20001):
        bids.set(D(100000 - i), D(1))
        asks.set(D(100000 + i), D(1))
    read = []

    class Counting:
        def __init__(self, side: Side):
            self.side = side

        def walk(self):
            for level in self.side.walk():
                read.append(level)
                yield level

        def top(self, depth):
            return self.side.top(depth)

        def __len__(self):
            return len(self.side)

    whole = WholeBook("x", "BTC-USD", Counting(bids), Counting(asks), None, T0)
    shape(whole, ShapeSpec(depth=10, group=D(5), impact=ImpactSize(D(30)), liquidity=True))
    # 100 bps of 100000 is 1000 levels a side; the whole book is 40000 levels
    assert len(read) < 2 * (1 + 1001 + 31 + 51) + 10


def test_a_kept_book_reuses_a_side_only_while_no_change_reaches_its_shown_depth():
    """Random changes to order and level books, above, at and below the shown depth:
    after each, the shaped book equals one made from the whole book afresh, and an
    untouched side is the very tuple shown before (not re-totalled)."""
    rng = random.Random(11)
    for kind, depth in ((OrderBook, 1), (OrderBook, 5), (LevelBook, 3)):
        book = kind()
        reused = recomputed = 0
        last = None
        for _ in range(600):
            is_bid = rng.random() < 0.5
            price = D(1000 - rng.randrange(1, 30)) if is_bid else D(1000 + rng.randrange(1, 30))
            if kind is OrderBook:
                book.apply([OrderOp(f"o{rng.randrange(40)}", rng.random() < 0.8, is_bid, price, D(rng.randrange(1, 4)))])
            else:  # absolute sizes, zero deleting
                book.apply([LevelOp(is_bid, price, D(rng.randrange(0, 3)))])
            got = shape(WholeBook("x", "BTC-USD", book.bids, book.asks, None, T0), ShapeSpec(depth=depth))
            fresh = make_book("x", "BTC-USD", list(book.bids.walk()), list(book.asks.walk()), timestamp=None, received_at=T0)
            expected = shape(fresh, ShapeSpec(depth=depth))
            assert got.bids == expected.bids and got.asks == expected.asks and figures(got) == figures(expected)
            if last is not None:
                for side, previous in ((got.bids, last.bids), (got.asks, last.asks)):
                    if side is previous:
                        reused += 1
                    else:
                        recomputed += 1
            last = got
        assert reused and recomputed  # both paths ran: changes landed below and within the shown depth


def test_a_change_keeps_the_shown_levels_above_it_and_totals_from_it_on():
    """A change within the shown levels (a new size, a new level, one gone, levels cut by
    truncation) re-totals the top from its price down: the levels above it are the very
    Level objects shown before, and the whole top equals one made afresh, at every depth."""
    rng = random.Random(26)
    spellings = ["1", "2.5", "0.50", "2.50", "1E-8", "3"]
    for depth, kept in ((10, 10), (5, 10), (3, None), (None, 12)):
        book = LevelBook()
        shown_before = kept_above = 0
        for _ in range(400):
            is_bid = rng.random() < 0.5
            side = book.bids if is_bid else book.asks
            before = side.top(depth)
            price = D(1000 - rng.randrange(1, 25)) if is_bid else D(1000 + rng.randrange(1, 25))
            amount = D(rng.choice(spellings)) if rng.random() < 0.8 else D(0)
            book.apply([LevelOp(is_bid, price, amount)])
            if kept is not None:
                book.truncate(kept)
            after = side.top(depth)
            fresh = make_book("x", "BTC-USD", list(book.bids.walk()), list(book.asks.walk()), timestamp=None, received_at=T0)
            expected = (fresh.bids if is_bid else fresh.asks)[:depth]
            assert after == expected and [str(lv.amount) + str(lv.total) for lv in after] == [str(lv.amount) + str(lv.total) for lv in expected]
            above = [lv for lv in before if (lv.price > price if is_bid else lv.price < price)]
            assert all(new is old for new, old in zip(after, above))
            shown_before += len(before)
            kept_above += len(above)
        assert kept_above > shown_before // 5  # the prefix was kept often, not only for empty tops


def test_impact_in_quote_currency():
    book = make_book("x", "BTC-USD", [RawLevel(D(100), D(1), 1), RawLevel(D(90), D(10), 1)],
                     [RawLevel(D(110), D(1), 1), RawLevel(D(120), D(10), 1)], timestamp=None, received_at=T0)
    buy, sell = shape(book, ShapeSpec(impact=parse_size("350usd"))).figures.impact
    assert buy.currency == "USD" and buy.complete and buy.notional == D(350)
    assert buy.filled == D(1) + D(240) / D(120) and buy.worst_price == D(120)  # 110 for 1, then 240 of 120s
    assert sell.filled == D(1) + D("2.777777777777777778")  # 250 of 90s: a quotient, to 18 places
    thin = shape(book, ShapeSpec(impact=parse_size("5000USD"))).figures.impact[0]
    assert not thin.complete and thin.notional == D(1310)
    data = book_to_dict(shape(book, ShapeSpec(impact=parse_size("350USD"))))
    assert data["impact"]["size"] == "350" and data["impact"]["unit"] == "USD"


def test_a_routed_quote_sized_fill_adds_up_to_its_notional():
    """A merged book's fill split by venue: the parts' notionals add up to the fill's, also
    when the last level's amount is a rounded quotient (50000 / 70001 BTC)."""
    from orderbook_cli.consolidate import SourceBook, merge

    def source(key, bid_amount, ask_amount):
        book = make_book("bitso", key, [RawLevel(D(69999), D(bid_amount), 1)], [RawLevel(D(70001), D(ask_amount), 1)],
                         timestamp=None, received_at=T0)
        return SourceBook(key, book)

    merged = merge([source("a", "0.3", "0.3"), source("b", "0.7", "0.9")], "BTC-USD")
    for buy_or_sell in shape(merged, ShapeSpec(impact=parse_size("50000USD"))).figures.impact:
        assert buy_or_sell.complete and buy_or_sell.notional == D(50000)
        parts = buy_or_sell.venues
        assert sum(part.notional for part in parts.values()) == D(50000), parts
        assert sum(part.filled for part in parts.values()) == buy_or_sell.filled
        assert str(parts["a"].notional) in ("20999.7", "21000.3")  # 0.3 at the level's price, the whole of it
    data = book_to_dict(shape(merged, ShapeSpec(impact=parse_size("50000USD"))))["impact"]["buy"]
    assert D(data["venues"]["a"]["notional"]) + D(data["venues"]["b"]["notional"]) == D(data["notional"])


def test_spread_and_mid_follow_the_best_prices_as_written():
    """Equal best prices written differently give their own spread and mid (100 vs 100.00):
    a figure is reused only for the very same price objects."""
    def spread_mid(ask):
        book = make_book("x", "BTC-USD", [RawLevel(D("99.5"), D(1), 1)], [RawLevel(D(ask), D(1), 1)], timestamp=None, received_at=T0)
        figures = shape(book, ShapeSpec()).figures
        return str(figures.spread), str(figures.mid), str(figures.spread_bps)

    for _ in range(2):
        assert spread_mid("100") == ("0.5", "99.75", "50.13")
        assert spread_mid("100.00") == ("0.50", "99.75", "50.13")


@pytest.mark.parametrize("text", ["", "abc", "-5", "0", "5 US DOLLARS", "1e999999", "NaN"])
def test_a_malformed_impact_size_is_a_usage_error(text):
    from orderbook_cli.errors import UsageError

    with pytest.raises(UsageError):
        parse_size(text)


# -- the ladder and the JSON of the same book show the same numbers ---------

ROW = re.compile(r"^(ask|bid)\s+(\S+)\s+(\S+)\s+(\S+)")


def ladder_numbers(text):
    """Side, price, amount and total of every level row, and the spread row's figures."""
    rows = [match.groups() for match in map(ROW.match, text.splitlines()) if match]
    spread = re.search(r"spread (\S+) \((\S+) bps\)\s+mid (\S+)", text)
    return rows, spread.groups() if spread else None


def json_numbers(data):
    rows = [("ask", lv["price"], lv["amount"], lv["total"]) for lv in reversed(data["asks"])]
    rows += [("bid", lv["price"], lv["amount"], lv["total"]) for lv in data["bids"]]
    return rows


def aligned_equal(shown, exact):
    """A ladder column aligns decimals (trailing zeros added): the same number either way."""
    return D(shown) == D(exact)


def assert_same_numbers(text, data):
    rows, spread = ladder_numbers(text)
    expected = json_numbers(data)
    assert len(rows) == len(expected) and rows, (text, data)
    for got, want in zip(rows, expected):
        assert got[0] == want[0] and all(aligned_equal(a, b) for a, b in zip(got[1:], want[1:])), (got, want)
    assert spread is not None and D(spread[0]) == D(data["spread"]) and D(spread[2]) == D(data["mid"]), text


@pytest.mark.parametrize("depth, group", [(3, None), (1, None), (5, D(100)), (2, D(5000)), (2, D(100000))])
def test_ladder_and_json_agree_on_the_sample(depth, group):
    spec = ShapeSpec(depth=depth, group=group, impact=ImpactSize(D(5)), liquidity=True)
    shaped = shape(sample_book(), spec)
    console = Console(width=140, record=True, color_system=None, legacy_windows=False)
    console.print(ladder(shaped, LadderView(state="snapshot", group=group), width=140))
    text = console.export_text()
    data = book_to_dict(shaped)
    assert_same_numbers(text, data)
    buy = data["impact"]["buy"]
    assert f"worst {buy['worst_price']}" in text and f"slippage {buy['slippage_bps']} bps" in text
    shown = D(re.search(r"buy .*?avg (\S+)", text).group(1))  # at the price's precision + 2 digits
    assert shown == D(buy["average_price"]).quantize(shown), text


def bitso_rest(http_venue):
    aggregated = json.loads(payload("bitso_1.json"))
    orders = json.loads(payload("bitso_3.json"))
    for n, entry in enumerate(orders["payload"]["bids"] + orders["payload"]["asks"]):
        entry.setdefault("oid", f"o{n}")
    http_venue.route("/api/v3/order_book/", lambda r: Reply(200, orders if "aggregate=false" in r.query else aggregated))
    return {"OBOOK_BITSO_REST_URL": http_venue.url, "OBOOK_BITSO_URL": "ws://127.0.0.1:9", "COLUMNS": "140"}


@pytest.mark.parametrize("args", [("--depth", "2", "--group", "5"), ("--depth", "3"), ("--depth", "4", "--group", "50", "--impact", "2")])
def test_snapshot_ladder_and_json_agree_on_a_full_book(obook, http_venue, args):
    env = bitso_rest(http_venue)
    printed = obook("snapshot", "bitso", "btc_mxn", *args, env=env)
    as_json = obook("snapshot", "bitso", "btc_mxn", *args, "--json", env=env)
    assert printed.code == 0 and as_json.code == 0, (printed, as_json)
    data = as_json.json()
    assert_same_numbers(printed.stdout, data)
    ungrouped = obook("snapshot", "bitso", "btc_mxn", "--json", env=env).json()
    assert [data[k] for k in ("best_bid", "best_ask", "spread", "mid")] == [ungrouped[k] for k in ("best_bid", "best_ask", "spread", "mid")]


def test_liquidity_does_not_change_with_the_depth_shown(obook):
    one, three = (obook("replay", "--sample", "--json", "--count", "1", "--speed", "max", "--liquidity", "-d", d) for d in ("1", "3"))
    assert one.code == 0 and three.code == 0, (one, three)
    assert one.json()["liquidity"] == three.json()["liquidity"]
    assert len(one.json()["bids"]) == 1 and len(three.json()["bids"]) == 3


def test_impact_in_quote_currency_on_the_command_line(obook):
    run = obook("replay", "--sample", "--json", "--count", "1", "--speed", "max", "--impact", "50000MXN")
    assert run.code == 0, run
    impact = run.json()["impact"]
    assert impact["unit"] == "MXN" and D(impact["buy"]["notional"]) == 50000 and impact["buy"]["complete"]
    assert D(impact["buy"]["filled"]) * D(impact["buy"]["average_price"]) == pytest.approx(D(50000), rel=D("1e-9"))
    bad = obook("replay", "--sample", "--json", "--count", "1", "--impact", "lots")
    assert bad.code == 2 and "--impact" in bad.stderr, bad
    assert plain(D(impact["size"])) == "50000"


def test_impact_in_another_currency_than_the_quote_is_a_usage_error(obook, http_venue):
    run = obook("snapshot", "bitso", "btc_mxn", "--impact", "100USD", "--json", env=bitso_rest(http_venue))
    assert run.code == 2 and "quoted in MXN" in run.stderr and run.stdout == "", run
    assert http_venue.paths() == []  # refused before any network
