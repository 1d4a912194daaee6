"""A picture made of styled runs of characters, one list per screen line.

Charts build their cells as plain strings and hand Rich ready segments: cheaper
than a Text per cell (views redraw up to 20 times a second), and exactly as wide
as the terminal the caller measured.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from orderbook_cli.views.layout import Item, fit

Run = tuple[str, Style | None]


class Picture:
    def __init__(self, lines: list[list[Run]], width: int):
        self.lines = lines
        self.width = width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        newline = Segment.line()
        for runs in self.lines:
            for text, style in runs:
                yield Segment(text, style)
            yield newline

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.width, self.width)


def runs(chars: Sequence[str], styles: Sequence[Style | None]) -> list[Run]:
    """Merge neighbouring characters that share a style into one run."""
    out: list[Run] = []
    start = 0
    for i in range(1, len(chars) + 1):
        if i == len(chars) or styles[i] is not styles[start]:
            out.append(("".join(chars[start:i]), styles[start]))
            start = i
    return out


def legend(items: Sequence[tuple[str | Text, Style | None]], width: int, sep: str = "  ") -> Text:
    """The legend items, most important first; the last ones are dropped whole until it fits."""
    return fit([Item(n, text if isinstance(text, Text) else Text(text, style=style or "")) for n, (text, style) in enumerate(items)], width, sep)


def notice(text: str, width: int) -> Text:
    """A one-line message in place of a picture (never wraps into the lines below)."""
    return Text(text if len(text) <= width else text[: max(0, width - 1)] + "…", style="dim")
