"""BitMart: the seed protocol and the current spot API, against loopback WebSocket venues."""

import json
import time
import zlib

import pytest

from tests.conftest import assert_clean_failure
from tests.servers.http_venue import payload

SEED = json.loads(payload("bitmart_doc_depth.json"))
LEGACY = json.loads(payload("bitmart_2.json"))


def deflate(obj) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(json.dumps(obj).encode()) + packer.flush()


# ---------------------------------------------------------------- seed protocol

def seed_serving(*frames, then="hold"):
    def script(peer):
        sub = peer.expect_json()
        assert sub["subscribe"] == "order"
        for frame in frames:
            peer.send(frame)
        peer.drop() if then == "drop" else peer.hold()

    return script


def test_seed_snapshot_sends_precision_and_prints_example(obook, ws_venue):
    venue = ws_venue(seed_serving(SEED))
    run = obook("snapshot", "bitmart", "BMX_ETH", "--json", env={"OBOOK_BITMART_URL": venue.url})
    assert run.code == 0, run
    assert venue.sent_json()[0] == {"subscribe": "order", "symbol": "BMX_ETH", "precision": 6}
    book = run.json()
    assert len(book["bids"]) == 20 and len(book["asks"]) == 20
    assert book["bids"][0] == {"price": "0.000111", "amount": "30657.00", "total": "30657.00", "count": 1}
    assert book["bids"][-1]["total"] == "1615253.81"
    assert book["asks"][0] == {"price": "0.000113", "amount": "7734.95", "total": "7734.95", "count": 3}
    assert book["asks"][-1]["total"] == "1307962.02"
    assert all(isinstance(lv["count"], int) for lv in book["bids"] + book["asks"])
    assert book["timestamp"] is None
    assert (book["spread"], book["mid"]) == ("0.000002", "0.000112")


def test_seed_inconsistent_venue_totals_are_recomputed(obook, ws_venue):
    frame = {**LEGACY, "symbol": "BMX_ETH"}
    venue = ws_venue(seed_serving(frame))
    run = obook("snapshot", "bitmart", "bmx/eth", "--json", "--debug", env={"OBOOK_BITMART_URL": venue.url})
    assert run.code == 0, run
    bids = run.json()["bids"]
    running = 0
    from decimal import Decimal
    for level in bids:
        running += Decimal(level["amount"])
        assert Decimal(level["total"]) == running
    assert bids[0]["total"] == "13970.40"  # the venue said 120000.000000
    assert "not cumulative" in run.stderr


def test_seed_numeric_legacy_symbol_and_order_label_accepted(obook, ws_venue):
    venue = ws_venue(seed_serving(LEGACY, {**SEED, "subscribe": "order"}))
    run = obook("watch", "bitmart", "BMX_ETH", "--json", "--count", "2", env={"OBOOK_BITMART_URL": venue.url})
    assert run.code == 0, run
    assert [b["best_bid"] for b in run.lines()] == ["0.000128", "0.000111"]


def test_seed_watch_count_and_depth(obook, ws_venue):
    venue = ws_venue(seed_serving(SEED, SEED, SEED))
    run = obook("watch", "bitmart", "bmx/eth", "--json", "--count", "2", "--depth", "5", env={"OBOOK_BITMART_URL": venue.url})
    assert run.code == 0, run
    books = run.lines()
    assert len(books) == 2
    assert all(len(b["bids"]) <= 5 and len(b["asks"]) <= 5 for b in books)


def test_seed_precision_option_and_error(obook, ws_venue):
    def script(peer):
        sub = peer.expect_json()
        if sub["precision"] == 9:
            peer.send({"subscribe": "depth", "symbol": "BMX_ETH", "message": "precision is invalid"})
        else:
            peer.send(SEED)
        peer.hold(5)

    venue = ws_venue(script)
    env = {"OBOOK_BITMART_URL": venue.url}
    run = obook("snapshot", "bitmart", "BMX_ETH", "--precision", "9", env=env)
    assert_clean_failure(run, 4, "precision 9", "--precision")
    ok = obook("snapshot", "bitmart", "BMX_ETH", "--precision", "7", "--json", env=env)
    assert ok.code == 0, ok
    assert venue.sent_json()[-1]["precision"] == 7
    assert_clean_failure(obook("snapshot", "bitso", "btc_mxn", "--precision", "7"), 2, "--precision applies to bitmart")


def test_seed_unknown_symbol_exits_4(obook, ws_venue):
    def script(peer):
        peer.expect_json()
        peer.send({"subscribe": "order", "symbol": "NOPE_ETH", "message": "symbol not found"})
        peer.hold(5)

    venue = ws_venue(script)
    assert_clean_failure(obook("snapshot", "bitmart", "NOPE_ETH", env={"OBOOK_BITMART_URL": venue.url}), 4, "NOPE_ETH", "symbol not found")


def test_seed_ping_pong_keeps_link(obook, ws_venue, monkeypatch):
    pings = []

    def script(peer):
        peer.expect_json()
        peer.send(SEED)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message = json.loads(peer.recv(timeout=30))
            if message == {"subscribe": "ping"}:
                pings.append(time.monotonic())
                peer.send({"subscribe": "pong"})
                if len(pings) == 1:
                    peer.send(SEED)

    venue = ws_venue(script)
    started = time.monotonic()
    run = obook("watch", "bitmart", "BMX_ETH", "--json", "--count", "2", "--idle-timeout", "2", env={"OBOOK_BITMART_URL": venue.url})
    assert run.code == 0, run
    assert time.monotonic() - started < 10  # pinged within half the idle timeout
    assert len(pings) == 1 and len(venue.connections) == 1


def test_seed_reconnect_respects_four_seconds_per_connection(obook, ws_venue):
    venue = ws_venue(seed_serving(SEED, then="drop"))
    run = obook("watch", "bitmart", "BMX_ETH", "--json", "--count", "2", env={"OBOOK_BITMART_URL": venue.url}, timeout=40)
    assert run.code == 0, run
    first, second = venue.connections[:2]
    assert second - first >= 4.0


# ---------------------------------------------------------------- current spot API

def v3_push(symbol="BTC_USDT", bid="30000.00", table="spot/depth20"):
    return {"table": table, "data": [{"asks": [["31012.44", "0.5"], ["31000.10", "1.25"]],
                                       "bids": [[bid, "1.00000"], ["29999.5", "2"]],
                                       "symbol": symbol, "ms_t": 1691672864874}]}


def v3_serving(*frames, compress=True, then="hold"):
    def script(peer):
        sub = peer.expect_json()
        assert sub["op"] == "subscribe"
        peer.send({"event": "subscribe", "topic": sub["args"][0]})
        for frame in frames:
            peer.send(deflate(frame) if compress and isinstance(frame, dict) else frame)
        peer.drop() if then == "drop" else peer.hold()

    return script


def v3_env(venue):
    return {"OBOOK_BITMART_V3_URL": venue.url}


def test_v3_snapshot_inflates_compressed_frames(obook, ws_venue):
    venue = ws_venue(v3_serving(v3_push()))
    run = obook("snapshot", "bitmart-v3", "--feed", "top", "BTC/USDT", "--json", "--depth", "5", env=v3_env(venue))
    assert run.code == 0, run
    assert venue.sent_json()[0] == {"op": "subscribe", "args": ["spot/depth5:BTC_USDT"]}
    book = run.json()
    assert book["asks"] == [
        {"price": "31000.10", "amount": "1.25", "total": "1.25", "count": None},
        {"price": "31012.44", "amount": "0.5", "total": "1.75", "count": None},
    ]
    assert book["bids"][0]["price"] == "30000.00"
    assert book["timestamp"] == "2023-08-10T13:07:44.874Z"


@pytest.mark.parametrize("depth, channel", [(None, "spot/depth20"), ("5", "spot/depth5"), ("6", "spot/depth20"), ("21", "spot/depth50"), ("50", "spot/depth50")])
def test_v3_smallest_channel_covering_depth(obook, ws_venue, depth, channel):
    venue = ws_venue(v3_serving(v3_push()))
    args = ["snapshot", "bitmart-v3", "btc-usdt", "--json", "--feed", "top"] + (["--depth", depth] if depth else [])
    assert obook(*args, env=v3_env(venue)).code == 0
    assert venue.sent_json()[0]["args"] == [f"{channel}:BTC_USDT"]


def test_v3_doc_payloads_plain_text(obook, ws_venue):
    doc5 = json.loads(payload("bitmart_5.json"))
    doc7 = json.loads(payload("bitmart_7.json"))
    venue = ws_venue(v3_serving(json.dumps(doc5), json.dumps(doc7), compress=False))
    run = obook("watch", "bitmart-v3", "--feed", "top", "ETH_USDT", "--json", "--count", "2", env=v3_env(venue))
    assert run.code == 0, run
    first, second = run.lines()
    assert (first["best_bid"], first["best_ask"]) == ("161.94", "161.96")
    assert first["timestamp"] == "2018-11-16T03:00:19.120Z"
    assert [a["price"] for a in second["asks"]] == ["23200", "28000.00"]


def test_v3_text_ping_pong(obook, ws_venue, monkeypatch):
    seen = []

    def script(peer):
        sub = peer.expect_json()
        peer.send({"event": "subscribe", "topic": sub["args"][0]})
        peer.send(deflate(v3_push(bid="30001")))
        while True:
            message = peer.recv(timeout=40)
            seen.append(message)
            if message == "ping":
                peer.send("pong")
                peer.send(deflate(v3_push(bid="30002")))

    venue = ws_venue(script)
    started = time.monotonic()
    run = obook("watch", "bitmart-v3", "--feed", "top", "BTC_USDT", "--json", "--count", "2", "--idle-timeout", "2", env=v3_env(venue))
    assert run.code == 0, run
    assert "ping" in seen
    assert [b["best_bid"] for b in run.lines()] == ["30001", "30002"]
    assert time.monotonic() - started < 10  # pinged within half the idle timeout


def test_v3_unknown_symbol_exits_4(obook, ws_venue):
    def script(peer):
        peer.expect_json()
        peer.send({"event": "subscribe", "errorCode": "90004", "errorMessage": "Invalid symbol NOPE_USDT"})
        peer.hold(5)

    venue = ws_venue(script)
    assert_clean_failure(obook("snapshot", "bitmart-v3", "--feed", "top", "NOPE_USDT", env=v3_env(venue)), 4, "NOPE_USDT", "90004")


def test_v3_an_error_answering_another_op_is_no_refusal_of_the_book(obook, ws_venue):
    """BitMart's errors share one shape: one answering an unsubscribe, a request or a login
    (here mid-stream) does not end an accepted subscription as 'unknown symbol'."""
    busy = {"event": "unsubscribe", "errorCode": "90001", "errorMessage": "Server busy"}
    venue = ws_venue(v3_serving(v3_push(bid="30001"), busy, {**busy, "event": "request"}, v3_push(bid="30002"), v3_push(bid="30003")))
    run = obook("watch", "bitmart-v3", "--feed", "top", "BTC_USDT", "--json", "--count", "3", env=v3_env(venue))
    assert run.code == 0, run
    assert [b["best_bid"] for b in run.lines()] == ["30001", "30002", "30003"]
    refused = ws_venue(v3_serving({"event": "error", "errorCode": "90004", "errorMessage": "Invalid symbol"}, compress=False))
    assert_clean_failure(obook("watch", "bitmart-v3", "--feed", "top", "BTC_USDT", "--json", env=v3_env(refused)), 4, "90004")


def test_v3_dropped_connection_and_garbage(obook, ws_venue):
    venue = ws_venue(v3_serving(b"\x00\x01not deflate", "{broken", v3_push(bid="1"), then="drop"))
    run = obook("watch", "bitmart-v3", "--feed", "top", "BTC_USDT", "--json", "--count", "2", "--debug", env=v3_env(venue), timeout=40)
    assert run.code == 0, run
    assert len(run.lines()) == 2 and len(venue.connections) == 2
    assert "skipped malformed frame #2" in run.stderr


def test_v3_incremental_updates_are_not_shown_as_books(obook, ws_venue):
    update = {"table": "spot/depth/increase100", "data": [{"asks": [], "bids": [["30500", "1"]], "symbol": "BTC_USDT", "ms_t": 1, "type": "update"}]}
    venue = ws_venue(v3_serving(update, v3_push(bid="30005")))
    assert obook("snapshot", "bitmart-v3", "--feed", "top", "BTC_USDT", "--json", env=v3_env(venue)).json()["best_bid"] == "30005"


@pytest.mark.parametrize("key", ["message", "error", "msg", "errmsg"])
def test_seed_error_reply_keys(obook, ws_venue, key):
    def script(peer):
        peer.expect_json()
        peer.send({"subscribe": "order", "symbol": "NOPE_ETH", key: "invalid symbol"})
        peer.hold(5)

    venue = ws_venue(script)
    assert_clean_failure(obook("snapshot", "bitmart", "NOPE_ETH", env={"OBOOK_BITMART_URL": venue.url}), 4, "invalid symbol")
