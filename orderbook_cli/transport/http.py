"""HTTP for REST venues: one client, one mapping from failures to obook errors.

Each request has one total deadline (--timeout), checked before every read and
write on the socket, so a venue that trickles its headers or body a byte at a
time cannot stretch a request past it (httpx's own timeouts are per read).
"""

from __future__ import annotations

import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from orderbook_cli import __version__
from orderbook_cli.debuglog import log, preview, redact_headers
from orderbook_cli.errors import AuthError, MalformedData, NetworkError, ObookError, VenueFailed, VenueRejected, sanitize
from orderbook_cli.timefmt import now_utc
from orderbook_cli.transport.wire import json_loads

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_RETRY_AFTER = 60.0
DEFAULT_RETRY_AFTER = 1.0


class RateLimited(VenueRejected):
    kind = "rate limited by the venue"
    usual_remedy = "wait a minute before trying again, and run fewer obook commands against this venue at once"

    def __init__(self, message: str, retry_after: float, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class HttpStatusError(ObookError):
    """A non-2xx answer; :func:`status_error` says what it means to the user."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str]):
        super().__init__(f"HTTP {status}: {message}")
        self.status, self.venue_message, self.headers = status, message, headers


MAX_HTTP_DATE_LENGTH = 64  # "Sun, 06 Nov 1994 08:49:37 GMT" is 29


def http_date(text: object) -> datetime | None:
    """An HTTP-date header (Date, Retry-After) as an aware datetime; None when it is not one.
    Checked by length first; a year of 20 digits or a zone beyond reason is no date, never a crash."""
    from email.utils import parsedate_to_datetime  # only on a failure path: keeps start-up lean

    raw = str(text or "").strip()
    if not raw or len(raw) > MAX_HTTP_DATE_LENGTH or not raw.isascii():
        return None
    try:
        parsed = parsedate_to_datetime(raw)
        parsed - now_utc()  # a date that cannot be compared with now (year 1 east of UTC) is none either
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed if parsed.tzinfo is not None else None


def retry_after(headers: Mapping[str, str], *, unit: float, cap: float) -> float | None:
    """The wait a Retry-After header asks for, in seconds, within 0..cap: a number of `unit`
    seconds (Revolut X counts milliseconds, Bitso seconds) or an HTTP-date. None when the
    header is absent or neither."""
    raw = str(headers.get("retry-after", "")).strip()
    digits = raw[1:] if raw[:1] == "-" else raw
    if 0 < len(digits) <= 12 and digits.isascii() and digits.isdigit():  # checked before int()
        # 0 or negative is no licence to hammer: the venue's polling floor still applies (feed.retry_after_failure)
        return min(cap, max(0.0, int(raw) * unit))  # float-ok: seconds to wait
    when = http_date(raw)
    return None if when is None else min(cap, max(0.0, (when - now_utc()).total_seconds()))


def retry_after_seconds(headers: Mapping[str, str]) -> float:
    """A 429's wait: Retry-After (milliseconds, at most a minute), else a second."""
    wait = retry_after(headers, unit=0.001, cap=MAX_RETRY_AFTER)
    return DEFAULT_RETRY_AFTER if wait is None else wait


def status_error(error: HttpStatusError) -> ObookError:
    status, message = error.status, error.venue_message
    if status == 429:
        wait = retry_after_seconds(error.headers)
        return RateLimited(f"too many requests (HTTP 429, retry after {wait:g}s): {message}", wait)
    if status in (401, 403):
        return AuthError(f"HTTP {status}: {message}")
    if status >= 500:
        return VenueFailed(f"the venue failed (HTTP {status}): {message}", hint="try again later")
    if 300 <= status < 400:
        from orderbook_cli.transport.reasons import redirected  # only on a failure: start-up stays lean

        return redirected(status, error.headers.get("location"))
    return VenueRejected(f"HTTP {status}: {message}")


# httpx reads a redirect's Location even when it follows none, and says this when it is no URL
_INVALID_LOCATION = "Invalid URL in location header"


def _venue_message(body: bytes, status: int, content_type: str) -> str:
    """The venue's own message (a JSON body's `message`, `error`, …), else what the body says."""
    try:
        data = json_loads(body)
    except MalformedData:  # not JSON, absurdly nested, or numbers too long
        data = None
    if isinstance(data, dict):
        for key in ("message", "error", "errorMessage", "msg"):
            if isinstance(data.get(key), str):
                return sanitize(data[key], 200)
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return "(empty body)"
    from orderbook_cli.transport.reasons import said  # only on a failure: start-up stays lean

    return said(text, content_type, status, "the venue's API")


def _trusting_nothing() -> ssl.SSLContext:
    """For a plain-http origin: loading the CA bundle costs ~30 ms of every start and
    no TLS is ever negotiated (redirects are not followed). A context that trusts
    no certificate at all, should one ever be used."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class _Deadline(threading.local):
    at: float | None = None  # time.monotonic() by which the current request on this thread must end


class _DeadlineStream:
    """A socket stream whose every read and write waits no longer than the request's deadline."""

    def __init__(self, stream: Any, deadline: _Deadline):
        self._stream, self._deadline = stream, deadline

    def _timeout(self, timeout: float | None, error: type[Exception]) -> float | None:
        if self._deadline.at is None:
            return timeout
        left = self._deadline.at - time.monotonic()
        if left <= 0:
            raise error("the request's total deadline passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        import httpcore

        return self._stream.read(max_bytes, self._timeout(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        import httpcore

        self._stream.write(buffer, self._timeout(timeout, httpcore.WriteTimeout))

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        import httpcore

        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, self._timeout(timeout, httpcore.ConnectTimeout)), self._deadline)

    def close(self) -> None:
        self._stream.close()

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend:
    """httpcore's socket backend, with the request's deadline on every stream it opens."""

    def __init__(self, backend: Any, deadline: _Deadline):
        self._backend, self._deadline = backend, deadline

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> _DeadlineStream:
        import httpcore

        timeout = _DeadlineStream(None, self._deadline)._timeout(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_tcp(host, port, timeout, local_address, socket_options), self._deadline)

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> Any:
        return self._backend.connect_unix_socket(*args, **kwargs)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class HttpClient:
    def __init__(self, origin: str, timeout: float, override_env: str = "the venue's OBOOK_*_URL"):
        self.origin = origin.rstrip("/")
        self.override_env = override_env
        self.timeout = timeout
        self._deadline = _Deadline()
        try:
            transport = httpx.HTTPTransport(verify=True if self.origin.lower().startswith("https:") else _trusting_nothing())
        except (OSError, ssl.SSLError) as exc:  # SSL_CERT_FILE / SSL_CERT_DIR naming something unusable
            from orderbook_cli.errors import UsageError

            raise UsageError(f"cannot load the CA certificates: {sanitize(exc, 160)}",
                             hint="check SSL_CERT_FILE and SSL_CERT_DIR, or unset them") from None
        transport._pool._network_backend = _DeadlineBackend(transport._pool._network_backend, self._deadline)  # type: ignore[attr-defined,assignment]  # httpx offers no public hook for the socket layer
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": f"obook/{__version__}", "Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING},
            follow_redirects=False,
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
        self._deadline.at = started + self.timeout
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                body = self._read_capped(response)
        except httpx.TimeoutException as exc:
            raise NetworkError(f"timed out talking to {self.origin}", hint="check the network or raise --timeout") from exc
        except httpx.ConnectError as exc:
            from orderbook_cli.transport.reasons import connect_failure  # only on a failure: start-up stays lean

            reason = connect_failure(exc, self.origin)
            hint = "the venue's TLS certificate did not verify; obook never skips verification" if "CERTIFICATE" in str(exc).upper() or "SSL" in str(exc).upper() else f"check the network or {self.override_env}"
            raise NetworkError(reason, hint=hint) from exc
        except httpx.HTTPError as exc:
            if isinstance(exc, httpx.RemoteProtocolError) and str(exc).startswith(_INVALID_LOCATION):
                from orderbook_cli.transport.reasons import redirected  # only on a failure: start-up stays lean

                raise redirected(None, "an address that is not a URL") from exc
            raise NetworkError(f"connection to {self.origin} failed: {sanitize(exc, 200) or type(exc).__name__}") from exc
        finally:
            self._deadline.at = None
        log.debug("HTTP %s in %.0f ms: %s", response.status_code, (time.monotonic() - started) * 1000, preview(body))
        if not 200 <= response.status_code < 300:
            raise HttpStatusError(response.status_code, _venue_message(body, response.status_code, response.headers.get("content-type", "")),
                                  response.headers)
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
        """The body, decoded, never more than MAX_BODY_BYTES at any point of decoding.

        httpx would inflate a whole chunk at once (a 3.5 KB gzip bomb is 4 GB),
        so obook reads the raw bytes and inflates them itself, bounded. One
        content coding at most: stacked codings (gzip, gzip) are refused.
        """
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and (len(declared) > 12 or int(declared) > MAX_BODY_BYTES):
            raise MalformedData(f"response of {declared[:20]} bytes exceeds the {MAX_BODY_BYTES} byte limit")
        inflater = _inflater(response.headers.get("content-encoding", ""))
        chunks, size = [], 0
        for raw in response.iter_raw():
            chunk = raw if inflater is None else _inflate(inflater, raw, MAX_BODY_BYTES - size)
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise MalformedData(f"response exceeds the {MAX_BODY_BYTES} byte limit")
            chunks.append(chunk)
        if inflater is not None:
            chunks.append(_inflate(inflater, b"", MAX_BODY_BYTES - size))  # what zlib still holds
            if size + len(chunks[-1]) > MAX_BODY_BYTES:
                raise MalformedData(f"response exceeds the {MAX_BODY_BYTES} byte limit once decompressed")
        return b"".join(chunks)


def decode_json(body: bytes) -> Any:
    try:
        return json_loads(body)
    except MalformedData as exc:
        raise MalformedData(f"the venue's response is {exc.message}") from exc


# The codings obook asks for (Accept-Encoding) and can inflate with a bound.
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
ACCEPT_ENCODING = "gzip, deflate"


def _inflater(header: str):
    codings = [c.strip().lower() for c in header.split(",") if c.strip() and c.strip().lower() != "identity"]
    if not codings:
        return None
    if len(codings) > 1:
        raise MalformedData(f"response with stacked content codings ({sanitize(header, 60)}); obook accepts one")
    if codings[0] not in _WBITS:
        raise MalformedData(f"response with content coding {sanitize(codings[0], 30)!r}, which obook did not ask for")
    return zlib.decompressobj(_WBITS[codings[0]])


def _inflate(inflater, data: bytes, room: int) -> bytes:
    """Inflate one raw chunk into at most room+1 bytes (one more than allowed means too much)."""
    try:
        out = inflater.decompress(data, max(0, room) + 1)
    except zlib.error as exc:
        raise MalformedData(f"response does not decompress ({exc})") from exc
    if inflater.unconsumed_tail:  # output stopped at the bound with input left
        raise MalformedData(f"response exceeds the {MAX_BODY_BYTES} byte limit once decompressed")
    return out
