"""Trading-pair symbols: what users type, and each venue's own spelling.

Users may write BASE/QUOTE, BASE-QUOTE or BASE_QUOTE in any case; venues
want their own separator and case. Symbols are validated strictly so that
nothing typed can change a request path or a subscription.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from orderbook_cli.errors import UsageError

_PAIR = re.compile(r"([A-Za-z0-9]{1,20})[/_-]([A-Za-z0-9]{1,20})")


class Pair(NamedTuple):
    base: str  # upper case
    quote: str


class SymbolStyle(NamedTuple):
    """How a venue spells a pair, e.g. SymbolStyle("-", upper=True) -> BTC-USD."""

    separator: str
    upper: bool

    def spell(self, pair: Pair) -> str:
        text = f"{pair.base}{self.separator}{pair.quote}"
        return text if self.upper else text.lower()

    @property
    def example(self) -> str:
        return self.spell(Pair("BTC", "USD"))


def is_pair(text: object) -> bool:
    """Whether a venue-supplied name is spelled like a pair obook accepts (ASCII letters and digits only)."""
    return isinstance(text, str) and _PAIR.fullmatch(text) is not None


def parse_pair(text: str) -> Pair:
    match = _PAIR.fullmatch(text.strip())
    if not match:
        raise UsageError(
            f"malformed symbol {text!r}",
            hint="write it as BASE/QUOTE, BASE-QUOTE or BASE_QUOTE, e.g. BTC-USD",
        )
    return Pair(match.group(1).upper(), match.group(2).upper())
