"""Venue pair lists for shell completion, cached under the user's cache dir.

Completion must answer instantly, so it only ever reads the cache; when the
cache is missing or older than a day it starts `obook symbols VENUE --refresh`
in the background (at most once per ten minutes) and answers with what it has.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from orderbook_cli.symbols import is_pair

MAX_AGE = 24 * 3600
RETRY_AFTER = 600
MAX_BYTES = 4 * 1024 * 1024  # the largest venue lists a few thousand pairs: ~100 KiB


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    base = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME", "~")).expanduser() / ".cache")
    return Path(base) / "obook"


def _file(venue_id: str, environ: Mapping[str, str]) -> Path:
    return cache_dir(environ) / f"symbols-{venue_id.strip().lower()}.json"  # `Bitso` is bitso


def read(venue_id: str, environ: Mapping[str, str] = os.environ) -> tuple[list[str], float | None]:
    """(symbols, fetched_at) from the cache; ([], None) when there is none or it is unusable:
    checked by kind and size before reading (a FIFO, /dev/zero or a huge file is no cache)."""
    from orderbook_cli.smallfile import Unsuitable, read_small

    try:
        data = json.loads(read_small(_file(venue_id, environ), MAX_BYTES).decode("utf-8"))
        symbols = [s for s in data["symbols"] if is_pair(s)]  # validated like user input: no `*`, no escapes
        return symbols, float(data["fetched_at"])  # float-ok: a Unix time, not money
    except (OSError, ValueError, KeyError, TypeError, RecursionError, Unsuitable):
        return [], None


def is_stale(fetched_at: float | None) -> bool:
    return fetched_at is None or time.time() - fetched_at > MAX_AGE


def write(venue_id: str, symbols: list[str], environ: Mapping[str, str] = os.environ) -> list[str]:
    """Cache a venue's pairs; returns them as cached (sorted, no duplicates)."""
    path = _file(venue_id, environ)
    path.parent.mkdir(parents=True, exist_ok=True)
    cached = sorted({s for s in symbols if is_pair(s)})
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"fetched_at": time.time(), "symbols": cached}), encoding="utf-8")
    temporary.replace(path)  # atomic: completion never reads half a file
    return cached


def complete(venue_id: str | None, incomplete: str, environ: Mapping[str, str] = os.environ) -> list[str]:
    """Cached symbols of a venue starting with `incomplete` (any case); never touches the network."""
    if not venue_id:
        return []
    symbols, fetched_at = read(venue_id, environ)
    if is_stale(fetched_at):
        _refresh_in_background(venue_id, environ)
    prefix = incomplete.lower()
    # Offered in the case being typed (venues accept any case, and shells want the typed prefix kept)
    recase = str.lower if incomplete.islower() else str.upper if incomplete.isupper() else (lambda s: s)
    return [recase(s) for s in symbols if s.lower().startswith(prefix)]


def _refresh_in_background(venue_id: str, environ: Mapping[str, str]) -> None:
    marker = cache_dir(environ) / f"symbols-{venue_id.strip().lower()}.refreshing"
    try:
        if time.time() - marker.stat().st_mtime < RETRY_AFTER:
            return
    except OSError:
        pass
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        # The child must not inherit the shell's completion request, or it would complete instead of refresh.
        child_env = {k: v for k, v in os.environ.items() if not (k.endswith("_COMPLETE") or k.startswith(("COMP_", "_TYPER_COMPLETE")))}
        subprocess.Popen(
            [sys.executable, "-m", "orderbook_cli", "symbols", venue_id, "--refresh", "--quiet"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=child_env,
        )
    except OSError:
        pass  # completion goes on without a refresh
