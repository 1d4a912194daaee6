"""The sync engine with scripted sequences: no venue, no network."""

from datetime import UTC
from decimal import Decimal as D

from orderbook_cli.shape import ShapeSpec
from orderbook_cli.sync import Change, LevelBook, LevelOp, OrderBook, OrderOp, Seed, SyncEngine


class Recorder:
    def __init__(self, kind):
        self.books, self.resyncs = [], []
        self.now = 1000.0  # the engine's clock, moved by the test
        self.engine = SyncEngine(kind, self.on_book, self.resyncs.append, max_buffer=8, clock=lambda: self.now)

    def on_book(self, timestamp):
        bids, asks = self.engine.top(10)
        self.books.append((self.engine.sequence, [(str(level.price), str(level.amount), level.count) for level in bids],
                           [(str(level.price), str(level.amount), level.count) for level in asks]))

    @property
    def last(self):
        return self.books[-1]


def lv(side, price, amount):
    return LevelOp(side == "bid", D(price), D(amount))


def opened(oid, side, price, amount):
    return OrderOp(oid, True, side == "bid", D(price), D(amount))


def removed(oid, side=None):
    return OrderOp(oid, False, None if side is None else side == "bid")


def level_seed(seq=10):
    return Seed(seq, [lv("bid", "100", "1"), lv("bid", "99", "2"), lv("ask", "101", "3"), lv("ask", "102", "4")])


def test_level_book_applies_absolute_sizes_in_order_and_zero_deletes():
    r = Recorder(LevelBook)
    r.engine.seed(level_seed())
    r.engine.change(Change(11, [lv("bid", "100", "5"), lv("ask", "101", "0"), lv("ask", "101.5", "1")]))
    assert r.last == (11, [("100", "5", None), ("99", "2", None)], [("101.5", "1", None), ("102", "4", None)])
    assert len(r.books) == 2 and not r.resyncs


def test_stale_duplicate_and_same_version_heartbeat_change_nothing():
    r = Recorder(LevelBook)
    r.engine.seed(level_seed())
    r.engine.change(Change(11, [lv("bid", "100", "7")]))
    for stale in (Change(11, [lv("bid", "100", "9")]), Change(9, [lv("bid", "1", "1")]), Change(11, [])):
        r.engine.change(stale)
    assert len(r.books) == 2 and r.last[1][0] == ("100", "7", None) and not r.resyncs


def test_gap_drops_the_book_keeps_the_newer_change_and_the_next_seed_starts_clean():
    r = Recorder(LevelBook)
    r.engine.seed(level_seed())
    r.engine.change(Change(13, [lv("bid", "55", "1")]))  # 11 and 12 are missing
    assert r.resyncs == ["sequence gap: expected 11, got 13"]
    assert not r.engine.synced and len(r.books) == 1
    r.engine.change(Change(14, [lv("ask", "103", "1")]))  # arrives while resyncing: waits
    r.engine.seed(Seed(12, [lv("bid", "50", "1"), lv("ask", "60", "1")]))
    assert r.last == (14, [("55", "1", None), ("50", "1", None)], [("60", "1", None), ("103", "1", None)])
    assert [b[0] for b in r.books] == [10, 12, 13, 14]  # seed, then each queued change: one book per applied message


def test_queued_changes_at_or_below_the_seed_are_dropped():
    r = Recorder(LevelBook)
    for seq in (8, 9, 10, 11, 12):
        r.engine.change(Change(seq, [lv("bid", str(80 + seq), "1")]))
    r.engine.seed(level_seed(10))
    assert [b[0] for b in r.books] == [10, 11, 12]
    assert [p for p, _, _ in r.last[1]] == ["100", "99", "92", "91"]


def test_seed_older_than_the_queue_asks_again():
    r = Recorder(LevelBook)
    r.engine.change(Change(15, []))
    r.engine.seed(level_seed(10))
    assert r.books == [] and len(r.resyncs) == 1 and "older than the queued changes" in r.resyncs[0]
    r.engine.seed(level_seed(14))
    assert [b[0] for b in r.books] == [14, 15]


def test_seed_newer_than_the_queue_then_late_changes_are_discarded():
    r = Recorder(LevelBook)
    r.engine.change(Change(5, [lv("bid", "1", "1")]))
    r.engine.seed(level_seed(12))
    r.engine.change(Change(12, [lv("bid", "1", "1")]))
    r.engine.change(Change(13, [lv("bid", "100", "0")]))
    assert [b[0] for b in r.books] == [12, 13] and r.last[1] == [("99", "2", None)]


def _big_change(seq, orders=14_000):
    """A valid change of `orders` open orders (one shared op object: the test's own memory stays small)."""
    return Change(seq, [opened("o", "bid", "100", "1")] * orders)


def test_the_buffer_before_the_seed_is_bounded_by_the_orders_it_holds_not_only_by_messages():
    """A venue's 2 MiB frames of 14,000 orders each: 4096 of them were kept (gigabytes) while
    waiting for a seed. The oldest go once the buffer holds MAX_KEPT_OPS orders; the seed then
    finds the hole and resyncs, as when the buffer overflows by count."""
    from orderbook_cli.sync import MAX_BUFFER, MAX_KEPT_OPS

    engine, resyncs = SyncEngine(OrderBook, lambda _t: None, [].append), []
    engine.on_resync = resyncs.append
    for seq in range(11, 41):
        engine.change(_big_change(seq))
        assert sum(len(c.ops) for c in engine.buffer) <= MAX_KEPT_OPS
    assert 0 < len(engine.buffer) < 30 < MAX_BUFFER
    engine.seed(Seed(10, []))
    assert not engine.synced and "older than the queued changes" in resyncs[0]
    kept = [c.sequence for c in engine.buffer]
    assert kept == list(range(41 - len(kept), 41))  # the newest stay, for the next seed


def test_the_verifiers_history_is_bounded_by_the_orders_it_holds_and_a_check_reaching_past_it_says_so():
    """--verify-every keeps the last HISTORY applied changes: counted in messages only, 2048 frames
    of 14,000 orders each (RSS 1.7 GB after 60 s of them). Held to MAX_KEPT_OPS orders, the oldest
    go; a REST book older than what is kept gets no verdict (and no false mismatch), and says why."""
    from orderbook_cli.sync import MAX_KEPT_OPS
    from orderbook_cli.verify import HISTORY, SEQUENCE, Verifier

    engine = SyncEngine(OrderBook, lambda _t: None, lambda _why: None, history=HISTORY)
    engine.seed(Seed(10, []))
    for seq in range(11, 41):
        engine.change(_big_change(seq))
        assert sum(len(c.ops) for c in engine.history) <= MAX_KEPT_OPS
    assert engine.synced and engine.sequence == 40 and 0 < len(engine.history) < 30
    verifier = Verifier(SEQUENCE, 60.0, clock=lambda: 0.0)
    verifier.asked(0.0)
    verifier.answered(Seed(20, [opened("o", "bid", "100", "1")]), 0.0)
    check = verifier.attempt(engine, 0.0)
    assert check.match is None and check.line("bitso btc_mxn") == (
        "could not verify bitso btc_mxn: the changes since the REST book's sequence 20 are no longer all kept (the book is at 40)")
    verifier.asked(0.0)
    verifier.answered(Seed(39, [opened("o", "bid", "100", "1")]), 0.0)
    assert verifier.attempt(engine, 0.0).match  # a REST book the kept changes reach back to is still compared


def test_a_change_larger_than_the_whole_bound_is_not_kept():
    from orderbook_cli.sync import MAX_KEPT_OPS

    engine = SyncEngine(OrderBook, lambda _t: None, lambda _why: None, history=5)
    engine.seed(Seed(10, []))
    engine.change(_big_change(11, 10))
    engine.change(_big_change(12, MAX_KEPT_OPS + 1))
    assert engine.sequence == 12 and not list(engine.history) and engine.history.dropped


def test_out_of_order_change_is_a_gap():
    r = Recorder(LevelBook)
    r.engine.seed(level_seed())
    r.engine.change(Change(12, []))
    assert r.resyncs and not r.engine.synced


def test_bounded_buffer_keeps_the_newest_and_the_hole_is_detected():
    r = Recorder(LevelBook)  # max_buffer=8
    for seq in range(11, 31):
        r.engine.change(Change(seq, []))
    assert len(r.engine.buffer) == 8
    r.engine.seed(level_seed(10))
    assert r.books == [] and "older than the queued" in r.resyncs[0]
    r.engine.seed(level_seed(25))
    assert [b[0] for b in r.books] == [25, 26, 27, 28, 29, 30]


def test_a_book_that_stays_crossed_is_treated_as_corrupt():
    r = Recorder(LevelBook)
    r.engine.seed(level_seed())
    r.engine.change(Change(11, [lv("bid", "101", "1")]))  # crossed for a moment: shown, as the venue said it
    r.engine.change(Change(12, [lv("bid", "101", "0")]))  # and uncrossed by the next message
    assert not r.resyncs and [b[0] for b in r.books] == [10, 11, 12]
    for seq in range(13, 18):
        r.engine.change(Change(seq, [lv("bid", "101.5", str(seq))]))
    assert r.resyncs == ["the book stayed crossed for 5 changes (sequence 17)"] and not r.engine.synced
    assert [b[0] for b in r.books] == [10, 11, 12, 13, 14, 15, 16]


def test_a_book_crossed_then_quiet_is_resynced_after_a_second():
    r = Recorder(LevelBook)
    r.engine.seed(level_seed())
    r.engine.change(Change(11, [lv("bid", "101", "1")]))  # crosses, then the venue goes quiet
    r.now += 1.0
    r.engine.check()
    assert not r.resyncs and r.engine.synced  # a second of crossing is still tolerated
    r.now += 0.01
    r.engine.check()
    assert r.resyncs == ["the book stayed crossed for more than 1s (sequence 11)"] and not r.engine.synced
    r.now += 5
    r.engine.check()  # no book, nothing more to report
    assert len(r.resyncs) == 1 and [b[0] for b in r.books] == [10, 11]


def test_a_book_crossed_too_long_is_resynced_on_the_next_message_and_uncrossing_resets_the_timer():
    r = Recorder(LevelBook)
    r.engine.seed(level_seed())
    r.engine.change(Change(11, [lv("bid", "101", "1")]))
    r.now += 0.9
    r.engine.change(Change(12, [lv("bid", "101", "0")]))  # uncrossed: the timer starts over
    r.engine.change(Change(13, [lv("bid", "101", "1")]))
    r.now += 0.9
    r.engine.check()
    r.engine.change(Change(14, [lv("bid", "99", "5")]))  # still crossed, 0.9s in
    assert not r.resyncs and [b[0] for b in r.books] == [10, 11, 12, 13, 14]
    r.now += 0.2
    r.engine.change(Change(15, [lv("bid", "98", "5")]))
    assert r.resyncs == ["the book stayed crossed for more than 1s (sequence 15)"] and not r.engine.synced
    assert [b[0] for b in r.books] == [10, 11, 12, 13, 14]
    r.engine.seed(level_seed(20))  # a fresh seed starts with no crossing behind it
    r.now += 10
    r.engine.check()
    assert len(r.resyncs) == 1 and r.engine.synced


def test_a_book_growing_past_its_bound_is_dropped():
    r = Recorder(OrderBook)
    r.engine.max_entries = 3
    r.engine.seed(Seed(1, [opened("a", "bid", "1", "1")]))
    r.engine.change(Change(2, [opened(f"o{i}", "bid", "1", "1") for i in range(3)]))
    assert r.resyncs == ["the book grew past 3 entries"] and not r.engine.synced


def test_order_book_sums_orders_moves_modified_ones_and_removes_by_id():
    r = Recorder(OrderBook)
    r.engine.seed(Seed(100, [opened("a", "bid", "10", "1"), opened("b", "bid", "10", "2.5"), opened("c", "ask", "11", "1")]))
    assert r.last == (100, [("10", "3.5", 2)], [("11", "1", 1)])
    # a modified order: cancelled at the old price, then open at the new one, same id
    r.engine.change(Change(101, [removed("a", "bid"), opened("a", "bid", "9.5", "1.25")]))
    assert r.last[1] == [("10", "2.5", 1), ("9.5", "1.25", 1)]
    # completed without side/amount: the known order says where it was
    r.engine.change(Change(102, [removed("b")]))
    assert r.last[1] == [("9.5", "1.25", 1)]
    # open on a known id replaces it (partial fill), side from the known order if absent
    r.engine.change(Change(103, [OrderOp("a", True, None, D("9.5"), D("0.25"))]))
    assert r.last[1] == [("9.5", "0.25", 1)]
    # a removal of an unknown order changes nothing but still advances the sequence
    r.engine.change(Change(104, [removed("zzz", "ask")]))
    assert r.last == (104, [("9.5", "0.25", 1)], [("11", "1", 1)]) and not r.resyncs


def test_order_levels_are_exact_and_vanish_when_their_last_order_goes():
    r = Recorder(OrderBook)
    r.engine.seed(Seed(1, [opened("x", "ask", "5", "0.10000000"), opened("y", "ask", "5", "0.20000000")]))
    r.engine.change(Change(2, [removed("x")]))
    assert r.last[2] == [("5", "0.20000000", 1)]
    r.engine.change(Change(3, [removed("y")]))
    assert r.last[2] == [] and r.engine.book.asks.levels == {}


def test_resync_never_keeps_orders_from_before():
    r = Recorder(OrderBook)
    r.engine.seed(Seed(1, [opened("ghost", "bid", "7", "1")]))
    r.engine.resync("reconnected")
    r.engine.seed(Seed(50, [opened("new", "bid", "6", "1")]))
    assert r.last == (50, [("6", "1", 1)], []) and "ghost" not in r.engine.book.orders


def test_top_is_bounded_by_depth_on_a_large_book():
    r = Recorder(LevelBook)
    r.engine.seed(Seed(1, [lv("bid", str(i), "1") for i in range(1, 5001)] + [lv("ask", str(i), "1") for i in range(6000, 11000)]))
    bids, asks = r.engine.top(3)
    assert [str(level.price) for level in bids] == ["5000", "4999", "4998"] and [str(level.total) for level in bids] == ["1", "2", "3"]
    assert [str(level.price) for level in asks] == ["6000", "6001", "6002"]


def test_json_books_carry_the_sequence_and_old_recordings_without_it_still_load():
    from datetime import datetime

    from orderbook_cli.book import RawLevel, make_book
    from orderbook_cli.jsonout import book_from_dict, book_to_dict

    at = datetime(2026, 1, 1, tzinfo=UTC)
    book = make_book("v", "s", [RawLevel(D("1"), D("2"))], [], timestamp=None, received_at=at, sequence=42)
    data = book_to_dict(book)
    assert data["sequence"] == 42 and book_from_dict(data).sequence == 42
    assert book_to_dict(make_book("v", "s", [], [], timestamp=None, received_at=at))["sequence"] is None
    del data["sequence"]
    assert book_from_dict(data).sequence is None


def test_ladder_header_shows_sync_state_sequence_and_resyncs():
    from datetime import datetime

    from orderbook_cli.book import RawLevel, make_book
    from orderbook_cli.feed import State, StatusEvent
    from orderbook_cli.pipeline.live import LiveLadder
    from orderbook_cli.views.header import header

    ladder = LiveLadder("bitso", "btc_mxn", ShapeSpec(depth=20, group=None), stale_after=5)
    ladder.on_status(StatusEvent(State.RESYNCING, "sequence gap: expected 102, got 103"))
    book = make_book("bitso", "btc_mxn", [RawLevel(D("1"), D("1"))], [], timestamp=None,
                     received_at=datetime(2026, 1, 1, tzinfo=UTC), sequence=2734)
    text = header(book, ladder.view).plain
    assert "RESYNCING" in text and "seq 2734" in text and "1 resync, last " in text
    ladder.on_status(StatusEvent(State.LIVE))
    assert "live" in header(book, ladder.view).plain


# --- integrity hooks: no sequence, checksum over the wire text, truncation, restarted sequences ---

def wire_crc(book, depth=10):
    """A Kraken-style CRC32 over the top levels' wire text ('.' and leading zeros dropped):
    only a book that truncates and keeps each amount's digits as sent matches it."""
    from zlib import crc32

    from orderbook_cli.sync import wire_text

    def text(number):
        return wire_text(number).replace(".", "").lstrip("0")

    asks = [text(level.price) + text(level.amount) for level in list(book.asks.walk())[:depth]]
    bids = [text(level.price) + text(level.amount) for level in list(book.bids.walk())[:depth]]
    return crc32("".join(asks + bids).encode())


def checked(depth=None, checksum=wire_crc):
    r = Recorder(LevelBook)
    r.engine.checksum, r.engine.depth = checksum, depth
    return r


def with_crc(message, r_like_book):
    """The message carrying the checksum of `r_like_book` (the book the venue holds after it)."""
    return message._replace(checksum=wire_crc(r_like_book))


def venue_book(ops, depth=None):
    """What the venue holds: a plain LevelBook fed the same ops, truncated as the venue does."""
    book = LevelBook()
    book.apply(ops)
    if depth is not None:
        book.truncate(depth)
    return book


def test_a_venue_without_a_sequence_applies_changes_in_arrival_order_and_drops_those_before_the_seed():
    r = Recorder(LevelBook)
    r.engine.change(Change(None, [lv("bid", "1", "1")]))  # before any book: cannot be placed, not queued
    assert not r.engine.buffer and not r.books
    r.engine.seed(Seed(None, [lv("bid", "100", "1"), lv("ask", "101", "1")]))
    r.engine.change(Change(None, [lv("bid", "100", "2")]))
    r.engine.change(Change(None, [lv("ask", "101", "0"), lv("ask", "102", "5")]))
    assert [b[0] for b in r.books] == [None, None, None] and not r.resyncs
    assert r.last == (None, [("100", "2", None)], [("102", "5", None)])


def test_checksums_are_verified_after_the_seed_and_every_change():
    seed_ops = [lv("bid", "100.0", "1.50000000"), lv("ask", "101.0", "0.00100000")]
    r = checked()
    r.engine.seed(with_crc(Seed(None, seed_ops), venue_book(seed_ops)))
    change_ops = [lv("bid", "99.5", "2.10000000")]
    r.engine.change(with_crc(Change(None, change_ops), venue_book(seed_ops + change_ops)))
    r.engine.change(Change(None, [lv("bid", "99.5", "2.20000000")]))  # no checksum in this message: nothing to verify
    assert not r.resyncs and r.engine.verified == 2 and len(r.books) == 3


def test_trailing_zeros_of_the_wire_text_survive_in_the_book():
    from orderbook_cli.sync import wire_text
    from orderbook_cli.transport.wire import json_loads

    frame = json_loads('{"price": 0.10000, "qty": 1.50000000, "small": "0.00000001"}')  # numbers as JSON numbers and strings
    r = Recorder(LevelBook)
    r.engine.seed(Seed(None, [LevelOp(True, frame["price"], frame["qty"]), LevelOp(False, D("1"), D(frame["small"]))]))
    (bid,), (ask,) = r.engine.walk()
    assert (wire_text(bid.price), wire_text(bid.amount), wire_text(ask.amount)) == ("0.10000", "1.50000000", "0.00000001")
    r.engine.change(Change(None, [LevelOp(True, D("0.1"), D("2.000"))]))  # a new size for the same price keeps its own text
    assert wire_text(next(r.engine.walk()[0]).amount) == "2.000"


def test_a_checksum_that_only_a_normalizing_client_would_compute_does_not_match():
    ops = [lv("bid", "100", "1.50000000")]
    normalized = venue_book([lv("bid", "100", "1.5")])
    r = checked()
    r.engine.seed(with_crc(Seed(None, ops), venue_book(ops)))
    assert r.engine.synced and wire_crc(r.engine.book) != wire_crc(normalized)


def test_a_checksum_mismatch_resyncs_and_the_next_seed_keeps_no_level_from_before():
    seed_ops = [lv("bid", "100", "1"), lv("ask", "101", "1")]
    r = checked()
    r.engine.seed(with_crc(Seed(None, seed_ops), venue_book(seed_ops)))
    r.engine.change(Change(None, [lv("bid", "99", "1")], checksum=12345))
    assert len(r.resyncs) == 1 and r.resyncs[0].startswith("checksum mismatch after a change: the venue says 12345, the book gives ")
    assert not r.engine.synced and r.engine.resyncs == 1 and len(r.books) == 1
    r.engine.change(Change(None, [lv("bid", "98", "1")]))  # in flight from before the resync: dropped
    fresh = [lv("bid", "50", "1"), lv("ask", "60", "1")]
    r.engine.seed(with_crc(Seed(None, fresh), venue_book(fresh)))
    assert r.last == (None, [("50", "1", None)], [("60", "1", None)])


def test_a_seed_whose_checksum_does_not_match_is_not_shown():
    r = checked()
    r.engine.seed(Seed(None, [lv("bid", "100", "1")], checksum=1))
    assert r.books == [] and "checksum mismatch after the seed" in r.resyncs[0] and not r.engine.synced


def test_truncation_drops_levels_pushed_out_of_the_subscribed_depth_and_they_never_come_back():
    depth = 3
    seed_ops = [lv("bid", p, "1") for p in ("100", "99", "98")] + [lv("ask", p, "1") for p in ("101", "102", "103")]
    insert = [lv("bid", "100.5", "1"), lv("ask", "100.8", "1")]  # pushes 98 and 103 out of depth 3
    delete = [lv("bid", "100.5", "0"), lv("ask", "100.8", "0")]  # the venue does not resend 98/103: the book is 2 deep
    venue = seed_ops + insert
    r = checked(depth)
    r.engine.seed(with_crc(Seed(None, seed_ops), venue_book(seed_ops, depth)))
    r.engine.change(with_crc(Change(None, insert), venue_book(venue, depth)))
    assert [p for p, _, _ in r.last[1]] == ["100.5", "100", "99"] and [p for p, _, _ in r.last[2]] == ["100.8", "101", "102"]
    after = venue_book(venue, depth)
    after.apply(delete)
    r.engine.change(with_crc(Change(None, delete), after))
    assert not r.resyncs and r.last == (None, [("100", "1", None), ("99", "1", None)], [("101", "1", None), ("102", "1", None)])
    untruncated = checked(None)  # the same messages to a client that keeps everything: its checksum fails
    untruncated.engine.seed(with_crc(Seed(None, seed_ops), venue_book(seed_ops, depth)))
    untruncated.engine.change(with_crc(Change(None, insert), venue_book(venue, depth)))
    untruncated.engine.change(with_crc(Change(None, delete), after))
    assert untruncated.resyncs and "checksum mismatch" in untruncated.resyncs[0]


def test_order_book_truncation_forgets_the_orders_at_dropped_levels():
    r = Recorder(OrderBook)
    r.engine.depth = 1
    r.engine.seed(Seed(1, [opened("a", "bid", "10", "1"), opened("b", "bid", "9", "1"), opened("c", "ask", "11", "1"), opened("d", "ask", "12", "1")]))
    assert set(r.engine.book.orders) == {"a", "c"} and r.last == (1, [("10", "1", 1)], [("11", "1", 1)])


def test_stale_changes_are_counted_and_a_run_of_them_resyncs():
    from orderbook_cli.sync import STALE_RUN

    r = Recorder(LevelBook)
    r.engine.seed(level_seed(500))
    r.engine.change(Change(500, []))  # a same-number heartbeat with nothing in it is not stale
    for seq in range(400, 400 + STALE_RUN - 1):
        r.engine.change(Change(seq, [lv("bid", "1", "1")]))
    assert r.engine.stale == STALE_RUN - 1 and not r.resyncs and r.engine.synced
    r.engine.change(Change(501, [lv("bid", "100", "3")]))  # a fresh change ends the run
    assert r.engine.stale_run == 0 and r.last[0] == 501
    for seq in range(1, STALE_RUN + 1):  # the venue restarted its numbering: every change is "stale"
        r.engine.change(Change(seq, [lv("bid", "2", "1")]))
    assert not r.engine.synced and r.engine.stale == 2 * STALE_RUN - 1
    assert r.resyncs == [f"the venue's sequence went back to {STALE_RUN} (the book is at 501; {STALE_RUN} stale changes in a row)"]
    r.engine.seed(level_seed(STALE_RUN))  # the new numbering seeds a new book
    assert r.engine.synced and r.last[0] == STALE_RUN


def test_a_sequence_far_below_the_book_resyncs_at_once():
    from orderbook_cli.sync import STALE_DISTANCE

    r = Recorder(LevelBook)
    r.engine.seed(level_seed(STALE_DISTANCE + 10))
    r.engine.change(Change(3, [lv("bid", "1", "1")]))
    assert r.resyncs and "went back to 3" in r.resyncs[0] and not r.engine.synced
    assert list(r.engine.buffer) == [Change(3, [lv("bid", "1", "1")])]  # kept: the next seed decides about it
