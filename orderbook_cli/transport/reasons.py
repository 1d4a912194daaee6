"""Why a connection failed, in words a user can act on (never Python exception names).

Both transports wrap the socket's own error (httpx → httpcore → gaierror;
websocket-client → gaierror), so the chain is walked for the first cause
that is understood.
"""

from __future__ import annotations

import re
import socket
from urllib.parse import urlsplit

from orderbook_cli.errors import Redirected, sanitize

_ERRNO = re.compile(r"^\[Errno -?\d+\]\s*")


def _chain(exc: BaseException | None):
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__ or (exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None)


def redirected(status: int | None, location: object) -> Redirected:
    """A 3xx answer, over HTTP or to a WebSocket handshake, as the one error both give."""
    return Redirected(f"the venue redirects (HTTP {status or '3xx'}) to {sanitize(str(location or 'nowhere'), 200)}; obook follows no redirect")


def said(text: str, content_type: str, status: int, endpoint: str) -> str:
    """What a refusing or failing answer said, for a message: its own words (sanitized), but a
    web page's markup says nothing to a reader, so a page is said to be one (and, refusing,
    that the address is no `endpoint`)."""
    if "html" in content_type.lower() or text.startswith("<"):
        if status >= 500 or status in (401, 403, 408, 429):  # a proxy's or the venue's error page: the endpoint may be right
            return "it answered with an error page"
        return f"it answered with a web page: this is not {endpoint}"
    return sanitize(text, 200)


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


def connect_failure(exc: BaseException, url: str) -> str:
    """'cannot resolve ws.bitso.com', '127.0.0.1:9 refused the connection', ..."""
    import ssl  # only on the failure path

    host = sanitize(host_of(url), 120)
    for cause in _chain(exc):
        if isinstance(cause, socket.gaierror):
            return f"cannot resolve {host.rsplit(':', 1)[0] if host.count(':') == 1 else host}"
        if isinstance(cause, ConnectionRefusedError):
            return f"cannot connect to {host}: connection refused (nothing listening)"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"the TLS certificate of {host} does not verify"
        if isinstance(cause, ConnectionResetError):
            return f"cannot connect to {host}: the connection was reset"
        if isinstance(cause, (TimeoutError, socket.timeout)):
            return f"cannot connect to {host}: no answer in time"
        if isinstance(cause, OSError) and cause.strerror:
            return f"cannot connect to {host}: {sanitize(cause.strerror, 80).lower()}"
    text = in_words(exc)
    return f"cannot connect to {host}" + (f": {text}" if text else "")


def in_words(exc: BaseException) -> str:
    """The exception's own text without errno prefixes or class names ('' when it has none)."""
    return _ERRNO.sub("", sanitize(exc, 160))
