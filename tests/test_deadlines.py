"""Every wait ends by the clock (issue 21): hostile loopback peers that trickle,
never finish a handshake or flood; signals and unwritable recordings end obook
with the contract's code and one line."""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from tests.conftest import OBOOK


def _accept_key(request: bytes) -> str:
    key = next(line.split(b":", 1)[1].strip() for line in request.split(b"\r\n") if line.lower().startswith(b"sec-websocket-key"))
    return base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()).decode()


class Hostile:
    """A TCP server whose every client gets `behave(conn, request_head)` on its own thread."""

    def __init__(self, behave):
        self.behave, self.sock = behave, socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn):
        head = b""
        try:
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            self.behave(conn, head, self.stop)
        except OSError:
            pass
        finally:
            conn.close()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self):
        self.stop.set()
        self.sock.close()


def endless_header(conn, head, stop):
    conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nX-Endless: ")
    while not stop.is_set():
        conn.sendall(b"a" * 1024)
        time.sleep(0.001)


def trickled_frame(conn, head, stop):
    conn.sendall(f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Accept: {_accept_key(head)}\r\n\r\n".encode())
    conn.sendall(bytes([0x81, 126, 0xFF, 0xFF]))  # a text frame of 65535 bytes, sent a byte at a time
    while not stop.is_set():
        conn.sendall(b" ")
        time.sleep(0.05)


def ping_flood(conn, head, stop):
    conn.sendall(f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Accept: {_accept_key(head)}\r\n\r\n".encode())
    conn.settimeout(0.01)
    while not stop.is_set():
        conn.sendall(bytes([0x89, 0]) * 64)
        try:
            conn.recv(65536)  # the pongs
        except OSError:
            pass


def _memory_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return 0


@pytest.mark.parametrize("behave", [endless_header, trickled_frame, ping_flood], ids=lambda b: b.__name__)
def test_hostile_peer_ends_watch_json_by_the_clock(behave):
    server = Hostile(behave)
    try:
        started = time.monotonic()
        proc = subprocess.Popen([OBOOK, "watch", "bitso", "btc_mxn", "--feed", "top", "--json", "--timeout", "3"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "OBOOK_BITSO_URL": server.url})
        peak = 0
        while proc.poll() is None and time.monotonic() - started < 15:
            peak = max(peak, _memory_kib(proc.pid))
            time.sleep(0.1)
        out, err = proc.communicate(timeout=5)
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert proc.returncode == 3, err
    assert elapsed < 3 + 2 + 1, elapsed  # --timeout + 2 s (+1 s for starting Python on a loaded machine)
    assert peak < 100 * 1024, peak
    assert out == "" and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_sigterm_during_a_trickled_frame_exits_143_within_2s():
    server = Hostile(trickled_frame)
    try:
        proc = subprocess.Popen([OBOOK, "watch", "bitso", "btc_mxn", "--feed", "top", "--json", "--timeout", "30"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "OBOOK_BITSO_URL": server.url})
        time.sleep(2)  # connected and reading the trickle
        assert proc.poll() is None
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        elapsed = time.monotonic() - sent
    finally:
        server.close()
    assert proc.returncode == 143, err
    assert elapsed < 2, elapsed
    assert "Traceback" not in err


def test_recording_to_a_full_device_is_exit_74_in_one_line(obook, ws_venue):
    from tests.test_signals import streaming

    venue = ws_venue(streaming)
    run = obook("watch", "bitso", "btc_mxn", "--feed", "top", "--json", "--record", "/dev/full", "--timeout", "5",
                env={"OBOOK_BITSO_URL": venue.url})
    assert run.code == 74, run
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
    assert "recording" in run.stderr and "free some space" in run.stderr


def test_recording_into_a_missing_directory_says_so_not_free_some_space(obook, ws_venue, tmp_path):
    from tests.test_signals import streaming

    venue = ws_venue(streaming)
    run = obook("watch", "bitso", "btc_mxn", "--feed", "top", "--json", "--record", str(tmp_path / "nowhere" / "s.rec"), "--timeout", "5",
                env={"OBOOK_BITSO_URL": venue.url})
    assert run.code == 74 and len(run.stderr.strip().splitlines()) == 1, run
    assert "no such file or directory" in run.stderr and "free some space" not in run.stderr and "directory you can write" in run.stderr


def test_recording_to_a_fifo_nobody_reads_is_refused_at_once(obook, ws_venue, tmp_path):
    from tests.test_signals import streaming

    venue = ws_venue(streaming)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    started = time.monotonic()
    run = obook("watch", "bitso", "btc_mxn", "--feed", "top", "--json", "--record", str(fifo), "--timeout", "3",
                env={"OBOOK_BITSO_URL": venue.url})
    assert time.monotonic() - started < 5
    assert run.code == 74, run
    assert "no process is reading" in run.stderr and "Traceback" not in run.stderr


def test_idle_timeout_replaces_a_link_that_only_pings_after_a_first_book():
    import json

    book = json.dumps({"type": "orders", "book": "btc_mxn", "sent": 1, "payload": {
        "bids": [{"r": "7000", "a": "1"}], "asks": [{"r": "8000", "a": "1"}]}}).encode()
    connected: list[float] = []

    def book_then_pings(conn, head, stop):
        connected.append(time.monotonic())
        conn.sendall(f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     f"Sec-WebSocket-Accept: {_accept_key(head)}\r\n\r\n".encode())
        conn.sendall(bytes([0x81, 126]) + len(book).to_bytes(2, "big") + book)
        conn.settimeout(0.01)
        while not stop.is_set():
            conn.sendall(bytes([0x89, 0]) * 16)
            try:
                conn.recv(65536)
            except OSError:
                pass

    server = Hostile(book_then_pings)
    try:
        proc = subprocess.Popen([OBOOK, "watch", "bitso", "btc_mxn", "--feed", "top", "--json", "--idle-timeout", "3"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "OBOOK_BITSO_URL": server.url})
        assert json.loads(proc.stdout.readline())["venue"] == "bitso"
        first_book = time.monotonic()
        while len(connected) < 2 and time.monotonic() - first_book < 10:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    finally:
        server.close()
    assert len(connected) >= 2
    assert connected[1] - first_book < 5


def trickled_rest_body(conn, head, stop):
    """HTTP headers at once, then the promised body a byte every 0.2 s: each read returns well within any per-read timeout."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
    while not stop.wait(0.2):
        conn.sendall(b" ")


def trickled_rest_headers(conn, head, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    while not stop.wait(0.2):
        conn.sendall(b"X")


@pytest.mark.parametrize("behave", [trickled_rest_body, trickled_rest_headers], ids=lambda b: b.__name__)
@pytest.mark.parametrize("command", ["snapshot", "watch"])
def test_a_trickled_rest_answer_ends_by_the_clock(behave, command):
    server = Hostile(behave)
    try:
        started = time.monotonic()
        proc = subprocess.Popen([OBOOK, command, "revx", "BTC-USD", "--json", "--timeout", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env={**os.environ, "OBOOK_REVX_URL": server.url.replace("ws://", "http://")})
        peak = 0
        while proc.poll() is None and time.monotonic() - started < 15:
            peak = max(peak, _memory_kib(proc.pid))
            time.sleep(0.1)
        out, err = proc.communicate(timeout=5)
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert proc.returncode == 3, err
    assert elapsed < 3 + 2 + 1, elapsed  # --timeout + 2 s (+1 s for starting Python on a loaded machine)
    assert peak < 100 * 1024, peak
    assert out == "" and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_a_recording_whose_disk_fills_mid_run_stops_the_watch_with_74(ws_venue, tmp_path):
    """The file takes the header and the first frames, then the 'disk' is full (a file-size limit: EFBIG,
    as Python ignores SIGXFSZ): the watch stops with exit 74 in one line, not a reconnect loop."""
    import resource
    import subprocess

    from tests.conftest import OBOOK
    from tests.test_signals import streaming

    venue = ws_venue(streaming)
    recording = tmp_path / "session.raw"

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    proc = subprocess.run([OBOOK, "watch", "bitso", "btc_mxn", "--feed", "top", "--json", "--record", str(recording), "--timeout", "5"],
                          capture_output=True, text=True, timeout=30, preexec_fn=small_disk,
                          env={**os.environ, "OBOOK_BITSO_URL": venue.url})
    assert proc.returncode == 74, proc
    assert proc.stdout.count("\n") >= 1, proc.stdout  # it ran: books were printed before the disk filled
    assert 0 < recording.stat().st_size <= 4096
    assert len(proc.stderr.strip().splitlines()) == 1 and "recording" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and "reconnect" not in proc.stderr
