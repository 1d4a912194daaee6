"""Build orderbook_cli/samples/bitso_btc_mxn.ndjson.gz, the recording `obook replay --sample` plays.

Levels start from a real Bitso btc_mxn book (tests/payloads/bitso_3.json, 2018);
the motion (prices drifting, amounts changing, levels appearing) is simulated
with a fixed seed, so the file is reproducible: python scripts/make_sample.py
"""

from __future__ import annotations

import gzip
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orderbook_cli.book import RawLevel, make_book  # noqa: E402
from orderbook_cli.jsonout import book_to_dict, dumps  # noqa: E402

BOOKS, LEVELS = 240, 20
CENT = Decimal("0.01")


def main() -> None:
    rng = random.Random(20180101)
    real = json.loads((ROOT / "tests/payloads/bitso_3.json").read_text())["payload"]
    bids = {Decimal(level["price"]): Decimal(level["amount"]) for level in real["bids"][:LEVELS]}
    asks = {Decimal(level["price"]): Decimal(level["amount"]) for level in real["asks"][:LEVELS]}
    start = datetime(2018, 6, 1, 15, 30, tzinfo=UTC)
    clock = start
    lines = []
    for _ in range(BOOKS):
        clock += timedelta(milliseconds=rng.randint(80, 600))
        drift = Decimal(rng.choice([-3, -1, 0, 0, 1, 3])) * Decimal("7.35")
        bids = {(p + drift).quantize(CENT): a for p, a in bids.items()}
        asks = {(p + drift).quantize(CENT): a for p, a in asks.items()}
        for side in (bids, asks):
            for price in rng.sample(sorted(side), 3):  # some levels trade or get amended
                side[price] = (side[price] * Decimal(rng.uniform(0.4, 1.8))).quantize(Decimal("0.00000001"))
        best_bid, best_ask = max(bids), min(asks)
        if rng.random() < 0.3:  # a new order improves a side without crossing
            price = (best_bid + (best_ask - best_bid) * Decimal(rng.uniform(0.1, 0.45))).quantize(CENT)
            bids[price] = Decimal(rng.randint(1, 90000)) / Decimal(100000)
        if rng.random() < 0.3:
            price = (best_ask - (best_ask - max(bids)) * Decimal(rng.uniform(0.1, 0.45))).quantize(CENT)
            asks[price] = Decimal(rng.randint(1, 90000)) / Decimal(100000)
        bids = dict(sorted(bids.items(), reverse=True)[:LEVELS])
        asks = dict(sorted(asks.items())[:LEVELS])
        book = make_book(
            "bitso", "btc_mxn",
            [RawLevel(p, a, rng.randint(1, 3)) for p, a in bids.items()],
            [RawLevel(p, a, rng.randint(1, 3)) for p, a in asks.items()],
            timestamp=clock - timedelta(milliseconds=rng.randint(20, 90)), received_at=clock,
        )
        lines.append(dumps(book_to_dict(book)))
    target = ROOT / "orderbook_cli/samples/bitso_btc_mxn.ndjson.gz"
    with gzip.GzipFile(target, "wb", mtime=0) as out:  # mtime=0: the same bytes every run
        out.write(("\n".join(lines) + "\n").encode())
    print(f"wrote {target} ({BOOKS} books, {target.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
