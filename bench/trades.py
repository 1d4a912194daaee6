"""What the tape costs: python bench/trades.py [--quick]

The live ladder with the tape beside it (tmux, 150x45) on a loopback Bitso
that sends 1,000 book messages/s (20-order `orders` frames) on the book's
socket and 500 trades/s (one print per frame, as Bitso's `trades` channel
sends them) on the tape's own socket. Measured side by side in the same run:

- the floor: a websocket-client program reading the same two sockets at the
  same rates and decoding and re-encoding every message (what merely
  keeping up with the traffic costs in Python);
- the ladder at the same size fed the same books and no trades.

Budget: the ladder with tape within 2x the floor's CPU, the live ladder's own
budget in bench/run.py. Its share of one core is printed too, without a
verdict: an absolute share measures the machine as much as obook (the floor
took 18% of a core on one machine of this project, 32% on the next).
The ladder without trades is printed beside it, so what the tape itself adds
is plain. Its memory (RSS at the start and the end of the run) too; that the
tape's rings stop memory growing is tests/test_trades.py's.

bench/run.py calls bench_trades(); run alone it prints its own figures.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import floor_share, view_share
from servers import WsVenue, bitso_frame

BOOKS_PER_SECOND, TRADES_PER_SECOND = 1000, 500
WIDTH, HEIGHT = 150, 45  # wide enough for the ladder and the tape beside it
BUDGET, GOAL = 2.0, 1.5  # the ladder with tape vs the floor fed the same traffic (CPU)


def trade_frame(n: int) -> str:
    """One print in Bitso's `trades` shape: alternately a taker buy at the ask and a sell at the bid."""
    side = n % 2
    price = "7100" if side == 0 else str(7000 + n % 50)
    return json.dumps({"type": "trades", "book": "btc_mxn", "sent": 1700000000000 + n, "payload": [
        {"i": 1_000_000 + n, "a": f"0.{n % 997 + 1:05d}", "r": price, "v": "1", "t": side, "mo": f"m{n}", "to": f"t{n}",
         "x": 1700000000000 + n}]})


class TapeFlood:
    """A loopback Bitso: `orders` at `books` frames/s on the book's socket, `trades` at
    `trades` frames/s on the tape's, each connection by what it subscribes to."""

    def __init__(self, seconds: float, books: int = BOOKS_PER_SECOND, trades: int = TRADES_PER_SECOND):
        self.seconds, self.rates = seconds, {"orders": books, "trades": trades}
        self.book_frames = [bitso_frame(i) for i in range(1000)]
        self.trade_frames = [trade_frame(i) for i in range(1000)]
        self.sent = {"orders": 0, "trades": 0}
        self.venue = WsVenue(self._script)

    def _script(self, peer) -> None:
        sub = peer.expect_json()
        kind = sub.get("type")
        peer.send(json.dumps({"action": "subscribe", "response": "ok", "time": 1, "type": kind, "book": sub.get("book")}))
        rate = self.rates.get(kind, 0)
        frames = self.book_frames if kind == "orders" else self.trade_frames
        start = time.monotonic()
        for i in range(int(rate * self.seconds)):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            peer.conn.send(frames[i % len(frames)])
            self.sent[kind] += 1
        peer.hold(600)

    @property
    def url(self) -> str:
        return self.venue.url

    def stop(self) -> None:
        self.venue.stop()


# The floor: both sockets read by websocket-client as obook drives it, every
# message decoded and re-encoded, the book's on one thread and the trades' on another.
FLOOR = """
import json, sys, threading, websocket
def follow(kind):
    ws = websocket.create_connection(sys.argv[1], skip_utf8_validation=True)
    ws.send(json.dumps({"action": "subscribe", "book": "btc_mxn", "type": kind}))
    out = open("/dev/null", "w")
    while True:
        data = json.loads(ws.recv())
        if data.get("type") == kind:
            out.write(json.dumps(data) + "\\n")
            out.flush()
threading.Thread(target=follow, args=("trades",), daemon=True).start()
follow("orders")
"""


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return int(next(line for line in status if line.startswith("VmRSS:")).split()[1])


def floor_cpu(scratch: Path, seconds: float) -> float:
    flood = TapeFlood(seconds + 4)
    try:
        return floor_share(FLOOR, scratch / "floor_tape.py", flood.url, seconds)
    finally:
        flood.stop()


def ladder_cpu(Pane, scratch: Path, seconds: float, obook: str, trades: int) -> tuple[float, int, int, str]:
    """(share of one core, RSS KiB at the start and the end, the last screen) of the ladder at
    WIDTH x HEIGHT fed BOOKS_PER_SECOND books and `trades` prints a second."""
    flood = TapeFlood(seconds + 8, trades=trades)
    pane = Pane(scratch, f"OBOOK_BITSO_URL={flood.url} {obook} watch bitso --feed top btc_mxn", WIDTH, HEIGHT)
    try:
        share, (rss0, rss1) = view_share(pane, "trades bitso btc_mxn  bought" if trades else "spread", seconds, _rss_kib)
        return share, rss0, rss1, pane.screen()
    finally:
        pane.close()
        flood.stop()


def bench_trades(record, record_ratio, Pane, scratch: Path, seconds: float, obook: str) -> None:
    import shutil

    if not shutil.which("tmux"):
        record("ladder with tape", "skipped: tmux not installed")
        return
    print(f"tape: the ladder with the tape beside it ({WIDTH}x{HEIGHT}) fed {BOOKS_PER_SECOND:,} book messages/s and "
          f"{TRADES_PER_SECOND} trades/s, vs the floor fed the same and the ladder fed the books only")
    floor = floor_cpu(scratch, seconds)
    alone, *_ = ladder_cpu(Pane, scratch, seconds, obook, trades=0)
    with_tape, rss0, rss1, screen = ladder_cpu(Pane, scratch, seconds, obook, trades=TRADES_PER_SECOND)
    shown = next((line[line.index("trades bitso"):].strip() for line in screen.splitlines() if "trades bitso" in line), "")
    record_ratio(f"live ladder + tape, {BOOKS_PER_SECOND:,} book msg/s + {TRADES_PER_SECOND} trades/s, CPU vs the floor fed the same",
                 with_tape / floor, BUDGET, GOAL,
                 f"{with_tape * 100:.0f}% vs {floor * 100:.0f}% of one core; the ladder fed the books only: {alone * 100:.0f}%, "
                 f"so the trades add {(with_tape - alone) * 100:.0f} points")
    # A share of one core is this machine's, not obook's: no verdict (the live ladder's budget is its ratio to the floor, above)
    record("live ladder + tape, same traffic: share of one core", f"{with_tape * 100:.0f}% (the ladder alone {alone * 100:.0f}%, the floor {floor * 100:.0f}%)")
    record("live ladder + tape: memory over the run", f"RSS {rss0 / 1024:.1f} MiB -> {rss1 / 1024:.1f} MiB in {seconds:g} s "
           f"({TRADES_PER_SECOND * seconds:,.0f} prints); tape header at the end: {shown[:70]!r}")


def main() -> int:
    import argparse
    import tempfile

    import run

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a shorter run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_trades(run.record, run.record_ratio, run.Pane, Path(tmp), 3 if args.quick else 8, run.OBOOK)
    return 1 if any(verdict == "FAIL" for *_, verdict in run.RESULTS) else 0


if __name__ == "__main__":
    raise SystemExit(main())
