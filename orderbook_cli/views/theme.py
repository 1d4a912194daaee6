"""The colours every view draws with: one object, passed to the views explicitly.

The config file's theme (`theme`, `ask_color`, `bid_color`) becomes a Theme once
per command; nothing rewrites module globals.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    ask: str = "red"
    bid: str = "green"
    changed: str = "bold reverse"  # an amount that changed since the last frame
    cursor: str = "reverse"
    warn: str = "bold black on yellow"  # STALE, CROSSED, RECONNECTING…

    @classmethod
    def from_colours(cls, colours: tuple[str, str] | None) -> Theme:
        """The config's (ask, bid) colours; None: the default theme."""
        return cls() if colours is None else cls(ask=colours[0], bid=colours[1])

    def side(self, side: str) -> str:
        """The style of a side: "ask" or "bid"."""
        return self.ask if side == "ask" else self.bid


DEFAULT = Theme()
