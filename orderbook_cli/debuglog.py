"""--debug logging: wire traffic and full errors on stderr, secrets redacted."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping

log = logging.getLogger("obook")

SECRET_HEADERS = frozenset({"x-revx-api-key", "x-revx-signature", "authorization", "cookie"})
# Anything that looks like a PEM block never reaches a log line (compiled on first use: only --debug logs).
_PEM = r"-----BEGIN [A-Z ]+-----.*?(-----END [A-Z ]+-----|$)"


class _RedactingFormatter(logging.Formatter):
    """Key material redacted, and every line (tracebacks included) made safe for a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        from orderbook_cli.errors import sanitize

        text = re.sub(_PEM, "[redacted key material]", super().format(record), flags=re.S)
        return "\n".join(sanitize(line, 100_000) for line in text.split("\n"))


def enable() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_RedactingFormatter("obook debug %(asctime)s %(threadName)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False


def enabled() -> bool:
    return log.isEnabledFor(logging.DEBUG)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: ("[redacted]" if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def preview(data: str | bytes, limit: int = 500) -> str:
    """The start of a message for a debug line, secrets redacted before it is cut (no half key)."""
    from orderbook_cli.errors import redact

    head = data[: limit + 2048]  # room for a secret that straddles the cut
    text = redact(head) if isinstance(head, str) else repr(redact(head.decode("utf-8", "replace")))
    return text if len(text) <= limit else text[:limit] + f"… ({len(data)} chars)"
