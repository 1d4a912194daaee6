"""One error hierarchy; each class carries the contract's exit status.

Everything the user can see goes through :func:`describe` (called from one
place in ``cli.main``), so messages look alike whatever raised them.
"""

from __future__ import annotations

import enum
import re
from collections import deque


class ExitStatus(enum.IntEnum):
    SUCCESS = 0
    INTERNAL = 1
    USAGE = 2
    NETWORK = 3
    REJECTED = 4
    VENUE_FAILED = 5
    AUTH = 6
    OUTPUT = 74  # stdout cannot be written (disk full, I/O error): EX_IOERR of sysexits.h
    UNTIL_NOT_MET = 124  # --count or --duration ended a watch before its --until held (as timeout(1) exits)
    INTERRUPTED = 130
    TERMINATED = 143  # SIGTERM / SIGHUP: 128 + 15, as shells report it

    @property
    def meaning(self) -> str:
        """What the status tells a script, in a few words (the help's list of exit codes)."""
        return _MEANINGS[self]


_MEANINGS = {
    ExitStatus.SUCCESS: "ok", ExitStatus.INTERNAL: "bug", ExitStatus.USAGE: "usage", ExitStatus.NETWORK: "network",
    ExitStatus.REJECTED: "rejected by venue", ExitStatus.VENUE_FAILED: "venue failed", ExitStatus.AUTH: "auth",
    ExitStatus.OUTPUT: "output not writable", ExitStatus.UNTIL_NOT_MET: "--until never held (--count/--duration ended first)",
    ExitStatus.INTERRUPTED: "interrupted (Ctrl-C)", ExitStatus.TERMINATED: "terminated (SIGTERM/SIGHUP)",
}


class ObookError(Exception):
    """An expected failure with a one-line explanation and an exit status."""

    exit_status: ExitStatus = ExitStatus.INTERNAL
    kind: str = "error"
    usual_remedy: str | None = None  # what to do, when the error itself gives no hint (every line says what to do)

    def __init__(self, message: str, *, hint: str | None = None, context: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.context = context  # e.g. "revx BTC-USD"

    def with_context(self, context: str) -> ObookError:
        if self.context is None:
            self.context = context
        return self


class UsageError(ObookError):
    exit_status = ExitStatus.USAGE
    kind = "usage error"


class NetworkError(ObookError):
    exit_status = ExitStatus.NETWORK
    kind = "network error"
    usual_remedy = "check the network, or raise --timeout"


class Redirected(NetworkError):
    """A 3xx, over HTTP or to a WebSocket handshake: never followed (an endpoint, or an override,
    must not send obook elsewhere unseen); retried, as the endpoint may come back."""

    usual_remedy = "check the endpoint and any OBOOK_*_URL override (point it at the address redirected to)"


class VenueRejected(ObookError):
    exit_status = ExitStatus.REJECTED
    kind = "rejected by the venue"
    usual_remedy = "check the symbol ('obook symbols VENUE' lists what a venue trades) and any OBOOK_*_URL override"


class VenueFailed(ObookError):
    exit_status = ExitStatus.VENUE_FAILED
    kind = "venue failure"
    usual_remedy = "try again later"


class MalformedData(VenueFailed):
    """The venue sent something obook cannot turn into a book."""

    kind = "unusable data from the venue"
    usual_remedy = "try again later; if it persists, check any OBOOK_*_URL override, or rerun with --debug and report it"


class AuthError(ObookError):
    exit_status = ExitStatus.AUTH
    kind = "authentication error"
    usual_remedy = "check the API key and private key files in ~/.config/revolut-x (the README's 'Revolut X credentials')"


class OutputError(ObookError):
    """The output could not be written (not a reader going away: that is a quiet exit 0)."""

    exit_status = ExitStatus.OUTPUT
    kind = "output error"


class UntilNotMet(ObookError):
    """--count or --duration ended the watch before its --until condition held."""

    exit_status = ExitStatus.UNTIL_NOT_MET
    kind = "condition not met"


class ReadError(ObookError):
    """An input obook was told to read fails at the device (EIO, a vanished mount): EX_IOERR, as for output."""

    exit_status = ExitStatus.OUTPUT
    kind = "read error"


class Terminated(BaseException):
    """SIGTERM or SIGHUP, raised in the main thread so every `with` block unwinds
    (the terminal is restored) instead of the process dying mid-screen."""


# C0/C1 control characters (ESC, CR, BEL, CSI …), the line and paragraph separators
# (splitlines() breaks a line there: a venue's text would start a line of its own) and
# the bidirectional controls that reorder what follows them (LRM/RLM/ALM, embeddings,
# overrides, isolates) must never reach a terminal from a venue-supplied string.
UNSAFE_BEYOND_C0 = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
UNSAFE_CHARACTERS = "\x00-\x1f" + UNSAFE_BEYOND_C0
_CONTROL = re.compile(f"[{UNSAFE_CHARACTERS}]")


# Secrets a venue may echo back in an error body: the configured API key, and
# the latest request signatures (one per request: only the recent ones can come
# back). Replaced wherever text is sanitized, before it is cut to length, so
# not even part of one reaches stderr or a log.
_KEYS: set[str] = set()
_SIGNATURES: deque[str] = deque(maxlen=8)
REDACTED = "[redacted]"


def _spellings(value: str) -> set[str]:
    """The value as sent, and as a JSON body would quote it (with or without escaped slashes)."""
    import json  # only with credentials: `obook --version` never loads it

    quoted = json.dumps(value, ensure_ascii=False)[1:-1]
    return {value, quoted, quoted.replace("/", "\\/"), json.dumps(value)[1:-1]}


def keep_secret(value: str) -> None:
    """Never print `value` from now on."""
    if len(value) >= 8:  # a shorter string would redact ordinary words
        _KEYS.update(_spellings(value))


def keep_signature(value: str) -> None:
    """Never print this request signature (the last few are remembered)."""
    if len(value) >= 8:
        _SIGNATURES.extend(_spellings(value) - set(_SIGNATURES))


def redact(text: str) -> str:
    for secret in sorted({*_KEYS, *_SIGNATURES}, key=len, reverse=True):  # the longest spelling first
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def sanitize(text: object, limit: int = 300) -> str:
    """Make untrusted text safe for one terminal line (secrets redacted, controls replaced)."""
    cleaned = _CONTROL.sub("?", redact(str(text)))
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1] + "…"
    return cleaned


def describe(error: ObookError) -> str:
    """The single stderr line for an expected failure."""
    parts = ["obook:"]
    if error.context:
        parts.append(f"{sanitize(error.context)}:")
    parts.append(f"{error.kind}: {sanitize(error.message, 600)}")
    line = " ".join(parts)
    hint = error.hint or error.usual_remedy
    if hint:
        line += f" — {sanitize(hint, 300)}"
    return line
