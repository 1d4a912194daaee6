"""Bounded memories of recent results, for hot paths that see the same values again and
again (a second's timestamp text, a kept side's JSON, a level's checksum text): started
afresh when full, so memory stays level whatever arrives."""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def remember(memory: dict[K, V], key: K, value: V, limit: int) -> V:
    """Keep `value` under `key` in `memory` (emptied first when it holds `limit` entries); return it."""
    if len(memory) >= limit:
        memory.clear()
    memory[key] = value
    return value
