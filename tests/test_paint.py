"""The live screen's painter (views.terminal.Painter) writes, frame after frame, the very
text Rich's Live writes on the alternate screen for the same picture; and Beside draws
what the Rich grid it replaces drew (the tape beside the ladder)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from rich.console import Console
from rich.live import Live
from rich.table import Table

from orderbook_cli.book import RawLevel, make_book
from orderbook_cli.pipeline.live import LiveLadder
from orderbook_cli.shape import ShapeSpec, shape
from orderbook_cli.trades import BUY, SELL, Tape, Trade
from orderbook_cli.views import tape as tape_view
from orderbook_cli.views.terminal import Beside, Painter

T0 = datetime(2026, 12, 5, 22, 0, tzinfo=UTC)


def _book(n: int):
    bids = [RawLevel(Decimal(7000 - i), Decimal(f"0.{(n + i) % 9 + 1}"), 1) for i in range(20)]
    asks = [RawLevel(Decimal(7100 + i), Decimal("1.5"), 1) for i in range(20)]
    return shape(make_book("bitso", "btc_mxn", bids, asks, timestamp=T0, received_at=T0 + timedelta(milliseconds=n)),
                 ShapeSpec(depth=20, liquidity=True))


def _tape(n: int) -> Tape:
    tape = Tape()
    for k in range(n):
        tape.add(Trade("bitso", "btc_mxn", str(k), Decimal(7000 + k % 50), Decimal(f"0.{k % 997 + 1:05d}"),
                       (BUY, SELL, None)[k % 3], T0 + timedelta(milliseconds=k), T0), 0.0)
    return tape


def _console(width: int, height: int, colours: str | None) -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=width, height=height, color_system=colours,
                   no_color=colours is None or None, highlight=False, emoji=False, markup=False)


def _live_text(picture, width: int, height: int, colours: str | None) -> str:
    """What Live.update(picture, refresh=True) writes on the alternate screen."""
    console = _console(width, height, colours)
    with Live(console=console, screen=True, auto_refresh=False, redirect_stdout=False, redirect_stderr=False) as live:
        console.file = io.StringIO()
        live.update(picture, refresh=True)
        return console.file.getvalue()


def _grid(beside: Beside) -> Table:
    """The grid obook drew the tape beside the ladder with before the painter."""
    grid = Table.grid(padding=(0, beside.gap))
    grid.add_column(width=beside.left_width, no_wrap=True)
    grid.add_column(width=beside.right_width, no_wrap=True)
    grid.add_row(beside.left, beside.right)
    return grid


@pytest.mark.parametrize("width,height", [(150, 45), (146, 20), (200, 60), (300, 12)])
@pytest.mark.parametrize("colours", ["256", "truecolor", None])
def test_frames_are_what_live_writes_with_the_tape_beside(width, height, colours):
    painter = Painter(_console(width, height, colours))
    ladder = LiveLadder("bitso", "btc_mxn", ShapeSpec(depth=20, liquidity=True), stale_after=5)
    tape = _tape(60)
    for n, step in enumerate(("", "k", "k", "?", "?", "notice", "stale", "v", "v", "v")):
        if step == "notice":
            ladder.on_notice("a notice long enough to wrap between its words across the ladder " * 3, 0.0)
        elif step:
            ladder.on_key(step, 0.0)
        ladder.on_book(_book(n), float(n))
        picture = ladder.frame(float(n), height, 100.0 if step == "stale" else float(n), 1000.0, 0, width=width - 46,
                               colour=colours or "none")
        tape.add(Trade("bitso", "btc_mxn", f"x{n}", Decimal(7100), Decimal("0.5"), BUY, T0, T0), 0.0)
        right = tape_view.frame(tape, "trades bitso btc_mxn", width=44, height=height, status="no trades: gone" if n == 4 else "")
        beside = Beside(picture, width - 46, right, 44)
        assert painter.frame(beside, width, height) == _live_text(_grid(beside), width, height, colours), (step, n)


@pytest.mark.parametrize("view", ["ladder", "chart", "heatmap"])
@pytest.mark.parametrize("width,height", [(120, 40), (80, 24), (40, 10), (20, 5)])
def test_frames_are_what_live_writes_without_the_tape(view, width, height):
    painter = Painter(_console(width, height, "256"))
    ladder = LiveLadder("bitso", "btc_mxn", ShapeSpec(depth=20, liquidity=True), stale_after=5, view=view)
    assert painter.frame(ladder.frame(0.0, height, None, 0.0, 0, width=width, colour="256"), width, height) == \
        _live_text(ladder.frame(0.0, height, None, 0.0, 0, width=width, colour="256"), width, height, "256")  # no book yet
    for n in range(6):  # the same lines frame after frame come from what the painter remembers
        ladder.on_book(_book(n), float(n))
        picture = ladder.frame(float(n), height, float(n), 1000.0, 0, width=width, colour="256")
        expected = _live_text(ladder.frame(float(n), height, float(n), 1000.0, 0, width=width, colour="256"), width, height, "256")
        assert painter.frame(picture, width, height) == expected, n
