"""The venue registry.

Every venue, obook's own included, is an entry point in the ``obook.venues``
group: a name mapped to "module:Class" where Class subclasses :class:`Venue`.
obook's own entry points are read from its own distribution's metadata (one
file); every installed distribution's are scanned only when that is needed:
to list the venues, for a name obook does not ship, or for an option none of
its own venues declares.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from orderbook_cli.distributions import DISTRIBUTION, VENUES_GROUP, own_entry_points_file
from orderbook_cli.errors import UsageError
from orderbook_cli.venues.base import Venue, VenueInfo, VenueOption

__all__ = ["Venue", "VenueInfo", "VenueOption", "declared_options", "get_venue", "load_all", "own", "own_id", "read_options", "venue_ids"]

# Names people type for a venue whose id is shorter.
ALIASES: dict[str, str] = {"revolut": "revx", "revolutx": "revx", "revolut-x": "revx"}


@lru_cache(maxsize=1)
def own() -> dict[str, str]:
    """obook's own venues, from its own distribution's entry points (no scan of the others)."""
    path = own_entry_points_file()
    if path is not None:
        with open(path, encoding="utf-8") as file:
            return _section(file.read(), VENUES_GROUP)
    from importlib.metadata import PackageNotFoundError, distribution  # metadata not in a folder (a zip, a custom finder)

    try:
        points = distribution(DISTRIBUTION).entry_points
    except PackageNotFoundError:
        raise UsageError("obook's venues are registered in its package metadata, and obook is not installed",
                         hint="install it: pip install . (or pip install -e . in a source tree)") from None
    return {ep.name: ep.value for ep in points if ep.group == VENUES_GROUP}


def _section(text: str, section: str) -> dict[str, str]:
    """`name = value` lines of one [section] of an entry_points.txt."""
    found: dict[str, str] = {}
    inside = False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            inside = line == f"[{section}]"
        elif inside and "=" in line and not line.startswith(("#", ";")):
            name, _, value = line.partition("=")
            found[name.strip()] = value.strip()
    return found


@lru_cache(maxsize=1)
def third_party() -> dict[str, str]:
    """Venues other distributions add (a name obook ships is obook's)."""
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=VENUES_GROUP) if ep.name not in own()}


def venue_ids() -> list[str]:
    return sorted({**own(), **third_party()})


def _load(venue_id: str, target: str) -> type[Venue]:
    module_name, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, Venue)) or cls.info.id != venue_id:
        raise TypeError(f"{target} does not declare venue {venue_id!r}")
    return cls


def own_id(text: str) -> str | None:
    """The id of obook's own venue that `text` names (any case, or an alias), else None."""
    typed = text.strip().lower()
    typed = ALIASES.get(typed, typed)
    return typed if typed in own() else None


def get_venue(venue_id: str) -> Venue:
    """The venue by id, in any case (`Revx` is `revx`)."""
    mine = own_id(venue_id)
    if mine is not None:
        return _load(mine, own()[mine])()
    typed = ALIASES.get(venue_id.strip().lower(), venue_id.strip().lower())
    venue_id = next((name for name in third_party() if name.lower() == typed), venue_id)
    target = third_party().get(venue_id)
    if target is None:
        from difflib import get_close_matches

        close = get_close_matches(typed, [*venue_ids(), *ALIASES], n=1, cutoff=0.6)
        suggestion = f"did you mean {ALIASES.get(close[0], close[0])}? " if close else ""
        raise UsageError(f"unknown venue {venue_id[:40]!r}", hint=f"{suggestion}choose one of: {', '.join(venue_ids())} (see 'obook venues')")
    return _load(venue_id, target)()


def load_all() -> list[Venue]:
    return [get_venue(venue_id) for venue_id in venue_ids()]


def declared_options(names: Iterable[str]) -> dict[str, tuple[VenueOption, list[str]]]:
    """The options of the venues named: each by name, its declaration (the first venue's)
    and the venues that take it."""
    found: dict[str, tuple[VenueOption, list[str]]] = {}
    for venue in (get_venue(name) for name in names):
        for option in venue.info.options:
            found.setdefault(option.name, (option, []))[1].append(venue.info.id)
    return found


def read_options(venue: Venue, given: Mapping[str, Any]) -> dict[str, Any]:
    """The venue's own options among those given, parsed by its declarations; an option it
    does not take is a usage error naming the venues that do."""
    declared = {option.name: option for option in venue.info.options}
    for name in given:
        if name not in declared:
            takers = declared_options(venue_ids()).get(name, (None, ["no venue"]))[1]
            raise UsageError(f"--{name} applies to {', '.join(takers)} only, not {venue.info.id}")
    return {name: declared[name].read(value) for name, value in given.items()}
