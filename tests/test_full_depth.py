"""Full depth: Bitso diff-orders + REST seed, BitMart increase100, against loopback venues on real sockets."""

import gzip
import json
import threading
import time
import zlib

from tests.conftest import assert_clean_failure
from tests.servers.http_venue import Reply, payload

BOOK_PATH = "/api/v3/order_book/"
ACK = {"action": "subscribe", "response": "ok", "time": 1, "type": "diff-orders"}


# ---------------------------------------------------------------- Bitso

def order(oid, price, amount):
    return {"book": "btc_mxn", "price": price, "amount": amount, "oid": oid}


def seed(sequence, bids=(), asks=()):
    return {"success": True, "payload": {"bids": [order(*b) for b in bids], "asks": [order(*a) for a in asks],
                                          "updated_at": "2026-01-01T00:00:00+00:00", "sequence": str(sequence)}}


def diff(sequence, *changes):
    return {"type": "diff-orders", "book": "btc_mxn", "sequence": sequence, "sent": 1767225600000 + sequence, "payload": list(changes)}


def opened(oid, side, price, amount):
    return {"o": oid, "d": 1, "r": price, "t": 0 if side == "bid" else 1, "a": amount, "v": "1", "s": "open", "z": 1}


def gone(oid, status="cancelled", **extra):
    return {"o": oid, "d": 1, "s": status, **extra}


SEED_100 = seed(100, bids=[("b1", "1000", "1.00000000"), ("b2", "1000", "0.50000000"), ("b3", "990", "2.00000000")],
                asks=[("a1", "1010", "0.25000000"), ("a2", "1020", "3.00000000")])


class Seeds:
    """The REST seed route: scripted replies in order (the last repeats); records when each was asked for."""

    def __init__(self, http_venue, *replies):
        self.replies, self.asked = list(replies), threading.Semaphore(0)
        http_venue.route(BOOK_PATH, self.reply)
        self.venue = http_venue

    def reply(self, request):
        self.asked.release()
        body = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return body if isinstance(body, Reply) else Reply(200, body)

    def wait(self, timeout=10):
        assert self.asked.acquire(timeout=timeout), "no seed was fetched"


def bitso_script(seeds, *steps):
    """Per connection: expect the diff-orders subscription, ack; then steps: frames, ("seed",) waits for a fetch."""

    def script(peer):
        sub = peer.expect_json()
        assert sub == {"action": "subscribe", "book": "btc_mxn", "type": "diff-orders"}
        peer.send({**ACK, "book": "btc_mxn"})
        for step in (steps[peer.index] if isinstance(steps[0], list) else steps):
            if step == "seed":
                seeds.wait()
            elif step == "drop":
                peer.drop()
                return
            elif isinstance(step, float):
                time.sleep(step)
            else:
                peer.send(step)
        peer.hold()

    return script


def bitso_env(ws, http):
    return {"OBOOK_BITSO_URL": ws.url, "OBOOK_BITSO_REST_URL": http.url}


def levels(book, side):
    return [(lv["price"], lv["amount"], lv["count"]) for lv in book[side]]


def test_bitso_books_follow_the_seed_and_every_diff(obook, ws_venue, http_venue):
    seeds = Seeds(http_venue, SEED_100)
    real = json.loads(payload("bitso_11.json"))  # the docs' cancelled diff, sequence 2222
    ws = ws_venue(bitso_script(seeds, "seed", diff(99, opened("x", "bid", "1", "1")), diff(100, opened("x", "bid", "1", "1")),
                               diff(101, opened("b4", "bid", "1005", "0.1")),
                               diff(101, opened("dup", "bid", "1", "1")),  # duplicate: ignored
                               diff(102, gone("b1", "completed")),  # completed without a/v
                               diff(103, gone("a1", "cancelled", a="0.25000000", v="252.5", t=1, r="1010")),  # cancelled with them
                               diff(104, gone("b2"), opened("b2", "bid", "1001", "0.50000000")),  # modified: same id, new price
                               {**real, "sequence": 105, "payload": [{**real["payload"][0], "o": "a2"}]}))
    run = obook("watch", "bitso", "btc_mxn", "--json", "--count", "6", env=bitso_env(ws, http_venue))
    assert run.code == 0, run
    books = run.lines()
    assert [b["sequence"] for b in books] == [100, 101, 102, 103, 104, 105]
    assert levels(books[0], "bids") == [("1000", "1.50000000", 2), ("990", "2.00000000", 1)]
    assert levels(books[1], "bids")[0] == ("1005", "0.1", 1)
    assert levels(books[2], "bids")[1] == ("1000", "0.50000000", 1)
    assert levels(books[3], "asks") == [("1020", "3.00000000", 1)]
    assert levels(books[4], "bids") == [("1005", "0.1", 1), ("1001", "0.50000000", 1), ("990", "2.00000000", 1)]
    assert books[5]["asks"] == [] and books[5]["timestamp"] == "2023-02-05T00:05:46.102Z"
    assert books[0]["timestamp"] == "2026-01-01T00:00:00.000Z"
    assert http_venue.paths() == [f"{BOOK_PATH}?book=btc_mxn&aggregate=false"]


def test_bitso_lost_diff_reseeds_without_old_levels(obook, ws_venue, http_venue):
    fresh = seed(110, bids=[("n1", "2000", "1")], asks=[("n2", "2100", "1")])
    seeds = Seeds(http_venue, SEED_100, fresh)
    ws = ws_venue(bitso_script(seeds, "seed", diff(101, opened("b4", "bid", "1005", "0.1")), diff(103, opened("lost", "bid", "1", "1")),
                               "seed", diff(108, opened("old", "bid", "1", "1")), diff(111, opened("n3", "ask", "2050", "2"))))
    run = obook("watch", "bitso", "btc_mxn", "--json", "--count", "4", env=bitso_env(ws, http_venue))
    assert run.code == 0, run
    books = run.lines()
    assert [b["sequence"] for b in books] == [100, 101, 110, 111]
    after = books[2:]
    for book in after:
        prices = {lv["price"] for lv in book["bids"] + book["asks"]}
        assert prices <= {"2000", "2100", "2050"}, book  # nothing from before the resync
    assert levels(after[1], "asks") == [("2050", "2", 1), ("2100", "1", 1)]
    assert run.stderr.count("resyncing: sequence gap: expected 102, got 103") == 1, run.stderr
    assert "live again" not in run.stderr


def test_bitso_crossing_diff_then_silence_reseeds(obook, ws_venue, http_venue):
    seeds = Seeds(http_venue, SEED_100, seed(110, bids=[("n1", "2000", "1")], asks=[("n2", "2100", "1")]))
    ws = ws_venue(bitso_script(seeds, "seed", diff(101, opened("x", "bid", "1010", "0.1")),  # bid 1010 >= ask 1010, then quiet
                               "seed", diff(111, opened("n3", "ask", "2050", "2"))))
    run = obook("watch", "bitso", "btc_mxn", "--json", "--count", "4", env=bitso_env(ws, http_venue))
    assert run.code == 0, run
    books = run.lines()
    assert [b["sequence"] for b in books] == [100, 101, 110, 111]
    assert levels(books[1], "bids")[0] == ("1010", "0.1", 1) and levels(books[1], "asks")[0][0] == "1010"  # shown as sent
    assert {lv["price"] for lv in books[3]["bids"] + books[3]["asks"]} == {"2000", "2050", "2100"}
    assert run.stderr.count("resyncing: the book stayed crossed for more than 1s (sequence 101)") == 1, run.stderr
    assert len(http_venue.requests) == 2


def test_bitso_group_fills_depth_buckets_from_the_whole_book(obook, ws_venue, http_venue):
    deep = seed(100, bids=[("b1", "1009", "0.1"), ("b2", "1008", "0.2"), ("b3", "1005", "0.3"), ("b4", "1005", "0.3"),
                           ("b5", "1001", "0.4"), ("b6", "999", "1"), ("b7", "995", "2"), ("b8", "989", "5")],
                asks=[("a1", "1011", "1"), ("a2", "1012", "1"), ("a3", "1019", "1"), ("a4", "1020", "1"),
                      ("a5", "1021", "2"), ("a6", "1030", "3"), ("a7", "1031", "7")])
    seeds = Seeds(http_venue, deep)
    ws = ws_venue(bitso_script(seeds, "seed", diff(101, opened("b9", "bid", "1003", "0.05"), opened("a8", "ask", "1025", "0.5"))))
    run = obook("watch", "bitso", "btc_mxn", "--json", "--count", "2", "--depth", "2", "--group", "10", env=bitso_env(ws, http_venue))
    assert run.code == 0, run
    first, second = run.lines()
    # bids floor into 1000 (five orders over four levels) and 990; asks ceil into 1020 (four levels) and 1030
    assert levels(first, "bids") == [("1000", "1.3", 5), ("990", "3", 2)]
    assert levels(first, "asks") == [("1020", "4", 4), ("1030", "5", 2)]
    assert [lv["total"] for lv in first["asks"]] == ["4", "9"]
    assert levels(second, "bids") == [("1000", "1.35", 6), ("990", "3", 2)]
    assert levels(second, "asks") == [("1020", "4", 4), ("1030", "5.5", 3)]


def test_bitso_seed_older_than_the_queue_is_fetched_again(obook, ws_venue, http_venue):
    seeds = Seeds(http_venue, seed(95, bids=[("s", "1", "1")]), SEED_100)
    ws = ws_venue(bitso_script(seeds, diff(98, opened("q", "bid", "2", "1")), 0.3, "seed", diff(101, opened("b4", "bid", "1005", "0.1"))))
    run = obook("watch", "bitso", "btc_mxn", "--json", "--count", "2", env=bitso_env(ws, http_venue))
    assert run.code == 0, run
    assert [b["sequence"] for b in run.lines()] == [100, 101]
    assert "older than the queued changes" in run.stderr and len(http_venue.requests) == 2


def test_bitso_rate_limits_during_a_resync_are_waited_out(obook, ws_venue, http_venue):
    seeds = Seeds(http_venue, SEED_100, Reply(429, {"success": False}, headers={"Retry-After": "3"}),
                  Reply(420, {"success": False}, headers={"Retry-After": "1"}), seed(110, bids=[("n1", "2000", "1")]))
    ws = ws_venue(bitso_script(seeds, "seed", diff(101, opened("b4", "bid", "1005", "0.1")), diff(103, opened("x", "bid", "1", "1")),
                               "seed", "seed", diff(111, opened("n3", "ask", "2050", "2"))))
    run = obook("watch", "bitso", "btc_mxn", "--json", "--count", "4", "--timeout", "30", env=bitso_env(ws, http_venue), timeout=90)
    assert run.code == 0, run
    assert [b["sequence"] for b in run.lines()] == [100, 101, 110, 111]
    at = [r.at for r in http_venue.requests]
    assert len(at) == 4
    assert at[2] - at[1] >= 3  # the 429's Retry-After
    assert at[3] - at[2] >= 2  # a shorter lockout still leaves the floor between fetches


def test_bitso_reconnect_reseeds_and_leaves_no_ghost_levels(obook, ws_venue, http_venue):
    seeds = Seeds(http_venue, SEED_100, seed(200, bids=[("c", "3000", "1")]))
    ws = ws_venue(bitso_script(seeds, ["seed", diff(101, opened("ghost", "bid", "1005", "9")), 0.3, "drop"],
                               ["seed", diff(201, opened("d", "ask", "3100", "1"))]))
    run = obook("watch", "bitso", "btc_mxn", "--json", "--count", "4", env=bitso_env(ws, http_venue))
    assert run.code == 0, run
    books = run.lines()
    assert [b["sequence"] for b in books] == [100, 101, 200, 201]
    assert levels(books[3], "bids") == [("3000", "1", 1)] and levels(books[3], "asks") == [("3100", "1", 1)]
    assert len(ws.connections) == 2


def test_bitso_unknown_book_on_the_seed_exits_4(obook, ws_venue, http_venue):
    seeds = Seeds(http_venue, Reply(400, {"success": False, "error": {"code": "0301", "message": "unknown book"}}))
    ws = ws_venue(bitso_script(seeds))
    assert_clean_failure(obook("watch", "bitso", "btc_mxn", "--json", env=bitso_env(ws, http_venue)), 4, "btc_mxn")


def test_bitso_seed_failing_until_the_timeout_is_the_venues_failure(obook, ws_venue, http_venue):
    """The link is fine, every seed answers 500: exit 5 'venue failure' at --timeout, not 3 'check the network'."""
    seeds = Seeds(http_venue, Reply(500, {"success": False, "error": {"code": "0100", "message": "Internal error"}}))
    ws = ws_venue(bitso_script(seeds, diff(101, opened("b4", "bid", "1005", "0.1")), {"type": "ka"}))
    run = obook("watch", "bitso", "btc_mxn", "--json", "--count", "1", "--timeout", "4", env=bitso_env(ws, http_venue), timeout=30)
    assert_clean_failure(run, 5, "no order book within 4s", "HTTP 500", "try again later")
    assert "check the network" not in run.stderr


def test_bitso_seed_refusing_this_client_is_exit_6(obook, ws_venue, http_venue):
    """A 403 page from the venue's front (an IP or region block) on its public book: exit 6, as a WebSocket 403, not 'check the book name'."""
    seeds = Seeds(http_venue, Reply(403, "<html><body>Access denied</body></html>", headers={"Content-Type": "text/html"}))
    ws = ws_venue(bitso_script(seeds))
    for command in (("watch", "bitso", "btc_mxn", "--json"), ("snapshot", "bitso", "btc_mxn", "--json")):
        run = obook(*command, env=bitso_env(ws, http_venue))
        assert_clean_failure(run, 6, "HTTP 403", "refuses requests from here", "OBOOK_BITSO_REST_URL")
        assert "book name" not in run.stderr and "revolut" not in run.stderr.lower()


def test_bitso_unknown_book_says_what_to_do_not_the_venue_body(obook, http_venue):
    http_venue.route(BOOK_PATH, lambda request: Reply(400, {"success": False, "error": {"code": "0301", "message": "Unknown OrderBook btc_xyz"}}))
    run = obook("snapshot", "bitso", "btc_xyz", "--json", env={"OBOOK_BITSO_REST_URL": http_venue.url})
    assert_clean_failure(run, 4, "Bitso does not list the book 'btc_xyz'", "obook symbols bitso")
    assert "success" not in run.stderr and "{" not in run.stderr
    http_venue.route(BOOK_PATH, lambda request: Reply(400, {"success": False, "error": {"code": "0999", "message": "Invalid request"}}))
    other = obook("snapshot", "bitso", "btc_mxn", "--json", env={"OBOOK_BITSO_REST_URL": http_venue.url})
    assert_clean_failure(other, 4, "HTTP 400: Invalid request")
    assert "success" not in other.stderr


def with_oids(body):
    out = json.loads(json.dumps(body))
    for side in ("bids", "asks"):
        out["payload"][side] = [{**lv, "oid": f"{side}{i}"} for i, lv in enumerate(out["payload"][side])]
    return out


def test_snapshot_reads_the_rest_book_without_a_websocket(obook, http_venue):
    aggregated, orders = json.loads(payload("bitso_1.json")), with_oids(json.loads(payload("bitso_3.json")))
    http_venue.route(BOOK_PATH, lambda r: Reply(200, orders if "aggregate=false" in r.query else aggregated))
    env = {"OBOOK_BITSO_REST_URL": http_venue.url, "OBOOK_BITSO_URL": "ws://127.0.0.1:9"}
    small = obook("snapshot", "bitso", "btc_mxn", "--json", env=env)
    assert small.code == 0, small
    book = small.json()
    assert len(book["bids"]) == 20 and book["bids"][0]["price"] == "46850.01" and book["sequence"] == 18805917
    assert http_venue.paths() == [f"{BOOK_PATH}?book=btc_mxn&aggregate=true"]
    deep = obook("snapshot", "bitso", "btc_mxn", "--depth", "40", "--json", env=env)
    assert deep.code == 0, deep
    book = deep.json()
    assert len(book["bids"]) == 40 and len(book["asks"]) == 40 and book["sequence"] == 92069889
    assert all(lv["count"] == 1 for lv in book["bids"])
    assert http_venue.paths()[-1] == f"{BOOK_PATH}?book=btc_mxn&aggregate=false"


# ---------------------------------------------------------------- BitMart increase100

SNAPSHOT = json.loads(payload("bitmart_7.json"))  # ETH_USDT, version 4


def v3(kind, version, bids=(), asks=(), symbol="ETH_USDT"):
    return {"table": "spot/depth/increase100", "data": [{"asks": [list(a) for a in asks], "bids": [list(b) for b in bids],
                                                          "ms_t": 1698292343610 + version, "symbol": symbol, "type": kind, "version": version}]}


def deflate(obj) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(json.dumps(obj).encode()) + packer.flush()


def bitmart_script(*steps, on_request=()):
    """Subscribe ack, then steps; after a client `request`, the frames of on_request."""

    def script(peer):
        sub = peer.expect_json()
        assert sub == {"op": "subscribe", "args": ["spot/depth/increase100:ETH_USDT"]}
        peer.send({"event": "subscribe", "topic": sub["args"][0]})
        for step in steps:
            peer.send(deflate(step) if isinstance(step, dict) else step)
        while True:
            message = peer.recv(timeout=20)
            if message != "ping":
                assert json.loads(message) == {"op": "request", "args": ["spot/depth/increase100:ETH_USDT"]}
                for step in on_request:
                    peer.send(deflate(step))

    return script


def test_bitmart_100_levels_updates_heartbeats_and_a_version_gap(obook, ws_venue):
    deep = v3("snapshot", 10, bids=[(str(1000 - i), "1") for i in range(100)], asks=[(str(1001 + i), "1") for i in range(100)])
    steps = [deep, v3("update", 9, bids=[("999", "0")]),  # stale
             v3("update", 11, bids=[("1000", "2.5")], asks=[("1001", "0")]),
             v3("update", 11), v3("update", 11),  # heartbeats: same version, nothing to apply
             v3("update", 12, asks=[("1000.5", "0.1")]),
             v3("update", 14, bids=[("1", "1")]),  # 13 is missing
             v3("update", 15, bids=[("2", "1")])]  # in flight while the snapshot is asked for
    # what answers the request: an update that overtook the snapshot (kept, then applied), the snapshot, stale updates
    answer = [v3("update", 16, bids=[("3", "1")]), v3("snapshot", 15, bids=[("500", "1")], asks=[("600", "1")]),
              v3("update", 15, bids=[("499", "9")]), v3("update", 16, bids=[("501", "1")])]
    ws = ws_venue(bitmart_script(*steps, on_request=answer))
    run = obook("watch", "bitmart-v3", "ETH_USDT", "--depth", "100", "--json", "--count", "5", env={"OBOOK_BITMART_V3_URL": ws.url})
    assert run.code == 0, run
    books = run.lines()
    assert [b["sequence"] for b in books] == [10, 11, 12, 15, 16]
    assert len(books[0]["bids"]) == 100 and len(books[0]["asks"]) == 100
    assert books[1]["bids"][0] == {"price": "1000", "amount": "2.5", "total": "2.5", "count": None} and books[1]["asks"][0]["price"] == "1002"
    assert books[2]["asks"][0]["price"] == "1000.5"
    assert levels(books[3], "bids") == [("500", "1", None)]  # the answering snapshot replaced the book
    assert levels(books[4], "bids") == [("500", "1", None), ("3", "1", None)]  # nothing from before the gap
    requests = [m for m in ws.sent_json() if isinstance(m, dict) and m.get("op") == "request"]
    assert len(requests) == 1  # exactly once: when version 13 was missing
    assert run.stderr.count("resyncing: sequence gap: expected 13, got 14") == 1


def test_bitmart_in_band_seed_requests_are_paced_like_rest_seeds(obook, ws_venue):
    """A venue whose every snapshot is followed by a gap: obook asks again, but never more
    often than the seed pacer's floor (it sent 236 requests in 10 s before)."""
    from orderbook_cli.venues.synced import SEED_INTERVAL

    asked_at = []

    def script(peer):
        sub = peer.expect_json()
        peer.send({"event": "subscribe", "topic": sub["args"][0]})
        version = 100
        while True:
            peer.send(deflate(v3("snapshot", version, bids=[("10", "1")], asks=[("11", "1")])))
            peer.send(deflate(v3("update", version + 5, bids=[("9", "1")])))  # always a hole right after
            version += 100
            message = peer.recv(timeout=20)
            while message == "ping":
                message = peer.recv(timeout=20)
            assert json.loads(message)["op"] == "request"
            asked_at.append(time.monotonic())

    ws = ws_venue(script)
    run = obook("watch", "bitmart-v3", "ETH_USDT", "--json", "--count", "4", env={"OBOOK_BITMART_V3_URL": ws.url})
    assert run.code == 0, run
    assert [b["sequence"] for b in run.lines()] == [100, 200, 300, 400]
    assert len(asked_at) == 3 and run.stderr.count("resyncing: sequence gap") >= 3
    gaps = [b - a for a, b in zip(asked_at, asked_at[1:])]
    assert all(gap >= SEED_INTERVAL - 0.1 for gap in gaps), gaps


def test_bitmart_real_snapshot_and_feed_top_keeps_the_old_channels(obook, ws_venue):
    ws = ws_venue(bitmart_script(json.dumps(SNAPSHOT)))
    run = obook("snapshot", "bitmart-v3", "ETH_USDT", "--json", env={"OBOOK_BITMART_V3_URL": ws.url})
    assert run.code == 0, run
    book = run.json()
    assert [a["price"] for a in book["asks"]] == ["23200", "28000.00"] and book["sequence"] == 4
    assert_clean_failure(obook("snapshot", "bitmart-v3", "ETH_USDT", "--feed", "top", "--depth", "51"), 2, "1..50")
    assert_clean_failure(obook("snapshot", "revx", "ETH-USD", "--feed", "full"), 2, "--feed")


# ---------------------------------------------------------------- raw recordings

def test_recorded_session_replays_to_identical_books(obook, ws_venue, http_venue, tmp_path):
    seeds = Seeds(http_venue, SEED_100, seed(110, bids=[("n1", "2000", "1")], asks=[("n2", "2100", "1")]))
    ws = ws_venue(bitso_script(seeds, {"type": "ka"}, "seed", diff(101, opened("b4", "bid", "1005", "0.1")),
                               diff(102, gone("b1")), diff(104, gone("b2")), "seed", diff(111, opened("n3", "ask", "2050", "2"))))
    target = tmp_path / "session.raw.gz"
    run = obook("watch", "bitso", "btc_mxn", "--json", "--count", "5", "--record", str(target), env=bitso_env(ws, http_venue))
    assert run.code == 0, run
    with gzip.open(target, "rt") as handle:
        header = json.loads(handle.readline())
    assert header["venue"] == "bitso" and header["symbol"] == "btc_mxn" and header["feed"] == "full" and header["depth"] == 20
    replayed = obook("replay", str(target), "--speed", "max", "--json")
    assert replayed.code == 0, replayed
    assert replayed.lines() == run.lines()
    assert [b["sequence"] for b in replayed.lines()] == [100, 101, 102, 110, 111]


def test_bitmart_recording_with_compressed_frames_replays(obook, ws_venue, tmp_path):
    ws = ws_venue(bitmart_script(SNAPSHOT, v3("update", 5, bids=[("23106", "1")])))
    target = tmp_path / "bm.raw"
    run = obook("watch", "bitmart-v3", "ETH_USDT", "--json", "--count", "2", "--record", str(target), env={"OBOOK_BITMART_V3_URL": ws.url})
    assert run.code == 0, run
    replayed = obook("replay", str(target), "--speed", "max", "--json")
    assert replayed.code == 0, replayed
    assert replayed.lines() == run.lines()


def test_ladder_header_shows_the_sequence_and_the_resync(terminal, ws_venue, http_venue):
    import shlex

    from tests.conftest import OBOOK

    seeds = Seeds(http_venue, SEED_100, seed(110, bids=[("n1", "2000", "1")], asks=[("n2", "2100", "1")]))
    ws = ws_venue(bitso_script(seeds, "seed", diff(101, opened("b4", "bid", "1005", "0.1")), diff(103, opened("x", "bid", "1", "1")),
                               "seed", diff(111, opened("n3", "ask", "2050", "2"))))
    terminal.start(f"OBOOK_BITSO_URL={shlex.quote(ws.url)} OBOOK_BITSO_REST_URL={shlex.quote(http_venue.url)} {shlex.quote(OBOOK)} "
                   "watch bitso btc_mxn", 120, 40)
    screen = terminal.wait_for(r"seq 111")
    header = screen.splitlines()[0]
    assert "bitso btc_mxn" in header and "live" in header and "1 resync, last" in header, screen
    assert "1005" not in screen  # nothing from before the resync
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")
