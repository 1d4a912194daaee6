"""Alerts: the stderr line, the JSON object, and `--alert-cmd` run bounded, one at a time, off the feed's thread."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from datetime import UTC, datetime

import pytest

from orderbook_cli.alerts import Alert, AlertCommand
from orderbook_cli.conditions import Status, parse
from tests.test_conditions import BOOK, LIVE

AT = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
PY = sys.executable


def alert(text: str = "spread>20bps", status: Status = LIVE) -> Alert:
    reading = parse(text).evaluate(BOOK, status)
    return Alert(reading, "revx ETH-USD", AT, BOOK, timestamp=AT, sequence=42)


def test_the_stderr_line_names_the_condition_and_the_value():
    assert alert().line() == "obook: alert: spread>20bps (revx ETH-USD: spread 100.00 bps)"
    assert alert("stale", Status(stale=True, detail="nothing heard for 6s")).line() == \
        "obook: alert: stale (revx ETH-USD: stale (nothing heard for 6s))"


def test_the_stderr_line_is_one_safe_line():
    reading = parse("stale").evaluate(BOOK, Status(stale=True, detail="evil\x1b[2J\nsecond line"))
    line = Alert(reading, "x\x07y", AT, BOOK).line()
    assert "\x1b" not in line and "\n" not in line and "\x07" not in line


def test_the_alert_json_carries_exact_strings():
    data = alert().to_dict()
    assert data == {
        "alert": "spread>20bps", "field": "spread", "value": "100.00", "text": "spread 100.00 bps",
        "source": "revx ETH-USD", "at": "2026-01-02T03:04:05.678Z", "timestamp": "2026-01-02T03:04:05.678Z",
        "sequence": 42, "best_bid": "99.5", "best_ask": "100.5", "spread": "1.0", "mid": "100.0",
    }
    assert alert("crossed").to_dict()["value"] is False
    assert json.loads(json.dumps(data)) == data


def wait_until(predicate, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def runner(command: str, seconds: float = 5.0) -> tuple[AlertCommand, list[str]]:
    reports: list[str] = []
    return AlertCommand(command, reports.append, seconds=seconds), reports


def test_the_command_reads_the_alert_json_on_stdin(tmp_path):
    out = tmp_path / "alert.json"
    cmd, reports = runner(f"cat > {out}")
    cmd.submit(alert().to_dict())
    cmd.close()
    data = json.loads(out.read_text())
    assert data["alert"] == "spread>20bps" and data["value"] == "100.00" and data["skipped"] == 0
    assert reports == []


def test_a_failing_command_is_reported_with_its_last_stderr_line_and_is_not_fatal(tmp_path):
    out = tmp_path / "ran"
    cmd, reports = runner(f"echo first >&2; echo 'disk is on fire' >&2; echo x >> {out}; exit 3")
    cmd.submit(alert().to_dict())
    wait_until(lambda: reports)
    assert len(reports) == 1
    assert reports[0].startswith("obook: alert-cmd: \"echo first >&2;")
    assert reports[0].endswith(" failed (exit 3): disk is on fire (the watch goes on)")
    cmd.submit(alert().to_dict())  # it keeps running later alerts
    cmd.close()
    assert out.read_text() == "x\nx\n"


def test_a_command_that_cannot_be_found_is_reported():
    cmd, reports = runner("/nonexistent/obook-alert-handler")
    cmd.submit(alert().to_dict())
    cmd.close()
    assert len(reports) == 1 and "failed (exit 127)" in reports[0]


def test_a_hanging_command_is_killed_with_what_it_started(tmp_path):
    pid_file = tmp_path / "pid"
    # The shell starts a child that would outlive it; both must die at the bound.
    cmd, reports = runner(f"{PY} -c 'import os,time; open(\"{pid_file}\",\"w\").write(str(os.getpid())); time.sleep(60)'", seconds=0.5)
    started = time.monotonic()
    cmd.submit(alert().to_dict())
    wait_until(lambda: reports)
    assert time.monotonic() - started < 5
    assert "killed after 0.5s" in reports[0]
    child = int(pid_file.read_text())
    wait_until(lambda: not _alive(child), 5)
    cmd.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead too
        return stat.read().split(") ")[1][0] != "Z"


def test_a_command_that_floods_stderr_costs_bounded_memory_and_time():
    cmd, reports = runner(f"{PY} -c 'import sys; [sys.stderr.write(\"x\" * 65536) for _ in range(400)]; sys.exit(1)'")
    cmd.submit(alert().to_dict())
    cmd.close()
    assert len(reports) == 1 and "failed (exit 1)" in reports[0] and len(reports[0]) <= 400


def test_never_two_at_once_newer_alerts_are_coalesced(tmp_path):
    log = tmp_path / "log"
    # Each run appends "start N", waits, appends "end N": overlapping runs would interleave.
    script = (f"{PY} -c 'import json,sys,time; a=json.load(sys.stdin); f=open(\"{log}\",\"a\"); "
              "f.write(\"start %s %s\\n\" % (a[\"sequence\"], a[\"skipped\"])); f.flush(); time.sleep(0.3); f.write(\"end\\n\")'")
    cmd, reports = runner(script)
    first = alert().to_dict()
    cmd.submit({**first, "sequence": 1})
    wait_until(lambda: log.exists())  # the first is running
    started = time.monotonic()
    for sequence in range(2, 7):
        cmd.submit({**first, "sequence": sequence})
    assert time.monotonic() - started < 0.1  # submitting never waits for the command
    cmd.close()
    lines = log.read_text().splitlines()
    assert lines == ["start 1 0", "end", "start 6 4", "end"]  # the newest pending one, four replaced
    assert reports == []


def test_submit_from_the_feed_thread_returns_at_once_while_a_command_runs():
    cmd, _ = runner("sleep 2", seconds=5)
    cmd.submit(alert().to_dict())
    wait_until(lambda: cmd.running)
    took = []

    def feed() -> None:
        begin = time.monotonic()
        for _ in range(100):
            cmd.submit(alert().to_dict())
        took.append(time.monotonic() - begin)

    thread = threading.Thread(target=feed)
    thread.start()
    thread.join(5)
    assert took and took[0] < 0.2
    cmd.close(wait=False)


@pytest.mark.parametrize("wait", [True, False])
def test_close_waits_for_the_last_alert_or_drops_it(tmp_path, wait):
    out = tmp_path / "out"
    cmd, _ = runner(f"sleep 0.3; cat >> {out}")
    cmd.submit({**alert().to_dict(), "sequence": 1})
    wait_until(lambda: cmd.running)
    cmd.submit({**alert().to_dict(), "sequence": 2})
    cmd.close(wait=wait)
    if wait:
        assert [json.loads(line)["sequence"] for line in out.read_text().splitlines()] == [1, 2]
    else:
        wait_until(lambda: not cmd.running)
        time.sleep(0.4)  # time enough for a second run, which must not come
        assert [json.loads(line)["sequence"] for line in out.read_text().splitlines()] == [1]
