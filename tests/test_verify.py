"""--verify-every (the kept book against the venue's own REST book) and the venue-to-obook delay,
against loopback venues on real sockets, through the installed `obook`."""

import json
import re
import time

from tests.servers.http_venue import Reply
from tests.test_full_depth import BOOK_PATH, Seeds, bitso_env, deflate, diff, opened, seed, v3

SEED_100 = seed(100, bids=[("b1", "1000", "1.00000000"), ("b2", "1000", "0.50000000"), ("b3", "990", "2.00000000")],
                asks=[("a1", "1010", "0.25000000"), ("a2", "1020", "3.00000000")])
LABEL = "bitso btc_mxn"


def now_ms() -> int:
    return int(time.time() * 1000)


def fresh(sequence, *changes):
    """A diff stamped now: no clock note."""
    return lambda: {**diff(sequence, *changes), "sent": now_ms()}


def live_script(seeds, *steps):
    """As test_full_depth.bitso_script ("seed" waits for a REST fetch, a float sleeps), callables sent as
    what they return at that moment (fresh stamps), then keep-alives: a quiet book on a live link."""
    def script(peer):
        sub = peer.expect_json()
        assert sub == {"action": "subscribe", "book": "btc_mxn", "type": "diff-orders"}
        peer.send({"action": "subscribe", "response": "ok", "time": 1, "type": "diff-orders", "book": "btc_mxn"})
        for step in steps:
            if step == "seed":
                seeds.wait(timeout=20)
            elif isinstance(step, float):
                peer.pause(step)
            else:
                peer.send(step() if callable(step) else step)
        while not peer.venue.stopping.is_set():  # alive but quiet
            peer.send({"type": "ka"})
            peer.pause(0.3)

    return script


def checks(run):
    return [line for line in run.stderr.splitlines() if "verif" in line]


def test_a_disagreeing_rest_book_is_reported_and_resynced_within_one_period(obook, ws_venue, http_venue):
    wrong = seed(100, bids=[("b1", "1000", "1.00000000"), ("b2", "1000", "0.40000000"), ("b3", "990", "2.00000000")],
                 asks=[("a2", "1020", "3.00000000")])  # b2 smaller, a1 missing at the venue
    reseed = seed(120, bids=[("n1", "2000", "1")], asks=[("n2", "2100", "1")])
    seeds = Seeds(http_venue, SEED_100, wrong, reseed)
    ws = ws_venue(live_script(seeds, "seed", "seed", "seed", fresh(121, opened("n3", "ask", "2050", "2"))))
    period = 4.0
    run = obook("watch", "bitso", "btc_mxn", "--json", "--count", "3", "--verify-every", f"{period:g}", env=bitso_env(ws, http_venue))
    assert run.code == 0, run
    assert [b["sequence"] for b in run.lines()] == [100, 120, 121]  # the book from before the mismatch is gone
    assert checks(run)[0] == (f"obook: verified {LABEL} at sequence 100: mismatch: bid 1000: 1.50000000 (2 orders) here, "
                              "1.40000000 (2 orders) at the venue; ask 1010: 0.25000000 (1 order) here, nothing at the venue; resyncing"), run.stderr
    assert f"obook: {LABEL}: resyncing: the venue's REST book disagreed at sequence 100" in run.stderr
    seed_at, check_at, reseed_at = [r.at for r in http_venue.requests][:3]
    assert check_at - seed_at <= period + 1.0  # caught within one period of the first book
    assert 1.9 <= reseed_at - check_at <= period  # resynced at once, but never faster than the seed pacer's floor
    assert all(r.path == BOOK_PATH and "aggregate=false" in r.query for r in http_venue.requests)


def test_an_agreeing_rest_book_reports_a_match_brought_forward_or_waited_for(obook, ws_venue, http_venue):
    """The REST book behind the stream is brought forward by the kept changes; one ahead of it
    is compared once the stream gets there: both exactly at one sequence."""
    behind = SEED_100  # the venue's book at 100 while the kept one is at 102
    ahead = seed(104, bids=[("b1", "1000", "1.00000000"), ("b2", "1000", "0.50000000"), ("b4", "1005", "0.1"), ("b5", "995", "7")],
                 asks=[("a1", "1010", "0.25000000"), ("a2", "1020", "3.00000000")])
    seeds = Seeds(http_venue, SEED_100, behind, ahead)
    ws = ws_venue(live_script(seeds, "seed", fresh(101, opened("b4", "bid", "1005", "0.1")), fresh(102, opened("gone", "ask", "1015", "1")),
                              "seed", "seed", 0.5, fresh(103, opened("b5", "bid", "995", "7"), {"o": "b3", "d": 1, "s": "cancelled"}),
                              fresh(104, {"o": "gone", "d": 1, "s": "completed"})))
    run = obook("watch", "bitso", "btc_mxn", "--json", "--duration", "7", "--verify-every", "1", env=bitso_env(ws, http_venue))
    assert run.code == 0, run
    assert [b["sequence"] for b in run.lines()] == [100, 101, 102, 103, 104]
    lines = checks(run)
    assert lines[0] == (f"obook: verified {LABEL} at sequence 102 (the REST book of 100 + 2 kept changes): "
                        "match (6 levels, 7 orders)"), run.stderr
    assert lines[1] == f"obook: verified {LABEL} at sequence 104: match (5 levels, 6 orders)", run.stderr
    assert "resyncing" not in run.stderr and "mismatch" not in run.stderr


def test_a_lost_diff_on_a_quiet_book_is_caught(obook, ws_venue, http_venue):
    """The venue's REST book is at 101, the stream never brings the kept book there (the diff was lost)."""
    seeds = Seeds(http_venue, SEED_100, seed(101, bids=[("b1", "1000", "1")]), seed(130, bids=[("n1", "2000", "1")]))
    ws = ws_venue(live_script(seeds, "seed", "seed", "seed", fresh(131, opened("n3", "ask", "2050", "2"))))
    run = obook("watch", "bitso", "btc_mxn", "--json", "--count", "3", "--verify-every", "1", "--timeout", "20", env=bitso_env(ws, http_venue))
    assert run.code == 0, run
    assert [b["sequence"] for b in run.lines()] == [100, 130, 131]
    assert (f"obook: verified {LABEL} at sequence 100: mismatch: the venue's REST book is at sequence 101, the kept book still at 100 "
            "after 5s (a change was lost); resyncing") in run.stderr, run.stderr


def test_verify_every_0_makes_no_rest_call_after_the_seed(obook, ws_venue, http_venue):
    seeds = Seeds(http_venue, SEED_100)
    ws = ws_venue(live_script(seeds, "seed"))
    run = obook("watch", "bitso", "btc_mxn", "--json", "--duration", "5", "--verify-every", "0", env=bitso_env(ws, http_venue))
    assert run.code == 0, run
    assert len(run.lines()) == 1 and len(http_venue.requests) == 1
    assert checks(run) == []


def test_checks_share_the_seed_pacer_and_wait_out_a_lockout(obook, ws_venue, http_venue):
    """Bitso allows 60 requests a minute, seeds and checks together: never two within the
    seeder's floor, and a 420 lockout holds every request back as long as the venue says."""
    from orderbook_cli.venues.synced import SEED_INTERVAL

    seeds = Seeds(http_venue, SEED_100, SEED_100, Reply(420, {"success": False}, headers={"Retry-After": "4"}), SEED_100)
    ws = ws_venue(live_script(seeds, "seed"))
    run = obook("watch", "bitso", "btc_mxn", "--json", "--duration", "11", "--verify-every", "1", env=bitso_env(ws, http_venue), timeout=60)
    assert run.code == 0, run
    at = [r.at for r in http_venue.requests]
    gaps = [b - a for a, b in zip(at, at[1:])]
    assert len(at) >= 4, gaps  # checks kept coming at the pacer's pace
    assert all(gap >= SEED_INTERVAL - 0.1 for gap in gaps), gaps
    assert gaps[2] >= 4 - 0.1, gaps  # the lockout's Retry-After
    lines = checks(run)
    assert lines[0] == f"obook: verified {LABEL} at sequence 100: match (4 levels, 5 orders)", run.stderr
    assert lines[1].startswith(f"obook: could not verify {LABEL}: the REST book could not be fetched: Bitso rate limit (HTTP 420"), run.stderr
    assert "resyncing" not in run.stderr  # a failed check is not a mismatch


# ---------------------------------------------------------------- BitMart: no sequence in the REST book

REST_BOOKS = "/spot/quotation/v3/books"


def bitmart_live(*steps):
    """Subscribe ack, then steps (callables: sent as they return at that moment); answers
    `request` with a fresh snapshot; pongs pings."""
    requests = []

    def script(peer):
        sub = peer.expect_json()
        assert sub == {"op": "subscribe", "args": ["spot/depth/increase100:ETH_USDT"]}
        peer.send({"event": "subscribe", "topic": sub["args"][0]})
        for step in steps:
            if isinstance(step, float):
                peer.pause(step)
            else:
                peer.send(deflate(step() if callable(step) else step))
        while True:
            message = peer.recv(timeout=30)
            if message == "ping":
                peer.send("pong")
                continue
            requests.append(json.loads(message))
            peer.send(deflate(stamped(v3("snapshot", 50, bids=[("900", "1")], asks=[("1100", "1")]))))

    script.requests = requests
    return script


def stamped(message, ms=None):
    message["data"][0]["ms_t"] = ms if ms is not None else now_ms()
    return message


def rest_book(bids, asks, ts=None):
    return {"code": 1000, "message": "OK", "data": {"ts": str(ts if ts is not None else now_ms()), "symbol": "ETH_USDT",
                                                     "asks": [list(a) for a in asks], "bids": [list(b) for b in bids]}}


KEPT_BIDS = [("1000", "1"), ("999", "2"), ("998", "3")]
KEPT_ASKS = [("1001", "1"), ("1002", "2")]


def watch_bitmart(obook, ws_venue, http_venue, rest, bids, asks, *args, steps=()):
    """`watch bitmart-v3 ETH_USDT --json --verify-every 1 ARGS` against a loopback venue that
    sends a snapshot of `bids`/`asks` (then `steps`) and a REST book `rest` (bids, asks): (run, script)."""
    http_venue.route(REST_BOOKS, lambda request: Reply(200, rest_book(*rest)))
    script = bitmart_live(lambda: stamped(v3("snapshot", 10, bids=bids, asks=asks)), *steps)
    ws = ws_venue(script)
    env = {"OBOOK_BITMART_V3_URL": ws.url, "OBOOK_BITMART_REST_URL": http_venue.url}
    return obook("watch", "bitmart-v3", "ETH_USDT", "--json", "--verify-every", "1", *args, env=env), script


def test_bitmart_compares_the_settled_levels(obook, ws_venue, http_venue):
    """The level an update moved around the REST book's time is left out (it may rightly differ);
    the others must agree, within the 50 levels a side the REST book covers."""
    moving = [item for version in range(11, 60) for item in (0.2, lambda v=version: stamped(v3("update", v, bids=[("999", str(v))])))]
    run, script = watch_bitmart(obook, ws_venue, http_venue, ([("1000", "1.0"), ("999", "5"), ("998", "3")], KEPT_ASKS), KEPT_BIDS, KEPT_ASKS,
                                "--duration", "8", steps=moving)
    assert run.code == 0, run
    lines = checks(run)
    assert lines and lines[0].startswith("obook: verified bitmart-v3 ETH_USDT at venue time "), run.stderr
    assert lines[0].endswith(": match (4 settled levels; 1 that moved left out)"), run.stderr
    assert http_venue.paths()[0] == f"{REST_BOOKS}?symbol=ETH_USDT&limit=50"
    assert script.requests == []  # nothing resynced


def test_bitmart_compares_only_the_50_levels_the_rest_book_covers(obook, ws_venue, http_venue):
    """100 levels kept, 50 a side in the REST book: the 50 deeper kept levels are not "missing at the venue"."""
    bids, asks = [(str(1000 - i), "1") for i in range(100)], [(str(1001 + i), "1") for i in range(100)]
    run, script = watch_bitmart(obook, ws_venue, http_venue, (bids[:50], asks[:50]), bids, asks, "--duration", "8")
    assert run.code == 0, run
    lines = checks(run)
    assert lines and lines[0].endswith(": match (100 settled levels; 0 that moved left out)"), run.stderr
    assert script.requests == []


def test_bitmart_settled_level_that_disagrees_resyncs_in_band(obook, ws_venue, http_venue):
    run, script = watch_bitmart(obook, ws_venue, http_venue, (KEPT_BIDS, [("1001", "1"), ("1002", "2.5")]), KEPT_BIDS, KEPT_ASKS,
                                "--count", "2", "--timeout", "20")
    assert run.code == 0, run
    assert [b["sequence"] for b in run.lines()] == [10, 50]  # the snapshot that answered the request
    lines = checks(run)
    assert lines[0].startswith("obook: verified bitmart-v3 ETH_USDT at venue time "), run.stderr
    assert lines[0].endswith(": mismatch: ask 1002: 2 here, 2.5 at the venue; resyncing"), run.stderr
    assert script.requests == [{"op": "request", "args": ["spot/depth/increase100:ETH_USDT"]}]
    assert "resyncing: the venue's REST book disagreed" in run.stderr


# ---------------------------------------------------------------- the venue-to-obook delay

def test_a_venue_clock_off_by_more_than_a_second_is_pointed_out_once(obook, ws_venue, http_venue):
    seeds = Seeds(http_venue, SEED_100)
    late = [lambda s=s: {**diff(s, opened(f"o{s}", "bid", "900", "1")), "sent": now_ms() - 3000} for s in range(101, 121)]
    ws = ws_venue(live_script(seeds, "seed", *[x for step in late for x in (step, 0.15)]))
    run = obook("watch", "bitso", "btc_mxn", "--json", "--count", "21", "--verify-every", "0", env=bitso_env(ws, http_venue))
    assert run.code == 0, run
    notes = [line for line in run.stderr.splitlines() if "stamped" in line]
    assert len(notes) == 1, run.stderr
    assert re.match(rf"obook: {LABEL}: messages arrive 3\.\ds after the venue stamped them \(median over the last minute\): "
                    "this machine's clock is ahead of the venue's", notes[0]), notes


def test_punctual_stamps_say_nothing(obook, ws_venue, http_venue):
    seeds = Seeds(http_venue, SEED_100)
    ws = ws_venue(live_script(seeds, "seed", *[x for s in range(101, 121) for x in (fresh(s, opened(f"o{s}", "bid", "900", "1")), 0.1)]))
    run = obook("watch", "bitso", "btc_mxn", "--json", "--count", "21", "--verify-every", "0", env=bitso_env(ws, http_venue))
    assert run.code == 0, run
    assert run.stderr == "", run.stderr


def test_verify_every_is_checked_like_every_number(obook):
    for bad in ("0.5", "-1", "nan", "inf", "86401", "1e400", "x"):
        run = obook("watch", "bitso", "btc_mxn", "--verify-every", bad)
        assert run.code == 2 and "--verify-every" in run.stderr and "Traceback" not in run.stderr, (bad, run)


# ---------------------------------------------------------------- the ladder's header

def _ladder(terminal, ws, http_venue, *args):
    import shlex

    from tests.conftest import OBOOK

    terminal.start(f"OBOOK_BITSO_URL={shlex.quote(ws.url)} OBOOK_BITSO_REST_URL={shlex.quote(http_venue.url)} {shlex.quote(OBOOK)} "
                   f"watch bitso btc_mxn {' '.join(args)}", 160, 30)


def test_ladder_header_says_verified_and_the_delay(terminal, ws_venue, http_venue):
    book = seed(106, bids=[("b1", "1000", "1.00000000"), ("b2", "1000", "0.50000000"), ("b3", "990", "2.00000000")],
                asks=[("a1", "1010", "0.25000000"), ("a2", "1020", "3.00000000")] + [(f"o{s}", "1030", "1") for s in range(101, 107)])
    seeds = Seeds(http_venue, SEED_100, book)
    spaced = [x for s in range(101, 107) for x in (fresh(s, opened(f"o{s}", "ask", "1030", "1")), 0.1)]  # one sample per 50 ms
    ws = ws_venue(live_script(seeds, "seed", *spaced))
    _ladder(terminal, ws, http_venue, "--verify-every", "1")
    screen = terminal.wait_for(r"verified \d+s ago", timeout=15)
    header = screen.splitlines()[0]
    assert re.search(r"delay \d+ms", header) and "MISMATCH" not in header and "clock off" not in header, screen
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def test_ladder_header_marks_a_mismatch_and_a_clock_that_is_off(terminal, ws_venue, http_venue):
    seeds = Seeds(http_venue, SEED_100, seed(106, bids=[("x", "1", "1")]), seed(120, bids=[("n1", "2000", "1")]))
    late = [lambda s=s: {**diff(s, opened(f"o{s}", "ask", "1030", "1")), "sent": now_ms() - 90_000} for s in range(101, 107)]
    ws = ws_venue(live_script(seeds, "seed", *[x for step in late for x in (step, 0.1)]))
    _ladder(terminal, ws, http_venue, "--verify-every", "1")
    screen = terminal.wait_for(r"MISMATCH at sequence 106 \d+s ago \(1 in all\)", timeout=15)
    header = screen.splitlines()[0]
    assert "clock off +2m" in header, screen  # 90 s late: a minute and a half, said short
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def test_kraken_is_never_polled_its_checksum_proves_every_message(obook, ws_venue, http_venue):
    from tests.kraken.test_kraken import first_book, serving

    venue = ws_venue(serving(first_book, *[(lambda book, i=i: book.update(bids=[(f"99.9{i + 1}", "1.00000000")])) for i in range(3)]))
    env = {"OBOOK_KRAKEN_URL": venue.url, "OBOOK_KRAKEN_REST_URL": http_venue.url}
    run = obook("watch", "kraken", "BTC/USD", "--json", "--duration", "4", "--verify-every", "1", env=env)
    assert run.code == 0, run
    assert len(run.lines()) == 4 and http_venue.requests == [] and checks(run) == []


def test_watch_checks_every_60s_by_default_and_snapshot_never():
    from orderbook_cli.pipeline.plan import Options, make_plan

    def asked(once, **kw):
        opts = Options(venue="bitso", symbol="btc_mxn", sources=(("bitso", "btc_mxn"),), **kw)
        return make_plan(opts, once=once).sources[0].request.verify_every

    assert (asked(False), asked(False, verify_every=0.0), asked(False, verify_every=5.0), asked(True)) == (60.0, 0.0, 5.0, 0.0)


def test_the_delay_is_a_median_over_the_last_minute_one_message_per_slot():
    from datetime import UTC, datetime, timedelta

    from orderbook_cli.feed import Delays

    delays, sent = Delays(), datetime(2026, 1, 1, tzinfo=UTC)
    for now, late in [(0.0, 9), (1.0, 0.2), (1.01, 50), (2.0, 0.1), (3.0, 0.3), (4.0, 0.4), (5.0, 0.6)]:
        delays.add(now, sent, sent + timedelta(seconds=late))  # 1.01 shares 1.0's 50 ms slot: not sampled
    assert delays.median(55.0) == 0.35  # 0.1 0.2 0.3 | 0.4 0.6 9
    assert delays.median(61.0) == 0.3  # the 9 s sample is over a minute old
    assert delays.median(64.5) is None  # fewer than 5 samples in the window say nothing
    assert delays.clock_off(61.0) is None
    for now in (70.0, 71.0, 72.0, 73.0, 74.0):
        delays.add(now, sent + timedelta(seconds=2), sent)  # stamped 2 s ahead of this clock
    assert delays.clock_off(125.0) == -2.0


def test_a_rest_book_older_than_the_kept_changes_gets_no_verdict_not_a_false_mismatch():
    """The engine keeps its last N applied changes; a REST book from before them cannot be brought forward."""
    from decimal import Decimal

    from orderbook_cli.sync import Change, LevelBook, LevelOp, Seed, SyncEngine
    from orderbook_cli.verify import SEQUENCE, Verifier

    def book_at(sequence):  # the venue's book after change `sequence`: one bid level per change so far
        return Seed(sequence, [LevelOp(True, Decimal(p), Decimal(1)) for p in range(100, sequence + 1)])

    engine = SyncEngine(LevelBook, lambda _t: None, lambda _why: None, history=3)
    engine.seed(book_at(100))
    for sequence in range(101, 106):
        engine.change(Change(sequence, [LevelOp(True, Decimal(sequence), Decimal(1))]))
    verifier = Verifier(SEQUENCE, 60.0, clock=lambda: 0.0)
    verdicts = []
    for rest in (100, 102, 105):
        verifier.asked(0.0)
        verifier.answered(book_at(rest), 0.0)
        verdicts.append(verifier.attempt(engine, 0.0))
    assert verdicts[0].match is None and "no longer all kept" in verdicts[0].why
    assert verdicts[1].line("x") == "verified x at sequence 105 (the REST book of 102 + 3 kept changes): match (6 levels)"
    assert verdicts[2].line("x") == "verified x at sequence 105: match (6 levels)"


def test_side_by_side_each_source_header_says_verified(terminal, ws_venue, http_venue):
    import shlex

    from tests.conftest import OBOOK
    from tests.kraken.test_kraken import first_book, serving

    seeds = Seeds(http_venue, SEED_100)
    bitso = ws_venue(live_script(seeds, "seed"))
    kraken = ws_venue(serving(first_book))
    terminal.start(f"OBOOK_BITSO_URL={shlex.quote(bitso.url)} OBOOK_BITSO_REST_URL={shlex.quote(http_venue.url)} "
                   f"OBOOK_KRAKEN_URL={shlex.quote(kraken.url)} {shlex.quote(OBOOK)} watch bitso:btc_mxn kraken:BTC/USD --verify-every 1", 220, 30)
    screen = terminal.wait_for(r"verified \d+s ago", timeout=15)
    assert screen.count("verified") == 1, screen  # the Bitso column's; Kraken is never polled
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")
