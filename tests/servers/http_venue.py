"""A real HTTP server on 127.0.0.1 that plays a REST venue (Revolut X).

Tests script it per path: a sequence of replies (the last one repeats), or a
function of the request. Every request is recorded for assertions.
Faults are replies too: slow, truncated, never answering.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads"


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict | list = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    truncate: bool = False  # promise more bytes than sent, then close
    hang: bool = False  # accept and never answer

    def encoded(self) -> bytes:
        if isinstance(self.body, (dict, list)):
            return json.dumps(self.body).encode()
        return self.body.encode() if isinstance(self.body, str) else self.body


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict
    at: float


Handler = Callable[[Request], Reply]


class HttpVenue:
    def __init__(self) -> None:
        self.routes: dict[str, list | Handler] = {}
        self.requests: list[Request] = []
        self._release = threading.Event()
        venue = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                request = Request("GET", parts.path, parts.query, dict(self.headers), time.monotonic())
                venue.requests.append(request)
                reply = venue._reply_for(request)
                if reply.hang:
                    venue._release.wait(30)
                    return
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.encoded()
                self.send_response_only(reply.status)
                headers = {"Date": self.date_time_string(), "Content-Type": "application/json", **reply.headers}
                for key, value in headers.items():
                    self.send_header(key, str(value))
                self.send_header("Content-Length", str(len(body) + (100 if reply.truncate else 0)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                if reply.truncate:
                    self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        # A short poll: shutdown() waits for the loop to notice, and the default 0.5 s at every teardown cost ~40 s a suite.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, *replies: Reply | Handler) -> None:
        self.routes[path] = replies[0] if len(replies) == 1 and callable(replies[0]) else list(replies)

    def _reply_for(self, request: Request) -> Reply:
        target = self.routes.get(request.path)
        if target is None:
            return Reply(404, {"message": "Not found", "error_id": "x", "timestamp": 0})
        if callable(target):
            return target(request)
        return target.pop(0) if len(target) > 1 else target[0]

    def paths(self) -> list[str]:
        return [r.path + (f"?{r.query}" if r.query else "") for r in self.requests]

    def start(self) -> HttpVenue:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
