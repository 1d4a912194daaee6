"""Kraken (WebSocket v2 `book`, CRC32-checked) against a loopback Kraken that computes real checksums."""

from __future__ import annotations

import json
import time
import zlib
from decimal import Decimal

import pytest

from orderbook_cli.sync import LevelBook, LevelOp
from orderbook_cli.venues.kraken import Kraken, book_checksum
from tests.conftest import assert_clean_failure
from tests.kraken.server import (
    HEARTBEAT,
    STATUS,
    KrakenBook,
    answer,
    kraken_crc,
    payload,
    subscribe,
)
from tests.servers.http_venue import Reply

# Bids 100.0 down to 99.1 and asks 100.1 up to 101.0, ten a side, quantities with trailing zeros.
BIDS = [(f"{Decimal('100.0') - Decimal('0.1') * i}", f"{i + 1}.{'5' if i % 2 else '0'}0000000") for i in range(10)]
ASKS = [(f"{Decimal('100.1') + Decimal('0.1') * i}", f"0.{i + 1}0000000") for i in range(10)]


def env(venue) -> dict:
    return {"OBOOK_KRAKEN_URL": venue.url}


def serving(make_book, *steps, then=None):
    """A venue script: status, ack, snapshot, then each step (a frame, or a function of the book), then `then`."""
    def script(peer):
        params = subscribe(peer)
        book = make_book(params)
        peer.send(book.snapshot())
        for step in steps:
            peer.send(step(book) if callable(step) else step)
            time.sleep(0.02)
        (then or (lambda p, b: answer(p, lambda _: b)))(peer, book)
    return script


def first_book(params) -> KrakenBook:
    return KrakenBook(params["symbol"][0], params["depth"], BIDS, ASKS)


def prices(book: dict, side: str) -> list[str]:
    return [level["price"] for level in book[side]]


# ---------------------------------------------------------------------- real traffic

def test_recorded_snapshot_and_update_keep_the_book(obook, ws_venue):
    """Recorded ETH/USD traffic (the venue's own checksums) passes the check with no resync."""
    def script(peer):
        peer.send(STATUS)
        request = peer.expect_json()
        peer.send(payload("kraken_subscribe_ack_ethusd.json"))
        peer.send(payload("kraken_book_snapshot_ethusd.json"))
        peer.send(HEARTBEAT)
        peer.send(payload("kraken_book_update_ethusd.json"))
        peer.recv(timeout=5)  # a resync would arrive here; none should
        assert request  # recorded for the assertion below

    venue = ws_venue(script)
    run = obook("watch", "kraken", "eth/usd", "--json", "--count", "2", env=env(venue))
    assert run.code == 0, run
    assert venue.sent_json()[0] == {"method": "subscribe", "params": {"channel": "book", "symbol": ["ETH/USD"], "depth": 10, "snapshot": True}}
    snapshot, update = run.lines()
    assert snapshot["sequence"] is None and snapshot["symbol"] == "ETH/USD"
    assert snapshot["asks"][1] == {"price": "1797.28", "amount": "10.82400000", "total": "12.22755852", "count": None}
    assert "1797.29" in prices(snapshot, "asks") and "1797.29" not in prices(update, "asks")
    assert prices(update, "asks")[-1] == "1797.52" and len(update["asks"]) == 10
    assert update["timestamp"] == "2025-05-06T09:17:26.208Z"
    assert "checksum" not in run.stderr and len(venue.sent_json()) == 1


def test_checksum_matches_kraken_for_the_recorded_book():
    """The venue's function on the recorded book gives the venue's number; the documented test vector too."""
    data = json.loads(payload("kraken_book_snapshot_ethusd.json"), parse_float=Decimal)["data"][0]
    book = LevelBook()
    book.apply([LevelOp(True, lv["price"], lv["qty"]) for lv in data["bids"]] + [LevelOp(False, lv["price"], lv["qty"]) for lv in data["asks"]])
    assert book_checksum(book) == data["checksum"] == 2606672715
    # the checksum guide's example string (docs.kraken.com, Book checksum (WebSocket v2))
    guide = ("4528521000004528641545719534528661545711094528961545609114529021589066045291815455349145294744547494529613538000045297"
             "5994554245299518772827452835100000004528341545820154528211000000045281010000000452803154592586452790799000045277633"
             "101034527753000000045277315460273745276615445238")
    assert zlib.crc32(guide.encode()) == 3310070434


# ---------------------------------------------------------------------- truncation

def push_out(book: KrakenBook) -> str:
    return book.update(bids=[("100.05", "0.25000000")])  # an 11th bid: Kraken drops 99.1 without a word


def refill(book: KrakenBook) -> str:
    return book.update(bids=[("100.0", "0.00000000"), ("99.05", "0.70000000")])  # 100.0 gone; Kraken refills with 99.05


def test_a_level_pushed_out_of_depth_10_is_dropped(obook, ws_venue):
    venue = ws_venue(serving(first_book, push_out, refill))
    run = obook("watch", "kraken", "BTC/USD", "--depth", "10", "--json", "--count", "3", env=env(venue))
    assert run.code == 0, run
    last = run.lines()[-1]
    assert prices(last, "bids") == ["100.05", "99.9", "99.8", "99.7", "99.6", "99.5", "99.4", "99.3", "99.2", "99.05"]
    assert "checksum" not in run.stderr and [m["method"] for m in venue.sent_json()] == ["subscribe"]


def test_a_client_that_does_not_truncate_fails_that_checksum():
    """The scenario above is one only truncation after every message passes: without it the
    ghost 99.1 is still among the top ten bids when 100.0 goes."""
    venue_book = KrakenBook("BTC/USD", 10, BIDS, ASKS)
    frames = [json.loads(frame, parse_float=Decimal)["data"][0] for frame in (push_out(venue_book), refill(venue_book))]
    for truncating in (True, False):
        client = LevelBook()
        client.apply([LevelOp(True, Decimal(p), Decimal(q)) for p, q in BIDS] + [LevelOp(False, Decimal(p), Decimal(q)) for p, q in ASKS])
        for data in frames:
            client.apply([LevelOp(True, lv["price"], lv["qty"]) for lv in data["bids"]])
            if truncating:
                client.truncate(10)
            assert (book_checksum(client) == data["checksum"]) is (truncating or data is frames[0])


# ---------------------------------------------------------------------- wire text

def test_trailing_zero_quantities_and_prices_pass_as_sent(obook, ws_venue):
    def zeros(params):
        return KrakenBook(params["symbol"][0], params["depth"], [("64525.0", "0.53807066"), ("64524.0", "0.77490540")],
                          [("64525.1", "0.01077490"), ("64526.0", "2.00000000")])

    venue = ws_venue(serving(zeros, lambda book: book.update(asks=[("64525.1", "0.10000000")])))
    run = obook("watch", "kraken", "BTC_USD", "--json", "--count", "2", env=env(venue))
    assert run.code == 0, run
    snapshot, update = run.lines()
    assert snapshot["bids"][0]["price"] == "64525.0" and snapshot["asks"][1]["amount"] == "2.00000000"
    assert update["asks"][0]["amount"] == "0.10000000"
    assert "checksum" not in run.stderr and len(venue.sent_json()) == 1


def test_a_client_that_normalizes_numbers_fails_that_checksum():
    wire = [("64525.1", "0.01077490"), ("64526.0", "2.00000000")]
    normalized = [(str(Decimal(p).normalize()), str(Decimal(q).normalize())) for p, q in wire]
    assert zlib.crc32(kraken_crc(wire).encode()) != zlib.crc32(kraken_crc(normalized).encode())


# ---------------------------------------------------------------------- resync

def other_book(params) -> KrakenBook:
    return KrakenBook(params["symbol"][0], params["depth"], [("200.0", "1.00000000"), ("199.5", "2.00000000")],
                      [("200.5", "1.50000000"), ("201.0", "3.00000000")])


def test_a_bad_checksum_resyncs_to_a_book_with_none_of_the_old_levels(obook, ws_venue):
    def script(peer):
        params = subscribe(peer)
        book = first_book(params)
        peer.send(book.snapshot())
        peer.send(book.update(asks=[("100.1", "0.90000000")], checksum=123456789))  # not what the book gives
        answer(peer, other_book)

    venue = ws_venue(script)
    run = obook("watch", "kraken", "BTC/USD", "--json", "--count", "2", env=env(venue))
    assert run.code == 0, run
    before, after = run.lines()
    assert prices(after, "bids") == ["200.0", "199.5"] and prices(after, "asks") == ["200.5", "201.0"]
    old = set(prices(before, "bids") + prices(before, "asks"))
    assert not old & set(prices(after, "bids") + prices(after, "asks"))
    assert "checksum mismatch" in run.stderr and "123456789" in run.stderr
    sent = venue.sent_json()
    assert [m["method"] for m in sent] == ["subscribe", "unsubscribe", "subscribe"]
    assert sent[1]["params"] == {"channel": "book", "symbol": ["BTC/USD"], "depth": 10}


class Miscounted(KrakenBook):
    """A venue whose checksum never matches its own book."""

    def snapshot(self, checksum: int | None = None) -> str:
        return super().snapshot(checksum=1)


@pytest.mark.parametrize("command", [["snapshot"], ["watch", "--count", "1"]])
def test_a_checksum_that_never_matches_is_unusable_data_exit_5_not_the_network(obook, ws_venue, command):
    """Every snapshot the venue sends (the first and each resubscribe's) fails its checksum until
    --timeout: the venue's data left no book (exit 5, saying what failed), not the network (was
    exit 3, "check the network")."""
    def script(peer):
        params = subscribe(peer)
        book = Miscounted(params["symbol"][0], params["depth"], BIDS, ASKS)
        peer.send(book.snapshot())
        answer(peer, lambda _params: book, seconds=5)

    run = obook(command[0], "kraken", "BTC/USD", "--json", "--timeout", "2", *command[1:], env=env(ws_venue(script)))
    assert run.code == 5 and run.stdout == "", run
    lines = run.stderr.strip().splitlines()  # watch says each resync on its own line before
    assert len(lines) == 1 or command[0] == "watch", run
    assert lines[-1].startswith("obook: kraken BTC/USD: unusable data from the venue: no usable order book within 2s: "
                                "checksum mismatch after the seed: the venue says 1, the book gives "), run
    assert lines[-1].endswith("the venue's book never checked out; try again later, or rerun with --debug to see its traffic"), run


# ---------------------------------------------------------------------- keep-alive, errors, reconnect

def test_heartbeats_status_and_pongs_are_proof_of_life_not_books(obook, ws_venue):
    maintenance = STATUS.replace('"online"', '"maintenance"')
    pong = '{"method":"pong","req_id":null,"time_in":"2026-12-05T10:00:01.000001Z","time_out":"2026-12-05T10:00:01.000040Z"}'
    venue = ws_venue(serving(first_book, HEARTBEAT, HEARTBEAT, maintenance, pong, HEARTBEAT,
                             lambda book: book.update(bids=[("99.95", "1.00000000")])))
    run = obook("watch", "kraken", "BTC/USD", "--json", "--count", "2", "--debug", env=env(venue))
    assert run.code == 0, run
    assert len(run.lines()) == 2 and "99.95" in prices(run.lines()[1], "bids")
    assert "malformed" not in run.stderr


def test_a_refused_subscription_is_exit_4_naming_the_symbol(obook, ws_venue):
    def script(peer):
        peer.send(STATUS)
        sub = peer.expect_json()
        symbol = sub["params"]["symbol"][0]
        peer.send(json.dumps({"error": f"Currency pair not supported {symbol}", "method": "subscribe", "success": False,
                              "symbol": symbol, "time_in": "2026-09-25T17:48:54.701041Z", "time_out": "2026-09-25T17:48:54.701062Z"}))
        peer.hold(5)

    venue = ws_venue(script)
    assert_clean_failure(obook("snapshot", "kraken", "abc-usd", env=env(venue)), 4, "ABC/USD", "not supported")


@pytest.mark.parametrize("refusal", [
    {"error": "Malformed request", "success": False},  # an error without the method it answers
    {"error": "Currency pair not supported: separate ABC/USD", "method": "subscribe", "success": False},  # "rate" inside a word
])
def test_every_refusal_ends_at_once_with_exit_4(obook, ws_venue, refusal):
    def script(peer):
        peer.send(STATUS)
        peer.expect_json()
        peer.send(json.dumps(refusal))
        peer.hold(10)

    venue = ws_venue(script)
    started = time.monotonic()
    assert_clean_failure(obook("snapshot", "kraken", "abc-usd", "--timeout", "8", env=env(venue)), 4, refusal["error"][:17])
    assert time.monotonic() - started < 6  # not left to --timeout as a network error


def test_xbt_is_asked_for_as_btc(obook, ws_venue):
    """v2 refuses XBT/USD (recorded: kraken_subscribe_refused_xbtusd.json); obook sends BTC/USD."""
    def script(peer):
        peer.send(STATUS)
        sub = peer.expect_json()
        if sub["params"]["symbol"] == ["XBT/USD"]:
            peer.send(payload("kraken_subscribe_refused_xbtusd.json"))
            return
        peer.send(json.dumps({"method": "subscribe", "result": {**sub["params"], "symbol": "BTC/USD"}, "success": True}))
        peer.send(first_book(sub["params"]).snapshot())
        peer.hold(5)

    venue = ws_venue(script)
    run = obook("snapshot", "kraken", "XBT/USD", "--json", env=env(venue))
    assert run.code == 0, run
    book = run.json()
    assert book["sequence"] is None and book["symbol"] == "BTC/USD" and book["venue"] == "kraken"
    assert book["best_bid"] == "100.0" and book["best_ask"] == "100.1"


@pytest.mark.parametrize("typed", ["BTC/USD", "XBT/USD", "btc-usd", "BTC_USD", "xbt_usd"])
def test_symbol_spellings(typed):
    assert Kraken({}).symbol(typed) == "BTC/USD"


def test_a_reconnect_starts_from_a_fresh_snapshot(obook, ws_venue):
    def script(peer):
        params = subscribe(peer)
        if peer.index == 0:
            peer.send(first_book(params).snapshot())
            peer.drop()
            return
        peer.send(other_book(params).snapshot())
        answer(peer, other_book, seconds=10)

    venue = ws_venue(script)
    run = obook("watch", "kraken", "BTC/USD", "--json", "--count", "2", env=env(venue))
    assert run.code == 0, run
    before, after = run.lines()
    assert prices(before, "bids")[0] == "100.0" and prices(after, "bids") == ["200.0", "199.5"]
    assert len(venue.connections) == 2
    assert venue.connections[1] - venue.connections[0] >= 4.0  # Kraken's connection rate limit


# ---------------------------------------------------------------------- depth

@pytest.mark.parametrize(("asked", "kraken"), [(1, 10), (10, 10), (11, 25), (30, 100), (101, 500), (1000, 1000)])
def test_depth_picks_the_smallest_kraken_depth_that_covers_it(obook, ws_venue, asked, kraken):
    venue = ws_venue(serving(first_book))
    run = obook("snapshot", "kraken", "BTC/USD", "--depth", str(asked), "--json", env=env(venue))
    assert run.code == 0, run
    assert venue.sent_json()[0]["params"]["depth"] == kraken
    assert len(run.json()["bids"]) == min(asked, 10)


def test_depth_beyond_1000_is_a_usage_error(obook):
    assert_clean_failure(obook("snapshot", "kraken", "BTC/USD", "--depth", "1001"), 2, "1..1000")


def test_the_ladder_moves_between_kraken_depths():
    venue = Kraken({})
    at = Kraken.info.default_depth
    from orderbook_cli.feed import FeedRequest

    request = FeedRequest("kraken", "BTC/USD", at, 10.0)
    assert venue.resubscribe_messages(request, request._replace(depth=9)) == []
    unsubscribe, subscribe_again = (json.loads(m) for m in venue.resubscribe_messages(request, request._replace(depth=11)))
    assert unsubscribe == {"method": "unsubscribe", "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": 10}}
    assert subscribe_again == {"method": "subscribe", "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": 25, "snapshot": True}}


# ---------------------------------------------------------------------- listing, recording, merging

def test_symbols_lists_v2_names_from_asset_pairs(obook, http_venue):
    http_venue.route("/0/public/AssetPairs", Reply(body=payload("kraken_assetpairs.json")))
    run = obook("symbols", "kraken", env={"OBOOK_KRAKEN_REST_URL": http_venue.url})
    assert run.code == 0, run
    assert run.stdout.split() == ["BTC/USD", "ETH/USD", "SOL/EUR"]
    assert http_venue.paths() == ["/0/public/AssetPairs"]


def test_venues_lists_kraken(obook):
    run = obook("venues", "--json")
    assert run.code == 0, run
    kraken = next(v for v in run.json() if v["id"] == "kraken")
    assert kraken["endpoint"] == "wss://ws.kraken.com/v2" and kraken["endpoint_env"] == "OBOOK_KRAKEN_URL"
    assert kraken["max_depth"] == 1000 and kraken["symbol_format"] == "BTC/USD"


def test_record_then_replay_gives_the_same_books(obook, ws_venue, tmp_path):
    def script(peer):
        params = subscribe(peer)
        book = first_book(params)
        peer.send(book.snapshot())
        peer.send(push_out(book))
        peer.send(book.update(asks=[("100.1", "0.90000000")], checksum=1))  # a mismatch: the replay must resync too
        answer(peer, other_book)

    venue = ws_venue(script)
    recording = tmp_path / "kraken.raw"
    live = obook("watch", "kraken", "BTC/USD", "--json", "--count", "3", "--record", str(recording), env=env(venue))
    assert live.code == 0, live
    again = obook("replay", str(recording), "--speed", "max", "--json")
    assert again.code == 0, again
    keys = ("venue", "symbol", "bids", "asks", "sequence")
    assert [{k: b[k] for k in keys} for b in again.lines()] == [{k: b[k] for k in keys} for b in live.lines()]
    assert prices(again.lines()[-1], "bids") == ["200.0", "199.5"]


def test_merged_with_another_usd_venue(obook, ws_venue, http_venue):
    http_venue.route("/api/1.0/public/order-book/BTC-USD",
                     Reply(body={"data": {"bids": [{"p": "100.0", "q": "0.5", "no": "1"}], "asks": [{"p": "100.2", "q": "1", "no": "1"}]},
                                 "metadata": {"timestamp": 1763700000500}}))
    venue = ws_venue(serving(first_book))
    run = obook("snapshot", "kraken:BTC/USD", "revx:BTC-USD", "--merge", "--json",
                env={**env(venue), "OBOOK_REVX_URL": http_venue.url})
    assert run.code == 0, run
    merged = run.json()
    best = merged["bids"][0]
    assert best["price"] == "100.0" and Decimal(best["amount"]) == Decimal("1.5")
    assert set(best["venues"]) == {"kraken", "revx"}


def test_plus_in_the_ladder_moves_to_the_next_kraken_depth(terminal, ws_venue):
    import shlex

    from tests.conftest import OBOOK

    deep_bids = [(f"{Decimal('100.0') - Decimal('0.1') * i}", "1.00000000") for i in range(30)]

    def deep_book(params) -> KrakenBook:
        return KrakenBook(params["symbol"][0], params["depth"], deep_bids, ASKS)

    def script(peer):
        params = subscribe(peer)
        peer.send(deep_book(params).snapshot())
        answer(peer, deep_book)

    venue = ws_venue(script)
    terminal.start(f"OBOOK_KRAKEN_URL={shlex.quote(venue.url)} {shlex.quote(OBOOK)} watch kraken BTC/USD --depth 10", 100, 40)
    screen = terminal.wait_for(r"99\.1", stable=True)
    assert "99.0 " not in screen  # the 11th bid is beyond depth 10
    terminal.keys("+")
    screen = terminal.wait_for(r"99\.0 ", stable=True)
    assert [(m["method"], m["params"]["depth"]) for m in venue.sent_json()] == [("subscribe", 10), ("unsubscribe", 10), ("subscribe", 25)]
    assert "98.9" not in screen  # 11 levels shown, not the 25 kept
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def test_the_ladder_header_counts_the_checksums_that_matched(terminal, ws_venue):
    """Recorded ETH/USD traffic: the snapshot's and the update's checksums both match: `crc ✓ 2`."""
    import shlex

    from tests.conftest import OBOOK

    def script(peer):
        peer.send(STATUS)
        peer.expect_json()
        peer.send(payload("kraken_subscribe_ack_ethusd.json"))
        peer.send(payload("kraken_book_snapshot_ethusd.json"))
        peer.send(payload("kraken_book_update_ethusd.json"))
        while True:
            peer.send(HEARTBEAT)
            time.sleep(0.5)

    venue = ws_venue(script)
    terminal.start(f"OBOOK_KRAKEN_URL={shlex.quote(venue.url)} {shlex.quote(OBOOK)} watch kraken ETH/USD", 150, 30)
    screen = terminal.wait_for(r"crc ✓ 2", stable=True)
    assert "resync" not in screen
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def test_checksum_text_is_each_number_without_its_dot_and_leading_zeros():
    import random

    from orderbook_cli.venues.kraken import _digits, side_text

    rng = random.Random(26)
    spellings = ["0.00012000", "1797.24", "60000", "0.5", "1E-8", "0.00000001", "10.10", "100", "0E-8", "2.50000000", "3E+2"]
    for _ in range(200):
        book = LevelBook()
        book.apply([LevelOp(rng.random() < 0.5, Decimal(rng.choice(spellings)) + rng.randrange(1, 5), Decimal(rng.choice(spellings)))
                    for _ in range(rng.randint(0, 14))])
        for side in (book.bids, book.asks):
            assert side_text(side) == "".join(_digits(level.price) + _digits(level.amount) for level in list(side.walk())[:10])


def test_checksum_text_follows_each_level_as_written_message_after_message():
    """Levels whose text the checksum already wrote are reused only for the very same price
    and quantity objects: a price or quantity equal in value but written otherwise
    (1797.2 vs 1797.20, 10.8 vs 10.80000000) is written anew, here and on the other side."""
    import random

    from orderbook_cli.venues.kraken import _digits, side_text

    rng = random.Random(27)
    prices = ["1797.2", "1797.20", "1797.3", "1797.30", "1797.1", "1797.4", "1797.5"]
    quantities = ["10.8", "10.80000000", "0.5", "0.50", "1E-8", "0.00000001"]
    book = LevelBook()
    for _ in range(400):
        book.apply([LevelOp(rng.random() < 0.5, Decimal(rng.choice(prices)), Decimal(rng.choice(quantities)) if rng.random() < 0.85 else Decimal(0))])
        for side in (book.bids, book.asks):
            assert side_text(side) == "".join(_digits(level.price) + _digits(level.amount) for level in list(side.walk())[:10])


@pytest.mark.parametrize("system, code, needles", [
    ("maintenance", 5, ["venue failure", "reports its system as 'maintenance'", "back online"]),
    ("post_only", 5, ["reports its system as 'post_only'"]),
    ("online", 3, ["no order book within 2s"]),  # online explains nothing: the usual network error
    # a word Kraken does not use, or no word: nothing said, the usual network error
    ("ONLINE", 3, ["no order book within 2s"]), (["maintenance"], 3, ["no order book within 2s"]), (None, 3, ["no order book within 2s"]),
    ({"a": 1}, 3, ["no order book within 2s"]), ("\x1b[31mdown" * 1000, 3, ["no order book within 2s"]),
])
def test_a_venue_in_maintenance_is_said_when_no_book_comes(obook, ws_venue, system, code, needles):
    """Kraken's `status` says its trading engine is down for maintenance, and the book it acks
    never comes: the timeout says so (exit 5), not "check the network"."""
    def script(peer):
        peer.send(STATUS.replace('"online"', json.dumps(system)))
        params = subscribe(peer, status=False)
        assert params["channel"] == "book"
        answer(peer, lambda _params: None, seconds=5)

    run = obook("snapshot", "kraken", "BTC/USD", "--timeout", "2", env=env(ws_venue(script)), timeout=30)
    assert_clean_failure(run, code, *needles)
    if code == 3:
        assert "reports its system" not in run.stderr
