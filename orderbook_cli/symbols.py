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


def parse_pair(text: str, example: str = "BTC-USD", known: list[str] | None = None, venue: str = "") -> Pair:
    """The pair in what the user typed. A malformed one gets a hint in the venue's own
    spelling (`example`) and, when the venue's cached pair list has it (BTCUSD → BTC-USD), a suggestion."""
    match = _PAIR.fullmatch(text.strip())
    if not match:
        hint = f"write it as BASE/QUOTE, BASE-QUOTE or BASE_QUOTE, e.g. {example}"
        suggestion = suggest(text, known or [])
        if suggestion:
            hint = f"did you mean {suggestion}? ({hint})"
        elif venue and not known:
            hint += f"; 'obook symbols {venue}' lists the pairs"
        raise UsageError(f"malformed symbol {text!r}", hint=hint)
    return Pair(match.group(1).upper(), match.group(2).upper())


def _letters(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text).upper()


def suggest(text: str, known: list[str]) -> str | None:
    """The one listed pair spelled with the same letters and digits, whatever the separator."""
    typed = _letters(text)
    matches = [symbol for symbol in known if typed and _letters(symbol) == typed]
    return matches[0] if len(matches) == 1 else None


MAX_SOURCES = 6
_SOURCE_EXAMPLE = "e.g. bitso:btc_usd revx:BTC-USD"


def split_sources(args: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    """The (venue, symbol) sources a command line names.

    Two forms: `VENUE SYMBOL` (one source, as ever) or one or more
    `VENUE:SYMBOL` (symbols never contain ':', so a colon tells them apart).
    """
    from orderbook_cli.errors import sanitize

    with_colon = [arg for arg in args if ":" in arg]
    if not with_colon:
        if len(args) == 2:
            return [(args[0], args[1])]
        if len(args) == 1:
            raise UsageError(f"a symbol is missing after {sanitize(args[0], 40)!r}",
                             hint=f"write VENUE SYMBOL (e.g. bitso btc_mxn) or VENUE:SYMBOL ({_SOURCE_EXAMPLE})")
        raise UsageError(f"{len(args)} arguments where VENUE SYMBOL was expected",
                         hint=f"for several sources write each as VENUE:SYMBOL, {_SOURCE_EXAMPLE}")
    if len(with_colon) != len(args):
        bare = next(arg for arg in args if ":" not in arg)
        raise UsageError(f"{sanitize(bare, 40)!r} is not VENUE:SYMBOL, while {sanitize(with_colon[0], 40)!r} is",
                         hint=f"with several sources write every one as VENUE:SYMBOL, {_SOURCE_EXAMPLE}")
    if len(args) > MAX_SOURCES:
        raise UsageError(f"{len(args)} sources: at most {MAX_SOURCES} at once")
    sources = []
    for arg in args:
        venue, _, symbol = arg.partition(":")
        if not venue or not symbol:
            raise UsageError(f"source {sanitize(arg, 40)!r} needs both a venue and a symbol", hint=_SOURCE_EXAMPLE)
        sources.append((venue, symbol))
    return sources
