"""The venue registry.

Built-in venues and third-party ones go through the same hook: a name
mapped to "module:Class" where Class subclasses :class:`Venue`. Third-party
packages add theirs under the ``obook.venues`` entry-point group; those are
only looked up when a name is not built in, or when all venues are listed.
"""

from __future__ import annotations

import importlib
from functools import lru_cache

from orderbook_cli.errors import UsageError
from orderbook_cli.venues.base import Venue, VenueInfo

__all__ = ["Venue", "VenueInfo", "get_venue", "load_all", "venue_ids"]

ENTRY_POINT_GROUP = "obook.venues"

BUILTIN: dict[str, str] = {
    "bitmart": "orderbook_cli.venues.bitmart:BitMartSeed",
    "bitmart-v3": "orderbook_cli.venues.bitmart_v3:BitMartV3",
    "bitso": "orderbook_cli.venues.bitso:Bitso",
    "revx": "orderbook_cli.venues.revx:RevolutX",
}


# Names people type for a venue whose id is shorter.
ALIASES: dict[str, str] = {"revolut": "revx", "revolutx": "revx", "revolut-x": "revx"}


@lru_cache(maxsize=1)
def _plugins() -> dict[str, str]:
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in BUILTIN}


def venue_ids() -> list[str]:
    return sorted({**BUILTIN, **_plugins()})


def _load(venue_id: str, target: str) -> type[Venue]:
    module_name, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, Venue)) or cls.info.id != venue_id:
        raise TypeError(f"{target} does not declare venue {venue_id!r}")
    return cls


def get_venue(venue_id: str) -> Venue:
    """The venue by id, in any case (`Revx` is `revx`)."""
    typed = venue_id.strip().lower()
    typed = ALIASES.get(typed, typed)
    if typed in BUILTIN:
        return _load(typed, BUILTIN[typed])()
    venue_id = next((name for name in _plugins() if name.lower() == typed), venue_id)
    target = _plugins().get(venue_id)
    if target is None:
        from difflib import get_close_matches

        close = get_close_matches(typed, [*venue_ids(), *ALIASES], n=1, cutoff=0.6)
        suggestion = f"did you mean {ALIASES.get(close[0], close[0])}? " if close else ""
        raise UsageError(f"unknown venue {venue_id[:40]!r}", hint=f"{suggestion}choose one of: {', '.join(venue_ids())} (see 'obook venues')")
    return _load(venue_id, target)()


def load_all() -> list[Venue]:
    return [get_venue(venue_id) for venue_id in venue_ids()]
