"""Hostile venues, files and command lines (issue 13): bounded time, bounded
memory, the contract's exit codes, and never "a bug in obook".

Every defect has a regression test against a loopback server or a real
file; the properties (arbitrary frames and bodies through every parser and
through the CLI) run with modest example counts so CI stays fast.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderbook_cli.book import RawLevel, make_book, to_count, to_decimal
from orderbook_cli.errors import MalformedData, ObookError, sanitize
from orderbook_cli.feed import BACKOFF_CAP, Backoff, FeedRequest, FeedStats
from orderbook_cli.venues import load_all
from orderbook_cli.venues.websocket import WebSocketVenue
from tests.conftest import OBOOK, Run, assert_clean_failure
from tests.servers.faults import WS_VENUES, SilentTcp
from tests.servers.http_venue import Reply, payload

NOW = datetime(2026, 1, 1, tzinfo=UTC)
V1 = "/api/1.0/public/order-book/ETH-USD"
BITSO = next(spec for spec in WS_VENUES if spec.venue == "bitso")
BITMART = next(spec for spec in WS_VENUES if spec.venue == "bitmart")
WS_VENUES_WITH_EXAMPLES = sorted(venue.info.id for venue in load_all() if isinstance(venue, WebSocketVenue) and venue.examples())


# ------------------------------------------------------------------ hostile JSON, as raw text

class Raw(str):
    """A JSON literal emitted as is (json.dumps cannot write 1e999999)."""


HOSTILE_LITERALS = [
    "1e999999", "1e9999999", "-1e999999", "1E+1000000", "0e-999999", '"1e999999"', "9" * 4300, "9" * 4301, "1" + "0" * 150,
    '"\\u00b2"', '"\\u2460"', '"\\u0663"', '"12\\u00b3"', '""', '" "', '"-1"', '"NaN"', '"1_000"', '"0x10"',
    '"2025-01-01T00:00:00+99:00"', '"0000-01-01T00:00:00Z"', '"9999-12-31T23:59:59-23:59"', '"0001-01-01T00:00:00+01:00"',
    '"2025-13-45T25:61:61Z"', '"\\u0662\\u0660\\u0662\\u0665-01-01T00:00:00Z"', "1" + "0" * 25, "-1", "1.5", "0",
    '"\\u001b]0;pwned\\u0007"', '"\\u202eevil"', '"\\u009b31m"', "[" * 300 + "]" * 300, "true", "null",
]
DEEP = "[" * 100_000 + "]" * 100_000
hostile = st.sampled_from(HOSTILE_LITERALS).map(Raw)
plain_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.text(max_size=8),
                          st.sampled_from(["1", "0.5", "4550.25", "1700000000000", "2025-08-08T21:40:36.124Z"]))
scalars = st.one_of(hostile, plain_scalars)
keys = st.sampled_from(["type", "book", "payload", "bids", "asks", "buys", "sells", "data", "table", "symbol", "r", "a",
                        "price", "amount", "count", "total", "p", "q", "no", "quantity", "sent", "ms_t", "event",
                        "errorCode", "error", "message", "subscribe", "metadata", "timestamp", "pdt", "last_price"])
values = st.recursive(scalars, lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(keys, kids, max_size=5)), max_leaves=25)


def emit(value) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{emit(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(emit(v) for v in value) + "]"
    return json.dumps(value)


def level(price, amount, count=None) -> dict:
    out = {"price": price, "amount": amount, "r": price, "a": amount, "p": price, "q": amount}
    if count is not None:
        out.update(count=count, no=count)
    return out


def hostile_leaves(value):
    """The venue's own frame with any number, time or text swapped for a hostile value."""
    if isinstance(value, dict):
        return st.fixed_dictionaries({k: hostile_leaves(v) for k, v in value.items()})
    if isinstance(value, list):
        return st.tuples(*[hostile_leaves(v) for v in value[:4]]).map(list) if value else st.just([])
    return st.one_of(st.just(value), scalars)


def shaped(venue_id: str):
    """Frames shaped like the venue's own examples (Venue.examples) with hostile values where numbers and times go."""
    from orderbook_cli.venues import get_venue
    from tests.test_fuzz import example_frames

    return st.sampled_from(example_frames(get_venue(venue_id))).flatmap(hostile_leaves)


PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("venue_id", WS_VENUES_WITH_EXAMPLES)
@PROPERTY
@given(data=st.data())
def test_property_ws_parsers_raise_only_obooks_errors_on_hostile_values(venue_id, data):
    from orderbook_cli.venues import get_venue
    from tests.test_fuzz import check_ws

    check_ws(get_venue(venue_id), emit(data.draw(st.one_of(values, shaped(venue_id)))))


@PROPERTY
@given(value=st.one_of(values, shaped("revx")))
def test_property_revx_parser_raises_only_obooks_errors_on_hostile_values(value):
    from orderbook_cli.timefmt import parse_venue_time
    from orderbook_cli.transport.wire import json_loads
    from orderbook_cli.venues.revx import parse_book

    try:
        bids, asks, stamp = parse_book(json_loads(emit(value)))
        FeedRequest(venue="revx", symbol="ETH-USD", depth=5, timeout=1).book(bids, asks, parse_venue_time(stamp), NOW)
    except ObookError:
        pass


@PROPERTY
@given(value=st.one_of(values, st.fixed_dictionaries({"venue": st.just("bitso"), "symbol": st.just("btc_mxn"),
       "received_at": scalars, "timestamp": scalars, "bids": st.lists(st.builds(level, scalars, scalars, scalars), max_size=3),
       "asks": st.lists(st.builds(level, scalars, scalars, scalars), max_size=3)})))
def test_property_recorded_books_raise_only_obooks_errors(value):
    from orderbook_cli.jsonout import book_from_dict, book_to_dict, dumps
    from orderbook_cli.transport.wire import json_loads

    try:
        dumps(book_to_dict(book_from_dict(json_loads(emit(value)))))
    except ObookError:
        pass


# ------------------------------------------------------------------ the CLI as a property, in process

@pytest.fixture
def in_process(monkeypatch):
    """obook's main() run in this process (no interpreter start per example): (exit status, stdout, stderr)."""
    from orderbook_cli.main import main

    saved = {name: signal.getsignal(getattr(signal, name)) for name in ("SIGTERM", "SIGHUP")}

    def run(*args: str, env: dict):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        code = main(list(args))
        return int(code), out.getvalue(), err.getvalue()

    yield run
    join_feeds()
    for name, handler in saved.items():
        signal.signal(getattr(signal, name), handler)


def join_feeds() -> None:
    """Let in-process feeds close their links (process exit would) before the servers stop."""
    for thread in threading.enumerate():
        if thread.name.startswith("obook-"):
            thread.join(timeout=2)


CLI_PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


@CLI_PROPERTY
@given(body=st.one_of(st.builds(emit, st.one_of(values, shaped("revx"))), st.binary(max_size=64).map(bytes.hex)),
       status=st.sampled_from([200, 200, 200, 400, 404, 429, 500, 503]))
def test_property_snapshot_exit_status_on_arbitrary_bodies(http_venue, in_process, body, status):
    http_venue.route(V1, Reply(status, body, headers={"Retry-After": "0"}))
    code, out, err = in_process("snapshot", "revx", "ETH-USD", "--json", "--timeout", "0.5", env={"OBOOK_REVX_URL": http_venue.url})
    assert code in (0, 3, 4, 5), err
    assert "internal error" not in err and len(err.strip().splitlines()) <= 1, err
    if code == 0:
        assert json.loads(out)["venue"] == "revx"


@pytest.mark.parametrize("venue_id", WS_VENUES_WITH_EXAMPLES)
@CLI_PROPERTY
@given(data=st.data())
def test_property_watch_survives_any_frame(ws_venue, in_process, venue_id, data):
    """Whatever one frame holds, the venue's own example played after it is shown: the stream goes on
    (every registered WebSocket venue, from its examples)."""
    from orderbook_cli.venues import get_venue
    from tests.test_faults import Target, venue_script

    target = Target(get_venue(venue_id), next(e for e in get_venue(venue_id).examples() if e.frames))
    frame = emit(data.draw(st.one_of(values, shaped(venue_id))))
    venue = ws_venue(venue_script(target, frame, "BOOK"))
    best_bid = target.example.bids[0][0]
    code, out, err = in_process("watch", *target.args, "--json", "--until", f"best_bid={best_bid}", "--duration", "5", "--timeout", "5",
                                env={target.venue.info.url_env: venue.url})
    if code == 4:  # the frame was the venue's refusal of the subscription: said so, in one line
        assert "rejected" in err and len(err.strip().splitlines()) == 1, err
        return
    assert code == 0, err
    assert json.loads(out.splitlines()[-1])["best_bid"] == best_bid  # the example's book after it, whatever it was


# ------------------------------------------------------------------ 1-2: numbers and times, regressions

def test_absurd_nesting_is_obooks_error():
    from orderbook_cli.transport.wire import json_loads

    with pytest.raises(MalformedData):
        json_loads(DEEP)


@pytest.fixture(params=HOSTILE_LITERALS)
def hostile_value(request):
    """Each hostile literal as the JSON decoder hands it over (skipped when the decoder already refuses it)."""
    from orderbook_cli.transport.wire import json_loads

    try:
        return json_loads(f"[{request.param}]")[0]
    except MalformedData:
        pytest.skip("refused by the JSON decoder itself")


def test_every_hostile_literal_is_bounded_data_or_obooks_error(hostile_value):
    from orderbook_cli.timefmt import parse_venue_time

    for convert in (lambda v: to_decimal(v, "price"), to_count, parse_venue_time):
        try:
            convert(hostile_value)
        except MalformedData:
            pass


def test_sequence_numbers_and_bitso_lockouts_are_bounded(hostile_value):
    from orderbook_cli.book import to_sequence
    from orderbook_cli.venues import bitso

    try:
        assert 0 <= to_sequence(hostile_value, "sequence") < 2**63
    except MalformedData:
        pass
    assert 0 <= bitso._retry_after({"retry-after": str(hostile_value)}) <= bitso.MAX_LOCKOUT_SECONDS


def test_counts_and_times_are_ascii_and_bounded():
    for bad in ("\u00b2", "\u2460", "\u0663", Decimal("1e999999"), Decimal("1E+19"), 10**19, "1" * 19, -1, Decimal("1.5")):
        with pytest.raises(MalformedData):
            to_count(bad)
    assert to_count("12") == 12 and to_count(Decimal("7")) == 7 and to_count(None) is None
    with pytest.raises(MalformedData):
        to_decimal(Decimal("0E-999999"), "price")  # a zero would print a million zeros


def test_huge_json_count_in_a_snapshot_is_exit_5_at_once(obook, http_venue):
    body = '{"data": {"bids": [{"p": "1", "q": "1", "no": 1e999999}], "asks": []}}'
    http_venue.route(V1, Reply(body=body))
    started = time.monotonic()
    run = obook("snapshot", "revx", "ETH-USD", "--timeout", "2", env={"OBOOK_REVX_URL": http_venue.url}, timeout=20)
    assert_clean_failure(run, 5, "count")
    assert time.monotonic() - started < 10  # 1e999999 used to cost 30 s of CPU inside one int()


@pytest.mark.parametrize("level_json", [
    '{"p": "1", "q": "1", "no": "\\u00b2"}', '{"p": "1", "q": "1", "no": "\\u2460"}',
    '{"p": "1", "q": "1", "pdt": "2025-01-01T00:00:00+99:00"}', '{"p": "1", "q": "1", "pdt": "99999-01-01T00:00:00Z"}',
    '{"p": "1", "q": "1", "no": ' + "9" * 4300 + "}",
])
def test_hostile_levels_in_a_snapshot_are_exit_5(obook, http_venue, level_json):
    http_venue.route(V1, Reply(body='{"data": {"bids": [' + level_json + '], "asks": []}}'))
    assert_clean_failure(obook("snapshot", "revx", "ETH-USD", "--timeout", "2", env={"OBOOK_REVX_URL": http_venue.url}), 5)


def test_empty_publish_time_beside_a_valid_one(obook, http_venue):
    body = {"data": {"bids": [{"p": "1", "q": "1", "pdt": ""}, {"p": "2", "q": "1", "pdt": "2025-08-08T21:40:36.124Z"}], "asks": []}}
    http_venue.route(V1, Reply(body=body))
    run = obook("snapshot", "revx", "ETH-USD", "--json", env={"OBOOK_REVX_URL": http_venue.url})
    assert run.code == 0, run
    assert run.json()["timestamp"] == "2025-08-08T21:40:36.124Z"


def test_merged_counts_stay_printable():
    big = 10**18 - 1
    book = make_book("x", "y", [RawLevel(Decimal(1), Decimal(1), big), RawLevel(Decimal(1), Decimal(1), big)], [], timestamp=None, received_at=NOW)
    assert book.bids[0].count == 2 * big
    with pytest.raises(MalformedData):
        to_count(int("9" * 4300))


def test_error_body_nested_100000_deep_is_the_venues_failure(obook, http_venue):
    http_venue.route(V1, Reply(500, "[" * 100_000 + "]" * 100_000))
    assert_clean_failure(obook("snapshot", "revx", "ETH-USD", "--timeout", "2", env={"OBOOK_REVX_URL": http_venue.url}), 5, "500")


def test_watch_skips_hostile_frames_and_goes_on(obook, ws_venue):
    bad = [
        '{"subscribe":"depth","symbol":"BMX_ETH","data":{"buys":[{"price":"1","amount":"1","count":1e999999}],"sells":[]}}',
        '{"subscribe":"depth","symbol":"BMX_ETH","data":{"buys":[{"price":"1","amount":"1","count":"\\u2460"}],"sells":[]}}',
        '{"subscribe":"depth","symbol":"BMX_ETH","data":{"buys":[{"price":"1","amount":"1","count":' + "9" * 4300 + '}],"sells":[]}}',
    ]
    venue = ws_venue(lambda peer: (peer.expect_json(), [peer.send(f) for f in bad], peer.send(BITMART.good(1)), peer.hold(5)))
    run = obook("watch", "bitmart", "BMX_ETH", "--json", "--count", "1", "--debug", env={"OBOOK_BITMART_URL": venue.url}, timeout=20)
    assert run.code == 0, run
    assert "skipped malformed frame #3" in run.stderr


def test_bitso_times_with_impossible_offsets_are_skipped(obook, ws_venue):
    bad = json.loads(BITSO.good(0))
    bad["sent"] = "2025-01-01T00:00:00+99:00"
    venue = ws_venue(lambda peer: (peer.expect_json(), peer.send(json.dumps(bad)), peer.send(BITSO.good(1)), peer.hold(5)))
    run = obook("watch", "bitso", "--feed", "top", "btc_mxn", "--json", "--count", "1", env={"OBOOK_BITSO_URL": venue.url}, timeout=20)
    assert run.code == 0, run
    assert run.lines()[0]["bids"][0]["price"] == "7001"


# ------------------------------------------------------------------ 3: memory, HTTP

def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def _bomb(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    return b"".join(packer.compress(block) for _ in range(size >> 20)) + packer.flush()


def test_http_gzip_bomb_is_refused_while_decoding(http_venue):
    import tracemalloc

    from orderbook_cli.transport.http import HttpClient

    http_venue.route(V1, Reply(body=_bomb(256 << 20), headers={"Content-Encoding": "gzip"}))
    client = HttpClient(http_venue.url, 5)
    tracemalloc.start()
    try:
        with pytest.raises(MalformedData, match="once decompressed"):
            client.get_json(V1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        client.close()
    assert peak < 24 << 20, peak  # 256 MiB of zeros; the 4 MiB cap held while inflating


def test_http_stacked_content_codings_are_refused(obook, http_venue):
    http_venue.route(V1, Reply(body=_gzip(_gzip(bytes(64 << 20))), headers={"Content-Encoding": "gzip, gzip"}))
    assert_clean_failure(obook("snapshot", "revx", "ETH-USD", "--timeout", "2", env={"OBOOK_REVX_URL": http_venue.url}), 5, "stacked")


def test_http_gzip_and_deflate_bodies_still_work(obook, http_venue):
    good = payload("revx_doc_public_v1.json")
    http_venue.route(V1, Reply(body=_gzip(good), headers={"Content-Encoding": "gzip"}), Reply(body=zlib.compress(good), headers={"Content-Encoding": "deflate"}))
    for _ in range(2):
        run = obook("snapshot", "revx", "ETH-USD", "--json", env={"OBOOK_REVX_URL": http_venue.url})
        assert run.code == 0, run
    assert http_venue.requests[0].headers.get("Accept-Encoding") == "gzip, deflate"


# ------------------------------------------------------------------ 3, 5: WebSocket messages and redirects

def test_ws_endless_fragmented_message_is_capped_and_the_link_recovers(obook, ws_venue):
    def endless():
        while True:
            yield "x" * 65536

    def script(peer):
        peer.expect_json()
        peer.send(BITSO.ack({"book": "btc_mxn"}))
        if peer.index == 0:
            peer.conn.send(endless())  # FIN=0, then continuation frames for ever
        else:
            peer.send(BITSO.good(1))
            peer.hold(5)

    venue = ws_venue(script)
    run = obook("watch", "bitso", "--feed", "top", "btc_mxn", "--json", "--count", "1", "--debug", env={"OBOOK_BITSO_URL": venue.url}, timeout=30)
    assert run.code == 0, run
    assert "fragmented message over 2097152 bytes" in run.stderr and len(venue.connections) == 2


def test_ws_message_that_never_completes_counts_as_silence(obook, ws_venue):
    def trickle():
        while True:
            time.sleep(0.05)
            yield "x"

    def script(peer):
        peer.expect_json()
        peer.send(BITSO.ack({"book": "btc_mxn"}))
        peer.send(BITSO.good(peer.index))
        if peer.index == 0:
            peer.conn.send(trickle())  # data keeps arriving; no message ever completes
        peer.hold(5)

    venue = ws_venue(script)
    run = obook("watch", "bitso", "--feed", "top", "btc_mxn", "--json", "--count", "2", "--idle-timeout", "1", env={"OBOOK_BITSO_URL": venue.url}, timeout=30)
    assert run.code == 0, run
    assert "no data from the venue for 1s" in run.stderr and len(venue.connections) == 2


def answer_with_redirects(server: SilentTcp, location: str, stop: threading.Event) -> None:
    """Every WebSocket handshake the server accepted gets a 302 to `location`."""
    answered = 0
    while not stop.wait(0.01):
        for conn in server.accepted[answered:]:
            conn.recv(65536)
            conn.sendall(f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode())
            answered += 1


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_http_redirects_are_never_followed_and_said_as_over_websocket(obook, http_venue, status):
    """A REST venue's 3xx is what a WebSocket handshake's is: not followed, retried until
    --timeout, exit 3, the address named; not "rejected … check the symbol"."""
    elsewhere = "/elsewhere/order-book"
    http_venue.route(V1, Reply(status=status, body="<html>Moved</html>", headers={"Location": http_venue.url + elsewhere}))
    http_venue.route(elsewhere, Reply(body={"data": {"bids": [{"p": "1", "q": "1"}], "asks": [{"p": "2", "q": "1"}]}}))
    run = obook("snapshot", "revx", "ETH-USD", "--timeout", "2", env={"OBOOK_REVX_URL": http_venue.url})
    assert_clean_failure(run, 3, f"redirects (HTTP {status}) to {http_venue.url}{elsewhere}", "follows no redirect", "OBOOK_*_URL")
    assert "check the symbol" not in run.stderr
    assert all(request.path == V1 for request in http_venue.requests)
    watch = obook("watch", "revx", "ETH-USD", "--json", "--timeout", "2", env={"OBOOK_REVX_URL": http_venue.url})
    assert_clean_failure(watch, 3, f"redirects (HTTP {status})", "OBOOK_*_URL")  # the hint where to look, not "check the network"
    assert "check the network" not in watch.stderr


def test_a_redirect_to_no_url_is_said_as_a_redirect(obook, http_venue):
    """A Location that is no URL (escapes in it): still the venue redirecting, sanitized, not
    "connection failed … check the network"."""
    http_venue.route(V1, Reply(status=307, body="", headers={"Location": "\x1b[31mRED\x1b]0;pwn\x07x"}))
    run = obook("snapshot", "revx", "ETH-USD", "--timeout", "2", env={"OBOOK_REVX_URL": http_venue.url})
    assert_clean_failure(run, 3, "the venue redirects (HTTP 3xx) to an address that is not a URL", "OBOOK_*_URL")
    assert "\x1b" not in run.stderr and "failed" not in run.stderr


def test_ws_redirects_are_never_followed(obook, ws_venue):
    target = ws_venue(lambda peer: (peer.expect_json(), peer.send(BITSO.good(1)), peer.hold(5)))
    redirector, stop = SilentTcp(), threading.Event()
    threading.Thread(target=answer_with_redirects, args=(redirector, target.url + "/elsewhere", stop), daemon=True).start()
    try:
        run = obook("snapshot", "bitso", "--feed", "top", "btc_mxn", "--timeout", "2", env={"OBOOK_BITSO_URL": f"ws://127.0.0.1:{redirector.port}"})
    finally:
        stop.set()
        redirector.stop()
    assert_clean_failure(run, 3, "redirects (HTTP 302)", "follows no redirect")
    assert target.connections == []


# ------------------------------------------------------------------ 3: replay input

@pytest.mark.parametrize("make", ["dev-zero", "no-newline", "gzip-of-nuls"])
def test_replay_refuses_endless_lines(obook, tmp_path, make):
    if make == "dev-zero":
        source = "/dev/zero"
    else:
        source = str(tmp_path / "input")
        data = bytes(9 << 20) if make == "no-newline" else _bomb(64 << 20)
        (tmp_path / "input").write_bytes(data)
    started = time.monotonic()
    run = obook("replay", source, "--speed", "max", "--json", timeout=30)
    assert_clean_failure(run, 2, "line 1 is longer than")
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("data", [b"\x1f\x8bgarbage", b"\x1f\x8b" + bytes(range(256)) * 40, _gzip(payload("bitso_1.json"))[:300]],
                         ids=["short", "bad-method", "truncated"])
def test_replay_of_a_broken_gzip_is_a_usage_error(obook, tmp_path, data):
    (tmp_path / "broken.gz").write_bytes(data)
    assert_clean_failure(obook("replay", str(tmp_path / "broken.gz"), "--speed", "max", "--json"), 2, "cannot be read")


RAW_HEADER = json.dumps({"obook_raw_recording": 1, "venue": "bitso", "symbol": "btc_mxn", "depth": 20, "feed": "top"}).encode() + b"\n"


def test_raw_recording_with_corrupt_gzip_data_is_a_usage_error(obook, tmp_path):
    header = RAW_HEADER
    lines = b"".join(b'{"t": "x", "junk": "' + os.urandom(500).hex().encode() + b'"}\n' for _ in range(400))
    data = bytearray(_gzip(header + lines))
    data[-5000:-4960] = bytes(b ^ 0xFF for b in data[-5000:-4960])  # past what the format check peeks at
    (tmp_path / "raw.gz").write_bytes(bytes(data))
    assert_clean_failure(obook("replay", str(tmp_path / "raw.gz"), "--speed", "max", "--json"), 2, "cannot be read")


@pytest.mark.parametrize("source", ["pipe-of-dev-zero", "file-with-a-long-line"])
def test_raw_recording_with_an_endless_line_fails_fast(tmp_path, source):
    """A valid header, then a line with no end (or past the cap): exit 2 naming the line, never an endless skip."""
    if source == "file-with-a-long-line":
        (tmp_path / "raw").write_bytes(RAW_HEADER + b"a" * (13 << 20) + b"\n" + b'{"t": "x"}\n')
        command = [OBOOK, "replay", str(tmp_path / "raw"), "--speed", "max", "--json"]
    else:
        (tmp_path / "header").write_bytes(RAW_HEADER)
        command = ["sh", "-c", 'cat "$1" /dev/zero | "$2" replay - --speed max --json', "sh", str(tmp_path / "header"), OBOOK]
    started = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert_clean_failure(Run(proc), 2, "line 2 is longer than")
    assert time.monotonic() - started < 20


# ------------------------------------------------------------------ 4: retries

def test_backoff_never_overflows_and_stays_within_floor_and_cap():
    backoff = Backoff(floor=1.0)
    delays = [backoff.next_delay() for _ in range(5000)]
    assert all(1.0 <= d <= BACKOFF_CAP for d in delays)
    assert max(delays[-100:]) > BACKOFF_CAP / 2  # still backing off, not stuck at the floor


def test_a_venue_down_for_days_leaves_watch_alive_and_polite():
    """poll() against a venue failing for three simulated days: 429 with Retry-After 0 or
    negative, 5xx; a fake clock, no sleeping. Never faster than the 1 s floor, never dead."""
    from orderbook_cli.errors import VenueFailed
    from orderbook_cli.feed import Feed, poll
    from orderbook_cli.transport.http import RateLimited

    clock = {"now": 0.0}
    requests = []

    def fetch():
        requests.append(clock["now"])
        if len(requests) % 3:
            raise RateLimited("too many requests", retry_after=0.0 if len(requests) % 2 else -5.0)
        raise VenueFailed("HTTP 503")

    feed = Feed(FeedRequest(venue="revx", symbol="ETH-USD", depth=5, timeout=10), lambda ctx: None)
    ctx = feed._context

    def fake_sleep(seconds):
        while feed.get(timeout=0) is not None:  # drain status events like a consumer would
            pass
        clock["now"] += seconds
        if clock["now"] > 3 * 86400:
            ctx.stopped.set()
        return not ctx.stopped.is_set()

    ctx.sleep = fake_sleep
    poll(ctx, fetch, interval=1.0)
    gaps = [b - a for a, b in zip(requests, requests[1:])]
    assert len(requests) > 5000  # still trying after three days
    assert min(gaps) >= 1.0 and max(gaps) <= BACKOFF_CAP + 1


def test_retry_after_zero_does_not_storm(obook, http_venue):
    http_venue.route(V1, Reply(429, {"message": "slow down"}, headers={"Retry-After": "0"}))
    started = time.monotonic()
    run = obook("watch", "revx", "ETH-USD", "--json", "--timeout", "3", env={"OBOOK_REVX_URL": http_venue.url})
    elapsed = time.monotonic() - started
    assert run.code == 3, run
    assert len(http_venue.requests) <= elapsed + 1, (len(http_venue.requests), elapsed)  # at most ~1 request a second


@pytest.mark.parametrize("header", ["0", "-100", "9" * 5000, "\u00b2", "1e999", ""])
def test_retry_after_values_are_bounded(header):
    from orderbook_cli.transport.http import MAX_RETRY_AFTER, retry_after_seconds

    assert 0 <= retry_after_seconds({"retry-after": header}) <= MAX_RETRY_AFTER


# ------------------------------------------------------------------ 6: nothing raw reaches a terminal

def test_sanitize_strips_bidi_and_c1():
    assert sanitize("a\u202eb\u2066c\u2069d\x9b31m\x1b]0;x\x07") == "a?b?c?d?31m?]0;x?"
    assert sanitize("a\u2028b\u2029c\x85d").splitlines() == ["a?b?c?d"]  # no line of the venue's own


def test_json_output_escapes_c1_and_bidi():
    from orderbook_cli.jsonout import dumps

    text = dumps({"s": "a\x9b31m\u202eb\x7f"})
    assert text == '{"s":"a\\u009b31m\\u202eb\\u007f"}' and json.loads(text) == {"s": "a\x9b31m\u202eb\x7f"}
    data = {"s": "a\x1b\u2028\x85", "levels": [1, 2]}  # the form a terminal gets: its own newlines kept, the venue's escaped
    pretty = dumps(data, pretty=True)
    assert json.loads(pretty) == data and pretty.count("\n") == 6 and "\u2028" not in pretty and "\x1b" not in pretty, pretty


@pytest.mark.parametrize("json_flag", ["--json", ""])
def test_an_ascii_only_stdout_gets_the_book_without_a_crash(revx_env, json_flag):
    """PYTHONIOENCODING=ascii: a glyph the encoding lacks is "?" on the ladder; JSON escapes
    what ASCII lacks, so it stays the same document."""
    proc = _shell(f"OBOOK snapshot revx ETH-USD {json_flag}", {**revx_env, "PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 0 and proc.stderr == "", proc
    if json_flag:
        assert json.loads(proc.stdout)["best_bid"] == "4000.00"
    else:
        assert "? snapshot" in proc.stdout and "4000.00" in proc.stdout


def test_debug_output_is_sanitized(obook, ws_venue):
    reason = "nope \x1b]0;pwned\x07 \u202eevil \x9b31m\u2028obook: FORGED"
    venue = ws_venue(lambda peer: (peer.expect_json(), peer.send(json.dumps({"subscribe": "depth", "symbol": "BMX_ETH", "message": reason})),
                                   peer.send(json.dumps({"action": "subscribe", "response": "error", "error": reason})), peer.hold(2)))
    bitso = obook("snapshot", "bitso", "--feed", "top", "btc_mxn", "--debug", "--timeout", "3", env={"OBOOK_BITSO_URL": venue.url})
    assert bitso.code == 4, bitso
    for unsafe in ("\x1b", "\x07", "\u202e", "\x9b", "\u2028"):
        assert unsafe not in bitso.stderr
    assert not any(line.startswith("obook: FORGED") for line in bitso.stderr.splitlines()), bitso.stderr


# ------------------------------------------------------------------ 7-8: secrets and credential files

@pytest.fixture
def revx_dir(isolated_user_state):
    directory = isolated_user_state / ".config" / "revolut-x"
    directory.mkdir(parents=True)
    return directory


@pytest.mark.parametrize("key", ["secret-key-123\nX-Injected: 1", "sécret-kéy-123456", "short", "spaces in the key", "k" * 600])
def test_unusable_api_key_is_exit_6_and_never_echoed(obook, revx_dir, key):
    run = obook("snapshot", "revx", "ETH-USD", env={"REVOLUTX_API_KEY": key, "OBOOK_REVX_URL": "http://127.0.0.1:9"})
    assert_clean_failure(run, 6, "API key")
    assert key.split("\n")[0] not in run.stderr and "Injected" not in run.stderr


def test_unusable_api_key_in_the_config_file_names_the_file(obook, revx_dir):
    config = revx_dir / "config.json"
    config.write_text(json.dumps({"api_key": "line\nbreak-secret-key"}))
    os.chmod(config, 0o600)
    run = obook("snapshot", "revx", "ETH-USD", env={"OBOOK_REVX_URL": "http://127.0.0.1:9"})
    assert_clean_failure(run, 6, f"API key in {config}")
    assert "secret" not in run.stderr
    venues = obook("venues")
    assert venues.code == 0 and "unusable" in venues.stdout and "secret" not in venues.stdout


def test_private_key_path_with_a_nul_byte_is_exit_6(obook, revx_dir):
    assert_clean_failure(obook("snapshot", "revx", "ETH-USD", env=_with_key_file(revx_dir, "a\u0000b")), 6, "NUL byte")


def _with_key_file(revx_dir, path) -> dict:
    (revx_dir / "config.json").write_text(json.dumps({"api_key": "k" * 64, "private_key_path": str(path)}))
    os.chmod(revx_dir / "config.json", 0o600)
    return {"OBOOK_REVX_URL": "http://127.0.0.1:9"}


def test_pem_of_spaces_is_refused_in_linear_time(obook, revx_dir):
    key = revx_dir / "private.pem"
    key.write_text("-----BEGIN " + " " * 60000)
    os.chmod(key, 0o600)
    started = time.monotonic()
    assert_clean_failure(obook("snapshot", "revx", "ETH-USD", env=_with_key_file(revx_dir, key)), 6, "not a PEM")
    assert time.monotonic() - started < 10  # 4,000 spaces took 31 s with the old regex


def test_devices_fifos_and_huge_files_are_refused_by_type_and_size(obook, revx_dir):
    fifo = revx_dir / "fifo.pem"
    os.mkfifo(fifo, 0o600)
    huge = revx_dir / "huge.pem"
    huge.write_bytes(b"x" * (1 << 20))
    os.chmod(huge, 0o600)
    for path, needle in (("/dev/zero", "character device"), (fifo, "a FIFO"), (huge, "larger than 64 KiB")):
        assert_clean_failure(obook("snapshot", "revx", "ETH-USD", env=_with_key_file(revx_dir, path), timeout=20), 6, needle)


def test_config_nested_deep_or_oversized_is_exit_6(obook, revx_dir):
    config = revx_dir / "config.json"
    for text in ("[" * 100_000 + "]" * 100_000, '{"api_key": "' + "k" * 100_000 + '"}'):
        config.write_text(text)
        os.chmod(config, 0o600)
        assert_clean_failure(obook("snapshot", "revx", "ETH-USD", env={"OBOOK_REVX_URL": "http://127.0.0.1:9"}), 6, "config")


def test_obook_config_fifo_device_and_deep_nesting_are_usage_errors(obook, tmp_path):
    fifo, deep = tmp_path / "fifo.toml", tmp_path / "deep.toml"
    os.mkfifo(fifo)
    deep.write_text("a = " + "[" * 20000 + "]" * 20000)
    for path, needle in ((fifo, "a FIFO"), ("/dev/zero", "character device"), (deep, "nested too deeply")):
        run = obook("snapshot", "revx", "ETH-USD", env={"OBOOK_CONFIG": str(path), "OBOOK_REVX_URL": "http://127.0.0.1:9"}, timeout=20)
        assert_clean_failure(run, 2, needle)


# ------------------------------------------------------------------ 9: output failures

@pytest.fixture
def revx_env(http_venue):
    http_venue.route(V1, Reply(body=payload("revx_doc_public_v1.json")))
    return {**os.environ, "OBOOK_REVX_URL": http_venue.url}


def _shell(command: str, env: dict):
    import subprocess

    from tests.conftest import OBOOK

    return subprocess.run(["bash", "-c", command.replace("OBOOK", OBOOK)], capture_output=True, text=True, env=env, timeout=30)


@pytest.mark.parametrize("command", ["snapshot revx ETH-USD --json", "snapshot revx ETH-USD", "venues"])
def test_closed_stdout_is_a_quiet_exit_0(revx_env, command):
    """Also where Rich meets the closed stream (the printed ladder, the venues table): it asks stdout's fileno()."""
    proc = _shell(f'OBOOK {command} >&-; echo "status=$?" >&2', revx_env)
    assert proc.stderr == "status=0\n"


@pytest.mark.parametrize("json_flag", ["--json", ""])
def test_full_disk_is_one_line_and_exit_74(revx_env, json_flag):
    proc = _shell(f'OBOOK snapshot revx ETH-USD {json_flag} > /dev/full; echo "status=$?" >&2', revx_env)
    lines = proc.stderr.splitlines()
    assert lines[-1] == "status=74" and len(lines) == 2, proc.stderr
    assert "cannot write to standard output" in lines[0] and "No space left" in lines[0]


def test_closed_stderr_never_sends_errors_to_stdout():
    proc = _shell('OBOOK snapshot revx ETH-USD --timeout 1 2>&-; echo "status=$?"', {**os.environ, "OBOOK_REVX_URL": "http://127.0.0.1:9"})
    assert proc.stdout == "status=3\n"


# ------------------------------------------------------------------ 10: command-line values

@pytest.mark.parametrize("args", [
    ["--timeout", "inf"], ["--timeout", "nan"], ["--timeout", "1e308"], ["--timeout", "0"],
    ["--group", "1e-400"], ["--group", "1" * 10000], ["--group", "1E+1000000"], ["--impact", "1E+1000000"],
    ["--impact", "1e400"], ["--group", "1e78", "--impact", "1"], ["--group", "-1"], ["--impact", "NaN"],
])
def test_snapshot_values_are_usage_errors(obook, args):
    run = obook("snapshot", "revx", "ETH-USD", *args, env={"OBOOK_REVX_URL": "http://127.0.0.1:9"})
    assert_clean_failure(run, 2, args[1][:10] if len(args[1]) < 50 else "usage error")


@pytest.mark.parametrize("args", [["--idle-timeout", "nan"], ["--stale-after", "nan"], ["--stale-after", "inf"]])
def test_watch_values_are_usage_errors(obook, args):
    assert_clean_failure(obook("watch", "bitso", "--feed", "top", "btc_mxn", *args, env={"OBOOK_BITSO_URL": "ws://127.0.0.1:9"}), 2)


@pytest.mark.parametrize("speed", ["1e-300", "nan", "inf", "-1", "0"])
def test_replay_speed_is_bounded(obook, speed):
    assert_clean_failure(obook("replay", "--sample", "--speed", speed), 2, "--speed")


# ------------------------------------------------------------------ 11: exact numbers

def test_spread_and_mid_are_exact():
    ask, bid = Decimal("123456789012345678901234567890.5"), Decimal("0.1")
    book = make_book("x", "y", [RawLevel(bid, Decimal(1))], [RawLevel(ask, Decimal(1))], timestamp=None, received_at=NOW)
    assert book.spread == Decimal("123456789012345678901234567890.4")
    assert book.mid == Decimal("61728394506172839450617283945.3")


def test_spread_from_a_venue_is_exact_in_json(obook, http_venue):
    body = {"data": {"bids": [{"p": "0.1", "q": "1"}], "asks": [{"p": "123456789012345678901234567890.5", "q": "1"}]}}
    http_venue.route(V1, Reply(body=body))
    run = obook("snapshot", "revx", "ETH-USD", "--json", "--impact", "1", env={"OBOOK_REVX_URL": http_venue.url})
    assert run.code == 0, run
    book = run.json()
    assert book["spread"] == "123456789012345678901234567890.4" and book["mid"] == "61728394506172839450617283945.3"
    assert book["impact"]["buy"]["notional"] == "123456789012345678901234567890.5"


def test_impact_notional_is_exact_at_the_bounds():
    from decimal import Context, localcontext

    from orderbook_cli.impact import ImpactSize, market_impact

    price, amount = Decimal("9" * 31 + "." + "9" * 30), Decimal("1" * 31 + "." + "1" * 30)
    book = make_book("x", "y", [], [RawLevel(price, amount)], timestamp=None, received_at=NOW)
    buy, _ = market_impact(book.bids, book.asks, ImpactSize(amount), book.mid)
    with localcontext(Context(prec=200)):
        expected = price * amount
    assert buy.filled == amount and buy.complete and buy.notional == expected


# ------------------------------------------------------------------ 12-13: completion and rate

def test_completion_offers_only_valid_cached_symbols(isolated_user_state):
    from orderbook_cli import symbol_cache

    cache = isolated_user_state / ".cache" / "obook"
    cache.mkdir(parents=True)
    (cache / "symbols-revx.json").write_text(json.dumps({"fetched_at": time.time(), "symbols": ["BTC-USD", "*", "$(reboot)", "ETH-\x1b[31mUSD", "BTC-\u00b2"]}))
    assert symbol_cache.complete("revx", "", environ=os.environ) == ["BTC-USD"]


def test_update_rate_counts_a_fast_loopback_feed(ws_venue):
    """Thousands of books from a real WebSocket: the rate shown is above the old 102.4 ceiling."""
    from orderbook_cli.feed import BookEvent
    from orderbook_cli.venues import get_venue

    frames = 2000
    venue = ws_venue(lambda peer: (peer.expect_json(), [peer.send(BITSO.good(i)) for i in range(frames)], peer.hold(5)))
    bitso = type(get_venue("bitso"))({"OBOOK_BITSO_URL": venue.url})
    books = 0
    with bitso.open_feed(FeedRequest(venue="bitso", symbol="btc_mxn", depth=5, timeout=10, options={"feed": "top"})) as feed:
        while books < frames:
            event = feed.get(timeout=10)
            assert event is not None
            books += isinstance(event, BookEvent)
        rate = feed.stats.updates_per_second(time.monotonic())
    join_feeds()
    assert 102.4 < rate <= frames / 5  # the old 512-entry window could never show more than 102.4


def test_update_rate_is_true_at_thousands_per_second():
    stats = FeedStats()
    for i in range(25_000):  # 5,000 books a second for 5 s
        stats.count_book(100.0 + i / 5000)
    assert 4800 <= stats.updates_per_second(105.0) <= 5000  # slots of 0.1 s at the window's edge
    assert stats.updates_per_second(120.0) == 0
