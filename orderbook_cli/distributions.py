"""Installed distributions' metadata folders on sys.path (`*.dist-info`, `*.egg-info`), read
without importlib.metadata: with email, zipfile and csv that is some 40 modules and 25-40 ms
at every start (see the README)."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a remembered help page reads through here)

if TYPE_CHECKING:
    from collections.abc import Iterator

DISTRIBUTION = "obook"
VENUES_GROUP = "obook.venues"
MAX_ENTRY_POINTS_BYTES = 256 * 1024


def _metadata_folders() -> Iterator[tuple[str, str] | None]:
    """(path, lower-case name) of each metadata folder, sys.path in order; None for a sys.path
    entry that exists but cannot be looked into (a zip): what it holds is unknown."""
    for entry in sys.path:
        folder = entry or "."
        try:
            names = sorted(os.listdir(folder))
        except NotADirectoryError:
            yield None
            continue
        except OSError:  # a folder that is gone, a path hook's name
            continue
        for name in names:
            low = name.lower()
            if low.endswith((".dist-info", ".egg-info")):
                yield os.path.join(folder, name), low


def _is_own(low: str) -> bool:
    return low == f"{DISTRIBUTION}.egg-info" or (low.startswith(f"{DISTRIBUTION}-") and low.endswith(".dist-info"))


def own_entry_points_file() -> str | None:
    """obook's entry_points.txt, where importlib.metadata finds it: the first obook-*.dist-info
    or obook.egg-info folder on sys.path."""
    for found in _metadata_folders():
        if found is not None and _is_own(found[1]):
            path = os.path.join(found[0], "entry_points.txt")
            if os.path.isfile(path):
                return path
    return None


def venue_plugins_may_exist() -> bool:
    """Whether another distribution may add venues: an entry_points.txt other than obook's that
    names the obook.venues group (read bounded), or a sys.path entry that cannot be looked into."""
    for found in _metadata_folders():
        if found is None:
            return True
        if _is_own(found[1]):
            continue
        try:
            with open(os.path.join(found[0], "entry_points.txt"), "rb") as file:
                text = file.read(MAX_ENTRY_POINTS_BYTES)
        except FileNotFoundError:
            continue
        except OSError:  # unreadable: it may name obook's group
            return True
        if f"[{VENUES_GROUP}]".encode() in text:
            return True
    return False
