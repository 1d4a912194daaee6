"""Bitso orders channel, end to end against a loopback WebSocket venue."""

import json
import time

from tests.conftest import assert_clean_failure
from tests.servers.http_venue import payload

DOC = json.loads(payload("bitso_doc_orders.json"))
ACK = {"action": "subscribe", "response": "ok", "time": 1455831538048, "type": "orders"}


def orders(book="btc_mxn", bid="7777", sent=1675555546102):
    return {"type": "orders", "book": book, "sent": sent, "payload": {
        "bids": [{"o": "a", "r": bid, "a": "1", "v": "1", "t": 0, "d": 1, "s": "undefined"},
                 {"o": "b", "r": "7000", "a": "0.5", "v": "1", "t": 0, "d": 1, "s": "undefined"}],
        "asks": [{"o": "c", "r": "8000", "a": "2", "v": "1", "t": 1, "d": 1, "s": "undefined"}]}}


def serving(*frames, then="hold"):
    """A Bitso script: expect the subscription, ack, send frames, then hold/drop/silence."""

    def script(peer):
        sub = peer.expect_json()
        assert sub["action"] == "subscribe" and sub["type"] == "orders"
        peer.send({**ACK, "book": sub["book"]})
        for frame in frames:
            peer.send(frame(sub["book"]) if callable(frame) else frame)
        if then == "drop":
            peer.drop()
        else:
            peer.hold()

    return script


def env(venue):
    return {"OBOOK_BITSO_URL": venue.url}


def test_snapshot_subscribes_venue_symbol_and_aggregates_orders(obook, ws_venue):
    venue = ws_venue(serving({"type": "ka"}, lambda book: {**DOC, "book": book}))
    run = obook("snapshot", "bitso", "--feed", "top", "BTC/USD", "--json", env=env(venue))
    assert run.code == 0, run
    assert venue.sent_json()[0] == {"action": "subscribe", "book": "btc_usd", "type": "orders"}
    book = run.json()
    assert book["venue"] == "bitso" and book["symbol"] == "btc_usd"
    # the doc example repeats 7777 across orders and marks bids t=1: sides come from the arrays
    assert book["bids"] == [
        {"price": "7777", "amount": "1.60438803", "total": "1.60438803", "count": 2},
        {"price": "5555", "amount": "0.001343", "total": "1.60573103", "count": 1},
    ]
    assert book["asks"] == [{"price": "7777", "amount": "1.61494991", "total": "1.61494991", "count": 2}]
    assert book["timestamp"] == "2023-02-05T00:05:46.102Z"
    assert (book["best_bid"], book["best_ask"], book["spread"]) == ("7777", "7777", "0")


def test_doc_example_without_sent_has_null_timestamp(obook, ws_venue):
    frame = json.loads(payload("bitso_9.json"))
    venue = ws_venue(serving(frame))
    book = obook("snapshot", "bitso", "--feed", "top", "btc_mxn", "--json", env=env(venue)).json()
    assert book["timestamp"] is None
    assert [b["price"] for b in book["bids"]] == ["7185", "7183.01", "7183"]
    assert [a["price"] for a in book["asks"]] == ["7251.1", "7251.72"]


def test_watch_count_prints_exactly_n_lines(obook, ws_venue):
    venue = ws_venue(serving(*[orders(bid=str(7700 + i)) for i in range(6)]))
    run = obook("watch", "bitso", "--feed", "top", "btc_mxn", "--json", "--count", "3", env=env(venue))
    assert run.code == 0, run
    lines = run.stdout.splitlines()
    assert len(lines) == 3
    assert [json.loads(line)["best_bid"] for line in lines] == ["7700", "7701", "7702"]


def test_drop_after_two_books_reconnects_and_delivers_five(obook, ws_venue):
    venue = ws_venue(serving(orders(bid="7001"), orders(bid="7002"), then="drop"))
    run = obook("watch", "bitso", "--feed", "top", "btc_mxn", "--json", "--count", "5", env=env(venue))
    assert run.code == 0, run
    assert len(run.lines()) == 5
    assert len(venue.connections) >= 3
    subs = [m for m in venue.sent_json() if isinstance(m, dict) and m.get("action") == "subscribe"]
    assert len(subs) == len(venue.connections)  # resubscribed on every connection
    assert "reconnecting" in run.stderr  # said so, on stderr in NDJSON mode
    assert "Traceback" not in run.stderr


GARBAGE = [
    "not json at all",
    b"\x00\xff\x13binary junk",
    "[1, 2, 3]",
    {"type": "orders", "book": "btc_mxn"},
    {"type": "orders", "book": "btc_mxn", "payload": {"bids": "x", "asks": []}},
    {"type": "orders", "book": "btc_mxn", "payload": {"bids": [{"r": None, "a": "1"}], "asks": []}},
    {"type": "orders", "book": "btc_mxn", "payload": {"bids": [{"r": "abc", "a": "1"}], "asks": []}},
    {"type": "orders", "book": "btc_mxn", "payload": {"bids": [{"r": "1", "a": "-5"}], "asks": []}},
    {"type": "orders", "book": "btc_mxn", "payload": {"bids": [7], "asks": []}},
    '{"type": "orders", "payload": {"bids": [{"r": NaN, "a": "1"}], "asks": []}}',
]


def test_garbage_frames_are_skipped_and_counted(obook, ws_venue):
    venue = ws_venue(serving(*GARBAGE, orders(bid="7005")))
    run = obook("watch", "bitso", "--feed", "top", "btc_mxn", "--json", "--count", "1", "--debug", env=env(venue))
    assert run.code == 0, run
    assert [b["best_bid"] for b in run.lines()] == ["7005"]
    assert f"skipped malformed frame #{len(GARBAGE)}" in run.stderr


def test_other_books_and_channels_are_ignored(obook, ws_venue):
    venue = ws_venue(serving({"type": "trades", "book": "btc_mxn", "payload": []}, orders(book="eth_mxn", bid="1"), orders(bid="7006")))
    assert obook("snapshot", "bitso", "--feed", "top", "btc_mxn", "--json", env=env(venue)).json()["best_bid"] == "7006"


def test_unsupported_book_exits_4_naming_it(obook, ws_venue):
    def script(peer):
        sub = peer.expect_json()
        peer.send({"action": "subscribe", "type": "orders", "error": f"This book is not supported - {sub['book']}"})
        peer.hold(5)

    venue = ws_venue(script)
    run = obook("snapshot", "bitso", "--feed", "top", "foo_bar", env=env(venue))
    assert_clean_failure(run, 4, "foo_bar", "not supported")
    watch = obook("watch", "bitso", "--feed", "top", "foo_bar", "--json", env=env(venue))
    assert_clean_failure(watch, 4, "foo_bar")


def test_quiet_book_times_out_with_exit_3(obook, ws_venue):
    venue = ws_venue(serving())  # acks, then nothing
    started = time.monotonic()
    run = obook("snapshot", "bitso", "--feed", "top", "btc_mxn", "--timeout", "1.5", env=env(venue))
    assert_clean_failure(run, 3, "no order book within 1.5s")
    assert time.monotonic() - started < 5


def test_silent_link_is_declared_dead_and_reconnected(obook, ws_venue):
    def script(peer):
        sub = peer.expect_json()
        peer.send({**ACK, "book": sub["book"]})
        if peer.index == 0:
            peer.send(orders(bid="7101"))
            peer.hold(10)  # then silence: not even keep-alives
        else:
            peer.send(orders(bid="7102"))
            peer.hold()

    venue = ws_venue(script)
    run = obook("watch", "bitso", "--feed", "top", "btc_mxn", "--json", "--count", "2", "--idle-timeout", "1", env=env(venue))
    assert run.code == 0, run
    assert [b["best_bid"] for b in run.lines()] == ["7101", "7102"]
    assert len(venue.connections) == 2
    assert "no data from the venue for 1s" in run.stderr


def test_keepalives_keep_a_quiet_link_alive(obook, ws_venue):
    def script(peer):
        sub = peer.expect_json()
        peer.send({**ACK, "book": sub["book"]})
        peer.send(orders(bid="7201"))
        for _ in range(6):
            time.sleep(0.3)
            peer.send({"type": "ka"})
        peer.send(orders(bid="7202"))
        peer.hold()

    venue = ws_venue(script)
    run = obook("watch", "bitso", "--feed", "top", "btc_mxn", "--json", "--count", "2", "--idle-timeout", "1", env=env(venue))
    assert run.code == 0, run
    assert len(venue.connections) == 1


def test_nothing_listening_exits_3(obook, unused_port):
    run = obook("snapshot", "bitso", "--feed", "top", "btc_mxn", "--timeout", "3", env={"OBOOK_BITSO_URL": f"ws://127.0.0.1:{unused_port}"})
    assert_clean_failure(run, 3, "cannot connect", "OBOOK_BITSO_URL")


def test_depth_limits(obook, ws_venue):
    venue = ws_venue(serving(lambda book: {**DOC, "book": book}))
    book = obook("snapshot", "bitso", "--feed", "top", "btc_mxn", "--json", "--depth", "1", env=env(venue)).json()
    assert len(book["bids"]) == 1 and book["bids"][0]["count"] == 2
    assert_clean_failure(obook("snapshot", "bitso", "--feed", "top", "btc_mxn", "--depth", "21"), 2, "1..20")
