"""Shared fixtures: loopback venue servers, and the installed `obook` run as users run it.

User state is isolated: every test gets its own HOME, config and cache dirs,
and inherits no OBOOK_* / REVOLUTX_* variables from the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers.http_venue import HttpVenue

OBOOK = str(Path(sys.executable).with_name("obook"))


@pytest.fixture(autouse=True)
def isolated_user_state(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith(("OBOOK_", "REVOLUTX_")) or key == "NO_COLOR":
            monkeypatch.delenv(key)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("REVOLUTX_CONFIG_DIR", str(home / ".config" / "revolut-x"))
    return home


class Run:
    """The result of one `obook` process."""

    def __init__(self, proc: subprocess.CompletedProcess):
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def json(self):
        return json.loads(self.stdout)

    def lines(self):
        return [json.loads(line) for line in self.stdout.splitlines()]

    def __repr__(self) -> str:
        return f"Run(code={self.code}, stdout={self.stdout[:400]!r}, stderr={self.stderr[:400]!r})"


@pytest.fixture
def obook():
    """Run the installed `obook` command: obook("snapshot", "revx", "BTC-USD", env={...})."""

    def run(*args: str, env: dict | None = None, timeout: float = 60, input: str | None = None) -> Run:
        full_env = {**os.environ, "COLUMNS": "120", **(env or {})}
        proc = subprocess.run([OBOOK, *args], capture_output=True, text=True, env=full_env, timeout=timeout, input=input)
        return Run(proc)

    return run


@pytest.fixture
def http_venue():
    venue = HttpVenue().start()
    yield venue
    venue.stop()


def assert_clean_failure(run: Run, code: int, *needles: str) -> None:
    """The contract's error shape: nothing on stdout, one line on stderr, no traceback."""
    assert run.code == code, run
    assert run.stdout == "", run
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run
    assert "Traceback" not in run.stderr
    for needle in needles:
        assert needle.lower() in run.stderr.lower(), (needle, run)


@pytest.fixture
def unused_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def ws_venue():
    """ws_venue(script) starts a loopback WebSocket venue running `script` per connection."""
    from tests.servers.ws_venue import WsVenue

    started = []

    def start(script, **kw):
        venue = WsVenue(script, **kw)
        started.append(venue)
        return venue

    yield start
    for venue in started:
        venue.stop()


def pytest_collection_modifyitems(items):
    """Tests that drive a real terminal are marked `terminal`: `pytest -m "not terminal"` is the fast loop."""
    for item in items:
        if "terminal" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.terminal)


@pytest.fixture
def terminal(tmp_path):
    """A real terminal (tmux) of its own, closed after the test."""
    from tests.test_terminal import Terminal

    term = Terminal(tmp_path)
    yield term
    term.close()
