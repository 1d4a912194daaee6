"""The Rich console obook prints through (no markup, no emoji, NO_COLOR honoured)."""

from __future__ import annotations

import sys

from rich.console import Console


def console(no_color: bool = False, file=None) -> Console:
    return Console(file=file or sys.stdout, highlight=False, no_color=no_color or None, emoji=False, markup=False)


def colour_mode(console: Console) -> str:
    """truecolor when the terminal says so (COLORTERM), 256 colours otherwise, none for NO_COLOR / --no-color."""
    if console.no_color or console.color_system is None:
        return "none"
    return "truecolor" if console.color_system == "truecolor" else "256"
