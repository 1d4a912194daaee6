"""`watch`/`replay` --until, --alert, --alert-cmd and --duration, run as users run obook, against a loopback Revolut X."""

from __future__ import annotations

import copy
import json
import time

import pytest

from tests.conftest import assert_clean_failure
from tests.servers.http_venue import Reply, payload

V1 = "/api/1.0/public/order-book/ETH-USD"
DOC = json.loads(payload("revx_doc_public_v1.json"))


def book_with_spread(spread: int) -> Reply:
    """The documented book with its best ask moved to 4000 + spread (best bid stays 4000)."""
    body = copy.deepcopy(DOC)
    body["data"]["asks"][0]["p"] = f"{4000 + spread}.00"
    body["data"]["asks"][1]["p"] = f"{4100 + spread}.00"
    return Reply(body=body)


@pytest.fixture
def revx(http_venue):
    return {"OBOOK_REVX_URL": http_venue.url}


def test_until_exits_0_with_the_one_book_that_met_it_last(obook, http_venue, revx):
    http_venue.route(V1, book_with_spread(30), book_with_spread(20), book_with_spread(5), book_with_spread(2))
    run = obook("watch", "revx", "ETH-USD", "--json", "--until", "spread<10", env=revx, timeout=60)
    assert run.code == 0, run
    books = run.lines()
    assert [b["spread"] for b in books] == ["30.00", "20.00", "5.00"]  # the books before, then the one that met it
    assert run.stderr == ""


def test_until_not_met_before_count_exits_124(obook, http_venue, revx):
    http_venue.route(V1, book_with_spread(30))
    run = obook("watch", "revx", "ETH-USD", "--json", "--until", "spread<10", "--count", "2", env=revx, timeout=60)
    assert run.code == 124, run
    assert len(run.lines()) == 2
    assert "--count ended the watch before --until spread<10 held" in run.stderr


def test_duration_stops_the_watch_with_exit_0_and_124_with_an_unmet_until(obook, http_venue, revx):
    http_venue.route(V1, book_with_spread(30))
    started = time.monotonic()
    run = obook("watch", "revx", "ETH-USD", "--json", "--duration", "2", env=revx, timeout=60)
    took = time.monotonic() - started
    assert run.code == 0, run
    assert run.lines() and 1.5 < took < 10
    run = obook("watch", "revx", "ETH-USD", "--json", "--duration", "1.5", "--until", "crossed", env=revx, timeout=60)
    assert run.code == 124 and "--duration ended the watch before --until crossed held" in run.stderr, run


def test_alert_fires_on_the_rising_edge_and_runs_the_command_with_the_alert_json(obook, http_venue, revx, tmp_path):
    # spreads 5, 30 (rises), 30 (still), 5 (falls), 30 (rises again) in quote units: 12.48 / 74.72 bps of the mid
    http_venue.route(V1, book_with_spread(5), book_with_spread(30), book_with_spread(30), book_with_spread(5), book_with_spread(30))
    out = tmp_path / "alerts.ndjson"
    run = obook("watch", "revx", "ETH-USD", "--json", "--count", "5", "--alert", "spread>20bps",
                "--alert-cmd", f"cat >> {out}", env=revx, timeout=60)
    assert run.code == 0, run
    lines = [line for line in run.stderr.splitlines() if line.startswith("obook: alert: ")]
    assert lines == ["obook: alert: spread>20bps (revx ETH-USD: spread 74.72 bps)"] * 2
    alerts = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(alerts) == 2
    assert alerts[0]["alert"] == "spread>20bps" and alerts[0]["value"] == "74.72"
    assert alerts[0]["best_bid"] == "4000.00" and alerts[0]["best_ask"] == "4030.00" and alerts[0]["source"] == "revx ETH-USD"


def test_a_failing_alert_command_is_reported_and_the_watch_goes_on(obook, http_venue, revx):
    http_venue.route(V1, book_with_spread(30))
    run = obook("watch", "revx", "ETH-USD", "--json", "--count", "3", "--alert", "spread>1",
                "--alert-cmd", "echo no way >&2; exit 7", env=revx, timeout=60)
    assert run.code == 0, run
    assert len(run.lines()) == 3
    assert "obook: alert-cmd: 'echo no way >&2; exit 7' failed (exit 7): no way (the watch goes on)" in run.stderr


def test_a_hanging_alert_command_never_holds_up_the_books(obook, http_venue, revx):
    http_venue.route(V1, book_with_spread(30), book_with_spread(5), book_with_spread(30), book_with_spread(5))
    started = time.monotonic()
    run = obook("watch", "revx", "ETH-USD", "--json", "--count", "4", "--alert", "spread>20",
                "--alert-cmd", "sleep 60", env=revx, timeout=60)
    assert run.code == 0, run
    assert len(run.lines()) == 4
    assert "killed after 5s" in run.stderr
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("args, needle", [
    (("--until", "spred<10"), "--until 'spred<10': unknown field 'spred'"),
    (("--alert", "mid>20bps"), "--alert 'mid>20bps': a bps threshold is for spread only"),
    (("--alert", "imbalance@0bps>1"), "from 1 to 10000"),
    (("--alert-cmd", "true"), "give at least one --alert"),
])
def test_a_malformed_condition_is_exit_2_naming_it(obook, args, needle):
    run = obook("replay", "--sample", "--speed", "max", "--json", *args)
    assert_clean_failure(run, 2, needle)


def test_replay_until_and_alert_on_the_sample(obook):
    run = obook("replay", "--sample", "--speed", "max", "--json", "--until", "spread<100bps", "--alert", "spread>100bps")
    assert run.code == 0, run
    books = run.lines()
    spreads = [float(b["spread"]) / float(b["mid"]) * 10000 for b in books]  # float-ok: a test's rough cross-check
    assert spreads[-1] < 100 and all(s >= 100 for s in spreads[:-1])
    assert run.stderr == "obook: alert: spread>100bps (replay sample: spread 113.58 bps)\n"  # once: it held until the last book


def test_board_conditions_apply_to_a_watch_of_that_board(obook, http_venue, revx, isolated_user_state):
    where = isolated_user_state / ".config" / "obook" / "config.toml"
    where.parent.mkdir(parents=True)
    where.write_text('[boards.eth]\nsources = ["revx:ETH-USD"]\nuntil = "spread<10"\n')
    http_venue.route(V1, book_with_spread(30), book_with_spread(5))
    run = obook("watch", "@eth", "--json", env=revx, timeout=60)
    assert run.code == 0, run
    assert [b["spread"] for b in run.lines()] == ["30.00", "5.00"]


def test_until_on_the_ladder_ends_with_its_last_frame_and_exit_0(terminal):
    import shlex

    from tests.conftest import OBOOK

    terminal.start(f"{shlex.quote(OBOOK)} replay --sample --speed max --no-color --until 'spread<100bps'", 80, 24)
    screen = terminal.wait_for(lambda s: "EXIT=" in s, stable=True)
    assert "EXIT=0" in screen
    assert "spread 1064.32" in screen  # the 16th book of the sample, the first under 100 bps, stays on screen


def test_duration_on_the_ladder_and_124_with_an_unmet_until(terminal):
    import shlex

    from tests.conftest import OBOOK

    started = time.monotonic()
    terminal.start(f"{shlex.quote(OBOOK)} replay --sample --no-color --duration 2 --until crossed", 80, 24)
    screen = terminal.wait_for(lambda s: "EXIT=" in s, stable=True)
    assert "EXIT=124" in screen and "--duration ended the watch before --until crossed held" in screen.replace("\n", "")
    assert time.monotonic() - started < 15


@pytest.fixture
def bitso_and_revx(http_venue, ws_venue):
    """Revolut X 86612/86615 (spread 3); Bitso bids `bid` against an ask of 86630."""
    from tests.test_multi import REVX_BODY, REVX_BTC, bitso_orders, bitso_script

    def start(bid: str):
        http_venue.route(REVX_BTC, Reply(body=REVX_BODY))
        bitso = ws_venue(bitso_script([lambda book: bitso_orders(book, [(bid, "1")], [("86630", "1")])]))
        return {"OBOOK_REVX_URL": http_venue.url, "OBOOK_BITSO_URL": bitso.url}

    return start


def test_until_on_a_merged_book_reads_the_consolidated_figures(obook, bitso_and_revx):
    env = bitso_and_revx("86620")  # Bitso bids above Revolut X's ask: only the consolidated book is crossed
    run = obook("watch", "--feed", "top", "bitso:btc_usd", "revx:BTC-USD", "--merge", "--json", "--until", "crossed",
                "--alert", "spread<0", env=env, timeout=60)
    assert run.code == 0, run
    last = run.lines()[-1]
    assert last["venue"] == "consolidated" and last["best_bid"] == "86620" and last["best_ask"] == "86615"
    assert {s["venue"] for s in last["sources"]} == {"bitso", "revx"}
    assert "obook: alert: spread<0 (consolidated BTC-USD: spread -5)" in run.stderr, run.stderr


def test_alerts_on_sources_side_by_side_name_the_source(obook, bitso_and_revx):
    env = bitso_and_revx("86612")  # Bitso's spread 18, Revolut X's 3
    run = obook("watch", "--feed", "top", "bitso:btc_usd", "revx:BTC-USD", "--json", "--count", "4", "--alert", "spread>5",
                env=env, timeout=60)
    assert run.code == 0, run
    alerts = [line for line in run.stderr.splitlines() if line.startswith("obook: alert: ")]
    assert alerts == ["obook: alert: spread>5 (bitso btc_usd: spread 18)"], run.stderr  # once: the rising edge, one source


def test_duration_ends_a_merged_watch_and_124_with_an_unmet_until(obook, bitso_and_revx):
    env = bitso_and_revx("86612")
    started = time.monotonic()
    run = obook("watch", "--feed", "top", "bitso:btc_usd", "revx:BTC-USD", "--merge", "--json", "--duration", "2",
                "--until", "crossed", env=env, timeout=60)
    assert run.code == 124 and "--duration ended the watch before --until crossed held" in run.stderr, run
    assert run.lines() and 1.5 < time.monotonic() - started < 15


def test_an_alert_marks_the_ladder_header(terminal):
    import shlex

    from tests.conftest import OBOOK

    # the sample's first books have spreads over 100 bps: the alert fires at once and the header says so
    terminal.start(f"{shlex.quote(OBOOK)} replay --sample --speed 0.5 --no-color --alert 'spread>100bps'", 100, 24)
    screen = terminal.wait_for(r"ALERT spread>100bps")
    assert screen.splitlines()[0].count("ALERT spread>100bps") == 1, screen
    terminal.keys("q")


def test_until_stale_reads_the_clock_a_silent_feed_meets_it_and_a_quiet_live_one_never(obook, ws_venue):
    from tests.test_terminal import ACK, orders

    def bitso(keep_alives: bool):
        def script(peer):
            sub = peer.expect_json()
            peer.send({**ACK, "book": sub["book"]})
            peer.send(orders(1))
            for _ in range(100):
                peer.pause(0.3)
                if keep_alives:
                    peer.send({"type": "ka"})

        return {"OBOOK_BITSO_URL": ws_venue(script).url}

    args = ("watch", "bitso", "btc_mxn", "--feed", "top", "--json", "--stale-after", "1", "--until", "stale", "--alert", "stale")
    started = time.monotonic()
    run = obook(*args, env=bitso(keep_alives=False), timeout=60)
    assert run.code == 0, run
    assert len(run.lines()) == 1 and time.monotonic() - started < 10
    assert "obook: alert: stale (bitso btc_mxn: stale (nothing heard for 1s))" in run.stderr, run.stderr
    run = obook(*args, "--duration", "3", env=bitso(keep_alives=True), timeout=60)
    assert run.code == 124 and "--duration ended the watch before --until stale held" in run.stderr, run
    assert "alert" not in run.stderr.replace("--alert", "")
