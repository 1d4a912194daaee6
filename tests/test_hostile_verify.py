"""Hostile answers to --verify-every's REST check (Bitso: sequence mode), through the installed
`obook` against loopback venues: obook keeps the stream, says at most one sanitized line a check,
never exits 1, never a traceback."""

import copy
import json

import pytest

from tests.servers.http_venue import Reply
from tests.test_full_depth import Seeds, bitso_env, seed, v3
from tests.test_verify import KEPT_ASKS, KEPT_BIDS, LABEL, REST_BOOKS, SEED_100, bitmart_live, checks, live_script, rest_book, stamped


def hostile(**payload):
    body = copy.deepcopy(SEED_100)
    body["payload"].update(payload)
    return body


def level(price="1000", amount="1", oid="h1", book="btc_mxn"):
    return {"book": book, "price": price, "amount": amount, "oid": oid}


BIG = "9" * 400
# A 6-second watch each: every kind of bad answer once or twice, not every value (the number parsers' own
# hostile and fuzz suites take those).
CHECK_ANSWERS = {
    "sequence 40 digits": hostile(sequence="1" * 40),
    "sequence letters": hostile(sequence="abc"),
    "sequence object": hostile(sequence={"a": 1}),
    **{f"price {name}": hostile(bids=[level(price=value)]) for name, value in
       (("NaN", "NaN"), ("1e999999", "1e999999"), ("400 digits", BIG))},
    **{f"amount {name}": hostile(asks=[level(amount=value)]) for name, value in (("-Infinity", "-Infinity"), ("null", None))},
    "oid 1000 chars": hostile(bids=[level(oid="o" * 1000)]),
    "levels not a list": hostile(bids={"a": 1}),
    "level not an object": hostile(bids=[1, "x", None]),
    "100000 levels": hostile(bids=[level(price=str(1000 - i / 1000), oid=f"o{i}") for i in range(100_000)]),
    "20 MB body": Reply(200, b'{"success": true, "payload": {"bids": [' + b" " * 20_000_000 + b"]}}"),
    "HTML": Reply(200, "<!DOCTYPE html><html><body>\x1b[2Jmaintenance</body></html>", headers={"Content-Type": "text/html"}),
    "not JSON with escapes": Reply(200, "\x1b]0;owned\x07garbage"),
    "success false": {"success": False, "error": {"code": "0301", "message": "\x1b[31mbad\x1b[0m"}},
    "429 Retry-After huge": Reply(429, {"success": False}, headers={"Retry-After": "9" * 40}),
    "420 Retry-After negative": Reply(420, {"success": False}, headers={"Retry-After": "-100"}),
    "429 Retry-After far date": Reply(429, {"success": False}, headers={"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}),
    "500 body escapes": Reply(500, "\x1b[2J\x1b]0;x\x07" + "e" * 5000),
}


@pytest.mark.parametrize("answer", list(CHECK_ANSWERS.values()), ids=list(CHECK_ANSWERS))
def test_a_hostile_rest_check_is_one_sanitized_line_and_the_stream_goes_on(obook, ws_venue, http_venue, answer):
    seeds = Seeds(http_venue, SEED_100, answer, SEED_100)
    ws = ws_venue(live_script(seeds, "seed"))
    run = obook("watch", "bitso", "btc_mxn", "--json", "--duration", "6", "--verify-every", "1", env=bitso_env(ws, http_venue), timeout=60)
    assert run.code == 0, run
    assert "Traceback" not in run.stderr, run.stderr
    assert run.lines() and run.lines()[0]["sequence"] == 100
    assert all(ch.isprintable() for line in run.stderr.splitlines() for ch in line), repr(run.stderr)
    assert all(len(line) <= 400 for line in run.stderr.splitlines()), run.stderr
    lines = checks(run)
    assert lines, run.stderr
    assert lines[0].startswith(f"obook: could not verify {LABEL}: "), run.stderr  # unusable: no verdict, never a resync
    assert "resyncing" not in run.stderr and len(run.lines()) == 1, run.stderr
    assert lines[1:2] == [f"obook: verified {LABEL} at sequence 100: match (4 levels, 5 orders)"] or "HTTP 42" in lines[0], run.stderr


def test_a_rest_book_of_another_book_is_unusable_not_a_mismatch(obook, ws_venue, http_venue):
    """Bitso names each entry's book: an answer for eth_mxn compared with btc_mxn's kept book
    would resync a good book (and seed a wrong one)."""
    seeds = Seeds(http_venue, SEED_100, hostile(bids=[level(book="eth_mxn")]), SEED_100)
    ws = ws_venue(live_script(seeds, "seed"))
    run = obook("watch", "bitso", "btc_mxn", "--json", "--duration", "6", "--verify-every", "1", env=bitso_env(ws, http_venue), timeout=60)
    assert run.code == 0, run
    assert checks(run)[0] == (f"obook: could not verify {LABEL}: the venue's REST book was unusable: "
                              "the order book response holds bids of another book than 'btc_mxn'"), run.stderr
    assert "resyncing" not in run.stderr and [b["sequence"] for b in run.lines()] == [100], run.stderr


# ---------------------------------------------------------------- trades: `obook trades` against a loopback Bitso

GOOD = {"i": 5, "r": "7190", "a": "0.5", "t": 1, "x": 1767225600000, "mo": "m", "to": "t"}
HOSTILE_TRADES = {
    **{f"{key} {name}": {key: value} for key in ("r", "a") for name, value in
       (("NaN", "NaN"), ("Infinity", "Infinity"), ("1e999999", "1e999999"), ("400 digits", BIG), ("object", {"a": 1}), ("null", None))},
    "id 1000 chars": {"i": "7" * 1000},
    "id object": {"i": {"a": 1}},
    "side BUY": {"t": "BUY"},
    "side empty": {"t": ""},
    "time letters": {"x": "\x1b[2Jsoon"},
    "time year 10000": {"x": "10000-01-01T00:00:00Z"},
    "time epoch ms 30 digits": {"x": 10 ** 30},
    "maker order escapes": {"mo": "\x1b]0;owned\x07"},
}


def trades_script(*entries):
    def script(peer):
        assert peer.expect_json() == {"action": "subscribe", "book": "btc_mxn", "type": "trades"}
        peer.send({"action": "subscribe", "response": "ok", "time": 1, "type": "trades"})
        for entry in entries:
            peer.send({"type": "trades", "book": "btc_mxn", "payload": [entry]})
        peer.hold(5)

    return script


@pytest.mark.parametrize("bad", list(HOSTILE_TRADES.values()), ids=list(HOSTILE_TRADES))
def test_a_hostile_trade_is_skipped_and_the_tape_goes_on(obook, ws_venue, bad):
    venue = ws_venue(trades_script({**GOOD, "i": 4, **bad}, GOOD))
    run = obook("trades", "bitso", "btc_mxn", "--json", "--count", "1", env={"OBOOK_BITSO_URL": venue.url})
    assert run.code == 0, run
    assert "Traceback" not in run.stderr
    assert all(ch.isprintable() for line in run.stderr.splitlines() for ch in line), repr(run.stderr)
    assert [t["id"] for t in run.lines()] == ["5"], run  # the hostile one skipped, the next printed
    assert len(run.stderr.splitlines()) <= 1, run.stderr


@pytest.mark.parametrize("stamp,shown", [
    ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"),  # ISO-8601's four-digit year, as every later year
    ("0999-12-31T23:59:59.5Z", "0999-12-31T23:59:59.500Z"),
    ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59.000Z"),
])
def test_a_trade_stamped_far_off_keeps_an_iso_timestamp(obook, ws_venue, stamp, shown):
    venue = ws_venue(trades_script({**GOOD, "x": stamp}))
    run = obook("trades", "bitso", "btc_mxn", "--json", "--count", "1", env={"OBOOK_BITSO_URL": venue.url})
    assert run.code == 0, run
    assert json.loads(run.stdout)["timestamp"] == shown


# ---------------------------------------------------------------- BitMart: the REST book has only a time (settled mode)

def bitmart_book(ts=None, bids=KEPT_BIDS, asks=KEPT_ASKS, **data):
    book = rest_book(bids, asks, ts)
    book["data"].update(data)
    return book


# A 7-second watch each: the kinds of answer, not every value (the parsers' own hostile suites take those).
BITMART_ANSWERS = {
    "time year 1": lambda: bitmart_book("0001-01-01T00:00:00.5Z"),
    "time year 9999": lambda: bitmart_book("9999-12-31T23:59:59Z"),
    "time letters": lambda: bitmart_book("\x1b[2Jsoon"),
    "another symbol": lambda: bitmart_book(symbol="BTC_USDT"),
    "price NaN": lambda: bitmart_book(bids=[("NaN", "1")]),
    "price 400 digits": lambda: bitmart_book(bids=[(BIG, "1")]),
    "code not 1000, escapes": lambda: {"code": 30000, "message": "\x1b]0;owned\x07" + "m" * 500},
}


BITMART_SAYS = {  # what the check says where it must be no verdict rather than a match
    "time year 1": "could not verify bitmart-v3 ETH_USDT: the venue's REST book's time is out of range",
    "time year 9999": "could not verify bitmart-v3 ETH_USDT: the venue's REST book's time is more than an hour from this machine's clock",
}


@pytest.mark.parametrize("name", list(BITMART_ANSWERS))
def test_a_hostile_bitmart_rest_check_is_one_sanitized_line(obook, ws_venue, http_venue, name):
    answer = BITMART_ANSWERS[name]
    http_venue.route(REST_BOOKS, lambda request: Reply(200, answer()))
    ws = ws_venue(bitmart_live(lambda: stamped(v3("snapshot", 10, bids=KEPT_BIDS, asks=KEPT_ASKS))))
    env = {"OBOOK_BITMART_V3_URL": ws.url, "OBOOK_BITMART_REST_URL": http_venue.url}
    run = obook("watch", "bitmart-v3", "ETH_USDT", "--json", "--verify-every", "1", "--duration", "7", env=env, timeout=60)
    assert run.code == 0, run
    assert "Traceback" not in run.stderr, run.stderr
    assert all(ch.isprintable() for line in run.stderr.splitlines() for ch in line), repr(run.stderr)
    assert all(len(line) <= 400 for line in run.stderr.splitlines()), run.stderr
    lines = checks(run)
    assert lines and "resyncing" not in run.stderr, run.stderr
    assert lines[0].startswith("obook: could not verify bitmart-v3 ETH_USDT: ") or ": match (5 settled levels" in lines[0], run.stderr
    if name in BITMART_SAYS:
        assert BITMART_SAYS[name] in lines[0], run.stderr


def test_a_bitmart_rest_book_of_100000_levels_is_one_bounded_line(obook, ws_venue, http_venue):
    """Asked for 50 levels, sent 100,000 (under the 4 MB body limit) against a kept side of 3: the
    venue disagrees with itself, so a resync; the line names three differences and counts the rest."""
    many = bitmart_book(bids=[(str(1000 - i / 1000), "1") for i in range(1, 100_001)])
    http_venue.route(REST_BOOKS, lambda request: Reply(200, many))
    ws = ws_venue(bitmart_live(lambda: stamped(v3("snapshot", 10, bids=KEPT_BIDS, asks=KEPT_ASKS))))
    env = {"OBOOK_BITMART_V3_URL": ws.url, "OBOOK_BITMART_REST_URL": http_venue.url}
    run = obook("watch", "bitmart-v3", "ETH_USDT", "--json", "--verify-every", "1", "--until", "resync", "--duration", "40", env=env, timeout=60)
    assert run.code == 0, run
    lines = checks(run)
    assert lines and lines[0].endswith("(and 99998 more); resyncing"), run.stderr
    assert all(len(line) <= 400 for line in run.stderr.splitlines()), run.stderr


def test_a_check_answered_after_the_stream_reconnected_is_never_taken_for_the_new_book(obook, ws_venue, http_venue):
    """The check is asked on the first link, which drops while the answer (3 s late) is on its way;
    the answer (the venue's book at 100) then meets the second link's book (seeded at 120)."""
    seed_120 = seed(120, bids=[("n1", "2000", "1")], asks=[("n2", "2100", "1")])
    seeds = Seeds(http_venue, SEED_100, Reply(200, SEED_100, delay=3), seed_120)

    def script(peer):
        peer.expect_json()
        peer.send({"action": "subscribe", "response": "ok", "time": 1, "type": "diff-orders", "book": "btc_mxn"})
        seeds.wait(timeout=20)  # first link: its seed, then the check is asked, then the link drops
        if peer.index == 0:
            seeds.wait(timeout=20)
            peer.drop()
            return
        while not peer.venue.stopping.is_set():
            peer.send({"type": "ka"})
            peer.pause(0.3)

    ws = ws_venue(script)
    run = obook("watch", "bitso", "btc_mxn", "--json", "--duration", "9", "--verify-every", "1", env=bitso_env(ws, http_venue), timeout=60)
    assert run.code == 0, run
    assert "Traceback" not in run.stderr
    assert [b["sequence"] for b in run.lines()][:2] == [100, 120], run
    lines = checks(run)
    assert lines, run.stderr
    assert "mismatch" not in lines[0] and "resyncing" not in lines[0], run.stderr  # the old book's answer is no verdict on the new one
