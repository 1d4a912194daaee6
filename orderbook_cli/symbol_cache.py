"""Venue pair lists for shell completion, cached under the user's cache dir.

Completion must answer instantly, so it only ever reads the cache; when the
cache is missing or older than a day it starts `obook symbols VENUE --refresh`
in the background (at most once per ten minutes) and answers with what it has.

Each venue has one file, `symbols-VENUE.json`, and nothing else: the time of
the last refresh attempt is kept in it (`tried_at`), so a refresh that fails
or is killed leaves no marker behind, and writes go through a temporary file
that is removed whatever happens.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orderbook_cli import smallfile
from orderbook_cli.symbols import is_pair

MAX_AGE = 24 * 3600
RETRY_AFTER = 600
MAX_BYTES = 4 * 1024 * 1024  # the largest venue lists a few thousand pairs: ~100 KiB


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(smallfile.cache_dir(environ))


def _file(venue_id: str, environ: Mapping[str, str]) -> Path:
    return cache_dir(environ) / f"symbols-{venue_id.strip().lower()}.json"  # `Bitso` is bitso


def _load(venue_id: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """The cache file's object, or {} when there is none or it is unusable: checked by kind
    and size before reading (a FIFO, /dev/zero or a huge file is no cache)."""
    try:
        data = json.loads(smallfile.read_small(_file(venue_id, environ), MAX_BYTES).decode("utf-8"))
    except (OSError, ValueError, RecursionError, smallfile.Unsuitable):
        return {}
    return data if isinstance(data, dict) else {}


def _time(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None  # float-ok: a Unix time


def read(venue_id: str, environ: Mapping[str, str] = os.environ) -> tuple[list[str], float | None]:
    """(symbols, fetched_at) from the cache; ([], None) when there is none or it is unusable."""
    data = _load(venue_id, environ)
    fetched_at = _time(data.get("fetched_at"))
    if fetched_at is None or not isinstance(data.get("symbols"), list):
        return [], None
    return [s for s in data["symbols"] if is_pair(s)], fetched_at  # validated like user input: no `*`, no escapes


def is_stale(fetched_at: float | None) -> bool:
    return fetched_at is None or time.time() - fetched_at > MAX_AGE


def write(venue_id: str, symbols: list[str], environ: Mapping[str, str] = os.environ) -> list[str]:
    """Cache a venue's pairs; returns them as cached (sorted, no duplicates)."""
    cached = cleaned(symbols)
    _store(venue_id, {"fetched_at": time.time(), "symbols": cached}, environ)
    return cached


def cleaned(symbols: list[str]) -> list[str]:
    """A venue's pairs as obook keeps them: sorted, no duplicates, only names spelled like pairs."""
    return sorted({s for s in symbols if is_pair(s)})


def _store(venue_id: str, data: dict[str, Any], environ: Mapping[str, str]) -> None:
    """Replace the cache file atomically: completion never reads half a file."""
    _legacy_marker(venue_id, environ).unlink(missing_ok=True)  # what older versions left behind
    smallfile.replace_atomically(str(_file(venue_id, environ)), json.dumps(data))


def _legacy_marker(venue_id: str, environ: Mapping[str, str]) -> Path:
    return cache_dir(environ) / f"symbols-{venue_id.strip().lower()}.refreshing"


def complete(venue_id: str | None, incomplete: str, environ: Mapping[str, str] = os.environ) -> list[str]:
    """Cached symbols of a venue starting with `incomplete` (any case); never touches the network."""
    if not venue_id:
        return []
    symbols, fetched_at = read(venue_id, environ)
    if is_stale(fetched_at):
        _refresh_in_background(venue_id, symbols, fetched_at, environ)
    prefix = incomplete.lower()
    # Offered in the case being typed (venues accept any case, and shells want the typed prefix kept)
    recase = str.lower if incomplete.islower() else str.upper if incomplete.isupper() else (lambda s: s)
    return [recase(s) for s in symbols if s.lower().startswith(prefix)]


def _refresh_in_background(venue_id: str, symbols: list[str], fetched_at: float | None, environ: Mapping[str, str]) -> None:
    tried_at = _time(_load(venue_id, environ).get("tried_at"))
    if tried_at is not None and 0 <= time.time() - tried_at < RETRY_AFTER:
        return  # one started (or failed) lately: completion must not hammer the venue
    try:
        # The attempt is remembered in the cache itself (its pairs kept): a failed or killed refresh leaves no marker file.
        _store(venue_id, {"fetched_at": fetched_at, "symbols": symbols, "tried_at": time.time()}, environ)
        # The child must not inherit the shell's completion request, or it would complete instead of refresh.
        child_env = {k: v for k, v in os.environ.items() if not (k.endswith("_COMPLETE") or k.startswith(("COMP_", "_TYPER_COMPLETE")))}
        subprocess.Popen(
            [sys.executable, "-m", "orderbook_cli", "symbols", venue_id, "--refresh", "--quiet"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=child_env,
        )
    except OSError:
        pass  # completion goes on without a refresh
