from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from orderbook_cli.book import RawLevel, make_book, plain, to_count, to_decimal
from orderbook_cli.errors import MalformedData
from orderbook_cli.jsonout import book_to_dict
from orderbook_cli.shape import ShapeSpec, bucket_price, shape

T0 = datetime(2025, 8, 8, 21, 40, 36, 124000, tzinfo=UTC)


def book(bids, asks, depth=None, group=None):
    held = make_book("x", "BTC-USD", [RawLevel(D(p), D(a), c) for p, a, c in bids],
                     [RawLevel(D(p), D(a), c) for p, a, c in asks], timestamp=None, received_at=T0)
    return held if depth is None and group is None else shape(held, ShapeSpec(depth=depth, group=group))


def test_sides_sorted_best_first_whatever_the_venue_order():
    b = book([("1", "1", 1), ("3", "1", 1), ("2", "1", 1)], [("9", "1", 1), ("7", "1", 1), ("8", "1", 1)])
    assert [lv.price for lv in b.bids] == [D(3), D(2), D(1)]
    assert [lv.price for lv in b.asks] == [D(7), D(8), D(9)]


def test_duplicate_prices_merge_amounts_and_counts():
    b = book([("10", "0.5", 2), ("10.0", "0.25", 1)], [])
    assert len(b.bids) == 1
    assert b.bids[0].amount == D("0.75") and b.bids[0].count == 3


def test_unknown_count_stays_unknown_when_merged():
    b = book([("10", "1", None), ("10", "1", 4)], [])
    assert b.bids[0].count is None


def test_running_totals_spread_mid():
    b = book([("4550", "0.25", 1), ("4549", "1", 1)], [("4555", "2.1234", 2), ("4560", "1", 1)])
    assert [lv.total for lv in b.bids] == [D("0.25"), D("1.25")]
    assert [lv.total for lv in b.asks] == [D("2.1234"), D("3.1234")]
    assert b.spread == D(5) and b.mid == D("4552.5")


def test_depth_trims_after_sorting_and_merging():
    b = book([(str(p), "1", 1) for p in range(1, 11)], [], depth=3)
    assert [lv.price for lv in b.bids] == [D(10), D(9), D(8)]


def test_zero_amount_levels_are_dropped():
    b = book([("10", "0", 1), ("9", "1", 1)], [])
    assert [lv.price for lv in b.bids] == [D(9)]


def test_empty_side_gives_null_summary():
    d = book_to_dict(book([("1", "1", 1)], []))
    assert d["asks"] == [] and d["best_ask"] is None and d["spread"] is None and d["mid"] is None
    assert d["best_bid"] == "1"


def test_plain_notation_never_exponent():
    assert plain(D("1E-7")) == "0.0000001"
    assert plain(D("1E+3")) == "1000"
    assert plain(D("-0.00")) == "0.00"
    d = book_to_dict(book([("1E-7", "2E+2", 1)], []))
    assert d["bids"][0] == {"price": "0.0000001", "amount": "200", "total": "200", "count": 1}


def test_json_matches_contract_shape():
    d = book_to_dict(book([("4550", "0.25", 1)], [("4555", "2.1234", 2)]))
    assert d == {
        "venue": "x", "symbol": "BTC-USD", "timestamp": None, "received_at": "2025-08-08T21:40:36.124Z",
        "bids": [{"price": "4550", "amount": "0.25", "total": "0.25", "count": 1}],
        "asks": [{"price": "4555", "amount": "2.1234", "total": "2.1234", "count": 2}],
        "best_bid": "4550", "best_ask": "4555", "spread": "5", "mid": "4552.5", "sequence": None,
    }


def test_sums_stay_exact_beyond_default_decimal_precision():
    b = book([("1", "12345678901234567890.123456789", 1), ("0.5", "0.000000000000000000001", 1)], [])
    assert plain(b.bids[1].total) == "12345678901234567890.123456789000000000001"


@pytest.mark.parametrize("value, expected", [("1.50", D("1.50")), (7, D(7)), (D("0.1"), D("0.1")), ("1e-8", D("1e-8"))])
def test_to_decimal_accepts_strings_and_numbers(value, expected):
    assert to_decimal(value, "price") == expected


@pytest.mark.parametrize("value", [1.5, True, None, "NaN", "Infinity", "-1", "1_000", "abc", "", [], {}, "1e999999"])
def test_to_decimal_refuses_floats_and_junk(value):
    with pytest.raises(MalformedData):
        to_decimal(value, "price")


@pytest.mark.parametrize("value, expected", [("3", 3), (3, 3), (None, None), (D("2"), 2)])
def test_to_count(value, expected):
    assert to_count(value) == expected


@pytest.mark.parametrize("value", ["-1", -1, "1.5", True, "x"])
def test_to_count_refuses_junk(value):
    with pytest.raises(MalformedData):
        to_count(value)


def test_grouping_buckets_bids_down_asks_up():
    b = book([("4551.7", "1", 1), ("4549.9", "2", 1), ("4540", "1", 1)],
             [("4555.1", "1", 1), ("4559.9", "1", 2), ("4561", "3", 1)], group=D(10))
    assert [(lv.price, lv.amount, lv.count) for lv in b.bids] == [(D(4550), D(1), 1), (D(4540), D(3), 2)]
    assert [(lv.price, lv.amount, lv.count) for lv in b.asks] == [(D(4560), D(2), 3), (D(4570), D(3), 1)]


def test_fractional_grouping():
    g = book([("0.000111", "1", 1), ("0.000109", "1", 1)], [("0.000113", "1", 1)], group=D("0.00001"))
    assert [plain(lv.price) for lv in g.bids] == ["0.00011", "0.00010"]
    assert [plain(lv.price) for lv in g.asks] == ["0.00012"]


def _reference_side(levels, descending, depth, group):
    """make_book's earlier dict-based merge, kept as the oracle for make_book's sort-then-merge
    walk and the shape step's bucketing of it."""
    from decimal import ROUND_CEILING, ROUND_FLOOR, localcontext

    from orderbook_cli.book import EXACT

    with localcontext(EXACT):
        merged = {}
        for price, amount, count in levels:
            if not amount:
                continue
            if group:
                price = bucket_price(price, group, ROUND_FLOOR if descending else ROUND_CEILING)
            slot = merged.get(price)
            if slot is None:
                merged[price] = [amount, count]
            else:
                slot[0] += amount
                slot[1] = None if slot[1] is None or count is None else slot[1] + count
        out, total = [], D(0)
        for price in sorted(merged, reverse=descending)[:depth]:
            total += merged[price][0]
            out.append((str(price), str(merged[price][0]), str(total), merged[price][1]))
        return out


def test_merge_walk_matches_the_dict_merge_to_the_digit():
    import random

    rng = random.Random(14)
    spellings = ["10", "10.0", "10.00", "9.5", "9.50", "11", "0.001", "1E+1", "0", "12.345"]
    amounts = ["0", "0.0", "1", "0.10", "0.2", "2.500", "1E-3", "7"]
    for _ in range(300):
        rows = [(D(rng.choice(spellings)), D(rng.choice(amounts)), rng.choice([None, 1, 2])) for _ in range(rng.randint(0, 12))]
        depth, group = rng.choice([None, 0, 1, 3]), rng.choice([None, None, D("0.5"), D("2")])
        b = shape(make_book("x", "y", list(rows), tuple(rows), timestamp=None, received_at=T0), ShapeSpec(depth=depth, group=group))
        for side, descending in ((b.bids, True), (b.asks, False)):
            got = [(str(lv.price), str(lv.amount), str(lv.total), lv.count) for lv in side]
            assert got == _reference_side(rows, descending, depth, group), (rows, depth, group)


def _reference_merge_side(sides, descending):
    """The consolidated side as a dict per price (the earlier merge), to hold the sorted walk to it."""
    amounts, counts = {}, {}
    for key, levels in sides:
        for level in levels:
            per_source = amounts.get(level.price)
            if per_source is None:
                amounts[level.price], counts[level.price] = {key: level.amount}, level.count
                continue
            per_source[key] = per_source.get(key, D(0)) + level.amount
            known = counts[level.price]
            counts[level.price] = None if known is None or level.count is None else known + level.count
    out, total = [], D(0)
    for price in sorted(amounts, reverse=descending):
        amount = sum(amounts[price].values(), D(0))
        total += amount
        out.append((str(price), str(amount), str(total), counts[price], [(k, str(a)) for k, a in amounts[price].items()]))
    return out


def test_consolidated_merge_matches_the_dict_merge_to_the_digit():
    import random

    from orderbook_cli.consolidate import SourceBook, merge

    rng = random.Random(26)
    spellings = ["10", "10.0", "10.00", "9.5", "9.50", "11", "0.001", "1E+1", "12.345"]
    amounts = ["0.0", "1", "0.10", "0.2", "2.500", "1E-3", "7", "1E+2"]
    for _ in range(300):
        sources = []
        for key in rng.sample(["a", "b", "c", "d"], rng.randint(1, 4)):
            rows = [(D(rng.choice(spellings)), D(rng.choice(amounts)), rng.choice([None, 1, 2])) for _ in range(rng.randint(0, 8))]
            sources.append(SourceBook(key, make_book(key, "y", list(rows), list(rows), timestamp=None, received_at=T0)))
        book = merge(sources, "y")
        for side, name, descending in ((book.bids, "bids", True), (book.asks, "asks", False)):
            got = [(str(lv.price), str(lv.amount), str(lv.total), lv.count, [(k, str(a)) for k, a in lv.venues.items()]) for lv in side]
            assert got == _reference_merge_side([(s.key, getattr(s.book, name)) for s in sources], descending), sources


def test_a_consolidated_book_merged_to_the_depth_shape_reads_shows_what_the_whole_merge_shows():
    """merge(depth=spec.reads_depth) stops at the shown depth: the shaped book (levels, figures,
    JSON) is the whole merge's, for every spec; a spec that reads on (impact, liquidity, group) merges everything."""
    import random

    from orderbook_cli.consolidate import SourceBook, merge
    from orderbook_cli.impact import ImpactSize

    rng = random.Random(7)
    prices = ["10", "10.0", "9.5", "9.50", "11", "12.345", "8", "7.25", "13"]
    for _ in range(200):
        sources = []
        for key in rng.sample(["a", "b", "c"], rng.randint(1, 3)):
            rows = [(D(rng.choice(prices)), D(rng.choice(["1", "0.10", "2.500", "1E-7", "1E+2"])), rng.choice([None, 1])) for _ in range(rng.randint(0, 6))]
            sources.append(SourceBook(key, make_book(key, "y", list(rows), list(rows), timestamp=None, received_at=T0)))
        spec = rng.choice([ShapeSpec(depth=rng.choice([0, 1, 2, 4])), ShapeSpec(depth=2, liquidity=True),
                           ShapeSpec(depth=2, impact=ImpactSize(D(1))), ShapeSpec(depth=2, group=D("2")), ShapeSpec()])
        whole = merge(sources, "y")
        cut = merge(sources, "y", spec.reads_depth)
        if whole is None:
            assert cut is None
            continue
        assert cut is not None and len(cut) == len(whole)  # every Book field given
        if spec.reads_depth is not None:
            assert len(cut.bids) <= spec.reads_depth and len(cut.asks) <= spec.reads_depth
        assert book_to_dict(shape(cut, spec)) == book_to_dict(shape(whole, spec)), (sources, spec)


def test_a_side_of_the_very_same_numbers_is_reused_and_an_equal_spelled_otherwise_is_not():
    one, price = D("1.5"), D("7000")
    first = make_book("x", "y", [(price, one, 1)], [], timestamp=None, received_at=T0)
    again = make_book("x", "y", [(price, one, 1)], [], timestamp=None, received_at=T0)
    assert again.bids is first.bids  # the same objects: the same side, and the JSON writer reuses its text
    respelled = make_book("x", "y", [(price, D("1.50"), 1)], [], timestamp=None, received_at=T0)
    assert respelled.bids is not first.bids and str(respelled.bids[0].amount) == "1.50"
    assert str(make_book("x", "y", [(price, one, 2)], [], timestamp=None, received_at=T0).bids[0].count) == "2"


def test_a_consolidated_side_is_reused_only_for_the_very_same_source_sides():
    from orderbook_cli.consolidate import SourceBook, merge

    a = make_book("a", "y", [(D("7"), D("1"), 1)], [(D("8"), D("1"), 1)], timestamp=None, received_at=T0)
    b = make_book("b", "y", [(D("7"), D("2"), 1)], [(D("9"), D("1"), 1)], timestamp=None, received_at=T0)
    first = merge([SourceBook("a", a), SourceBook("b", b)], "y")
    assert merge([SourceBook("a", a), SourceBook("b", b)], "y").bids is first.bids
    other = merge([SourceBook("c", a), SourceBook("b", b)], "y")
    assert other.bids is not first.bids and list(other.bids[0].venues) == ["c", "b"]
    b2 = make_book("b", "y", [(D("7"), D("2.0"), 1)], [(D("9"), D("1"), 1)], timestamp=None, received_at=T0)
    assert str(merge([SourceBook("a", a), SourceBook("b", b2)], "y").bids[0].venues["b"]) == "2.0"


def test_tuples_built_field_by_field_have_every_field():
    """shape and the sync connection build Book, Figures and WholeBook with tuple.__new__
    (no NamedTuple __new__ per book): a field added to one of them must be added there too."""
    import json as _json

    from orderbook_cli.book import Book, Figures
    from orderbook_cli.feed import NO_TAP, FeedRequest, FeedStats
    from orderbook_cli.shape import ShapeSpec, WholeBook, shape
    from orderbook_cli.venues.bitso import Bitso
    from orderbook_cli.venues.synced import SyncConnection

    book = shape(make_book("x", "y", [(D("7"), D("1"), 1)], [(D("8"), D("1"), 1)], timestamp=None, received_at=T0), ShapeSpec(depth=1))
    assert len(book) == len(Book._fields) and len(book.figures) == len(Figures._fields)

    class Sink:
        request = FeedRequest(venue="bitso", symbol="btc_mxn", depth=5, timeout=1)
        stats = FeedStats()
        held: list = []

        def emit_book(self, held):
            self.held.append(len(held))

        def set_state(self, state, detail=""):
            pass

    sink = Sink()
    conn = SyncConnection(sink, Bitso({}), lambda _: None, None, NO_TAP)
    seed = {"success": True, "payload": {"bids": [{"book": "btc_mxn", "price": "7", "amount": "1", "oid": "a"}], "asks": [],
                                         "updated_at": "2026-01-01T00:00:00+00:00", "sequence": "0"}}
    conn.seed_body(_json.dumps(seed).encode(), T0)
    assert sink.held == [len(WholeBook._fields)]


def test_a_memory_shared_by_feed_threads_never_raises_when_they_evict_at_once():
    """Several sources' feeds convert numbers on their own threads through one memory
    (to_decimal's): two evicting at once raised KeyError / RuntimeError in a feed, which
    then failed as a bug (seen as "error: KeyError: '0.17124000'" on a merged board)."""
    import sys
    import threading

    from orderbook_cli.memo import remember

    memory: dict[tuple[int, int], int] = {}
    errors: list[str] = []

    def work(base: int) -> None:
        try:
            for n in range(50_000):
                remember(memory, (base, n), n, 64)
        except Exception as error:  # any exception is the failure this test is about
            errors.append(repr(error))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=work, args=(base,)) for base in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == [] and 0 < len(memory) <= 64, (errors[:3], len(memory))


def test_a_memory_of_recent_results_stays_within_its_limit_forgetting_the_oldest_eighth():
    """Level, not a sawtooth: a full memory forgets its oldest eighth, so it never drops to
    empty (tracemalloc's growth over 100,000 Bitso diffs in bench/run.py stayed within 256 KiB)."""
    from orderbook_cli.memo import remember

    memory: dict[int, str] = {}
    for n in range(1000):
        assert remember(memory, n, str(n), 64) == str(n)
        assert len(memory) <= 64 and memory[n] == str(n)
        if n >= 64:
            assert len(memory) >= 64 - 64 // 8 and min(memory) > n - 64  # the newest kept, only the oldest gone
