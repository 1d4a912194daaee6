"""How the benchmarks measure a running process's CPU: one way, shared by run.py, views.py and trades.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

WARM_UP = 1.5  # seconds a process runs before it is measured (imports, connection, first books)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (from /proc)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_share(pid: int, seconds: float) -> float:
    """The share of one core `pid` uses over the next `seconds`."""
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)


def floor_share(script: str, path: Path, url: str, seconds: float) -> float:
    """A floor program (`script`, written to `path`) run against `url`: its share of one core after the warm-up."""
    path.write_text(script)
    proc = subprocess.Popen([sys.executable, str(path), url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(WARM_UP)
        return cpu_share(proc.pid, seconds)
    finally:
        proc.kill()
        proc.wait()


def view_share(pane: Any, shows: str, seconds: float, measure: Callable[[int], Any] | None = None) -> tuple[float, Any]:
    """A live view in a tmux `pane`: once its screen `shows` the text (10 s at most) and a second more,
    its share of one core over `seconds`, and what `measure(pid)` found after that (None without it)."""
    deadline = time.monotonic() + 10
    while shows not in pane.screen() and time.monotonic() < deadline:
        time.sleep(0.1)
    if shows not in pane.screen():
        raise RuntimeError(f"the view never showed {shows!r}:\n{pane.screen()}")
    time.sleep(1)
    pid = pane.obook_pid()
    before = measure(pid) if measure else None
    share = cpu_share(pid, seconds)
    return share, (before, measure(pid)) if measure else None
