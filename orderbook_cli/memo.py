"""Bounded memories of recent results, for hot paths that see the same values again and
again (a second's timestamp text, a kept side's JSON, a number's conversion): when full,
the oldest eighth is forgotten at once, so memory stays level whatever arrives, with
neither a cost per entry (an OrderedDict's) nor the swing of starting afresh."""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def remember(memory: dict[K, V], key: K, value: V, limit: int) -> V:
    """Keep `value` under `key` in `memory` (its oldest eighth forgotten first when it holds
    `limit` entries: a dict keeps its keys in the order they came); return it."""
    if len(memory) >= limit:
        # list(memory) in one C call: feeds on several threads share a memory (to_decimal's), and
        # another may evict meanwhile (a second step, or del, would raise KeyError or RuntimeError)
        for old in list(memory)[: max(1, limit // 8)]:
            memory.pop(old, None)
    memory[key] = value
    return value
