"""Issue 21 item 4: a venue's Retry-After or Date header never gives exit 1 nor ends a
watch, whatever year or zone it names (one Retry-After parser, one HTTP-date parser)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from orderbook_cli.transport.http import http_date, retry_after
from tests.conftest import OBOOK, assert_clean_failure
from tests.servers.http_venue import Reply
from tests.test_full_depth import SEED_100, Seeds, bitso_env, bitso_script, diff, opened

HOSTILE_DATES = [
    "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",  # OverflowError inside the parser
    "Mon, 01 Jan 10000 00:00:00 GMT", "Mon, 01 Jan 2026 99999999999999999999:00:00 GMT",
    "Mon, 01 Jan 2026 00:00:00 +99999999999999999999", "Mon, 01 Jan 0001 00:00:00 +2359", "Fri, 31 Dec 9999 23:59:59 -2359",
    "Mon, 01 Jan 2026 00:00:00 GMT" + " " * 5000, "٢٠٢٦", "", "-" + "9" * 30, "9" * 30, "1e999", "NaN", "Mon, 32 Foo 2026",
]


@pytest.mark.parametrize("value", HOSTILE_DATES)
def test_one_parser_bounds_every_date_and_retry_after(value):
    parsed = http_date(value)
    assert parsed is None or parsed.tzinfo is not None
    for unit, cap in ((1.0, 600.0), (0.001, 60.0)):
        wait = retry_after({"retry-after": value}, unit=unit, cap=cap)
        assert wait is None or 0 <= wait <= cap


def test_retry_after_reads_seconds_milliseconds_and_dates():
    assert retry_after({"retry-after": "3"}, unit=1.0, cap=600) == 3
    assert retry_after({"retry-after": "1500"}, unit=0.001, cap=60) == 1.5
    assert retry_after({"retry-after": "-5"}, unit=1.0, cap=600) == 0
    assert retry_after({"retry-after": "Thu, 01 Jan 2099 00:00:00 GMT"}, unit=1.0, cap=600) == 600
    assert retry_after({"retry-after": "Thu, 01 Jan 1970 00:00:00 GMT"}, unit=1.0, cap=600) == 0
    assert retry_after({}, unit=1.0, cap=600) is None


YEAR_OF_20_DIGITS = HOSTILE_DATES[0]


def test_bitso_429_with_a_20_digit_year_on_a_resync_never_ends_the_watch(ws_venue, http_venue):
    seeds = Seeds(http_venue, SEED_100, Reply(429, {"success": False}, headers={"Retry-After": YEAR_OF_20_DIGITS, "Date": YEAR_OF_20_DIGITS}))
    ws = ws_venue(bitso_script(seeds, "seed", diff(101, opened("b4", "bid", "1005", "0.1")), diff(103, opened("x", "bid", "1", "1"))))
    proc = subprocess.Popen([OBOOK, "watch", "bitso", "btc_mxn", "--json"], env={**os.environ, **bitso_env(ws, http_venue)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while len(http_venue.requests) < 2 and time.monotonic() < deadline:  # the gap at 103 asks for a new seed: 429
            time.sleep(0.05)
        assert len(http_venue.requests) >= 2, "the resync asked for a seed"
        time.sleep(1.5)
        assert proc.poll() is None, "the watch goes on, waiting out the lockout"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 143, (proc.returncode, err)
    assert "Traceback" not in err and "bug" not in err, err
    assert [line for line in out.splitlines() if line.strip()], "books came before the lockout"


def test_bitso_snapshot_refused_with_a_20_digit_year_is_exit_4(obook, http_venue):
    http_venue.route("/api/v3/order_book/", Reply(429, {"success": False}, headers={"Retry-After": YEAR_OF_20_DIGITS}))
    run = obook("snapshot", "bitso", "btc_mxn", "--timeout", "2", env={"OBOOK_BITSO_REST_URL": http_venue.url, "OBOOK_BITSO_URL": "ws://127.0.0.1:9"})
    assert run.code in (3, 4), run
    assert "Traceback" not in run.stderr and "bug" not in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_revx_409_with_a_20_digit_year_in_date_is_exit_6(obook, http_venue):
    http_venue.route("/api/1.0/public/order-book/BTC-USD",
                     Reply(409, {"message": "Request timestamp is in the future"}, headers={"Date": YEAR_OF_20_DIGITS}))
    assert_clean_failure(obook("snapshot", "revx", "BTC-USD", "--timeout", "3", env={"OBOOK_REVX_URL": http_venue.url}), 6, "timestamp")


def test_revx_429_with_a_20_digit_year_is_retried(obook, http_venue):
    from tests.servers.http_venue import payload

    http_venue.route("/api/1.0/public/order-book/BTC-USD", Reply(429, {"message": "slow down"}, headers={"Retry-After": YEAR_OF_20_DIGITS}),
                     Reply(body=payload("revx_doc_public_v1.json")))
    run = obook("watch", "revx", "BTC-USD", "--json", "--count", "1", "--timeout", "8", env={"OBOOK_REVX_URL": http_venue.url})
    assert run.code == 0, run
    assert len(http_venue.requests) == 2
