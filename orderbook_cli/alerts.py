"""Alerts: what a fired condition says, and `--alert-cmd`, the command run for each.

The command runs on its own thread, so the feed never waits for it: with
the alert as one JSON object on stdin, its output discarded (stdout is
obook's data), its stderr kept (bounded) to explain a failure, and killed
with everything it started after ALERT_CMD_SECONDS. Never two at once:
alerts that fire while it runs are coalesced, the newest kept and sent
when the running one ends, with ``"skipped"`` counting those it replaced.
A failure (cannot start, non-zero exit, killed) is reported through a
callback, never fatal.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from orderbook_cli.book import Book, plain
from orderbook_cli.conditions import Condition, EdgeTrigger, Figures, Reading, Status
from orderbook_cli.errors import UntilNotMet, sanitize
from orderbook_cli.timefmt import iso_utc, now_utc

if TYPE_CHECKING:
    from orderbook_cli.config import BoardConditions

ALERT_CMD_SECONDS = 5.0  # a command still running after this long is killed
_STDERR_KEPT = 2000  # bytes of the command's stderr kept to explain a failure; the rest is drained unread


class Alert(NamedTuple):
    reading: Reading
    source: str  # "revx ETH-USD", "consolidated BTC-USD"
    at: datetime  # when it fired (UTC)
    figures: Figures | None
    timestamp: datetime | None = None  # the venue's time for the book it fired on
    sequence: int | None = None

    def line(self) -> str:
        """The NDJSON mode's stderr line: `obook: alert: COND (…the value…)`."""
        return sanitize(f"obook: alert: {self.reading.condition.text} ({self.source}: {self.reading.text})", 400)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object `--alert-cmd` reads on stdin."""
        value = self.reading.value
        figures = self.figures
        return {
            "alert": self.reading.condition.text,
            "field": self.reading.condition.field,
            "value": value if isinstance(value, bool) or value is None else plain(value),
            "text": self.reading.text,
            "source": self.source,
            "at": iso_utc(self.at),
            "timestamp": iso_utc(self.timestamp) if self.timestamp else None,
            "sequence": self.sequence,
            "best_bid": _maybe(figures.best_bid) if figures else None,
            "best_ask": _maybe(figures.best_ask) if figures else None,
            "spread": _maybe(figures.spread) if figures else None,
            "mid": _maybe(figures.mid) if figures else None,
        }


def _maybe(number: Decimal | None) -> str | None:
    return None if number is None else plain(number)


class AlertCommand:
    """`--alert-cmd CMD`: run through the shell for each alert, one at a time, off the feed's thread."""

    def __init__(self, command: str, report: Callable[[str], None], *, seconds: float = ALERT_CMD_SECONDS):
        self.command = command
        self.seconds = seconds  # float-ok: a time bound
        self._report = report  # one line saying what went wrong; the caller decides where it shows
        self._lock = threading.Condition()
        self._pending: dict[str, Any] | None = None
        self._skipped = 0  # alerts replaced by a newer one while the command ran
        self._busy = False
        self._closing = False
        self.runs = 0
        self._thread = threading.Thread(target=self._serve, name="obook-alert-cmd", daemon=True)
        self._thread.start()

    def submit(self, alert: dict[str, Any]) -> None:
        """Queue one alert; returns at once (the newest pending alert wins)."""
        with self._lock:
            if self._pending is not None:
                self._skipped += 1
            self._pending = alert
            self._lock.notify()

    def close(self, wait: bool = True) -> None:
        """Stop taking alerts; with `wait`, let the running and the pending one finish
        (each within its time bound) so an alert fired just before the end still runs."""
        with self._lock:
            self._closing = True
            if not wait:
                self._pending = None
            self._lock.notify()
        if wait:
            self._thread.join(timeout=2 * self.seconds + 1)

    @property
    def running(self) -> bool:
        """A command is running now."""
        with self._lock:
            return self._busy

    def _serve(self) -> None:
        while True:
            with self._lock:
                while self._pending is None and not self._closing:
                    self._lock.wait()
                if self._pending is None:
                    return
                alert, skipped = self._pending, self._skipped
                self._pending, self._skipped, self._busy = None, 0, True
            try:
                problem = self._run(dict(alert, skipped=skipped))
            except Exception as error:
                problem = f"{type(error).__name__}: {error}"
            with self._lock:
                self._busy = False
                self.runs += 1
            if problem:
                self._report(sanitize(f"obook: alert-cmd: {problem} (the watch goes on)", 400))

    def _run(self, alert: dict[str, Any]) -> str | None:
        """Run the command once; a description of the failure, or None."""
        payload = (json.dumps(alert, ensure_ascii=True) + "\n").encode()
        try:
            proc = subprocess.Popen(
                self.command, shell=True, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group: a timeout kills what it started, Ctrl-C on obook's terminal does not reach it
            )
        except OSError as error:
            return f"cannot run the command: {error.strerror or error}"
        deadline = time.monotonic() + self.seconds
        assert proc.stdin is not None and proc.stderr is not None
        try:
            proc.stdin.write(payload)  # far below a pipe's buffer: never blocks
            proc.stdin.close()
        except BrokenPipeError:
            pass  # the command did not read its stdin: its business
        kept = _drain(proc.stderr, deadline)
        try:
            code = proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            return f"killed after {self.seconds:g}s: {sanitize(self.command, 60)!r} was still running"
        finally:
            proc.stderr.close()
        if code == 0:
            return None
        said = kept.decode("utf-8", "replace").strip().splitlines()
        reason = f"exit {code}" if code > 0 else f"killed by signal {-code}"
        return f"{sanitize(self.command, 60)!r} failed ({reason})" + (f": {sanitize(said[-1], 200)}" if said else "")


def _drain(stream, deadline: float) -> bytes:
    """Read the command's stderr until it closes or the deadline, keeping the start (bounded)."""
    kept = b""
    fd = stream.fileno()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return kept
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return kept
        chunk = os.read(fd, 4096)
        if not chunk:
            return kept
        if len(kept) < _STDERR_KEPT:
            kept += chunk[: _STDERR_KEPT - len(kept)]


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the command and whatever it started (its own process group), then reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=1.0)
    except subprocess.TimeoutExpired:
        pass


class Monitor:
    """`--until`, `--alert` and `--alert-cmd` for one watch or replay: every book shown
    (each source's, or the consolidated one) and every change of a source's state
    goes through :meth:`check` once, under the name of what it read."""

    def __init__(self, until: Condition | None, alerts: Sequence[Condition], command: AlertCommand | None,
                 announce: Callable[[Alert], None]):
        self.until = until
        self.alerts = tuple(alerts)
        self.command = command
        self._announce = announce  # the NDJSON mode's stderr line; the ladder's bell and header mark
        self._edges: dict[str, EdgeTrigger] = {}
        self.met: Reading | None = None  # the --until reading that ended the watch

    @classmethod
    def of(cls, conditions: BoardConditions | None, announce: Callable[[Alert], None], report: Callable[[str], None]) -> Monitor:
        """The monitor of the conditions in effect (inactive without any); `report` tells of a failed --alert-cmd."""
        if conditions is None:
            return cls(None, (), None, announce)
        command = AlertCommand(conditions.alert_cmd, report) if conditions.alert_cmd and conditions.alerts else None
        return cls(conditions.until, conditions.alerts, command, announce)

    @property
    def active(self) -> bool:
        return self.until is not None or bool(self.alerts)

    @property
    def reads_status(self) -> bool:
        """A condition reads a word about the source's state: it can change with no book arriving."""
        return any(c.field in ("stale", "resync") for c in (*self.alerts, *((self.until,) if self.until else ())))

    def check(self, source: str, book: Book | None, status: Status) -> bool:
        """Fire the alerts that have just become true; True when --until holds (stop now)."""
        figures = None if book is None else book.figures
        edges = self._edges.get(source)
        if edges is None:
            edges = self._edges[source] = EdgeTrigger(self.alerts)
        for reading in edges.check(figures, status):
            alert = Alert(reading, source, now_utc(), figures,
                          timestamp=None if book is None else book.timestamp, sequence=None if book is None else book.sequence)
            self._announce(alert)
            if self.command is not None:
                self.command.submit(alert.to_dict())
        if self.until is not None and self.met is None:
            reading = self.until.evaluate(figures, status)
            if reading.holds:
                self.met = reading
        return self.met is not None

    def close(self) -> None:
        """The watch is over: a running (or pending) --alert-cmd still runs, within its time bound."""
        if self.command is not None:
            self.command.close()

    def verdict(self, ended: str) -> None:
        """UntilNotMet (exit 124) when `ended` ("--count", "--duration", "the recording")
        stopped the watch before --until held."""
        if self.until is not None and self.met is None and ended:
            raise UntilNotMet(f"{ended} ended the watch before --until {self.until.text} held")
