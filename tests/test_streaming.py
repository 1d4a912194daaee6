"""The hot paths: `watch --json` runs its feed on the main thread (Feed.run)
with the same behaviour as the threaded feed; the fast NDJSON encoder writes
the same text as book_to_dict + dumps; the live ladder works only per frame."""

import json
import threading
import time
from datetime import UTC
from decimal import Decimal

import pytest

from orderbook_cli import jsonout
from orderbook_cli.book import RawLevel, make_book
from orderbook_cli.errors import NetworkError
from orderbook_cli.feed import BookEvent, Feed, FeedRequest, State, StatusEvent
from orderbook_cli.impact import ImpactSize
from orderbook_cli.shape import ShapeSpec, shape
from orderbook_cli.timefmt import now_utc
from tests.conftest import assert_clean_failure
from tests.test_bitso import ACK, env, orders, serving


def _book(bids, asks, **kw):
    raw = lambda levels: [RawLevel(Decimal(p), Decimal(a), c) for p, a, c in levels]  # noqa: E731
    return make_book("bitso", "btc_mxn", raw(bids), raw(asks), timestamp=None, received_at=now_utc(), **kw)


@pytest.mark.parametrize("bids, asks", [
    ([("7000", "0.5", 1), ("6999.10", "1.25", None)], [("7001", "2", 3)]),
    ([("1E+3", "1E-7", 1), ("0E-7", "0.00000010", 2)], [("1000.5", "3E+2", None)]),  # exponents: plain() kicks in
    ([], [("5", "1", 1)]),
    ([], []),
])
def test_book_line_is_the_same_text_as_book_to_dict(bids, asks):
    book = _book(bids, asks)
    for extra in (None, {"impact": {"buy": None, "note": "ü \"quoted\""}}):
        expected = jsonout.dumps(jsonout.book_to_dict(book, extra))
        assert jsonout.book_line(book, extra) == expected
        assert "E" not in "".join(lv["price"] + lv["amount"] + lv["total"] for lv in json.loads(expected)["bids"])


def test_book_line_places_the_levels_whatever_the_strings_and_extras_hold():
    sneaky = '"bids":null,"asks":null'
    book = make_book("bitso", sneaky, [RawLevel(Decimal("7"), Decimal("1"), 1)], [], timestamp=None, received_at=now_utc())
    extra = {"impact": {"bids": None, "asks": None, "note": sneaky}}
    assert jsonout.book_line(book, extra) == jsonout.dumps(jsonout.book_to_dict(book, extra))
    assert json.loads(jsonout.book_line(book, extra))["bids"][0]["price"] == "7"


def test_book_line_with_grouped_and_trimmed_books():
    book = shape(_book([("7000.12", "1", 1), ("7000.18", "2", 1), ("6990", "3", None)], [("7001.01", "1", 1)]),
                 ShapeSpec(depth=1, group=Decimal("0.5"), impact=ImpactSize(Decimal(2)), liquidity=True))
    assert jsonout.book_line(book) == jsonout.dumps(jsonout.book_to_dict(book))


def test_book_lines_of_a_kept_book_changing_are_the_encoders_text():
    """A kept book changed level by level (sizes written 0.5 and 0.50, exponents among them):
    each line, whose levels above a change are reused with their text, is book_to_dict's."""
    import random

    from orderbook_cli.shape import WholeBook
    from orderbook_cli.sync import LevelBook, LevelOp

    rng = random.Random(5)
    spellings = ["0.5", "0.50", "1E-8", "2", "3E+1", "0.00000010"]
    book = LevelBook()
    for _ in range(300):
        is_bid = rng.random() < 0.5
        price = Decimal(100 - rng.randrange(1, 15)) if is_bid else Decimal(100 + rng.randrange(1, 15))
        book.apply([LevelOp(is_bid, price, Decimal(rng.choice(spellings)) if rng.random() < 0.8 else Decimal(0))])
        shaped = shape(WholeBook("kraken", "BTC/USD", book.bids, book.asks, None, now_utc()), ShapeSpec(depth=rng.choice([5, 10])))
        assert jsonout.book_line(shaped) == jsonout.dumps(jsonout.book_to_dict(shaped))


REQUEST = FeedRequest(venue="test", symbol="X", depth=5, timeout=0.5)


@pytest.mark.parametrize("year", [1, 999, 1000, 1970, 2025, 9999])
@pytest.mark.parametrize("minutes", [0, -90, 330])
def test_iso_utc_is_iso_8601_text_whatever_the_year_and_offset(year, minutes):
    """strftime's text, but the year always four digits (glibc's %Y writes year 1 as "1", which is not ISO 8601)."""
    from datetime import datetime, timedelta, timezone

    from orderbook_cli.timefmt import iso_utc

    stamp = datetime(year, 6, 15, 23, 59, 58, 999_999, tzinfo=timezone(timedelta(minutes=minutes)))
    utc = stamp.astimezone(UTC)
    assert iso_utc(stamp) == f"{utc.year:04d}" + utc.strftime("-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def test_run_hands_events_over_on_the_calling_thread_and_stops_when_told():
    book = _book([("1", "1", 1)], [])
    seen, threads = [], set()

    def producer(ctx):
        ctx.set_state(State.CONNECTING)
        while not ctx.stopped.is_set():
            ctx.emit_book(book)

    def on_event(event):
        threads.add(threading.get_ident())
        seen.append(event)
        return sum(isinstance(e, BookEvent) for e in seen) < 3

    Feed(REQUEST, producer).run(on_event)
    assert threads == {threading.get_ident()}
    assert [type(e).__name__ for e in seen] == ["StatusEvent", "StatusEvent", "BookEvent", "BookEvent", "BookEvent"]
    assert seen[1] == StatusEvent(State.LIVE)


def test_run_raises_the_producers_fatal_error():
    def producer(ctx):
        raise NetworkError("gone")

    with pytest.raises(NetworkError, match="gone"):
        Feed(REQUEST, producer).run(lambda event: True)


def test_run_raises_the_consumers_own_failure_instead_of_feeding_it_to_the_producer():
    book = _book([("1", "1", 1)], [])
    caught = []

    def producer(ctx):
        try:
            ctx.emit_book(book)
        except Exception as error:  # what a venue's except clause would see
            caught.append(error)

    def on_event(event):
        if isinstance(event, BookEvent):
            raise BrokenPipeError("reader gone")
        return True

    with pytest.raises(BrokenPipeError):
        Feed(REQUEST, producer).run(on_event)
    assert caught == []


def test_run_gives_up_when_no_book_arrives_within_the_timeout():
    def producer(ctx):
        ctx.set_state(State.CONNECTING)
        while ctx.sleep(0.05):
            pass

    started = time.monotonic()
    with pytest.raises(NetworkError, match="no order book within 0.5s"):
        Feed(REQUEST, producer).run(lambda event: True)
    assert time.monotonic() - started < 2


def test_watch_json_first_book_timeout_with_only_keepalives(obook, ws_venue):
    def script(peer):
        sub = peer.expect_json()
        peer.send({**ACK, "book": sub["book"]})
        for _ in range(100):
            peer.send({"type": "ka"})
            time.sleep(0.1)

    venue = ws_venue(script)
    started = time.monotonic()
    run = obook("watch", "bitso", "--feed", "top", "btc_mxn", "--json", "--timeout", "1", env=env(venue))
    assert_clean_failure(run, 3, "no order book within 1s")
    assert time.monotonic() - started < 8  # the venue keeps the link alive for 10 s


def test_watch_json_count_stops_promptly_while_the_venue_keeps_streaming(obook, ws_venue):
    def script(peer):
        sub = peer.expect_json()
        peer.send({**ACK, "book": sub["book"]})
        for i in range(30000):  # about 30 s: obook must not wait for the end
            peer.send(orders(bid=str(7000 + i)))
            time.sleep(0.001)

    venue = ws_venue(script)
    started = time.monotonic()
    run = obook("watch", "bitso", "--feed", "top", "btc_mxn", "--json", "--count", "3", env=env(venue))
    assert run.code == 0, run
    assert [line["best_bid"] for line in run.lines()] == ["7000", "7001", "7002"]
    assert time.monotonic() - started < 10


def test_watch_json_notes_reconnects_on_stderr_and_keeps_counting(obook, ws_venue):
    venue = ws_venue(serving(orders(bid="7001"), then="drop"))
    run = obook("watch", "bitso", "--feed", "top", "btc_mxn", "--json", "--count", "2", env=env(venue), timeout=30)
    assert run.code == 0, run
    assert [line["best_bid"] for line in run.lines()] == ["7001", "7001"]
    assert "reconnecting" in run.stderr and "live again" in run.stderr


def test_the_live_ladder_compares_only_the_book_it_draws(monkeypatch):
    from orderbook_cli.pipeline import live

    calls = []
    real = live.LiveLadder._show
    monkeypatch.setattr(live.LiveLadder, "_show", lambda self, book, now: calls.append(book) or real(self, book, now))
    ladder = live.LiveLadder("bitso", "btc_mxn", ShapeSpec(depth=20, group=None), stale_after=5)
    books = [_book([(str(7000 + i), "1", 1)], [("8000", "1", 1)]) for i in range(100)]
    for i, book in enumerate(books):
        ladder.on_book(book, i / 1000)
    ladder.frame(0.1, 40, 0.1, 1000.0, 0)
    assert calls == [books[0], books[-1]]  # the first book at once, then only the one drawn
    assert ladder.shown.best_bid == Decimal("7099")
    assert ladder.view.changed == {("bid", Decimal("7099"))}
    ladder.frame(0.15, 40, 0.1, 1000.0, 0)
    assert len(calls) == 2  # nothing new: nothing compared


@pytest.mark.parametrize("keys", [("bitso:btc_usd", "bitso:btc_usdt"), ("revx:BTC-USD", "krakEn"), ("q\"uote\\", "bidi\u202e\u0085")])
def test_book_line_of_a_consolidated_book_is_the_same_text_as_book_to_dict(keys):
    from orderbook_cli.consolidate import SourceBook, merge

    one = _book([("7000", "0.5", 1), ("6999.10", "1.25", None), ("1E+3", "1E-7", 1)], [("7001", "2", 3)])
    two = _book([("7000.0", "0.25", 2), ("6990", "3E+2", 1)], [("7001.00", "1", 1), ("7002", "0.00000010", None)])
    book = merge([SourceBook(keys[0], one), SourceBook(keys[1], two)], "BTC-USD")
    assert book is not None and book.bids[0].venues is not None
    for shaped in (book, shape(book, ShapeSpec(depth=2, impact=ImpactSize(Decimal(1)), liquidity=True))):
        extra = {"sources": [{"venue": keys[0]}], "crossed": None, "excluded": []}
        assert jsonout.book_line(shaped, extra) == jsonout.dumps(jsonout.book_to_dict(shaped, extra))


@pytest.mark.parametrize("venue, symbol", [("bitso", "btc_mxn"), ("ü\u202e", 'x"\\y\u0085')])
@pytest.mark.parametrize("stamp", [None, "0999-01-02T03:04:05.678+00:00", "2026-12-05T21:00:00.123456+05:30"])
@pytest.mark.parametrize("sequence", [None, 0, 2**63 - 1])
@pytest.mark.parametrize("extra", [None, {}, {"order_flow": {"a": "1"}}, {"sequence": 5, "zz": None}])
def test_book_line_template_is_the_encoders_text(venue, symbol, stamp, sequence, extra):
    from datetime import datetime

    at = datetime.fromisoformat(stamp) if stamp else None
    book = make_book(venue, symbol, [RawLevel(Decimal("7"), Decimal("1"), 1)], [RawLevel(Decimal("8"), Decimal("2"), None)],
                     timestamp=at, received_at=at or now_utc(), sequence=sequence)
    for shaped in (book, shape(book, ShapeSpec(depth=1, impact=ImpactSize(Decimal(1)), liquidity=True))):
        assert jsonout.book_line(shaped, extra) == jsonout.dumps(jsonout.book_to_dict(shaped, extra))


@pytest.mark.parametrize("extra", [
    {"sources": [{"venue": "bitso", "symbol": "q\"uote\\ bidi\u202e\u0085"}, {"venue": "k", "sequence": 7}], "crossed": None, "excluded": []},
    {"sources": [], "crossed": {"bid": "1"}, "excluded": [{"state": "stale"}]},
    {"sources": [{"venue": "bitso"}], "sequence": 5},  # replaces a book field: the encoder's way, decoded first
])
def test_book_line_splices_encoded_extras_as_the_encoder_writes_them(extra):
    """A consolidated line's `sources` comes as Encoded text (each source's written once): the same line."""
    for book in (_book([("7000", "0.5", 1)], [("7001", "2", 3)]),
                 shape(_book([("7000", "0.5", 1)], [("7001", "2", 3)]), ShapeSpec(depth=1, impact=ImpactSize(Decimal(1)), liquidity=True))):
        encoded = {**extra, "sources": jsonout.Encoded(jsonout.dumps(extra["sources"]))}
        assert jsonout.book_line(book, encoded) == jsonout.dumps(jsonout.book_to_dict(book, extra))


@pytest.mark.parametrize("venue, symbol", [("bitso", "btc_mxn"), ("ü\u202e", 'x"\\y\u0085')])
@pytest.mark.parametrize("stamp", [None, "0999-01-02T03:04:05.678+00:00", "2026-12-05T21:00:00.123456+05:30"])
@pytest.mark.parametrize("sequence", [None, 0, 2**63 - 1])
def test_a_sources_entry_is_the_encoders_text(venue, symbol, stamp, sequence):
    from datetime import datetime

    from orderbook_cli.pipeline.output import source_to_dict

    at = datetime.fromisoformat(stamp) if stamp else None
    book = make_book(venue, symbol, [], [], timestamp=at, received_at=at or now_utc(), sequence=sequence)
    assert jsonout.source_text(book.venue, book.symbol, book.timestamp, book.received_at, book.sequence) == jsonout.dumps(source_to_dict(book))


def test_a_polled_book_that_did_not_change_keeps_its_age():
    """A REST venue answers every poll; the same levels again are proof of life, not a change: the
    book's age (stats.last_book_at) and upd/s move only when the levels do."""
    from orderbook_cli.feed import poll

    request = FeedRequest(venue="revx", symbol="ETH-USD", depth=5, timeout=10)

    def book(bid):
        return request.book([RawLevel(Decimal(bid), Decimal(1), 1)], [RawLevel(Decimal("2001"), Decimal(1), 1)], None, now_utc())

    answers = [book("2000"), book("2000"), book("2000"), book("1999")]
    feed = Feed(request, lambda ctx: None)
    ctx = feed._context
    changed_at: list[float | None] = []

    def fetch():
        changed_at.append(feed.stats.last_book_at)  # as it stands before this answer
        if len(changed_at) == len(answers):
            ctx.stopped.set()  # this answer is the last
        return answers[len(changed_at) - 1]

    poll(ctx, fetch, interval=0.05)
    first = changed_at[1]
    assert first is not None and changed_at[2] == first and changed_at[3] == first  # two unchanged answers: no change
    assert feed.stats.books == 4 and feed.stats.last_book_at > first  # the fourth moved the bid
    assert feed.stats.last_heard_at >= feed.stats.last_book_at
    assert sum(books for _, books in feed.stats.recent) == 2  # upd/s counts the two changes
