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
import statistics
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
        from orderbook_cli.feed import FeedStats

        self.books = 0
        self.request = request
        self.stats = FeedStats()  # the connection counts its verified checks here

    def emit_book(self, book) -> None:
        self.books += 1

    def set_state(self, state, detail: str = "") -> None:
        pass

    def stamped(self, timestamp, received_at) -> None:
        pass  # the feed's delay statistics: not what this benchmark measures

    def malformed(self, error) -> None:
        raise AssertionError(f"bench frame rejected: {error}")


def bitso_feed(orders: int) -> tuple[dict, Callable[[int], str]]:
    """A Bitso REST seed (aggregate=false, sequence 0) holding `orders` orders, and the
    diff-orders frame for each sequence number: one random order moved to a new
    random price on its side (cancel + open, same id), anywhere in the book."""
    rng = random.Random(orders)
    half = orders // 2
    book: dict[str, list] = {"bids": [], "asks": []}
    live = {}
    for i in range(orders):
        is_bid = i < half
        price = 1_000_000 - rng.randrange(1, 50_000) if is_bid else 1_000_000 + rng.randrange(1, 50_000)
        live[f"o{i}"] = is_bid
        book["bids" if is_bid else "asks"].append({"book": "btc_mxn", "price": f"{price}.00", "amount": "0.01000000", "oid": f"o{i}"})
    seed = {"success": True, "payload": {**book, "updated_at": "2026-01-01T00:00:00+00:00", "sequence": "0"}}
    ids = list(live)

    def frame(seq: int) -> str:
        oid = ids[rng.randrange(len(ids))]
        is_bid = live[oid]
        price = 1_000_000 - rng.randrange(1, 50_000) if is_bid else 1_000_000 + rng.randrange(1, 50_000)
        return json.dumps({"type": "diff-orders", "book": "btc_mxn", "sequence": seq, "sent": 1767225600000 + seq, "payload": [
            {"o": oid, "d": 1, "s": "cancelled", "t": 0 if is_bid else 1, "z": 1},
            {"o": oid, "d": 1, "r": f"{price}.00", "t": 0 if is_bid else 1, "a": "0.02000000", "v": "1", "s": "open", "z": 1}]})

    return seed, frame


def _setup(orders: int):
    """A seeded Bitso full-depth connection holding `orders` orders, and a frame maker."""
    from orderbook_cli.feed import NO_TAP, FeedRequest
    from orderbook_cli.venues.bitso import Bitso
    from orderbook_cli.venues.synced import SyncConnection

    venue = Bitso({})
    request = FeedRequest(venue="bitso", symbol="btc_mxn", depth=DEPTH, timeout=1)
    sink = _Sink(request)
    conn = SyncConnection(sink, venue, lambda _: None, None, NO_TAP)
    seed, frame = bitso_feed(orders)
    conn.seed_body(json.dumps(seed).encode(), datetime.now(UTC))
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


# ---------------------------------------------------------------- whole processes

# The plain program: keeps the whole book exactly (Decimal prices in sorted lists,
# bisect) and writes, per message, the contract's JSON book of the top 20 levels a
# side (totals, counts, best/spread/mid, sequence, times) with json.dumps: the same
# output work as obook, done the obvious way, with the libraries obook uses.
FLOOR_COMMON = """
import bisect, json, sys
from datetime import datetime, timezone
from decimal import Decimal
import websocket

DEPTH = 20
sides = {True: ({}, []), False: ({}, [])}  # is_bid -> (price -> [amount, count], prices ascending)


def put(is_bid, price, amount, count):
    levels, prices = sides[is_bid]
    level = levels.get(price)
    if level is None:
        levels[price] = [amount, count]
        bisect.insort(prices, price)
        return
    level[0] += amount
    level[1] = None if count is None else level[1] + count
    if level[0] <= 0:
        del levels[price]
        prices.pop(bisect.bisect_left(prices, price))


def clear():
    for levels, prices in sides.values():
        levels.clear()
        prices.clear()


def absolute(is_bid, price, amount):
    levels, prices = sides[is_bid]
    if price in levels:
        if amount:
            levels[price][0] = amount
            return
        del levels[price]
        prices.pop(bisect.bisect_left(prices, price))
    elif amount:
        levels[price] = [amount, None]
        bisect.insort(prices, price)


def top(is_bid):
    levels, prices = sides[is_bid]
    chosen = reversed(prices[-DEPTH:]) if is_bid else prices[:DEPTH]
    out, total = [], Decimal(0)
    for price in chosen:
        amount, count = levels[price]
        total += amount
        out.append({"price": str(price), "amount": str(amount), "total": str(total), "count": count})
    return out


def iso(stamp):
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write(venue, symbol, sequence, stamp):
    bids, asks = top(True), top(False)
    best_bid = Decimal(bids[0]["price"]) if bids else None
    best_ask = Decimal(asks[0]["price"]) if asks else None
    both = best_bid is not None and best_ask is not None
    sys.stdout.write(json.dumps({
        "venue": venue, "symbol": symbol, "timestamp": iso(stamp) if stamp else None,
        "received_at": iso(datetime.now(timezone.utc)), "bids": bids, "asks": asks,
        "best_bid": str(best_bid) if best_bid is not None else None, "best_ask": str(best_ask) if best_ask is not None else None,
        "spread": str(best_ask - best_bid) if both else None, "mid": str((best_ask + best_bid) / 2) if both else None,
        "sequence": sequence}, separators=(",", ":")) + "\\n")
    sys.stdout.flush()
"""

FLOOR_BITSO_FULL = FLOOR_COMMON + """
import httpx

ws = websocket.create_connection(sys.argv[1], skip_utf8_validation=True)
ws.send(json.dumps({"action": "subscribe", "book": "btc_mxn", "type": "diff-orders"}))
ws.recv()  # the ack: from now on the diffs queue, so the seed can be fetched
seed = httpx.get(sys.argv[2] + "/api/v3/order_book/", params={"book": "btc_mxn", "aggregate": "false"}).json()["payload"]
orders = {}
for side, is_bid in (("bids", True), ("asks", False)):
    for order in seed[side]:
        price, amount = Decimal(order["price"]), Decimal(order["amount"])
        orders[order["oid"]] = (is_bid, price, amount)
        put(is_bid, price, amount, 1)
sequence = int(seed["sequence"])
write("bitso", "btc_mxn", sequence, datetime.fromisoformat(seed["updated_at"]))
wanted, got = int(sys.argv[3]), 0
while got < wanted:
    data = json.loads(ws.recv())
    if data.get("type") != "diff-orders" or data["sequence"] != sequence + 1:
        continue
    sequence = data["sequence"]
    for change in data["payload"]:
        known = orders.pop(change["o"], None)
        if known is not None:
            put(known[0], known[1], -known[2], -1)
        if change["s"] == "open":
            order = (change["t"] == 0, Decimal(change["r"]), Decimal(change["a"]))
            orders[change["o"]] = order
            put(*order, 1)
    write("bitso", "btc_mxn", sequence, datetime.fromtimestamp(data["sent"] / 1000, timezone.utc))
    got += 1
"""

FLOOR_BITMART_FULL = FLOOR_COMMON + """
ws = websocket.create_connection(sys.argv[1], skip_utf8_validation=True)
ws.send(json.dumps({"op": "subscribe", "args": ["spot/depth/increase100:BTC_USDT"]}))
wanted, got, version = int(sys.argv[2]), 0, None
while got < wanted:
    data = json.loads(ws.recv())
    if data.get("table") != "spot/depth/increase100":
        continue
    for entry in data["data"]:
        if entry["type"] == "snapshot":
            clear()
        elif entry["version"] != version + 1:
            continue
        version = entry["version"]
        for side, is_bid in (("bids", True), ("asks", False)):
            for price, amount in entry[side]:
                absolute(is_bid, Decimal(price), Decimal(amount))
        write("bitmart-v3", "BTC_USDT", version, datetime.fromtimestamp(entry["ms_t"] / 1000, timezone.utc))
        got += 1
"""

FLOOR_KRAKEN_FULL = FLOOR_COMMON + """
import zlib

DEPTH = KEPT = int(sys.argv[3])  # obook's default: 10 levels shown of Kraken's depth 10
ws = websocket.create_connection(sys.argv[1], skip_utf8_validation=True)
ws.send(json.dumps({"method": "subscribe", "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": KEPT, "snapshot": True}}))


def digits(number):
    return str(number).replace(".", "").lstrip("0")


def checksum_text(is_bid):
    levels, prices = sides[is_bid]
    return "".join(digits(price) + digits(levels[price][0]) for price in (reversed(prices[-10:]) if is_bid else prices[:10]))


wanted, got = int(sys.argv[2]), 0
while got < wanted:
    data = json.loads(ws.recv(), parse_float=Decimal)  # Kraken's numbers are JSON numbers: exact, trailing zeros kept
    if data.get("channel") != "book":
        continue
    for entry in data["data"]:
        if data["type"] == "snapshot":
            clear()
        for side, is_bid in (("bids", True), ("asks", False)):
            for level in entry.get(side, ()):
                absolute(is_bid, level["price"], level["qty"])
        for is_bid, (levels, prices) in sides.items():  # Kraken drops what an insert pushes past the depth
            while len(prices) > KEPT:
                del levels[prices.pop(0) if is_bid else prices.pop()]
        if zlib.crc32((checksum_text(False) + checksum_text(True)).encode()) != entry["checksum"]:
            raise SystemExit("checksum mismatch")
        stamp = entry.get("timestamp")
        write("kraken", "BTC/USD", None, datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None)
        got += 1
"""

BITMART_LEVELS = 100
KRAKEN_DEPTH = 10  # obook's default for Kraken, and the depth it subscribes to for it


def bitmart_feed(updates: int) -> list[str]:
    """An increase100 snapshot of 100 levels a side, then `updates` numbered updates: a
    new size for one level a side, and every fifth update a level gone and a new
    one on each side; levels chosen anywhere in the book."""
    rng = random.Random(updates)
    sides = {"bids": {f"{60000 - i * 0.5:.2f}": "1.00000" for i in range(1, BITMART_LEVELS + 1)},
             "asks": {f"{60000 + i * 0.5:.2f}": "1.00000" for i in range(1, BITMART_LEVELS + 1)}}

    def push(kind: str, version: int, bids: list, asks: list) -> str:
        return json.dumps({"table": "spot/depth/increase100", "data": [{"symbol": "BTC_USDT", "ms_t": 1767225600000 + version,
                                                                         "type": kind, "version": version, "bids": bids, "asks": asks}]})

    out = [push("snapshot", 0, [[p, a] for p, a in sides["bids"].items()], [[p, a] for p, a in sides["asks"].items()])]
    for version in range(1, updates + 1):
        changes: dict[str, list] = {}
        for side, sign in (("bids", -1), ("asks", 1)):
            levels = sides[side]
            price = rng.choice(list(levels))
            amount = f"{rng.randrange(1, 300000) / 100000:.5f}"
            levels[price] = amount
            changes[side] = [[price, amount]]
            if version % 5 == 0:
                gone = rng.choice([p for p in levels if p != price])
                del levels[gone]
                while True:
                    new = f"{60000 + sign * rng.randrange(1, 2 * BITMART_LEVELS) * 0.5:.2f}"
                    if new not in levels:
                        break
                levels[new] = "0.50000"
                changes[side] += [[gone, "0"], [new, "0.50000"]]
        out.append(push("update", version, changes["bids"], changes["asks"]))
    return out


def kraken_feed(updates: int) -> list[str]:
    """Kraken v2 `book` at depth 10: a snapshot, then `updates` updates, each a new quantity
    for one level a side, and every fifth a level gone and a new one on each side; each
    with Kraken's CRC32 checksum, computed by the loopback venue the tests use."""
    from tests.kraken.server import KrakenBook

    rng = random.Random(updates)
    venue = KrakenBook("BTC/USD", KRAKEN_DEPTH, [(f"{60000 - i * 0.5:.1f}", "1.00000000") for i in range(1, KRAKEN_DEPTH + 1)],
                       [(f"{60000 + i * 0.5:.1f}", "1.00000000") for i in range(1, KRAKEN_DEPTH + 1)])
    out = [venue.snapshot()]
    for version in range(1, updates + 1):
        changes: dict[str, list[tuple[str, str]]] = {}
        for side, sign in (("bids", -1), ("asks", 1)):
            levels = venue.bids if side == "bids" else venue.asks
            price = rng.choice(list(levels))
            changes[side] = [(price, f"{rng.randrange(1, 300000) / 100000:.8f}")]
            if version % 5 == 0:
                gone = rng.choice([p for p in levels if p != price])
                while True:
                    new = f"{60000 + sign * rng.randrange(1, 4 * KRAKEN_DEPTH) * 0.5:.1f}"
                    if new not in levels:
                        break
                changes[side] += [(gone, "0.00000000"), (new, "0.50000000")]
        stamp = f"2026-01-01T{version // 3_600_000:02d}:{version // 60_000 % 60:02d}:{version // 1000 % 60:02d}.{version % 1000:03d}000Z"
        out.append(venue.update(changes["bids"], changes["asks"], timestamp=stamp))
    return out


def bench_full_depth_process(record_ratio: Callable[..., None], timed: Callable[..., tuple[float, float]], obook: str, scratch: Path,
                             diffs: int, rounds: int) -> None:
    """Whole processes, paired: obook's default full-depth feed against the plain program on the same input."""
    import threading

    from servers import RawFlood, serve_rest

    print(f"full depth, whole processes: `obook watch VENUE --json` on the default full-depth feed vs the plain program; "
          f"{diffs:,} changes, {rounds} paired rounds")
    bitso_floor, bitmart_floor, kraken_floor = scratch / "floor_bitso_full.py", scratch / "floor_bitmart_full.py", scratch / "floor_kraken_full.py"
    bitso_floor.write_text(FLOOR_BITSO_FULL)
    bitmart_floor.write_text(FLOOR_BITMART_FULL)
    kraken_floor.write_text(FLOOR_KRAKEN_FULL)
    seed, frame = bitso_feed(5000)
    seed_body = json.dumps(seed).encode()
    bitso_diffs = [frame(seq) for seq in range(1, diffs + 1)]
    bitmart_pushes = bitmart_feed(diffs)
    kraken_pushes = kraken_feed(diffs)
    kraken_ack = json.dumps({"method": "subscribe", "result": {"channel": "book", "depth": KRAKEN_DEPTH, "snapshot": True, "symbol": "BTC/USD"},
                             "success": True, "time_in": "2026-01-01T00:00:00.000001Z", "time_out": "2026-01-01T00:00:00.000040Z"})
    bitso_ack = json.dumps({"action": "subscribe", "response": "ok", "time": 1, "type": "diff-orders", "book": "btc_mxn"})
    bitmart_ack = json.dumps({"event": "subscribe", "topic": "spot/depth/increase100:BTC_USDT"})
    runs: dict[str, list[tuple[float, float]]] = {}
    for _ in range(rounds):
        for name in ("bitso floor", "bitso obook", "bitmart floor", "bitmart obook", "kraken floor", "kraken obook"):
            if name.startswith("bitso"):
                release = threading.Event()  # the diffs follow the seed, as they queue behind it live
                flood = RawFlood(len(bitso_diffs), bitso_diffs, bitso_ack, release)
                rest = serve_rest("/api/v3/order_book/", seed_body, release)
                if name.endswith("obook"):
                    cmd, env = [obook, "watch", "bitso", "btc_mxn", "--json", "--count", str(diffs + 1)], \
                        {"OBOOK_BITSO_URL": flood.url, "OBOOK_BITSO_REST_URL": rest.url}
                else:
                    cmd, env = [sys.executable, str(bitso_floor), flood.url, rest.url, str(diffs)], {}
            elif name.startswith("kraken"):
                rest = None
                flood = RawFlood(len(kraken_pushes), kraken_pushes, kraken_ack)
                if name.endswith("obook"):
                    cmd, env = [obook, "watch", "kraken", "BTC/USD", "--json", "--count", str(diffs + 1)], {"OBOOK_KRAKEN_URL": flood.url}
                else:
                    cmd, env = [sys.executable, str(kraken_floor), flood.url, str(diffs + 1), str(KRAKEN_DEPTH)], {}
            else:
                rest = None
                flood = RawFlood(len(bitmart_pushes), bitmart_pushes, bitmart_ack)
                if name.endswith("obook"):
                    cmd, env = [obook, "watch", "bitmart-v3", "BTC_USDT", "--json", "--count", str(diffs + 1)], {"OBOOK_BITMART_V3_URL": flood.url}
                else:
                    cmd, env = [sys.executable, str(bitmart_floor), flood.url, str(diffs + 1)], {}
            runs.setdefault(name, []).append(timed(cmd, env))
            flood.stop()
            if rest is not None:
                rest.stop()
    commands = {"bitso": "bitso btc_mxn", "bitmart": "bitmart-v3 BTC_USDT", "kraken": "kraken BTC/USD"}
    for venue, what in (("bitso", "Bitso diff-orders, 5,000-order book"), ("bitmart", "BitMart increase100, 100 levels a side"),
                        ("kraken", f"Kraken book, depth {KRAKEN_DEPTH}, CRC32-checked")):
        ratios = [o[1] / f[1] for o, f in zip(runs[f"{venue} obook"], runs[f"{venue} floor"])]
        ob_cpu, fl_cpu = (statistics.median(r[1] for r in runs[f"{venue} {who}"]) for who in ("obook", "floor"))
        record_ratio(f"`watch {commands[venue]} --json` (the default full feed), {what}, "
                     f"{diffs:,} changes, vs the plain program", statistics.median(ratios), 1.0, 0.7,
                     f"CPU {ob_cpu:.2f} vs {fl_cpu:.2f} s, median of {rounds} paired ratios")


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
