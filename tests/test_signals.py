"""Pipes and signals: quiet, clean endings; nothing ever hangs or prints a traceback."""

import json
import os
import shlex
import signal
import subprocess
import time

import pytest

from tests.conftest import OBOOK

ACK = {"action": "subscribe", "response": "ok", "time": 1, "type": "orders"}


def streaming(peer):
    sub = peer.expect_json()
    peer.send({**ACK, "book": sub["book"]})
    for seq in range(100000):
        peer.send({"type": "orders", "book": "btc_mxn", "sent": 1, "payload": {
            "bids": [{"r": str(7000 + seq % 100), "a": "1"}], "asks": [{"r": "8000", "a": "1"}]}})
        time.sleep(0.01)


@pytest.fixture
def bitso(ws_venue):
    venue = ws_venue(streaming)
    return {**os.environ, "OBOOK_BITSO_URL": venue.url}


def test_head_1_exits_quietly_with_0(bitso):
    command = f"{shlex.quote(OBOOK)} watch bitso --feed top btc_mxn --json | head -1; echo \"status=${{PIPESTATUS[0]}}\" >&2"
    proc = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=bitso, timeout=20)
    assert json.loads(proc.stdout)["venue"] == "bitso"
    assert "status=0" in proc.stderr
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr and "Exception" not in proc.stderr


def test_closed_stdout_never_hangs(bitso):
    command = f"{shlex.quote(OBOOK)} watch bitso --feed top btc_mxn --json >&-; echo \"status=$?\" >&2"
    proc = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=bitso, timeout=20)
    assert "status=0" in proc.stderr
    assert "Traceback" not in proc.stderr


def _started(bitso, *args):
    proc = subprocess.Popen([OBOOK, "watch", "bitso", "--feed", "top", "btc_mxn", "--json", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=bitso, text=True)
    assert json.loads(proc.stdout.readline())["venue"] == "bitso"  # it is streaming
    return proc


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 143)])
def test_signals_end_ndjson_cleanly(bitso, signum, code):
    proc = _started(bitso)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == code
    assert "Traceback" not in err
    for line in out.splitlines():  # every line that was written is a whole book
        json.loads(line)


def test_sigterm_restores_the_terminal(bitso, tmp_path):
    from tests.test_terminal import Terminal

    if subprocess.run(["which", "tmux"], capture_output=True).returncode:
        pytest.skip("tmux is not installed")
    term = Terminal(tmp_path)
    marker = "5.4321"  # a unique --stale-after finds this process among others
    try:
        # obook runs in the foreground, so it owns the terminal and puts it in cbreak mode
        term.start(f"OBOOK_BITSO_URL={shlex.quote(bitso['OBOOK_BITSO_URL'])} {shlex.quote(OBOOK)} watch bitso --feed top btc_mxn --stale-after {marker}; "
                   f"echo EXIT=$?; stty -a | grep -o -- '-\\?icanon' | head -1; stty -a | grep -o -- '-\\?echo ' | head -1")
        term.wait_for(r"spread")
        candidates = subprocess.run(["pgrep", "-f", f"stale-after {marker}"], capture_output=True, text=True).stdout.split()
        # the python process running the obook script, not the shell whose command line mentions it
        pid = next(int(p) for p in candidates if any(arg.endswith(b"/obook") for arg in open(f"/proc/{p}/cmdline", "rb").read().split(b"\0")))
        assert "-icanon" in subprocess.run(["stty", "-a", "-F", os.readlink(f"/proc/{pid}/fd/0")], capture_output=True, text=True).stdout
        os.kill(pid, signal.SIGTERM)
        # the exit code and both stty lines: under load the stty output lands after EXIT= does
        screen = term.wait_for(r"EXIT=\d+\s+-?icanon\s+-?echo\b")
        assert "EXIT=143" in screen
        assert "spread" not in screen  # the alternate screen is gone
        after = screen.split("EXIT=143", 1)[1].split()
        assert after[:2] == ["icanon", "echo"], screen  # canonical mode and echo are back
    finally:
        term.close()


def test_closing_the_terminal_under_the_live_view_is_a_hangup_not_a_bug():
    """The terminal window closes (its pty goes away: SIGHUP, then EIO on the tty): exit 143,
    never exit 1 from restoring the settings of a terminal that is gone."""
    import pty
    import select

    pid, master = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal, as a terminal window's shell gives
        os.execv(OBOOK, [OBOOK, "replay", "--sample", "--speed", "0.05"])
    drawn, until = b"", time.monotonic() + 15
    while b"spread" not in drawn and time.monotonic() < until:  # the ladder is up: cbreak mode is set
        if select.select([master], [], [], 0.2)[0]:
            drawn += os.read(master, 65536)
    assert b"spread" in drawn, drawn[-500:]
    os.close(master)
    until = time.monotonic() + 10
    while not (ended := os.waitpid(pid, os.WNOHANG))[0] and time.monotonic() < until:
        time.sleep(0.05)
    if not ended[0]:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert ended[0], "obook did not end when its terminal closed"
    assert os.waitstatus_to_exitcode(ended[1]) == 143
