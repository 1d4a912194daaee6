"""The fault-injection suite: every venue, every fault, what the user sees.

snapshot: one clear stderr line, the contract's exit code, no traceback.
watch: reconnecting said on stderr (NDJSON) and recovery once the venue is back.
"""

import threading
import time

import pytest

from tests.conftest import assert_clean_failure
from tests.servers.faults import WS_VENUES, SilentTcp, self_signed_context
from tests.servers.http_venue import Reply, payload

WS_IDS = [spec.venue for spec in WS_VENUES]
OVERSIZED = "x" * (3 * 1024 * 1024)


def venue_script(spec, *frames, then="hold"):
    """Ack the subscription, send frames (callables get the connection index), then hold/drop."""

    def script(peer):
        sub = peer.expect_json()
        ack = spec.ack(sub)
        if ack:
            peer.send(ack)
        for frame in frames:
            if callable(frame):
                frame = frame(peer.index)
            if frame == "DROP":
                peer.drop()
                return
            if isinstance(frame, float):
                peer.pause(frame)
                continue
            peer.send(frame)
        peer.drop() if then == "drop" else peer.hold()

    return script


def env_for(spec, url):
    return {spec.env: url}


@pytest.fixture
def silent_tcp():
    server = SilentTcp()
    yield server
    server.stop()


# ------------------------------------------------------------------ WebSocket venues

@pytest.mark.parametrize("spec", WS_VENUES, ids=WS_IDS)
def test_ws_garbage_is_skipped_counted_and_never_ends_the_stream(obook, ws_venue, spec):
    garbage = ["{not json", b"\x89PNG\r\n\x1a\n\x00\xff", spec.bad_types, spec.missing_fields, "[]", "null"]
    venue = ws_venue(venue_script(spec, *garbage, spec.good(1)))
    run = obook("watch", *spec.target, "--json", "--count", "1", "--debug", env=env_for(spec, venue.url))
    assert run.code == 0, run
    assert len(run.lines()) == 1
    assert f"skipped malformed frame #{len(garbage)}" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("spec", WS_VENUES, ids=WS_IDS)
def test_ws_only_garbage_snapshot_exits_5(obook, ws_venue, spec):
    venue = ws_venue(venue_script(spec, "{not json", spec.bad_types, spec.missing_fields))
    run = obook("snapshot", *spec.target, "--timeout", "1.5", env=env_for(spec, venue.url))
    assert_clean_failure(run, 5, "malformed")


@pytest.mark.parametrize("spec", WS_VENUES, ids=WS_IDS)
def test_ws_drop_before_any_book_snapshot_exits_3(obook, ws_venue, spec):
    venue = ws_venue(venue_script(spec, "DROP"))
    run = obook("snapshot", *spec.target, "--timeout", "3", env=env_for(spec, venue.url))
    assert_clean_failure(run, 3)
    assert 1 <= len(venue.connections) <= 3  # bounded retries


@pytest.mark.parametrize("spec", WS_VENUES, ids=WS_IDS)
def test_ws_drop_mid_stream_watch_recovers(obook, ws_venue, spec):
    venue = ws_venue(venue_script(spec, lambda i: spec.good(i), lambda i: "DROP" if i == 0 else 0.0))
    run = obook("watch", *spec.target, "--json", "--count", "2", env=env_for(spec, venue.url), timeout=30)
    assert run.code == 0, run
    assert len(run.lines()) == 2 and len(venue.connections) == 2
    assert "reconnecting" in run.stderr and "live again" in run.stderr


@pytest.mark.parametrize("spec", WS_VENUES, ids=WS_IDS)
def test_ws_silent_after_subscribe_snapshot_exits_3_within_timeout(obook, ws_venue, spec):
    venue = ws_venue(venue_script(spec))
    started = time.monotonic()
    run = obook("snapshot", *spec.target, "--timeout", "1.5", env=env_for(spec, venue.url))
    assert_clean_failure(run, 3, "no order book within 1.5s")
    assert time.monotonic() - started < 4


@pytest.mark.parametrize("spec", WS_VENUES, ids=WS_IDS)
def test_ws_frozen_feed_is_dropped_and_recovered(obook, ws_venue, spec):
    venue = ws_venue(venue_script(spec, lambda i: spec.good(i), lambda i: 6.0 if i == 0 else 0.0))
    run = obook("watch", *spec.target, "--json", "--count", "2", "--idle-timeout", "1", env=env_for(spec, venue.url), timeout=30)
    assert run.code == 0, run
    assert "no data from the venue for 1s" in run.stderr


@pytest.mark.parametrize("spec", WS_VENUES, ids=WS_IDS)
def test_ws_accept_and_never_answer_exits_3_within_timeout(obook, silent_tcp, spec):
    started = time.monotonic()
    run = obook("snapshot", *spec.target, "--timeout", "1.5", env=env_for(spec, f"ws://127.0.0.1:{silent_tcp.port}"))
    assert_clean_failure(run, 3)
    assert time.monotonic() - started < 4


@pytest.mark.parametrize("spec", WS_VENUES, ids=WS_IDS)
def test_ws_slow_answer_within_timeout_succeeds(obook, ws_venue, spec):
    venue = ws_venue(venue_script(spec, 1.0, spec.good(3)))
    run = obook("snapshot", *spec.target, "--json", "--timeout", "4", env=env_for(spec, venue.url))
    assert run.code == 0, run


@pytest.mark.parametrize("spec", WS_VENUES, ids=WS_IDS)
def test_ws_oversized_frame_is_refused_unread_and_the_link_recovers(obook, ws_venue, spec):
    venue = ws_venue(venue_script(spec, lambda i: OVERSIZED if i == 0 else spec.good(i)))
    run = obook("watch", *spec.target, "--json", "--count", "1", "--debug", env=env_for(spec, venue.url), timeout=30)
    assert run.code == 0, run
    assert "limit 2097152" in run.stderr and len(venue.connections) == 2


@pytest.mark.parametrize("spec", WS_VENUES, ids=WS_IDS)
def test_ws_tls_certificate_not_trusted_exits_3(obook, ws_venue, spec, tmp_path):
    from websockets.sync.server import serve

    server = serve(lambda conn: conn.recv(), "127.0.0.1", 0, ssl=self_signed_context(tmp_path))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.socket.getsockname()[1]
        run = obook("snapshot", *spec.target, "--timeout", "3", env=env_for(spec, f"wss://127.0.0.1:{port}"))
        assert_clean_failure(run, 3, "certificate")
    finally:
        server.shutdown()


@pytest.mark.parametrize("spec", WS_VENUES, ids=WS_IDS)
def test_ws_reconnect_storm_impossible(obook, ws_venue, spec):
    """A venue that accepts and drops at once sees a handful of connections, not thousands."""
    venue = ws_venue(lambda peer: peer.drop())
    run = obook("watch", *spec.target, "--json", "--timeout", "4", env=env_for(spec, venue.url))
    assert_clean_failure(run, 3)
    assert 1 <= len(venue.connections) <= 5, venue.connections
    gaps = [b - a for a, b in zip(venue.connections, venue.connections[1:])]
    assert all(gap >= 0.2 for gap in gaps), gaps


# ------------------------------------------------------------------ Revolut X (HTTP)

V1 = "/api/1.0/public/order-book/ETH-USD"


@pytest.fixture
def revx(http_venue):
    return {"OBOOK_REVX_URL": http_venue.url}


@pytest.mark.parametrize("reply, code, needle", [
    (Reply(body=b"\x00\xff\xfe binary junk"), 5, "not valid JSON"),
    (Reply(body=b'{"data": {"asks": [{"p": ["1"], "q": {}}], "bids": []}}'), 5, "price"),
    (Reply(body=b'{"data": {"asks": []}}'), 5, "without a bids list"),
    (Reply(body=b'{"data": {"asks": [], "bids": []}, "metadata": {"timestamp": "yesterday"}}'), 5, "timestamp"),
    (Reply(body=b"{}"), 5, "without a bids list"),
    (Reply(429, {"message": "Rate Limit Exceeded"}, headers={"Retry-After": "100"}), 4, "429"),
    (Reply(500, {"message": "Something went wrong!"}), 5, "500"),
    (Reply(404, {"message": "Not found"}), 4, "404"),
])
def test_http_faults_in_snapshot(obook, http_venue, revx, reply, code, needle):
    http_venue.route(V1, reply)
    http_venue.route("/api/2.0/public/order-book/ETH-USD", reply)
    run = obook("snapshot", "revx", "ETH-USD", "--timeout", "5", env=revx)
    assert_clean_failure(run, code, needle)


def test_http_oversized_body_exits_5(obook, http_venue, revx):
    http_venue.route(V1, Reply(body=b"[" + b"1," * (3 * 1024 * 1024) + b"1]"))
    assert_clean_failure(obook("snapshot", "revx", "ETH-USD", env=revx), 5, "byte limit")


def test_http_truncated_body_retries_then_exits_3(obook, http_venue, revx):
    http_venue.route(V1, Reply(body=payload("revx_doc_public_v1.json"), truncate=True))
    run = obook("snapshot", "revx", "ETH-USD", "--timeout", "5", env=revx)
    assert_clean_failure(run, 3)
    assert 2 <= len(http_venue.requests) <= 3


def test_http_truncated_then_good_recovers(obook, http_venue, revx):
    http_venue.route(V1, Reply(body=payload("revx_doc_public_v1.json"), truncate=True), Reply(body=payload("revx_doc_public_v1.json")))
    assert obook("snapshot", "revx", "ETH-USD", "--json", env=revx).code == 0


def test_http_slow_answer_within_and_beyond_timeout(obook, http_venue, revx):
    http_venue.route(V1, Reply(body=payload("revx_doc_public_v1.json"), delay=0.8))
    assert obook("snapshot", "revx", "ETH-USD", "--json", "--timeout", "3", env=revx).code == 0
    started = time.monotonic()
    assert_clean_failure(obook("snapshot", "revx", "ETH-USD", "--timeout", "0.3", env=revx), 3, "no order book within 0.3s")
    assert time.monotonic() - started < 3


def test_http_accept_and_never_answer(obook, silent_tcp):
    started = time.monotonic()
    run = obook("snapshot", "revx", "ETH-USD", "--timeout", "1", env={"OBOOK_REVX_URL": f"http://127.0.0.1:{silent_tcp.port}"})
    assert_clean_failure(run, 3)
    assert time.monotonic() - started < 4


def test_http_5xx_burst_in_watch_then_recovery(obook, http_venue, revx):
    good = Reply(body=payload("revx_doc_public_v1.json"))
    http_venue.route(V1, good, Reply(503, {"message": "busy"}), Reply(500, {"message": "oops"}), Reply(502, "bad gateway"), good)
    run = obook("watch", "revx", "ETH-USD", "--json", "--count", "2", env=revx, timeout=30)
    assert run.code == 0, run
    assert len(run.lines()) == 2
    assert run.stderr.count("reconnecting") == 3 and "live again" in run.stderr


def test_http_tls_certificate_not_trusted_exits_3(obook, tmp_path):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.socket = self_signed_context(tmp_path).wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run = obook("snapshot", "revx", "ETH-USD", "--timeout", "3", env={"OBOOK_REVX_URL": f"https://127.0.0.1:{server.server_address[1]}"})
        assert_clean_failure(run, 3, "certificate", "never skips verification")
    finally:
        server.shutdown()
