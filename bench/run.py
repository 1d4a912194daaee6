"""obook benchmarks: python bench/run.py [--quick]

Everything runs against loopback venues this script starts, and every
comparison is measured side by side in the same run, so ratios mean
something on any machine. Needs obook installed in this Python's
environment (pip install '.[test]'), and tmux for the live-view figures.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from full_depth import bench_full_depth, bench_full_depth_process
from measure import cpu_seconds, floor_share, view_share
from servers import SEQ_BASE, BitsoFlood, RawFlood, bitso_frame, quiet_bitso, revx_server
from views import bench_views

OBOOK = str(Path(sys.executable).with_name("obook"))
RESULTS: list[tuple[str, str, str, str]] = []  # (figure, measured, budget, verdict)


def record(figure: str, measured: str, budget: str = "", ok: bool | None = None, goal_met: bool | None = None) -> None:
    """One figure; with a budget it gets a PASS/FAIL verdict (the exit status counts FAILs)."""
    verdict = "" if ok is None else ("FAIL" if not ok else "PASS, goal met" if goal_met else "PASS")
    RESULTS.append((figure, measured, budget, verdict))
    print(f"  {figure}: {measured}" + (f"  [budget {budget}: {verdict}]" if budget else ""), flush=True)


def record_ratio(figure: str, ratio: float, budget: float, goal: float, detail: str = "") -> None:
    """A ratio against a floor measured in the same run, with its budget and goal."""
    record(figure, f"**{ratio:.2f}x**" + (f" ({detail})" if detail else ""), f"<= {budget:g}x [{goal:g}x]", ratio <= budget, ratio <= goal)


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """Wall and CPU (user+sys) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})}, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


# The floors: the least a Python program must do for the same output with the
# same libraries obook uses, so a ratio measures obook's own overhead.
FLOOR_SNAPSHOT = """
import sys, httpx
response = httpx.get(sys.argv[1])
sys.stdout.write(response.text + "\\n")
"""

# websocket-client exactly as obook drives it (its pure-Python UTF-8 check off:
# obook decodes UTF-8 itself), then decode and re-encode each frame.
FLOOR_STREAM = """
import json, sys, websocket
ws = websocket.create_connection(sys.argv[1], skip_utf8_validation=True)
ws.send(json.dumps({"action": "subscribe", "book": "btc_mxn", "type": "orders"}))
wanted, got = int(sys.argv[2]), 0
while got < wanted:
    data = json.loads(ws.recv())
    if data.get("type") == "orders":
        sys.stdout.write(json.dumps(data) + "\\n")
        sys.stdout.flush()
        got += 1
"""


def bench_snapshot(runs: int, scratch: Path) -> None:
    print("snapshot: cold `obook snapshot revx BTC-USD --json` vs a minimal httpx GET script (paired runs, medians)")
    server = revx_server()
    floor = scratch / "floor_snapshot.py"
    floor.write_text(FLOOR_SNAPSHOT)
    url = server.url + "/api/1.0/public/order-book/BTC-USD"
    obook_runs, floor_runs = [], []
    for _ in range(runs):  # alternate, so both see the same machine state
        obook_runs.append(timed([OBOOK, "snapshot", "revx", "BTC-USD", "--json"], {"OBOOK_REVX_URL": server.url}))
        floor_runs.append(timed([sys.executable, str(floor), url]))
        time.sleep(0.05)
    server.stop()
    ob_wall, ob_cpu = (statistics.median(r[i] for r in obook_runs) for i in (0, 1))
    fl_wall, fl_cpu = (statistics.median(r[i] for r in floor_runs) for i in (0, 1))
    record_ratio("`snapshot revx --json`, cold process, vs the httpx floor", ob_cpu / fl_cpu, 1.15, 1.10,
                 f"CPU {ob_cpu * 1000:.0f} vs {fl_cpu * 1000:.0f} ms; wall {ob_wall * 1000:.0f} vs {fl_wall * 1000:.0f} ms, {ob_wall / fl_wall:.2f}x")


def bench_stream(frames: int, rounds: int, scratch: Path) -> None:
    print(f"stream: `obook watch bitso --feed top btc_mxn --json --count {frames}` vs a websocket-client loop (recv, json.loads, json.dumps); {rounds} paired rounds")
    floor = scratch / "floor_stream.py"
    floor.write_text(FLOOR_STREAM)
    runs: dict[str, list[tuple[float, float]]] = {"floor": [], "obook": []}
    for _ in range(rounds):
        for name in ("floor", "obook"):
            server = RawFlood(frames)  # a fresh flood each run; the server only does one sendall
            if name == "obook":
                cmd, env = [OBOOK, "watch", "bitso", "--feed", "top", "btc_mxn", "--json", "--count", str(frames)], {"OBOOK_BITSO_URL": server.url}
            else:
                cmd, env = [sys.executable, str(floor), server.url, str(frames)], {}
            runs[name].append(timed(cmd, env))
            server.stop()
    ob_wall, ob_cpu = (statistics.median(r[i] for r in runs["obook"]) for i in (0, 1))
    fl_wall, fl_cpu = (statistics.median(r[i] for r in runs["floor"]) for i in (0, 1))
    record_ratio(f"`watch bitso --feed top --json`, {frames:,} books of 20 orders a side, vs the websocket-client floor", ob_cpu / fl_cpu, 1.5, 1.1,
                 f"CPU {ob_cpu:.2f} vs {fl_cpu:.2f} s: {frames / ob_cpu:,.0f} books vs {frames / fl_cpu:,.0f} frames per CPU second; "
                 f"wall {ob_wall / fl_wall:.2f}x")


def _paired(commands: dict[str, list[tuple[list[str], dict]]], rounds: int) -> dict[str, list[float]]:
    """CPU seconds per round for each named group of commands (a group's commands run one
    after another and add up), the groups alternating within each round."""
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, group in commands.items():
            total = 0.0
            for cmd, env in group:
                total += timed(cmd, env)[1]
            cpu[name].append(total)
    return cpu


def bench_startup(runs: int) -> None:
    print(f"start-up: `obook --version` and `obook --help` vs `python -c pass` (paired, {runs} runs, medians)")
    unusable_cache = {"XDG_CACHE_HOME": "/dev/null/bench"}  # nothing can be remembered there: Typer renders every page
    commands = {"pass": [([sys.executable, "-c", "pass"], {})], "version": [([OBOOK, "--version"], {})], "help": [([OBOOK, "--help"], {})],
                "help, first time": [([OBOOK, "--help"], unusable_cache)]}
    cpu = _paired(commands, runs)
    floor = statistics.median(cpu["pass"])
    for name, budget, goal in (("version", 2.5, 2.0), ("help", 5.0, 4.0)):
        ob = statistics.median(cpu[name])
        record_ratio(f"`obook --{name}` vs `python -c pass`", ob / floor, budget, goal, f"CPU {ob * 1000:.0f} vs {floor * 1000:.0f} ms")
    first = statistics.median(cpu["help, first time"])
    record("`obook --help` the first time (Typer renders it; later the page is remembered) vs `python -c pass`",
           f"{first / floor:.2f}x (CPU {first * 1000:.0f} vs {floor * 1000:.0f} ms)")


SOURCES = ("btc_usd", "btc_usdt", "btc_usdc")  # one venue, three books, one flood: only obook's multi-source work differs

# The consolidated output done the obvious way: the three sources read in turn (each
# flood has every frame queued), each frame's orders summed by price, then per frame
# the three books merged by price (Decimal keys), the best 20 a side with totals,
# counts and `venues`, best/spread/mid, `sources`, `crossed`, json.dumps.
FLOOR_MERGE = """
import json, sys
from datetime import datetime, timezone
from decimal import Decimal
import websocket

DEPTH = 20
keys = ["bitso:" + symbol for symbol in sys.argv[2:5]]
links = []
for key in keys:
    ws = websocket.create_connection(sys.argv[1], skip_utf8_validation=True)
    ws.send(json.dumps({"action": "subscribe", "book": key.split(":")[1], "type": "orders"}))
    links.append(ws)
books = [None] * len(keys)


def iso(stamp):
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def side(orders):
    levels = {}
    for order in orders:
        price, amount = Decimal(order["r"]), Decimal(order["a"])
        level = levels.get(price)
        levels[price] = [amount, 1] if level is None else [level[0] + amount, level[1] + 1]
    return levels


def merged(name, is_bid):
    levels = {}
    for key, book in zip(keys, books):
        if book is None:
            continue
        for price, (amount, count) in book[name].items():
            level = levels.setdefault(price, [Decimal(0), 0, {}])
            level[0] += amount
            level[1] += count
            level[2][key] = str(amount)
    out, total = [], Decimal(0)
    for price in sorted(levels, reverse=is_bid)[:DEPTH]:
        amount, count, venues = levels[price]
        total += amount
        out.append({"price": str(price), "amount": str(amount), "total": str(total), "count": count, "venues": venues})
    return out


def crossed():
    widest = None
    for bidder, bid_book in enumerate(books):
        for asker, ask_book in enumerate(books):
            if bid_book is None or ask_book is None or bidder == asker or not bid_book["bids"] or not ask_book["asks"]:
                continue
            bid, ask = max(bid_book["bids"]), min(ask_book["asks"])
            if bid > ask and (widest is None or bid - ask > widest[0]):
                widest = (bid - ask, keys[bidder], bid, keys[asker], ask)
    if widest is None:
        return None
    gap, bid_key, bid, ask_key, ask = widest
    return {"bid_venue": bid_key, "bid": str(bid), "ask_venue": ask_key, "ask": str(ask), "gap": str(gap), "gap_bps": str((gap / ask * 10000).quantize(Decimal("0.01")))}


wanted, got = int(sys.argv[5]), 0
while got < wanted:
    index = got % len(links)
    data = json.loads(links[index].recv())
    if data.get("type") != "orders" or "payload" not in data:  # the ack
        continue
    stamp = datetime.fromtimestamp(data["sent"] / 1000, timezone.utc)
    books[index] = {"bids": side(data["payload"]["bids"]), "asks": side(data["payload"]["asks"]), "timestamp": stamp,
                    "received_at": datetime.now(timezone.utc), "symbol": keys[index].split(":")[1]}
    bids, asks = merged("bids", True), merged("asks", False)
    best_bid = Decimal(bids[0]["price"]) if bids else None
    best_ask = Decimal(asks[0]["price"]) if asks else None
    both = best_bid is not None and best_ask is not None
    live = [book for book in books if book is not None]
    sys.stdout.write(json.dumps({
        "venue": "consolidated", "symbol": "BTC-USD", "timestamp": iso(max(book["timestamp"] for book in live)),
        "received_at": iso(max(book["received_at"] for book in live)), "bids": bids, "asks": asks,
        "best_bid": str(best_bid) if best_bid is not None else None, "best_ask": str(best_ask) if best_ask is not None else None,
        "spread": str(best_ask - best_bid) if both else None, "mid": str((best_ask + best_bid) / 2) if both else None,
        "sequence": None,
        "sources": [{"venue": "bitso", "symbol": book["symbol"], "timestamp": iso(book["timestamp"]), "received_at": iso(book["received_at"]),
                     "sequence": None} for book in live],
        "crossed": crossed(), "excluded": []}, separators=(",", ":")) + "\\n")
    sys.stdout.flush()
    got += 1
"""


def bench_multi(frames: int, rounds: int, scratch: Path) -> None:
    print(f"several sources: 3 Bitso `--feed top` sources, {frames:,} books each, --merge and side by side, "
          f"vs the same input read one source at a time; {rounds} paired rounds")
    messages = [json.dumps({k: v for k, v in json.loads(bitso_frame(i)).items() if k != "book"}) for i in range(1000)]  # any book's
    flood = RawFlood(frames, messages)
    env = {"OBOOK_BITSO_URL": flood.url}
    single = [([OBOOK, "watch", "bitso", "--feed", "top", symbol, "--json", "--count", str(frames)], env) for symbol in SOURCES]
    sources = [f"bitso:{symbol}" for symbol in SOURCES]
    aliases = ["--quote-alias", "USDT=USD", "--quote-alias", "USDC=USD"]
    count = ["--json", "--count", str(3 * frames)]
    floor = scratch / "floor_merge.py"
    floor.write_text(FLOOR_MERGE)
    commands = {
        "one at a time": single,
        "merged": [([OBOOK, "watch", "--feed", "top", *sources, "--merge", *aliases, *count], env)],
        "side by side": [([OBOOK, "watch", "--feed", "top", *sources, *count], env)],
        "plain merge": [([sys.executable, str(floor), flood.url, *SOURCES, str(3 * frames)], {})],
    }
    cpu = _paired(commands, rounds)
    flood.stop()
    alone = statistics.median(cpu["one at a time"])
    merged, side, plain = statistics.median(cpu["merged"]), statistics.median(cpu["side by side"]), statistics.median(cpu["plain merge"])
    record_ratio("3 sources `--merge --json` vs the 3 single-source runs", merged / alone, 1.3, 1.1, f"CPU {merged:.2f} vs {alone:.2f} s")
    record("3 sources `--merge --json` vs a plain program writing the same consolidated books (the same output work, done the obvious way)",
           f"**{merged / plain:.2f}x** (CPU {merged:.2f} vs {plain:.2f} s; the plain program is {plain / alone:.2f}x the 3 single-source runs)")
    record_ratio("3 sources side by side `--json` vs the 3 single-source runs", side / alone, 1.1, 1.0, f"CPU {side:.2f} vs {alone:.2f} s")


def bench_render() -> None:
    print("render: one ladder frame, Rich console 120 columns, colours on")
    from rich.console import Console

    from orderbook_cli.book import RawLevel, make_book
    from orderbook_cli.timefmt import now_utc
    from orderbook_cli.views.ladder import ladder
    from orderbook_cli.views.state import LadderView

    for levels in (20, 50, 200):
        bids = [RawLevel(Decimal(f"{50000 - i}.{i % 100:02d}"), Decimal(f"0.{i + 1:04d}"), i % 5 + 1) for i in range(levels)]
        asks = [RawLevel(Decimal(f"{50100 + i}.{i % 100:02d}"), Decimal(f"1.{i:04d}"), i % 3 + 1) for i in range(levels)]
        book = make_book("bench", "BTC-USD", bids, asks, timestamp=None, received_at=now_utc())
        console = Console(file=io.StringIO(), width=120, force_terminal=True, color_system="truecolor")
        view = LadderView(state="live", age=0.1, updates_per_second=10.0)
        repeats = 40 if levels < 200 else 10
        start = time.perf_counter()
        for _ in range(repeats):
            console.print(ladder(book, view))
        per = (time.perf_counter() - start) / repeats
        record(f"render one ladder frame, {levels} levels a side", f"{per * 1000:.1f} ms")


class Pane:
    def __init__(self, scratch: Path, command: str, width: int = 120, height: int = 40):
        self.socket = str(scratch / f"tmux-{time.monotonic_ns()}")
        subprocess.run(["tmux", "-S", self.socket, "new-session", "-d", "-s", "b", "-x", str(width), "-y", str(height), command], check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "-S", self.socket, "capture-pane", "-p", "-t", "b"], capture_output=True, text=True).stdout

    def obook_pid(self) -> int:
        pane_pid = subprocess.run(["tmux", "-S", self.socket, "display", "-p", "-t", "b", "#{pane_pid}"], capture_output=True, text=True).stdout.strip()
        children = subprocess.run(["pgrep", "-P", pane_pid], capture_output=True, text=True).stdout.split()
        return int(children[0]) if children else int(pane_pid)

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True)


# The same decode-and-encode loop, fed at a fixed rate and never ending: what
# merely keeping up with the feed costs, next to what the ladder costs.
FLOOR_LIVE = """
import json, sys, websocket
ws = websocket.create_connection(sys.argv[1], skip_utf8_validation=True)
ws.send(json.dumps({"action": "subscribe", "book": "btc_mxn", "type": "orders"}))
out = open("/dev/null", "w")
while True:
    data = json.loads(ws.recv())
    if data.get("type") == "orders":
        out.write(json.dumps(data) + "\\n")
        out.flush()
"""


_FLOOR_LIVE_CPU: dict[tuple[int, float], float] = {}


def floor_live_cpu(scratch: Path, rate: int, seconds: float) -> float:
    """The floor's share of one core fed `rate` messages/s (measured once per run)."""
    if (rate, seconds) not in _FLOOR_LIVE_CPU:
        _FLOOR_LIVE_CPU[rate, seconds] = _floor_live_cpu(scratch, rate, seconds)
    return _FLOOR_LIVE_CPU[rate, seconds]


def _floor_live_cpu(scratch: Path, rate: int, seconds: float) -> float:
    flood = BitsoFlood(int(rate * (seconds + 4)), rate=rate)
    try:
        return floor_share(FLOOR_LIVE, scratch / "floor_live.py", flood.url, seconds)
    finally:
        flood.stop()


LIVE_BUDGET, LIVE_GOAL = 2.0, 1.5  # the live views' CPU at 1,000 messages/s against the stream floor's


def bench_live(scratch: Path, seconds: float) -> None:
    if not shutil.which("tmux"):
        record("live view", "skipped: tmux not installed")
        return
    rate = 1000
    print(f"live view under load: the ladder in tmux (120x40) fed {rate} messages/s of 20-order frames, and the floor fed the same")
    floor_cpu = floor_live_cpu(scratch, rate, seconds)
    flood = BitsoFlood(int(rate * (seconds + 8)), rate=rate)
    pane = Pane(scratch, f"OBOOK_BITSO_URL={flood.url} {OBOOK} watch bitso --feed top btc_mxn")
    try:
        deadline = time.monotonic() + 10
        while "spread" not in pane.screen() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)
        pid = pane.obook_pid()
        lags = []
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        end = t0 + seconds
        while time.monotonic() < end:
            sent_before = len(flood.sent_at)
            screen = pane.screen()
            shown = _shown_seq(screen)
            if shown is not None and sent_before:
                # frames sent before the capture started that the screen does not show yet
                behind = max(0, (sent_before - 1) - shown)
                lags.append(behind / rate * 1000)
            time.sleep(0.2)
        cpu = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
        frame_ms = 1000 / 20
        record_ratio(f"live ladder fed {rate:,} messages/s of 20-order frames: CPU vs the floor fed the same", cpu / floor_cpu, LIVE_BUDGET, LIVE_GOAL,
                     f"{cpu * 100:.0f}% vs {floor_cpu * 100:.0f}% of one core")
        if lags:
            worst = max(lags)
            record("live ladder: screen behind the newest book", f"median {statistics.median(lags):.0f} ms, max {worst:.0f} ms ({len(lags)} samples; frames are {frame_ms:.0f} ms apart)",
                   "<= one frame (+ one capture)", worst <= 2 * frame_ms)
        else:
            record("live ladder: screen behind the newest book", "no sample: the screen never showed a book", "<= one frame", False)
    finally:
        pane.close()
        flood.stop()


def _shown_seq(screen: str) -> int | None:
    """Which frame the screen shows: the flood's best bid is SEQ_BASE + its sequence number."""
    for line in screen.splitlines():
        if line.startswith("bid"):
            try:
                return int(line.split()[1]) - SEQ_BASE
            except (IndexError, ValueError):
                return None
    return None


def bench_idle(scratch: Path, seconds: float) -> None:
    if not shutil.which("tmux"):
        record("idle CPU", "skipped: tmux not installed")
        return
    print(f"idle: the ladder on a quiet book (keep-alives only) for {seconds:.0f} s")
    quiet = quiet_bitso()
    pane = Pane(scratch, f"OBOOK_BITSO_URL={quiet.url} {OBOOK} watch bitso --feed top btc_mxn")
    try:
        cpu, _ = view_share(pane, "spread", seconds)
        record("idle CPU, ladder on a quiet book", f"**{cpu * 100:.1f}%** of one core", "<= 1%", cpu <= 0.01)
    finally:
        pane.close()
        quiet.stop()


def bench_memory(frames: int) -> None:
    print(f"memory: RSS of `obook watch --json` over {frames:,} frames")
    server = RawFlood(frames)
    proc = subprocess.Popen([OBOOK, "watch", "bitso", "--feed", "top", "btc_mxn", "--json", "--count", str(frames)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env={**os.environ, "OBOOK_BITSO_URL": server.url})
    samples = []
    for count, _ in enumerate(proc.stdout, 1):
        if count % (frames // 10) == 0 and count < frames:
            samples.append(int(next(line for line in open(f"/proc/{proc.pid}/status") if line.startswith("VmRSS:")).split()[1]))
    proc.wait()
    server.stop()
    growth = samples[-1] - samples[1]
    record(f"memory of `watch --json` over {frames:,} books", f"RSS {samples[1] / 1024:.1f} MiB at {frames // 5:,}, {samples[-1] / 1024:.1f} MiB at {frames * 9 // 10:,} (growth {growth} KiB)",
           "flat (< 4 MiB growth)", growth < 4096)


def bench_peer(runs: int) -> None:
    print("versus a peer: the same one-shot book with CCXT's revolutx (if ccxt is installed)")
    try:
        import ccxt
    except ImportError:
        record("ccxt revolutx", "not measured: ccxt is not installed (pip install ccxt; it is not an obook dependency)")
        return
    if not hasattr(ccxt, "revolutx"):
        record("ccxt revolutx", f"not measured: ccxt {ccxt.__version__} has no revolutx exchange")
        return
    server = revx_server()
    script = (
        "import sys, ccxt\n"
        "ex = ccxt.revolutx()\n"
        "ex.urls['api'] = {k: sys.argv[1] + '/api' for k in (ex.urls.get('api') or {'public': 0})}\n"
        "print(ex.fetch_order_book('BTC/USD'))\n"
    )
    times = []
    for _ in range(runs):
        try:
            times.append(timed([sys.executable, "-c", script, server.url])[0])
        except subprocess.CalledProcessError:
            record("ccxt revolutx", "not measured: ccxt could not be pointed at the local server")
            server.stop()
            return
    record("ccxt revolutx fetch_order_book (median, cold process, loads markets first)", f"{statistics.median(times) * 1000:.0f} ms")
    server.stop()


def _byte_compile_obook() -> None:
    """As pip does when it installs a package (the floors' libraries are compiled
    too): an editable install run with PYTHONDONTWRITEBYTECODE would otherwise
    recompile obook's modules on every start."""
    import compileall

    import orderbook_cli

    compileall.compile_dir(str(Path(orderbook_cli.__file__).parent), quiet=1)


def _editable_install() -> bool:
    """The obook installed in this Python's environment is `pip install -e` (a path hook)."""
    import sysconfig

    return any(Path(sysconfig.get_paths()["purelib"]).glob("__editable__.obook-*.pth"))


BENCHES = ("startup", "snapshot", "stream", "full_depth_process", "multi", "render", "live", "views", "idle", "memory", "full_depth", "peer")
BENCHES = (*BENCHES, "trades")  # bench/trades.py: the ladder with the tape


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer runs and frames (a smoke run)")
    parser.add_argument("--only", action="append", choices=sorted(BENCHES), help="run only this benchmark (repeatable)")
    parser.add_argument("--obook", help="the obook command to measure (default: the one installed next to this Python), e.g. an older checkout's")
    args = parser.parse_args()
    if args.obook:
        global OBOOK
        OBOOK = args.obook
    runs, frames, rounds, seconds, soak = (5, 2000, 1, 3, 20_000) if args.quick else (15, 20_000, 3, 8, 100_000)
    print(f"obook benchmarks on {platform.machine()} {platform.system()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f} at the start\n")
    _byte_compile_obook()
    if _editable_install():
        print("note: obook is an editable install: its import hook makes every Python start here ~11 ms slower, "
              "`python -c pass` included, which flatters the start-up ratios; measure a plain `pip install .`\n")
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        calls = {
            "startup": lambda: bench_startup(runs),
            "snapshot": lambda: bench_snapshot(runs, scratch),
            "multi": lambda: bench_multi(frames // 4, 1 if args.quick else 5, scratch),  # short runs: more rounds for a steady median
            "stream": lambda: bench_stream(frames, rounds, scratch),
            "render": bench_render,
            "live": lambda: bench_live(scratch, seconds),
            "views": lambda: bench_views(record, Pane, scratch, seconds, OBOOK, 20 if args.quick else 60,
                                         floor=lambda: floor_live_cpu(scratch, 1000, seconds), record_ratio=record_ratio,
                                         budget=(LIVE_BUDGET, LIVE_GOAL)),
            "idle": lambda: bench_idle(scratch, seconds),
            "memory": lambda: bench_memory(soak),
            "full_depth": lambda: bench_full_depth(record, args.quick),
            "full_depth_process": lambda: bench_full_depth_process(record_ratio, timed, OBOOK, scratch, frames, 1 if args.quick else 5),  # five paired ratios: three swung Kraken's median by 0.15
            "peer": lambda: bench_peer(runs),
            "trades": lambda: __import__("trades").bench_trades(record, record_ratio, Pane, scratch, seconds, OBOOK),
        }
        for name in BENCHES:
            if not args.only or name in args.only:
                try:
                    calls[name]()
                except Exception as error:  # one broken benchmark must not hide the others' figures
                    record(f"{name} benchmark", f"crashed: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}", "runs", False)
    print("\n| figure | measured | budget [goal] | result |\n|---|---|---|---|")
    for figure, measured, budget, verdict in RESULTS:
        print(f"| {figure} | {measured} | {budget} | {verdict} |")
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end; {sum(v == 'FAIL' for *_, v in RESULTS)} figure(s) over budget")
    return 1 if any(verdict == "FAIL" for *_, verdict in RESULTS) else 0


if __name__ == "__main__":
    raise SystemExit(main())
