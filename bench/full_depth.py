"""Full-depth sync cost: python bench/full_depth.py [--quick]

Drives Bitso's real diff-orders path (frame parser, sync engine, top-N book
per applied diff) without sockets, on a large and on a small book, with the
same diffs and the same output depth. A diff costs O(log levels) to place
and O(depth) to show, so the large book may cost at most 1.5x the small
one; and memory must stay flat however many diffs arrive.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

DEPTH = 20
RATIO_BUDGET = 1.5
GROWTH_BUDGET = 256 * 1024  # bytes a soak may add to a book that does not grow


class _Sink:
    """Enough of a FeedContext for a SyncConnection: counts books, keeps nothing."""

    def __init__(self, request) -> None:
        self.books = 0
        self.request = request

    def emit_book(self, book) -> None:
        self.books += 1

    def set_state(self, state, detail: str = "") -> None:
        pass

    def malformed(self, error) -> None:
        raise AssertionError(f"bench frame rejected: {error}")


def _setup(orders: int):
    """A seeded Bitso full-depth connection holding `orders` orders, and a frame maker."""
    from orderbook_cli.feed import FeedRequest
    from orderbook_cli.venues.bitso import Bitso
    from orderbook_cli.venues.synced import SyncConnection
    from orderbook_cli.venues.websocket import NO_RECORDER

    venue = Bitso({})
    request = FeedRequest(venue="bitso", symbol="btc_mxn", depth=DEPTH, timeout=1)
    sink = _Sink(request)
    conn = SyncConnection(sink, venue, lambda _: None, None, NO_RECORDER)
    rng = random.Random(orders)
    half = orders // 2
    book = {"bids": [], "asks": []}
    live = {}
    for i in range(orders):
        is_bid = i < half
        price = 1_000_000 - rng.randrange(1, 50_000) if is_bid else 1_000_000 + rng.randrange(1, 50_000)
        live[f"o{i}"] = is_bid
        book["bids" if is_bid else "asks"].append({"book": "btc_mxn", "price": f"{price}.00", "amount": "0.01000000", "oid": f"o{i}"})
    seed = {"success": True, "payload": {**book, "updated_at": "2026-01-01T00:00:00+00:00", "sequence": "0"}}
    conn.seed_body(json.dumps(seed).encode(), datetime.now(UTC))
    ids = list(live)

    def frame(seq: int) -> str:
        """Move one random order to a new random price on its side (cancel + open, same id)."""
        oid = ids[rng.randrange(len(ids))]
        is_bid = live[oid]
        price = 1_000_000 - rng.randrange(1, 50_000) if is_bid else 1_000_000 + rng.randrange(1, 50_000)
        return json.dumps({"type": "diff-orders", "book": "btc_mxn", "sequence": seq, "sent": 1767225600000 + seq, "payload": [
            {"o": oid, "d": 1, "s": "cancelled", "t": 0 if is_bid else 1, "z": 1},
            {"o": oid, "d": 1, "r": f"{price}.00", "t": 0 if is_bid else 1, "a": "0.02000000", "v": "1", "s": "open", "z": 1}]})

    return conn, sink, frame


def _run(orders: int, diffs: int) -> float:
    conn, sink, frame = _setup(orders)
    frames = [frame(seq) for seq in range(1, diffs + 1)]  # made beforehand: only obook's work is timed
    at = datetime.now(UTC)
    start = time.perf_counter()
    for text in frames:
        conn.frame(text, at)
    elapsed = time.perf_counter() - start
    assert sink.books == diffs + 1, (sink.books, diffs)
    return elapsed


def _memory(diffs: int) -> tuple[int, int]:
    """Traced bytes once settled and after all the diffs (frames made on the fly).

    Tracing starts before the seed: otherwise every level a diff replaces
    would look like growth (its untraced predecessor freed, itself traced).
    """
    tracemalloc.start()
    conn, _, frame = _setup(5000)
    at = datetime.now(UTC)
    early, settled = 0, min(10_000, diffs // 2)  # by then the order map's table has reached its working size
    for seq in range(1, diffs + 1):
        conn.frame(frame(seq), at)
        if seq == settled:
            early = tracemalloc.get_traced_memory()[0]
    late = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return early, late


def bench_full_depth(record: Callable[..., None], quick: bool = False) -> None:
    diffs, soak, runs = (5_000, 20_000, 3) if quick else (20_000, 100_000, 5)
    print(f"full depth: {diffs} Bitso diffs (parse, sync, top {DEPTH} book each) on a 5,000-order vs a 50-order book")
    large = min(_run(5000, diffs) for _ in range(runs))
    small = min(_run(50, diffs) for _ in range(runs))
    ratio = large / small
    record("full depth: 5,000-order / 50-order book, per diff", f"{large / diffs * 1e6:.0f} µs vs {small / diffs * 1e6:.0f} µs = {ratio:.2f}x",
           f"≤ {RATIO_BUDGET}x", ratio <= RATIO_BUDGET)
    early, late = _memory(soak)
    growth = late - early
    record(f"full depth: memory over {soak:,} diffs", f"{early / 1024:.0f} KiB after {min(10_000, soak // 2):,}, {late / 1024:.0f} KiB after {soak:,}",
           f"growth ≤ {GROWTH_BUDGET // 1024} KiB", growth <= GROWTH_BUDGET)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer diffs (a smoke run)")
    args = parser.parse_args()
    failed = []

    def record(figure: str, measured: str, budget: str = "", ok: bool | None = None) -> None:
        print(f"  {figure}: {measured}" + (f"  (budget {budget}: {'ok' if ok else 'OVER BUDGET'})" if budget else ""), flush=True)
        if ok is False:
            failed.append(figure)

    bench_full_depth(record, args.quick)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
