"""The fault-injection suite: every venue, every fault, what the user sees.

snapshot: one clear stderr line, the contract's exit code, no traceback.
watch: reconnecting said on stderr (NDJSON) and recovery once the venue is back.

The WebSocket faults run on every registered WebSocket venue, from its own
examples (Venue.examples): the venue's loopback server plays the example's
frames as the well-behaved part and the faults around them. A venue added as
one file is fault-tested by its examples, Kraken included.
"""

import json
import re
import threading
import time

import pytest

from orderbook_cli.venues import load_all
from orderbook_cli.venues.websocket import WebSocketVenue
from tests.conftest import assert_clean_failure
from tests.servers.faults import SilentTcp, self_signed_context
from tests.servers.http_venue import Reply, payload
from tests.test_venue_examples import example_request

OVERSIZED = "x" * (3 * 1024 * 1024)


class Target:
    """A WebSocket venue with the first of its examples that has frames: how obook is pointed at it."""

    def __init__(self, venue, example):
        self.venue, self.example = venue, example
        self.subscriptions = len(venue.subscribe_messages(example_request(venue, example)))

    @property
    def args(self) -> tuple[str, ...]:
        return (self.venue.info.id, self.example.symbol, *self.example.options)

    def book_frames(self) -> list:
        return list(self.example.frames)

    def wrong_types(self) -> str | None:
        """The example's last JSON frame with every value swapped for a wrong type: never a book."""
        def spoil(value):
            if isinstance(value, dict):
                return {k: spoil(v) for k, v in value.items()}
            if isinstance(value, list):
                return [spoil(v) for v in value] or [{"x": [1]}]
            return {"x": [1]}
        for frame in reversed(self.example.frames):
            try:
                return json.dumps(spoil(json.loads(frame)))
            except ValueError:
                continue
        return None


TARGETS = [Target(venue, next(e for e in venue.examples() if e.frames)) for venue in load_all()
           if isinstance(venue, WebSocketVenue) and any(e.frames for e in venue.examples())]
IDS = [t.venue.info.id for t in TARGETS]


def test_every_websocket_venue_is_fault_tested():
    ws = {venue.info.id for venue in load_all() if isinstance(venue, WebSocketVenue)}
    assert set(IDS) == ws and "kraken" in ws


def venue_script(target, *steps):
    """Read the subscription(s), then the steps, then hold: "BOOK" plays the example's frames,
    "DROP" cuts the link, a float sleeps, anything else is sent; a callable step gets the connection index."""

    def script(peer):
        for _ in range(target.subscriptions):
            peer.recv()
        for step in steps:
            if callable(step):
                step = step(peer.index)
            if step == "DROP":
                peer.drop()
                return
            if isinstance(step, float):
                peer.pause(step)
            elif step == "BOOK":
                for frame in target.book_frames():
                    peer.send(frame)
            else:
                peer.send(step)
        peer.hold()

    return script


@pytest.fixture
def serve(ws_venue, http_venue):
    """serve(target, script) -> (the WebSocket venue, the environment pointing obook at it and the example's REST routes)."""
    def start(target, script):
        venue = ws_venue(script)
        env = {target.venue.info.url_env: venue.url}
        for path, body in target.example.rest:
            http_venue.route(path, lambda request, body=body: Reply(body=body))
        if target.example.rest:
            env[target.example.rest_env or target.venue.info.url_env] = http_venue.url
        return venue, env
    return start


@pytest.fixture
def silent_tcp():
    server = SilentTcp()
    yield server
    server.stop()


# ------------------------------------------------------------------ WebSocket venues

@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_ws_garbage_is_skipped_counted_and_never_ends_the_stream(obook, serve, target):
    garbage = ["{not json", b"\x89PNG\r\n\x1a\n\x00\xff", "[]", "null", *filter(None, [target.wrong_types()])]
    venue, env = serve(target, venue_script(target, *garbage, "BOOK"))
    run = obook("watch", *target.args, "--json", "--count", "1", "--debug", env=env)
    assert run.code == 0, run
    assert len(run.lines()) == 1
    skipped = [int(n) for n in re.findall(r"skipped malformed frame #(\d+)", run.stderr)]
    assert skipped and max(skipped) >= 4, run.stderr  # the four that are no venue's JSON at all, at least
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_ws_only_garbage_snapshot_exits_5(obook, serve, target):
    venue, env = serve(target, venue_script(target, "{not json", b"\x00\xff junk", "null"))
    run = obook("snapshot", *target.args, "--timeout", "1.5", env=env)
    assert_clean_failure(run, 5, "malformed")


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_ws_drop_before_any_book_snapshot_exits_3(obook, serve, target):
    venue, env = serve(target, venue_script(target, "DROP"))
    run = obook("snapshot", *target.args, "--timeout", "3", env=env)
    assert_clean_failure(run, 3)
    assert 1 <= len(venue.connections) <= 3  # bounded retries


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_ws_drop_mid_stream_watch_recovers(obook, serve, target):
    venue, env = serve(target, venue_script(target, "BOOK", lambda i: "DROP" if i == 0 else 0.0))
    run = obook("watch", *target.args, "--json", "--count", "2", env=env, timeout=30)
    assert run.code == 0, run
    assert len(run.lines()) == 2 and len(venue.connections) == 2
    assert "reconnecting" in run.stderr and "live again" in run.stderr


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_ws_silent_after_subscribe_snapshot_exits_3_within_timeout(obook, serve, target):
    venue, env = serve(target, venue_script(target))
    started = time.monotonic()
    run = obook("snapshot", *target.args, "--timeout", "1.5", env=env)
    assert_clean_failure(run, 3, "no order book within 1.5s")
    assert time.monotonic() - started < 4


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_ws_frozen_feed_is_dropped_and_recovered(obook, serve, target):
    venue, env = serve(target, venue_script(target, "BOOK", lambda i: 6.0 if i == 0 else 0.0))
    run = obook("watch", *target.args, "--json", "--count", "2", "--idle-timeout", "1", env=env, timeout=30)
    assert run.code == 0, run
    assert "no data from the venue for 1s" in run.stderr


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_ws_accept_and_never_answer_exits_3_within_timeout(obook, silent_tcp, target):
    started = time.monotonic()
    run = obook("snapshot", *target.args, "--timeout", "1.5", env={target.venue.info.url_env: f"ws://127.0.0.1:{silent_tcp.port}"})
    assert_clean_failure(run, 3)
    assert time.monotonic() - started < 4


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_ws_slow_answer_within_timeout_succeeds(obook, serve, target):
    venue, env = serve(target, venue_script(target, 1.0, "BOOK"))
    run = obook("snapshot", *target.args, "--json", "--timeout", "4", env=env)
    assert run.code == 0, run
    assert [lv["price"] for lv in json.loads(run.stdout)["bids"]] == [price for price, _ in target.example.bids]


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_ws_oversized_frame_is_refused_unread_and_the_link_recovers(obook, serve, target):
    venue, env = serve(target, venue_script(target, lambda i: OVERSIZED if i == 0 else "BOOK"))
    run = obook("watch", *target.args, "--json", "--count", "1", "--debug", env=env, timeout=30)
    assert run.code == 0, run
    assert "limit 2097152" in run.stderr and len(venue.connections) == 2


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_ws_tls_certificate_not_trusted_exits_3(obook, target, tmp_path):
    from websockets.sync.server import serve

    server = serve(lambda conn: conn.recv(), "127.0.0.1", 0, ssl=self_signed_context(tmp_path))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.socket.getsockname()[1]
        run = obook("snapshot", *target.args, "--timeout", "3", env={target.venue.info.url_env: f"wss://127.0.0.1:{port}"})
        assert_clean_failure(run, 3, "certificate")
    finally:
        server.shutdown()


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_ws_reconnect_storm_impossible(obook, ws_venue, target):
    """A venue that accepts and drops at once sees a handful of connections, not thousands,
    never two closer than the venue's declared limits allow."""
    venue = ws_venue(lambda peer: peer.drop())
    run = obook("watch", *target.args, "--json", "--timeout", "4", env={target.venue.info.url_env: venue.url})
    assert_clean_failure(run, 3)
    assert 1 <= len(venue.connections) <= 5, venue.connections
    gaps = [b - a for a, b in zip(venue.connections, venue.connections[1:])]
    assert all(gap >= max(0.2, target.venue.info.limits.connect_floor - 0.05) for gap in gaps), gaps


# ------------------------------------------------------------------ Revolut X (HTTP)

V1 = "/api/1.0/public/order-book/ETH-USD"


@pytest.fixture
def revx(http_venue):
    return {"OBOOK_REVX_URL": http_venue.url}


@pytest.mark.parametrize("reply, code, needle", [
    (Reply(body=b"\x00\xff\xfe binary junk"), 5, "not valid JSON"),
    (Reply(body=b"<html><body>maintenance</body></html>"), 5, "not valid JSON (it is a web page, not the venue's API)"),
    (Reply(body=b"   "), 5, "not valid JSON (it is empty)"),
    (Reply(body=b'{"data": {"asks": [], "bids": [}'), 5, "not valid JSON (it breaks off or goes wrong at character 31)"),
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
    if reply.status == 429:  # what to do is to wait, not to check the symbol
        assert "wait a minute" in run.stderr and "check the symbol" not in run.stderr


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


def test_http_5xx_for_ever_in_watch_is_the_venues_failure(obook, http_venue, revx):
    """No book by --timeout because every answer was a 5xx: exit 5 (the venue failed), not 3 (the network)."""
    http_venue.route(V1, Reply(500, {"message": "Internal error"}))
    run = obook("watch", "revx", "ETH-USD", "--json", "--count", "1", "--timeout", "3", env=revx, timeout=30)
    assert_clean_failure(run, 5, "no order book within 3s", "HTTP 500", "Internal error", "try again later")
    assert "check the network" not in run.stderr


ERROR_PAGE = Reply(503, "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>", headers={"Content-Type": "text/html"})


def test_a_close_frames_code_and_reason_are_said_sanitized(obook, ws_venue):
    """A venue that closes the link with a reason (1008 policy, say) has it said, cleaned of escapes; a plain goodbye adds nothing."""
    def script(peer):
        peer.expect_json()
        peer.conn.close(code=1008, reason="bad symbol \x1b[31mNOPE")

    venue = ws_venue(script)
    run = obook("snapshot", "bitso", "--feed", "top", "btc_mxn", "--timeout", "3", env={"OBOOK_BITSO_URL": venue.url}, timeout=30)
    assert_clean_failure(run, 3, "the venue closed the connection (code 1008: bad symbol ?[31mNOPE)")
    assert "\x1b" not in run.stderr


@pytest.mark.parametrize("status, code, needle", [
    (401, 6, "refuses connections from here"), (403, 6, "refuses connections from here"),
    (400, 4, "check OBOOK_KRAKEN_URL"), (404, 4, "not a WebSocket endpoint"), (429, 3, "limits connections"),
])
def test_websocket_handshake_4xx_exits_as_over_http(obook, http_venue, status, code, needle):
    """A handshake answered 401/403 is exit 6, another 4xx exit 4 at once (as the REST venues' 4xx);
    429 is waited out and retried, a network error only when --timeout ends it."""
    page = "<html><body>no</body></html>" if status != 400 else '{"error": "bad request"}'
    http_venue.route("/", Reply(status, page, headers={"Content-Type": "text/html" if status != 400 else "application/json"}))
    started = time.monotonic()
    run = obook("snapshot", "kraken", "BTC/USD", "--timeout", "3", env={"OBOOK_KRAKEN_URL": http_venue.url.replace("http://", "ws://")}, timeout=30)
    assert_clean_failure(run, code, f"HTTP {status}", needle)
    if code != 3:
        assert len(http_venue.requests) == 1 and time.monotonic() - started < 3  # refused for good: not retried


@pytest.mark.parametrize("status, code, words", [(503, 5, "an error page"), (403, 6, "an error page"),
                                                (400, 4, "a web page: this is not the venue's API")])
def test_a_rest_venues_web_page_is_said_in_words_not_echoed(obook, http_venue, status, code, words):
    """Over HTTP as over a WebSocket handshake: a proxy's or venue's HTML page is said to be one,
    never its markup."""
    http_venue.route("/api/1.0/public/order-book/BTC-USD", Reply(status, ERROR_PAGE.body, {"Content-Type": "text/html"}))
    run = obook("snapshot", "revx", "BTC-USD", "--timeout", "2", env={"OBOOK_REVX_URL": http_venue.url}, timeout=30)
    assert_clean_failure(run, code, f"HTTP {status}", words)
    assert "<" not in run.stderr and "nginx" not in run.stderr.lower()


@pytest.mark.parametrize("command", [
    ("watch", "bitso", "btc_mxn", "--feed", "top", "--json", "--count", "1"),
    ("trades", "bitso", "btc_mxn", "--count", "1"),
])
def test_websocket_handshake_5xx_is_the_venues_failure(obook, http_venue, command):
    """A venue (or its proxy) answering the WebSocket handshake with a 503 page while it is down:
    retried until --timeout, then exit 5 saying so, never 'not a WebSocket endpoint'."""
    http_venue.route("/", ERROR_PAGE)
    run = obook(*command, "--timeout", "3", env={"OBOOK_BITSO_URL": http_venue.url.replace("http://", "ws://")}, timeout=30)
    assert_clean_failure(run, 5, "obook: bitso btc_mxn: venue failure:", "within 3s", "HTTP 503", "error page", "try again later")
    assert "not a WebSocket endpoint" not in run.stderr and "<" not in run.stderr
    assert len(http_venue.requests) >= 2  # retried, as any transient failure


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
