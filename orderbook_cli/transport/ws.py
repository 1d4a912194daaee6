"""WebSocket links (websocket-client), knowing no venue.

:func:`stream` connects (within --timeout), lets the caller subscribe on the
new :class:`Link`, reads frames on the feed's thread and hands each one to
the caller's handler, treats a link with no frame for too long as dead,
sends keep-alive pings, and reconnects with backoff. Each connection gets
a fresh handler, so nothing from before a reconnect reaches a new book.
"""

from __future__ import annotations

import time
import zlib
from datetime import datetime
from functools import lru_cache
from typing import Callable, Protocol

from orderbook_cli.debuglog import log, preview
from orderbook_cli.errors import MalformedData, NetworkError, ObookError, VenueFailed
from orderbook_cli.feed import FeedContext, State
from orderbook_cli.timefmt import now_utc
from orderbook_cli.transport.reasons import connect_failure, host_of, in_words

MAX_FRAME_BYTES = 2 * 1024 * 1024  # larger frames are skipped as malformed
TICK_SECONDS = 0.5  # how often the reader wakes to check the watchdog, pings and stop


class FrameHandler(Protocol):
    """What reads one connection's frames (one per connection)."""

    tick_seconds: float | None  # wake at least this often for tick() (None: TICK_SECONDS)

    def frame(self, frame: str | bytes, received_at: datetime) -> bool:
        """Handle one frame (text decoded, binary as is); True when the feed is done."""

    def tick(self) -> bool:
        """Called whenever the reader wakes; True when the feed is done."""


class Link:
    """One open WebSocket, as far as a handler may touch it: send text."""

    def __init__(self, ws) -> None:
        self._ws = ws

    def send(self, message: str) -> None:
        log.debug("WS send %s", message)
        self._ws.send(message)


@lru_cache(maxsize=1)  # defined once, not on every (re)connection
def _capped_websocket_class():
    """A websocket-client WebSocket that refuses frames over MAX_FRAME_BYTES from
    their header, before reading the payload (websocket-client has no such limit),
    caps a whole message across fragments the same way, counts a message that
    never completes as silence, and follows no redirect."""
    import websocket
    from websocket._abnf import continuous_frame, frame_buffer
    from websocket._handshake import SUPPORTED_REDIRECT_STATUSES

    class CappedFrames(frame_buffer):
        def recv_length(self) -> None:
            super().recv_length()
            if self.length is not None and self.length > MAX_FRAME_BYTES:
                raise MalformedData(f"a frame of {self.length} bytes (limit {MAX_FRAME_BYTES})")

    class CappedMessages(continuous_frame):
        time_limit: float = 30.0  # set to the idle timeout by _read

        def add(self, frame) -> None:
            if not self.cont_data:
                self.started = time.monotonic()
                if not frame.fin:
                    frame.data = bytearray(frame.data)  # fragments append in place, not by copying
            elif len(self.cont_data[1]) + len(frame.data) > MAX_FRAME_BYTES:
                raise MalformedData(f"a fragmented message over {MAX_FRAME_BYTES} bytes (limit {MAX_FRAME_BYTES})")
            elif time.monotonic() - self.started > self.time_limit:
                raise websocket.WebSocketTimeoutException("a message that never completes")  # silence, for the watchdog
            super().add(frame)

        def extract(self, frame) -> tuple:
            opcode, whole = super().extract(frame)
            if isinstance(whole.data, bytearray):
                whole.data = bytes(whole.data)
            return opcode, whole

    class CappedWebSocket(websocket.WebSocket):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.frame_buffer = CappedFrames(self._recv, self.frame_buffer.skip_utf8_validation)
            self.cont_frame = CappedMessages(self.cont_frame.fire_cont_frame, self.cont_frame.skip_utf8_validation)

        def connect(self, url, **options) -> None:
            options["redirect_limit"] = 0
            try:
                super().connect(url, **options)
            except websocket.WebSocketException:
                answer = getattr(self, "handshake_response", None)
                if answer is not None and answer.status in SUPPORTED_REDIRECT_STATUSES:
                    where = answer.headers.get("location") or "nowhere"
                    raise websocket.WebSocketException(
                        f"the venue redirects (HTTP {answer.status}) to {where}; obook follows no redirect") from None
                raise

    return CappedWebSocket


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


def _describe(exc: BaseException) -> str:
    return in_words(exc) or "no reason given"


def stream(ctx: FeedContext, url: str, url_env: str, idle: float, ping: tuple[float, str] | None,
           on_connect: Callable[[Link], FrameHandler]) -> None:
    """Connect, let ``on_connect`` subscribe and return the connection's handler, read; reconnect on failure.

    ``ping``: (interval, message) when the far end wants keep-alive pings.
    """
    import websocket  # websocket-client

    request = ctx.request
    ctx.set_state(State.CONNECTING)
    while not ctx.stopped.is_set():
        log.debug("WS connect %s", url)
        try:
            ws = websocket.create_connection(url, timeout=min(request.timeout, ctx.remaining()) if request.once else request.timeout,
                                             class_=_capped_websocket_class(), enable_multithread=True, suppress_origin=True,
                                             skip_utf8_validation=True)  # obook decodes UTF-8 itself; the pure-Python check costs ~0.5 ms a frame
        except (websocket.WebSocketException, OSError) as exc:
            failure: ObookError | None = NetworkError(connect_failure(exc, url), hint=f"check the network or {url_env}")
        else:
            try:
                failure = _read(ctx, ws, on_connect(Link(ws)), idle, ping)
            except MalformedData as exc:  # a frame obook will not even read: drop the link
                ctx.malformed(exc)
                failure = VenueFailed(f"the venue sent {exc.message}")
            except (websocket.WebSocketException, OSError) as exc:
                failure = NetworkError(f"lost the connection to {host_of(url)}: {_describe(exc)}")
            finally:
                _close_quietly(ws, wait=not ctx.stopped.is_set())
        if failure is None or not ctx.retry_after_failure(failure):
            return


def _close_quietly(ws, wait: bool) -> None:
    """Say goodbye; wait for the venue's answer only when reconnecting (a consumer
    that is done should not linger behind a venue still streaming)."""
    try:
        ws.close(timeout=1 if wait else 0)
    except Exception as exc:  # closing a broken link may fail in many ways; nothing to do about it
        log.debug("WS close: %s", _describe(exc))


def _read(ctx: FeedContext, ws, handler: FrameHandler, idle: float, ping: tuple[float, str] | None) -> ObookError | None:
    """Read until stopped or done (None) or the link fails (the reason)."""
    import websocket

    # A link watched for `idle` seconds of silence must be pinged well within that.
    ping_every = min(ping[0], idle / 2) if ping else None
    ws.cont_frame.time_limit = idle
    last_frame = last_ping = time.monotonic()
    while not ctx.stopped.is_set():
        ws.settimeout(min(handler.tick_seconds or TICK_SECONDS, idle / 4))
        try:
            opcode, data = ws.recv_data()
        except websocket.WebSocketTimeoutException:
            now = time.monotonic()
            if now - last_frame > idle:
                return NetworkError(f"no data from the venue for {idle:g}s", hint="the link looks dead; reconnecting")
            if ping and ping_every and now - last_ping >= ping_every:
                ws.send(ping[1])
                last_ping = now
            if handler.tick():
                return None
            continue
        except websocket.WebSocketConnectionClosedException:
            return NetworkError("the venue closed the connection")
        received_at = now_utc()
        last_frame = time.monotonic()
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return NetworkError("the venue closed the connection")
        frame: str | bytes = data
        if opcode == websocket.ABNF.OPCODE_TEXT:
            try:
                frame = data.decode("utf-8")
            except UnicodeDecodeError:
                ctx.malformed(MalformedData("text frame is not UTF-8"))
                continue
        log.debug("WS recv %s", preview(frame))
        if len(data) > MAX_FRAME_BYTES:
            ctx.malformed(MalformedData(f"frame of {len(data)} bytes exceeds {MAX_FRAME_BYTES}"))
            continue
        if handler.frame(frame, received_at) or handler.tick():
            return None
    return None
