"""A real WebSocket server on 127.0.0.1 that plays a streaming venue.

Each test gives a *script*: a function run once per client connection with a
:class:`Peer` (send JSON/text/binary, expect the subscription, drop, go
silent). Connection count and everything clients sent are recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve


class Peer:
    def __init__(self, conn: ServerConnection, venue: WsVenue, index: int):
        self.conn, self.venue, self.index = conn, venue, index

    def recv(self, timeout: float = 10):
        message = self.conn.recv(timeout=timeout)
        self.venue.received.append(message)
        return message

    def expect_json(self, timeout: float = 10) -> dict:
        return json.loads(self.recv(timeout))

    def send(self, message) -> None:
        if isinstance(message, (dict, list)):
            message = json.dumps(message)
        self.conn.send(message)

    def drop(self) -> None:
        """Cut the TCP connection without a close handshake."""
        import socket

        try:
            self.conn.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.socket.close()

    def pause(self, seconds: float) -> None:
        """Sleep, but wake when the test ends: a script pausing never holds up the server's teardown."""
        self.venue.stopping.wait(seconds)

    def hold(self, seconds: float = 30) -> None:
        """Stay connected, reading (and recording) whatever the client sends."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.recv(timeout=max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                return
            except ConnectionClosed:
                return


Script = Callable[[Peer], None]


class WsVenue:
    def __init__(self, script: Script, *, ping_interval: float | None = None):
        self.script = script
        self.received: list = []
        self.connections: list[float] = []  # monotonic connect times
        self.stopping = threading.Event()  # set at teardown; shutdown() waits for every script to return
        self.server = serve(self._handle, "127.0.0.1", 0, ping_interval=ping_interval, max_size=None, compression=None)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.socket.getsockname()[:2]
        return f"ws://{host}:{port}"

    def _handle(self, conn: ServerConnection) -> None:
        self.connections.append(time.monotonic())
        try:
            self.script(Peer(conn, self, len(self.connections) - 1))
        except ConnectionClosed:
            pass

    def sent_json(self) -> list:
        out = []
        for message in self.received:
            try:
                out.append(json.loads(message))
            except (TypeError, ValueError):
                out.append(message)
        return out

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
