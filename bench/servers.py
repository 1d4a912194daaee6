"""Loopback venues for the benchmarks (the same servers the tests use)."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers.http_venue import HttpVenue, Reply, payload  # noqa: E402
from tests.servers.ws_venue import WsVenue  # noqa: E402


def revx_server() -> HttpVenue:
    """Revolut X's public book for BTC-USD, plus the configuration a peer (ccxt) loads first."""
    venue = HttpVenue()
    body = payload("revolutx_1.json")
    for path in ("/api/1.0/public/order-book/BTC-USD", "/api/2.0/public/order-book/BTC-USD"):
        venue.route(path, Reply(body=body))
    venue.route("/api/1.0/public/configuration/currencies", Reply(body=payload("revx_doc_currencies.json")))
    venue.route("/api/1.0/public/configuration/pairs", Reply(body=payload("revx_doc_pairs.json")))
    return venue.start()


def serve_rest(path: str, body: bytes, answered: threading.Event) -> HttpVenue:
    """One REST route answering `body`; `answered` is set a moment after each answer
    (a full-depth flood sends its changes once the seed is in)."""
    venue = HttpVenue()

    def reply(request) -> Reply:
        threading.Timer(0.3, answered.set).start()
        return Reply(body=body)

    venue.route(path, reply)
    return venue.start()


SEQ_BASE = 10000  # the best bid is SEQ_BASE + seq, so a screen shows which frame it is drawing


def bitso_frame(seq: int) -> str:
    bids = [{"o": f"b{i}", "r": str(7000 - i), "a": f"0.{(seq + i) % 9 + 1}", "v": "1", "t": 0, "d": 1, "s": "undefined"} for i in range(20)]
    bids[0]["r"] = str(SEQ_BASE + seq)
    asks = [{"o": f"a{i}", "r": str(7100 + i), "a": "1.5", "v": "1", "t": 1, "d": 1, "s": "undefined"} for i in range(20)]
    return json.dumps({"type": "orders", "book": "btc_mxn", "payload": {"bids": bids, "asks": asks}, "sent": 1700000000000 + seq})


class BitsoFlood:
    """Sends `frames` pre-encoded orders frames as fast as it can, or at `rate` per second."""

    def __init__(self, frames: int, rate: float | None = None, then_hold: float = 600):
        self.count, self.rate, self.then_hold = frames, rate, then_hold
        self.sent_at: list[float] = []
        self.venue = WsVenue(self._script)

    def _script(self, peer) -> None:
        sub = peer.expect_json()
        peer.send(json.dumps({"action": "subscribe", "response": "ok", "time": 1, "type": "orders", "book": sub["book"]}))
        start = time.monotonic()
        for i in range(self.count):
            if self.rate:
                delay = start + i / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            peer.conn.send(bitso_frame(i))
            self.sent_at.append(time.monotonic())
        peer.hold(self.then_hold)

    @property
    def url(self) -> str:
        return self.venue.url

    def stop(self) -> None:
        self.venue.stop()


def quiet_bitso() -> WsVenue:
    """One book, then only keep-alives (every 2 s here), like a quiet market."""

    def script(peer) -> None:
        sub = peer.expect_json()
        peer.send(json.dumps({"action": "subscribe", "response": "ok", "time": 1, "type": "orders", "book": sub["book"]}))
        peer.send(bitso_frame(0))
        while True:
            time.sleep(2)
            peer.send('{"type":"ka"}')

    return WsVenue(script)


class RawFlood:
    """A minimal WebSocket server that answers the handshake, reads the subscription,
    acks it, then writes pre-framed messages with one sendall: the server is never the
    bottleneck. By default `frames` Bitso orders frames; else `messages` in turn after
    `ack`, once `release` is set (a full-depth feed's changes wait for its seed)."""

    def __init__(self, frames: int, messages: list[str] | None = None, ack: str | None = None,
                 release: threading.Event | None = None):
        import socket

        if messages is None:
            messages = [bitso_frame(i) for i in range(1000)]
        ack = ack or json.dumps({"action": "subscribe", "response": "ok", "time": 1, "type": "orders", "book": "btc_mxn"})
        self.ack = self._frame(ack.encode())
        self.release = release
        cache = [self._frame(message.encode()) for message in messages]
        self.blob = b"".join(cache[i % len(cache)] for i in range(frames))
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        threading.Thread(target=self._serve, daemon=True).start()

    @staticmethod
    def _frame(payload: bytes) -> bytes:
        import struct

        n = len(payload)
        if n < 126:
            return bytes([0x81, n]) + payload
        if n < 65536:
            return bytes([0x81, 126]) + struct.pack("!H", n) + payload
        return bytes([0x81, 127]) + struct.pack("!Q", n) + payload

    @staticmethod
    def _whole_frame(data: bytes) -> bool:
        """Whether `data` starts with a whole client frame (masked, as clients send)."""
        if len(data) < 2:
            return False
        length, header = data[1] & 0x7F, 2
        if length == 126:
            header = 4
        elif length == 127:
            header = 10
        if len(data) < header:
            return False
        if header > 2:
            length = int.from_bytes(data[2:header], "big")
        return len(data) >= header + (4 if data[1] & 0x80 else 0) + length

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn) -> None:
        import base64
        import hashlib

        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(4096)
            if not chunk:
                return
            request += chunk
        key = next(line.split(b":", 1)[1].strip() for line in request.split(b"\r\n") if line.lower().startswith(b"sec-websocket-key"))
        accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        pending = request.partition(b"\r\n\r\n")[2]  # what came after the blank line: the subscription, or part of it
        while not self._whole_frame(pending):
            chunk = conn.recv(4096)
            if not chunk:
                return
            pending += chunk
        try:
            conn.sendall(self.ack)
            if self.release is not None:
                self.release.wait(60)
            conn.sendall(self.blob)
            time.sleep(600)
        except OSError:
            pass
        finally:
            conn.close()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.sock.getsockname()[1]}"

    def stop(self) -> None:
        self.sock.close()
