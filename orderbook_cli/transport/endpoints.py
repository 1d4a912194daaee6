"""Endpoint overrides (OBOOK_<VENUE>_URL, OBOOK_<VENUE>_REST_URL): the one place they are read and checked.

A malformed value is the user's mistake, not a network failure and not a bug:
a usage error naming the variable, found before any connection is made. What
kind of URL a variable takes follows from the venue's own default for it: a
WebSocket URL (ws://, wss://; path and query kept) or an HTTP origin
(http://, https://; the venue's paths are appended, so no query).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from urllib.parse import SplitResult, urlsplit

from orderbook_cli.errors import UsageError, sanitize

MAX_URL_LENGTH = 2048
_SCHEMES = {"ws": ("ws", "wss"), "wss": ("ws", "wss"), "http": ("http", "https"), "https": ("http", "https")}
_KIND = {"ws": "a WebSocket URL (ws:// or wss://)", "http": "an HTTP origin (http:// or https://)"}
_HOST_NAME = r"[a-z0-9_]([a-z0-9_.-]{0,251}[a-z0-9_])?"  # compiled on first use (re's cache): only an override is checked


def endpoint(environ: Mapping[str, str], variable: str, default: str) -> str:
    """The URL `variable` sets (checked), or `default` when it is unset or empty."""
    value = environ.get(variable) or ""
    if not value:
        return default
    problem = _problem(value, urlsplit(default).scheme)
    if problem:
        shown = sanitize(repr(_without_credentials(value)[:80]) + ("…" if len(value) > 80 else ""), 120)
        raise UsageError(f"{variable}={shown} is not usable: {problem}", hint=f"set it to a URL like {default}, or unset it")
    return value


def _without_credentials(value: str) -> str:
    """The URL as an error may show it: a user name and password before the host are
    [redacted] (a refused URL is still someone's secret)."""
    scheme, sep, rest = value.partition("://")
    authority = len(rest)
    for mark in "/?#":
        found = rest.find(mark)
        if 0 <= found < authority:
            authority = found
    at = rest.rfind("@", 0, authority)
    return value if not sep or at < 0 else f"{scheme}{sep}[redacted]{rest[at:]}"


def _problem(value: str, default_scheme: str) -> str:
    """Why `value` cannot stand in for an endpoint whose default has `default_scheme` ('' if it can)."""
    schemes = _SCHEMES[default_scheme]
    kind = _KIND[schemes[0]]
    if len(value) > MAX_URL_LENGTH:
        return f"longer than {MAX_URL_LENGTH} characters"
    odd = next((c for c in value if not "!" <= c <= "~"), None)
    if odd is not None:  # a trailing newline from `$(cat file)`, a space, a non-ASCII host (write it in punycode)
        return f"it contains {_named(odd)}; a URL is printable ASCII without spaces"
    if "://" not in value:
        return f"no scheme; it must be {kind}"
    try:
        parts = urlsplit(value)
    except ValueError as exc:  # "Invalid IPv6 URL"
        return f"not a URL ({sanitize(exc, 60)})"
    try:
        port = parts.port
    except ValueError:  # out of range, or not a number
        port = 0
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        return f"{scheme}:// where it must be {kind}"
    if "@" in parts.netloc:
        return "user names or passwords in the URL are not supported"
    host_problem = _host_problem(parts)
    if host_problem:
        return host_problem
    if port == 0 or parts.netloc.endswith(":"):
        return "the port must be a number from 1 to 65535"
    if parts.fragment or value.endswith("#"):
        return "a #fragment has no meaning here"
    if schemes[0] == "http" and (parts.query or value.endswith("?")):
        return "an origin takes no ?query (the venue's paths and queries are appended to it)"
    return ""


def _host_problem(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if not host:
        return "no host name"
    if parts.netloc.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return "the IPv6 address in brackets is not valid"
        return ""
    if not re.fullmatch(_HOST_NAME, host) or ".." in host:
        return f"{sanitize(host, 60)!r} is not a host name"
    return ""


def _named(character: str) -> str:
    names = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab", " ": "a space"}
    return names.get(character, f"the character U+{ord(character):04X}")
