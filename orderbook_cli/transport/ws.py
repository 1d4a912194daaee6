"""WebSocket links, knowing no venue and no feed.

:func:`connect` opens one link within a deadline: the TCP connection, TLS
and an HTTP/1.1 upgrade handshake that obook does itself, every part of the
answer capped before it is stored (websocket-client's own handshake reads
any number of header lines of any length). Frames are then read by
:class:`FrameReader` (large reads, frame and message sizes capped) and
written and closed by websocket-client over that socket.

A :class:`Watchdog` holds every deadline from outside the read: it cuts
the socket when the attempt's deadline passes before the link is up, when
no data frame (pings, pongs and fragments of an unfinished message do not
count) has arrived for the idle timeout, or when the caller stops. A read
that a peer keeps busy byte by byte therefore ends by the clock.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple
from urllib.parse import urlsplit

from orderbook_cli import __version__
from orderbook_cli.debuglog import enabled, log, preview
from orderbook_cli.errors import AuthError, MalformedData, NetworkError, ObookError, VenueFailed, VenueRejected, sanitize
from orderbook_cli.timefmt import now_utc
from orderbook_cli.transport.reasons import connect_failure, host_of, in_words, redirected, said

MAX_FRAME_BYTES = 2 * 1024 * 1024  # larger frames are skipped as malformed
# The handshake answer, as h11 bounds an HTTP head: status line and headers together.
MAX_HANDSHAKE_BYTES = 16 * 1024
MAX_HANDSHAKE_HEADERS = 100
MAX_REFUSAL_BODY = 2048  # of a refused handshake's body, only this much is read (for the message)
WATCH_SECONDS = 0.1  # how often the watchdog looks at the deadlines
# One read of the socket takes whatever has arrived, up to this much: websocket-client
# alone reads each frame's header and payload separately, a wait and a recv each.
READ_CHUNK = 64 * 1024
_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455


class LinkLost(NetworkError):
    """The link failed or was cut; the message says why, for the user."""


class Frame(NamedTuple):
    data: str | bytes  # text decoded, binary as is
    received_at: datetime


class Watchdog:
    """Cuts a socket from outside the read when a deadline passes or the caller stops.

    ``deadline`` (monotonic) is the attempt's until :meth:`alive` is called;
    from then on each data frame pushes it ``idle`` seconds on.
    """

    def __init__(self, deadline: float, idle: float, stopped: threading.Event, attempt_seconds: float):
        self.deadline, self.idle, self.stopped = deadline, idle, stopped
        self.reason: str | None = None
        self._sock: socket.socket | None = None
        self._attempt_seconds = attempt_seconds
        self._live = False
        self._done = threading.Event()
        threading.Thread(target=self._watch, name="obook-watchdog", daemon=True).start()

    def guard(self, sock: socket.socket) -> None:
        self._sock = sock
        if self.reason is not None:  # cut before the socket was known
            self._cut(self.reason)

    def alive(self) -> None:
        """A data frame arrived: the link has `idle` seconds more."""
        self._live = True
        self.deadline = time.monotonic() + self.idle

    def end(self) -> None:
        self._done.set()

    def _watch(self) -> None:
        while not self._done.wait(WATCH_SECONDS):
            if self.stopped.is_set():
                self._cut("stopped")
                return
            if time.monotonic() > self.deadline:
                self._cut(f"no data from the venue for {self.idle:g}s" if self._live
                          else f"no answer within {self._attempt_seconds:g}s")
                return

    def _cut(self, reason: str) -> None:
        self.reason = self.reason or reason
        sock = self._sock
        if sock is None:
            return
        try:  # on the file descriptor itself (an SSLSocket's own shutdown would drop its TLS state under the reader)
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass  # already closed


# RFC 6455 opcodes obook reads.
_CONTINUATION, _TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_LENGTH_16, _LENGTH_64 = struct.Struct("!H"), struct.Struct("!Q")


class LinkClosed(Exception):
    """The socket ended: the venue closed it, or the watchdog cut it."""


def _unmask(key: bytes, payload: bytes) -> bytes:
    """A masked payload in clear (servers should not mask; websocket-client read them too)."""
    size = len(payload)
    stream = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")).to_bytes(size, "little")


class FrameReader:
    """Whole data messages from a socket, each frame's header and payload sliced from
    READ_CHUNK reads shared by every frame that arrived together (websocket-client reads
    each header and payload separately, a wait and a recv each). Bounded: a frame over
    MAX_FRAME_BYTES is refused from its header, before its payload is read, and so is a
    fragmented message that grows past it. Pings are answered, pongs dropped.

    A read that times out (TimeoutError) loses nothing: the frame is taken from the
    buffer only once it is whole, and the next call goes on where this one stopped.
    Raises MalformedData for a frame obook will not read, LinkClosed when the socket ends.
    """

    def __init__(self, sock: socket.socket, pong: Callable[[bytes], None]):
        self._sock, self._pong = sock, pong
        self._buffer, self._at = b"", 0  # bytes read, parsed up to _at
        self._parts: list[bytes] = []  # a fragmented message's payloads so far
        self._parts_opcode, self._parts_size = _TEXT, 0

    def _fill(self, wanted: int) -> bytes:
        """The buffer, once it holds `wanted` bytes from _at on (reading as needed)."""
        held = len(self._buffer) - self._at
        while held < wanted:
            chunk = self._sock.recv(max(READ_CHUNK, wanted - held))
            if not chunk:
                raise LinkClosed
            self._buffer = self._buffer[self._at:] + chunk if held else chunk
            self._at = 0
            held += len(chunk)
        return self._buffer

    def message(self) -> tuple[int, bytes]:
        """The next whole data message (_TEXT or _BINARY, its payload), or (_CLOSE, reason)."""
        while True:
            buffer = self._fill(2)
            first, second = buffer[self._at], buffer[self._at + 1]
            if first & 0x70:
                raise MalformedData("a frame with reserved bits set (no extension was agreed)")
            opcode, fin, length = first & 0x0F, first & 0x80, second & 0x7F
            header = 2
            if length == 126:
                header = 4
                length = _LENGTH_16.unpack_from(self._fill(4), self._at + 2)[0]
            elif length == 127:
                header = 10
                length = _LENGTH_64.unpack_from(self._fill(10), self._at + 2)[0]
            if length > MAX_FRAME_BYTES:
                raise MalformedData(f"a frame of {length} bytes (limit {MAX_FRAME_BYTES})")
            masked = second & 0x80
            start = header + (4 if masked else 0)
            buffer = self._fill(start + length)
            at = self._at
            payload = buffer[at + start:at + start + length]
            if masked:
                payload = _unmask(buffer[at + header:at + start], payload)
            self._at = at + start + length
            if opcode & 0x8:  # control frames come whole, even between fragments
                if not fin or length > 125:
                    raise MalformedData("a control frame that is fragmented or over 125 bytes")
                if opcode == _CLOSE:
                    return _CLOSE, payload
                if opcode == _PING:
                    self._pong(payload)
                elif opcode != _PONG:
                    raise MalformedData(f"a frame with the unknown opcode {opcode}")
                continue
            if opcode == _CONTINUATION:
                if not self._parts:
                    raise MalformedData("a continuation frame with no message to continue")
                self._parts_size += length
                if self._parts_size > MAX_FRAME_BYTES:
                    raise MalformedData(f"a fragmented message over {MAX_FRAME_BYTES} bytes (limit {MAX_FRAME_BYTES})")
                self._parts.append(payload)
                if not fin:
                    continue
                whole, self._parts = b"".join(self._parts), []
                return self._parts_opcode, whole
            if opcode not in (_TEXT, _BINARY):
                raise MalformedData(f"a frame with the unknown opcode {opcode}")
            if self._parts:
                raise MalformedData("a new message before the fragmented one ended")
            if fin:
                return opcode, payload
            self._parts, self._parts_opcode, self._parts_size = [payload], opcode, length


def inflate(data: bytes) -> bytes:
    """Raw DEFLATE (no zlib header), as BitMart compresses frames; bounded output."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, MAX_FRAME_BYTES)
    except zlib.error as exc:
        raise MalformedData(f"binary frame does not inflate ({exc})") from exc
    if inflater.unconsumed_tail:
        raise MalformedData(f"binary frame inflates beyond {MAX_FRAME_BYTES} bytes")
    return out


class Link:
    """One open WebSocket: send text, receive data frames, close."""

    def __init__(self, ws, watchdog: Watchdog, url: str):
        import websocket

        self._ws, self.watchdog, self.url = ws, watchdog, url  # websocket-client writes (masked) and closes
        self._reader = FrameReader(ws.sock, ws.pong)
        self._send_errors = websocket.WebSocketException
        self._timeout: float | None = None  # the socket's, set only when a wait differs (a syscall each)
        self._debug = enabled()  # --debug is decided at start: no preview of every frame for nobody

    def send(self, message: str) -> None:
        log.debug("WS send %s", message)
        try:
            self._ws.send(message)
        except Exception as exc:  # websocket-client raises its own and OSError alike
            raise self._lost(exc) from None

    def receive(self, wait: float) -> Frame | None:
        """The next data frame, or None when none arrived within ``wait`` seconds
        (a chance to tick). Raises LinkLost, or MalformedData for a frame obook
        will not read (the link is dropped)."""
        timeout = max(0.01, wait)
        if timeout != self._timeout:
            self._ws.settimeout(timeout)
            self._timeout = timeout
        try:
            opcode, data = self._reader.message()
        except TimeoutError:
            if self.watchdog.reason is not None:
                raise self._lost(None) from None
            return None
        except MalformedData:
            raise
        except LinkClosed:
            raise self._lost(None, "the venue closed the connection") from None
        except (self._send_errors, OSError, ValueError) as exc:  # a pong that could not be sent, a socket error
            raise self._lost(exc) from None
        if opcode == _CLOSE:
            raise self._lost(None, "the venue closed the connection" + _close_reason(data))
        self.watchdog.alive()
        frame: str | bytes = data
        if opcode == _TEXT:
            try:
                frame = data.decode("utf-8")
            except UnicodeDecodeError:
                raise MalformedData("text frame is not UTF-8") from None
        if self._debug:
            log.debug("WS recv %s", preview(frame))
        return Frame(frame, now_utc())

    def _lost(self, exc: BaseException | None, fallback: str = "") -> LinkLost:
        reason = self.watchdog.reason
        if reason is None:
            reason = fallback or (in_words(exc) if exc is not None else "") or "no reason given"
        return LinkLost(f"lost the connection to {host_of(self.url)}: {reason}")

    def close(self, wait: bool) -> None:
        """Say goodbye; wait (at most a second, by the watchdog) for the venue's answer
        only when reconnecting: a consumer that is done should not linger."""
        if wait and self.watchdog.reason is None:
            self.watchdog.deadline = min(self.watchdog.deadline, time.monotonic() + 1)
        try:
            self._ws.close(timeout=1 if wait and self.watchdog.reason is None else 0)
        except Exception as exc:  # closing a broken link may fail in many ways; nothing to do about it
            log.debug("WS close: %s", in_words(exc))
        finally:
            self.watchdog.end()
            try:
                self._ws.shutdown()
            except Exception:  # already gone
                pass


def connect(url: str, url_env: str, *, timeout: float, idle: float, stopped: threading.Event) -> Link:
    """Open a link to ``url`` within ``timeout`` seconds (TCP, TLS, handshake), or raise
    NetworkError, or what the venue's answer to the handshake says: VenueFailed (5xx,
    retried), AuthError (401, 403), VenueRejected (other 4xx; 408 and 429 are
    NetworkErrors, retried). The link's watchdog then holds it to ``idle`` seconds
    between data frames."""
    started = time.monotonic()
    watchdog = Watchdog(started + timeout, idle, stopped, timeout)
    log.debug("WS connect %s", url)
    try:
        sock = _open_socket(url, watchdog, timeout)
        try:
            _handshake(sock, url, url_env)
        except BaseException:
            sock.close()
            raise
    except NetworkError as exc:
        watchdog.end()
        if watchdog.reason is not None and watchdog.reason != "stopped":
            raise NetworkError(f"cannot connect to {sanitize(host_of(url), 120)}: {watchdog.reason}",
                               hint=f"check the network or {url_env}") from None
        raise NetworkError(exc.message, hint=exc.hint or f"check the network or {url_env}") from None
    except ObookError:  # the venue answered the handshake: refused (4xx) or failed (5xx), said as it is
        watchdog.end()
        raise
    except OSError as exc:
        watchdog.end()
        reason = watchdog.reason if watchdog.reason not in (None, "stopped") else None
        message = f"cannot connect to {sanitize(host_of(url), 120)}: {reason}" if reason else connect_failure(exc, url)
        raise NetworkError(message, hint=f"check the network or {url_env}") from None
    watchdog.alive()  # the handshake is done: from now on the link lives by its data frames
    import websocket

    ws = websocket.WebSocket(enable_multithread=True, skip_utf8_validation=True)  # obook decodes UTF-8 itself
    ws.sock, ws.connected = sock, True
    return Link(ws, watchdog, url)


def _open_socket(url: str, watchdog: Watchdog, timeout: float) -> socket.socket:
    parts = urlsplit(url)
    secure = parts.scheme == "wss"
    host, port = parts.hostname or "", parts.port or (443 if secure else 80)
    sock = socket.create_connection((host, port), timeout=timeout)
    watchdog.guard(sock)
    sock.settimeout(timeout)  # the watchdog holds the total; this only bounds each wait
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if secure:
        import ssl

        context = ssl.create_default_context()
        sock = context.wrap_socket(sock, server_hostname=host)
        watchdog.guard(sock)
    return sock


def _handshake(sock: socket.socket, url: str, url_env: str) -> None:
    """Send the upgrade request and read the answer, bounded; raise NetworkError when refused."""
    parts = urlsplit(url)
    secure = parts.scheme == "wss"
    host = parts.hostname or ""
    host_header = f"[{host}]" if ":" in host else host
    if parts.port and parts.port != (443 if secure else 80):
        host_header += f":{parts.port}"
    resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET {resource} HTTP/1.1\r\nHost: {host_header}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nUser-Agent: obook/{__version__}\r\n\r\n")
    sock.sendall(request.encode())
    status, headers = _read_head(sock)
    where = sanitize(host_of(url), 120)
    if status != 101:
        if 300 <= status < 400:
            raise redirected(status, headers.get("location"))
        body = _read_refusal_body(sock, headers, status)
        answer = f" (HTTP {status})" + (f": {body}" if body else "")  # not `said`: that is reasons.said, which wrote `body`
        if status >= 500:  # the venue answered and failed: its failure (exit 5, as over HTTP), retried all the same
            raise VenueFailed(f"{where} failed the WebSocket connection{answer}")
        refused = f"{where} refused the WebSocket connection{answer}"
        if status in (401, 403):  # as over HTTP: exit 6; public feeds need no key, so it refuses this client
            raise AuthError(refused, hint=f"the venue refuses connections from here (an IP or region block?); check {url_env}")
        if status == 429:
            raise NetworkError(refused, hint="the venue limits connections: wait a minute before trying again")
        if 400 <= status < 500 and status != 408:  # refused for good (a wrong path, a bad request): exit 4
            raise VenueRejected(refused, hint=f"check {url_env}")
        raise NetworkError(refused)  # 408, 1xx, 2xx: retried
    accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
    if (headers.get("upgrade", "").lower() != "websocket" or "upgrade" not in headers.get("connection", "").lower()
            or headers.get("sec-websocket-accept", "") != accept):
        raise NetworkError(f"{where} answered the WebSocket handshake wrongly (upgrade, connection or accept key)")


def _close_reason(payload: bytes | bytearray) -> str:
    """What a close frame says (RFC 6455 5.5.1: a status code, then a UTF-8 reason), sanitized:
    " (code 1008: bad symbol)"; nothing for a plain goodbye (1000 without a reason) or an empty frame."""
    if len(payload) < 2:
        return ""
    code = int.from_bytes(payload[:2], "big")
    reason = sanitize(bytes(payload[2:]).decode("utf-8", "replace").strip(), 100)  # a control frame: at most 123 bytes
    if code == 1000 and not reason:
        return ""
    return f" (code {code}: {reason})" if reason else f" (code {code})"


def _read_head(sock: socket.socket) -> tuple[int, dict[str, str]]:
    """Status code and headers (names lower-cased, first one wins), at most
    MAX_HANDSHAKE_BYTES and MAX_HANDSHAKE_HEADERS. Read a byte at a time: the
    frames that follow belong to websocket-client's reader."""
    head = bytearray()
    while not head.endswith(b"\r\n\r\n") and not head.endswith(b"\n\n"):
        if len(head) >= MAX_HANDSHAKE_BYTES:
            raise NetworkError(f"the venue's handshake answer exceeds {MAX_HANDSHAKE_BYTES} bytes")
        byte = sock.recv(1)
        if not byte:
            raise NetworkError("the venue closed the connection during the handshake")
        head += byte
        if head.count(b"\n") > MAX_HANDSHAKE_HEADERS + 1:
            raise NetworkError(f"the venue's handshake answer has over {MAX_HANDSHAKE_HEADERS} headers")
    lines = head.decode("latin-1").splitlines()
    status_line = lines[0].split(" ", 2) if lines else []
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/") or not (status_line[1].isascii() and status_line[1].isdigit() and len(status_line[1]) == 3):
        raise NetworkError(f"the venue did not answer the handshake in HTTP ({sanitize(lines[0] if lines else '', 60)!r})")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.setdefault(name.strip().lower(), value.strip())
    return int(status_line[1]), headers


def _read_refusal_body(sock: socket.socket, headers: dict[str, str], status: int) -> str:
    """Up to MAX_REFUSAL_BODY bytes of what the venue said, when it says how long it is (a web page: said so)."""
    declared = headers.get("content-length", "")
    if not (declared.isascii() and declared.isdigit()) or len(declared) > 12:
        return ""
    wanted, body = min(int(declared), MAX_REFUSAL_BODY), bytearray()
    try:
        while len(body) < wanted:
            chunk = sock.recv(wanted - len(body))
            if not chunk:
                break
            body += chunk
    except OSError:
        pass  # what arrived is enough for a message
    return said(body.decode("utf-8", "replace").strip(), headers.get("content-type", ""), status, "a WebSocket endpoint")
