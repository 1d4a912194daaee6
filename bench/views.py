"""What the depth chart and the heatmap cost: python bench/views.py [--quick]

1. One frame at 120x40 (the chart; the heatmap with a full screen of history),
   budget 10 ms, next to a ladder frame measured the same way.
2. The live view in tmux fed 1,000 messages/s: CPU of `--view chart` and
   `--view heatmap` next to the ladder's, in the same run, against the
   ladder's budget (well under one core).

bench/run.py calls bench_views(); run alone it prints its own figures.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import view_share
from servers import BitsoFlood

FRAME_BUDGET_MS = 10.0
LIVE_CPU_BUDGET = 0.6  # the ladder's: well under one core at 1,000 messages/s
WIDTH, HEIGHT = 120, 40
DRAWN = {"ladder": "spread", "chart": "best bid", "heatmap": "(max "}


def _books(count: int, levels: int = 50):
    """A drifting book, one per 250 ms of book time, with walls that come and go."""
    from orderbook_cli.book import RawLevel, make_book
    from orderbook_cli.timefmt import now_utc

    start = now_utc()
    out = []
    for n in range(count):
        drift = Decimal(n % 40) - 20
        bids = [RawLevel(Decimal(50000) + drift - i * Decimal("2.5"), Decimal(f"0.{(n + i) % 97 + 1:03d}") * (8 if i == n % 30 else 1), None) for i in range(levels)]
        asks = [RawLevel(Decimal(50002) + drift + i * Decimal("2.5"), Decimal(f"0.{(n * 3 + i) % 89 + 1:03d}"), None) for i in range(levels)]
        at = start + timedelta(milliseconds=250 * n)
        out.append(make_book("bench", "BTC-USD", bids, asks, timestamp=at, received_at=at))
    return out


def frame_times(repeats: int) -> dict[str, float]:
    """Median milliseconds to build and print one frame per view, 120x40, truecolor."""
    from rich.console import Console

    from orderbook_cli.pipeline.live import LiveLadder
    from orderbook_cli.shape import ShapeSpec, shape

    results = {}
    spec = ShapeSpec(depth=50, liquidity=True)  # what the feed's shape step delivers to the ladder
    books = [shape(book, spec) for book in _books(4 * WIDTH + 4)]  # a full screen of history (4 books per one-second column)
    for view in ("ladder", "chart", "heatmap"):
        live = LiveLadder("bench", "BTC-USD", spec, stale_after=5, view=view)
        for n, book in enumerate(books):
            live.on_book(book, float(n))
        console = Console(file=io.StringIO(), width=WIDTH, height=HEIGHT, force_terminal=True, color_system="truecolor")
        times = []
        for n in range(repeats):
            live.on_book(books[-1 - n % 4], 1000.0 + n)  # a new newest book each frame, as live
            start = time.perf_counter()
            console.print(live.frame(1000.0 + n, HEIGHT, 999.9, 1000.0, 0, width=WIDTH, colour="truecolor"))
            times.append(time.perf_counter() - start)
            console.file = io.StringIO()
        results[view] = statistics.median(times) * 1000
    cold = []
    for _ in range(5):  # the first heatmap frame after `v` or `g` buckets every column on screen once
        live = LiveLadder("bench", "BTC-USD", spec, stale_after=5, view="heatmap")
        for n, book in enumerate(books):
            live.on_book(book, float(n))
        start = time.perf_counter()
        console.print(live.frame(1000.0, HEIGHT, 999.9, 1000.0, 0, width=WIDTH, colour="truecolor"))
        cold.append(time.perf_counter() - start)
    results["heatmap cold"] = statistics.median(cold) * 1000
    return results


def live_cpu(view: str, Pane, scratch: Path, seconds: float, obook: str, rate: int = 1000) -> float:
    """Share of one core the live view uses while fed `rate` messages/s."""
    flood = BitsoFlood(int(rate * (seconds + 8)), rate=rate)
    pane = Pane(scratch, f"OBOOK_BITSO_URL={flood.url} {obook} watch bitso --feed top btc_mxn --view {view}", WIDTH, HEIGHT)
    try:
        share, _ = view_share(pane, DRAWN[view], seconds)  # the view shows a book, not just its header
        return share
    finally:
        pane.close()
        flood.stop()


def bench_views(record, Pane, scratch: Path, seconds: float, obook: str, repeats: int = 60, *,
                floor=None, record_ratio=None, budget: tuple[float, float] = (2.0, 1.5)) -> None:
    """With `floor` (the stream floor's CPU fed the same) each view's CPU is also a ratio
    against it, with run.py's budget for the live views."""
    print(f"views: one frame at {WIDTH}x{HEIGHT} (truecolor), then the live views at 1000 messages/s")
    frames = frame_times(repeats)
    record("frame ladder 120x40 (median)", f"{frames['ladder']:.1f} ms")
    for view in ("chart", "heatmap"):
        record(f"frame {view} 120x40 (median)", f"{frames[view]:.1f} ms", f"< {FRAME_BUDGET_MS:.0f} ms", frames[view] < FRAME_BUDGET_MS)
    record("first heatmap frame after v or g (buckets the history on screen)", f"{frames['heatmap cold']:.1f} ms")
    import shutil

    if not shutil.which("tmux"):
        record("live views CPU", "skipped: tmux not installed")
        return
    cpu = {view: live_cpu(view, Pane, scratch, seconds, obook) for view in ("ladder", "chart", "heatmap")}
    floor_cpu = floor() if floor is not None else None
    record("live CPU at 1000 msg/s, ladder", f"{cpu['ladder'] * 100:.0f}% of one core")
    for view in ("chart", "heatmap"):
        if floor_cpu and record_ratio is not None:
            record_ratio(f"live {view} fed 1,000 messages/s: CPU vs the floor fed the same", cpu[view] / floor_cpu, *budget,
                         f"{cpu[view] * 100:.0f}% vs {floor_cpu * 100:.0f}% of one core; {cpu[view] / cpu['ladder']:.2f}x the ladder")
        else:
            record(f"live CPU at 1000 msg/s, {view}", f"{cpu[view] * 100:.0f}% of one core ({cpu[view] / cpu['ladder']:.2f}x the ladder)",
                   f"the ladder's budget (< {LIVE_CPU_BUDGET * 100:.0f}%)", cpu[view] < LIVE_CPU_BUDGET)


def main() -> int:
    import argparse
    import tempfile

    import run

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer frames and a shorter live run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_views(run.record, run.Pane, Path(tmp), 3 if args.quick else 8, run.OBOOK, 20 if args.quick else 60)
    return 1 if any(verdict == "OVER BUDGET" for *_, verdict in run.RESULTS) else 0


if __name__ == "__main__":
    raise SystemExit(main())
