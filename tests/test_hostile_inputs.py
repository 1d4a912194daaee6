"""Issue 21 item 5 and 10: bad local input (config numbers, terminal sizes) is bounded,
never exit 1: a config number of thousands of digits is a usage error naming its key,
and COLUMNS/LINES of 20 digits, ten million, zero or garbage draw within a memory cap."""

from __future__ import annotations

import os
import resource
import subprocess
import time

import pytest

from tests.conftest import OBOOK, assert_clean_failure
from tests.servers.http_venue import Reply, payload

V1 = "/api/1.0/public/order-book/BTC-USD"


@pytest.mark.parametrize(("text", "key"), [
    ("[defaults]\ndepth = " + "9" * 4301, "defaults.depth"),
    ("[defaults]\ntimeout = -" + "1_" * 4400 + "1", "defaults.timeout"),
    ("[boards]\nbig = [" + "9" * 5000 + "]", "boards.big"),
])
def test_config_numbers_of_thousands_of_digits_are_usage_errors_naming_the_key(obook, tmp_path, text, key):
    config = tmp_path / "config.toml"
    config.write_text(text)
    run = obook("snapshot", "revx", "BTC-USD", "--timeout", "1", env={"OBOOK_CONFIG": str(config), "OBOOK_REVX_URL": "http://127.0.0.1:9"})
    assert_clean_failure(run, 2, key, "digits")


MEMORY_CAP = 1 << 30  # address space: obook normally needs a few hundred MiB of it; COLUMNS=10000000 wanted 2 GB


def _capped():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


@pytest.mark.parametrize("size", ["99999999999999999999", "10000000", "0", "", "1", "abc", "-5"])
def test_any_columns_and_lines_draw_within_bounds(http_venue, size):
    http_venue.route(V1, Reply(body=payload("revx_doc_public_v1.json")))
    for view in ("ladder", "chart"):
        started = time.monotonic()
        proc = subprocess.run([OBOOK, "snapshot", "revx", "BTC-USD", "--view", view], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "OBOOK_REVX_URL": http_venue.url, "COLUMNS": size, "LINES": size}, preexec_fn=_capped)
        assert proc.returncode == 0, (view, proc.stderr)
        assert "Traceback" not in proc.stderr and "bug" not in proc.stderr
        assert time.monotonic() - started < 30
        widest = max((len(line) for line in proc.stdout.splitlines()), default=0)
        assert widest <= 1000 * 20, widest  # bounded by the column cap (a cell may carry colour codes)


def _shell(command: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command.replace("OBOOK", OBOOK)], capture_output=True, text=True, timeout=30, env={**os.environ, **(env or {})})


@pytest.mark.parametrize(("command", "status"), [
    ("OBOOK snapshot revx BTC-USD --timeout 1", 3), ("OBOOK snapshot revx BTC-USD --timeout 1 --debug", 3),
    ("OBOOK no-such-command", 2), ("OBOOK replay --speed nan --sample", 2),
])
def test_stderr_on_a_full_device_keeps_the_exit_status(command, status):
    proc = _shell(f'{command} 2>/dev/full; echo "status=$?"', {"OBOOK_REVX_URL": "http://127.0.0.1:9"})
    assert proc.stdout.strip().splitlines()[-1] == f"status={status}", proc
    assert proc.stderr == ""


def test_replay_with_stdin_closed_is_a_usage_error():
    proc = _shell('OBOOK replay <&- ; echo "status=$?" >&2; OBOOK replay - <&- ; echo "status=$?" >&2')
    lines = proc.stderr.splitlines()
    assert lines[1] == "status=2" and lines[3] == "status=2", proc.stderr
    assert "standard input is closed" in lines[0] and "Traceback" not in proc.stderr


def test_an_io_error_reading_a_recording_is_exit_74(obook):
    run = obook("replay", "/proc/self/mem")  # reading offset 0 of a process's memory fails with EIO
    assert_clean_failure(run, 74, "cannot read the recording", "input/output error")


def test_svg_to_a_fifo_nobody_reads_is_refused_at_once(obook, http_venue, tmp_path):
    http_venue.route(V1, Reply(body=payload("revx_doc_public_v1.json")))
    fifo = tmp_path / "book.svg"
    os.mkfifo(fifo)
    started = time.monotonic()
    run = obook("snapshot", "revx", "BTC-USD", "--svg", str(fifo), "--timeout", "3", env={"OBOOK_REVX_URL": http_venue.url}, timeout=30)
    assert_clean_failure(run, 2, "FIFO that no process is reading")
    assert time.monotonic() - started < 15


def test_svg_onto_a_full_disk_is_an_output_error(obook, http_venue):
    """Opened, then the write fails (/dev/full: ENOSPC): exit 74 as stdout's own failure, not a usage error."""
    http_venue.route(V1, Reply(body=payload("revx_doc_public_v1.json")))
    run = obook("snapshot", "revx", "BTC-USD", "--svg", "/dev/full", "--timeout", "3", env={"OBOOK_REVX_URL": http_venue.url}, timeout=30)
    assert_clean_failure(run, 74, "cannot write /dev/full", "no space left on device", "check the disk")


def test_svg_to_a_fifo_with_a_reader_is_written(obook, http_venue, tmp_path):
    import threading

    http_venue.route(V1, Reply(body=payload("revx_doc_public_v1.json")))
    fifo = tmp_path / "book.svg"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    run = obook("snapshot", "revx", "BTC-USD", "--svg", str(fifo), env={"OBOOK_REVX_URL": http_venue.url}, timeout=30)
    reader.join(10)
    assert run.code == 0, run
    assert got and got[0].startswith(b"<svg") and got[0].rstrip().endswith(b"</svg>")


RAW_HEADER = '{"obook_raw_recording":1,"venue":"bitso","symbol":"btc_mxn","depth":20,"feed":"top"}'
CONNECT = '{"t":"2026-01-01T00:00:00+00:00","connect":true}'


@pytest.mark.parametrize(("lines", "needle"), [
    ([CONNECT, '{"t":"2026-01-01T00:00:01+00:00","frame":"\\ud800"}'], "lone surrogate"),
    ([CONNECT, '{"t":"2026-01-01T00:00:01+00:00","frame":"{\\"type\\":\\"x\\udfff\\"}"}'], "lone surrogate"),
    ([CONNECT, '{"t":"9999-12-31T23:59:59-23:59","frame":"{}"}'], "time"),
    (['{"t":"0001-01-01T00:00:00+23:59","connect":true}'], "time"),
])
@pytest.mark.parametrize("speed", ["max", "1"])
def test_raw_recordings_obook_never_writes_are_usage_errors(obook, tmp_path, lines, needle, speed):
    recording = tmp_path / "edited.rec"
    recording.write_text("\n".join([RAW_HEADER, *lines]) + "\n")
    assert_clean_failure(obook("replay", str(recording), "--json", "--speed", speed, timeout=30), 2, "recording line", needle)
