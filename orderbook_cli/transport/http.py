"""HTTP for REST venues: one client, one mapping from failures to obook errors,
and the polling loop that turns a fetch function into a feed.
"""

from __future__ import annotations

import json
import ssl
import time
from typing import Any, Callable, Mapping
from urllib.parse import urlencode

import httpx

from orderbook_cli import __version__
from orderbook_cli.debuglog import log, preview, redact_headers
from orderbook_cli.errors import AuthError, MalformedData, NetworkError, ObookError, VenueFailed, VenueRejected, sanitize
from orderbook_cli.feed import FeedContext, State, is_transient
from orderbook_cli.transport.reasons import connect_failure
from orderbook_cli.transport.wire import json_loads

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_RETRY_AFTER = 60.0
DEFAULT_RETRY_AFTER = 1.0


class RateLimited(VenueRejected):
    kind = "rate limited by the venue"

    def __init__(self, message: str, retry_after: float, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class HttpStatusError(ObookError):
    """A non-2xx answer; :func:`status_error` says what it means to the user."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str]):
        super().__init__(f"HTTP {status}: {message}")
        self.status, self.venue_message, self.headers = status, message, headers


def retry_after_seconds(headers: Mapping[str, str]) -> float:
    """Revolut X sends Retry-After in milliseconds."""
    raw = headers.get("retry-after")
    try:
        seconds = int(str(raw).strip()) / 1000
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


def status_error(error: HttpStatusError) -> ObookError:
    status, message = error.status, error.venue_message
    if status == 429:
        wait = retry_after_seconds(error.headers)
        return RateLimited(f"too many requests (HTTP 429, retry after {wait:g}s): {message}", wait)
    if status in (401, 403):
        return AuthError(f"HTTP {status}: {message}")
    if status >= 500:
        return VenueFailed(f"the venue failed (HTTP {status}): {message}", hint="try again later")
    return VenueRejected(f"HTTP {status}: {message}")


def _venue_message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("message", "error", "errorMessage", "msg"):
            if isinstance(data.get(key), str):
                return sanitize(data[key], 200)
    text = body.decode("utf-8", "replace").strip()
    return sanitize(text, 200) if text else "(empty body)"


def _trusting_nothing() -> ssl.SSLContext:
    """For a plain-http origin: loading the CA bundle costs ~30 ms of every start and
    no TLS is ever negotiated (redirects are not followed). A context that trusts
    no certificate at all, should one ever be used."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class HttpClient:
    def __init__(self, origin: str, timeout: float, override_env: str = "the venue's OBOOK_*_URL"):
        self.origin = origin.rstrip("/")
        self.override_env = override_env
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": f"obook/{__version__}", "Accept": "application/json"},
            follow_redirects=False,
            verify=True if self.origin.lower().startswith("https:") else _trusting_nothing(),
        )

    def close(self) -> None:
        self._client.close()

    def get_body(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        sign: Callable[[str, str, str], dict[str, str]] | None = None,
    ) -> bytes:
        """GET origin+path?params and return the body of a 2xx answer (bounded).

        ``sign(method, path, query)`` returns auth headers for exactly the path
        and query string sent; it is called afresh for every request.
        """
        query = urlencode(params or {})
        url = self.origin + path + (f"?{query}" if query else "")
        headers = sign("GET", path, query) if sign else {}
        log.debug("HTTP GET %s headers=%s", url, redact_headers(headers))
        started = time.monotonic()
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                body = self._read_capped(response)
        except httpx.TimeoutException as exc:
            raise NetworkError(f"timed out talking to {self.origin}", hint="check the network or raise --timeout") from exc
        except httpx.ConnectError as exc:
            reason = connect_failure(exc, self.origin)
            hint = "the venue's TLS certificate did not verify; obook never skips verification" if "CERTIFICATE" in str(exc).upper() or "SSL" in str(exc).upper() else f"check the network, the venue's status, or {self.override_env}"
            raise NetworkError(reason, hint=hint) from exc
        except httpx.HTTPError as exc:
            raise NetworkError(f"connection to {self.origin} failed: {sanitize(exc, 200) or type(exc).__name__}") from exc
        log.debug("HTTP %s in %.0f ms: %s", response.status_code, (time.monotonic() - started) * 1000, preview(body))
        if not 200 <= response.status_code < 300:
            raise HttpStatusError(response.status_code, _venue_message(body), response.headers)
        return body

    def get_json(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        sign: Callable[[str, str, str], dict[str, str]] | None = None,
    ) -> Any:
        """GET origin+path?params and return the decoded JSON body (see get_body)."""
        return decode_json(self.get_body(path, params, sign))

    @staticmethod
    def _read_capped(response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise MalformedData(f"response of {declared} bytes exceeds the {MAX_BODY_BYTES} byte limit")
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise MalformedData(f"response exceeds the {MAX_BODY_BYTES} byte limit")
            chunks.append(chunk)
        return b"".join(chunks)


def decode_json(body: bytes) -> Any:
    try:
        return json_loads(body)
    except MalformedData as exc:
        raise MalformedData(f"the venue's response is {exc.message}") from exc


def poll(ctx: FeedContext, fetch: Callable[[], Any], interval: float, max_interval: float = 30.0) -> None:
    """Call ``fetch`` (which returns a Book) repeatedly, never more often than ``interval``.

    429 waits the venue's Retry-After and slows polling down; transient
    failures back off and retry (a bounded number of times for one-shot use);
    anything else ends the feed with that error.
    """
    ctx.set_state(State.CONNECTING)
    while not ctx.stopped.is_set():
        started = time.monotonic()
        try:
            book = fetch()
        except RateLimited as error:
            interval = min(max_interval, interval * 2)
            if not ctx.retry_after_failure(error, delay=error.retry_after):
                return
            continue
        except ObookError as error:
            if not is_transient(error):
                raise
            if not ctx.retry_after_failure(error):
                return
            continue
        ctx.emit_book(book)
        if ctx.request.once:
            return
        if not ctx.sleep(interval - (time.monotonic() - started)):
            return
