"""The Rich console obook prints through (no markup, no emoji, NO_COLOR honoured)."""

from __future__ import annotations

import sys

from rich.console import Console

# Far beyond any screen people read; what a view allocates grows with the size,
# so COLUMNS=10000000 (or a pty that says so) must not be taken at its word.
MAX_COLUMNS, MAX_LINES = 1000, 500
UNKNOWN_SIZE = (80, 25)  # what a terminal that reports 0x0 (or COLUMNS=0) is drawn at


def bounded_size(columns: int, lines: int) -> tuple[int, int]:
    """The size obook draws at for a terminal (or COLUMNS/LINES) that says columns x lines."""
    return (min(columns, MAX_COLUMNS) if columns > 0 else UNKNOWN_SIZE[0],
            min(lines, MAX_LINES) if lines > 0 else UNKNOWN_SIZE[1])


def console(no_color: bool = False, file=None) -> Console:
    out = Console(file=file or sys.stdout, highlight=False, no_color=no_color or None, emoji=False, markup=False)
    said = tuple(out.size)
    if said != bounded_size(*said):  # fixed only when out of bounds: Rich keeps following a sane terminal
        out.size = bounded_size(*said)
    return out


def colour_mode(console: Console) -> str:
    """truecolor when the terminal says so (COLORTERM), 256 colours otherwise, none for NO_COLOR / --no-color."""
    if console.no_color or console.color_system is None:
        return "none"
    return "truecolor" if console.color_system == "truecolor" else "256"
