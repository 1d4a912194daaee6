"""The README's examples, run as written: every `obook` line of its shell blocks
(pipes to jq, redirections and all) runs in bash against loopback venues that
answer whatever book a line asks for, with the README's own config file. A
README line that stops working fails here.

A line that runs until Ctrl-C (a live view, a recording) gets Ctrl-C after a
few seconds, as a user would press it; it must have printed (or written) its
books by then. Every line must end with the contract's exit status and print
no error and no traceback.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
import zlib
from pathlib import Path

import pytest

from tests.conftest import OBOOK
from tests.kraken.server import STATUS, KrakenBook, ack, answer
from tests.servers.http_venue import Reply

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
TRADES = ROOT / "tests" / "payloads" / "trades"
RUNS_UNTIL_CTRL_C = 3.0  # seconds a line that never ends by itself is watched before Ctrl-C
SEED_SEQUENCE = 100


def shell_blocks(text: str) -> list[list[str]]:
    """The command lines of each ```sh block, comments cut (a `#` after two spaces)."""
    blocks = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        lines = [re.sub(r"\s{2,}#.*$", "", line).strip() for line in block.splitlines()]
        blocks.append([line for line in lines if line and not line.startswith("#")])
    return blocks


def obook_blocks() -> list[list[str]]:
    """Each block's obook lines, and the `mkdir -p` lines their redirections need (a block's lines run in order)."""
    blocks = [[line for line in block if re.search(r"(^|\| )obook ", line) or re.fullmatch(r"mkdir -p \S+", line)] for block in shell_blocks(README)]
    return [block for block in blocks if block]


def config_example() -> str:
    return re.search(r"```toml\n(.*?)```", README.split("## Configuration", 1)[1], flags=re.S).group(1)


# ---------------------------------------------------------------- venues that answer any book

def _deflated(text: str) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(text.encode()) + packer.flush()


def _subscriptions(peer, first) -> list:
    """The first subscription and any sent right after it."""
    subs = [first]
    while True:
        try:
            subs.append(peer.expect_json(timeout=0.3))
        except TimeoutError:
            return subs


def bitso(peer) -> None:
    """diff-orders after the REST seed's sequence, orders (top) or trades, for the book asked."""
    subs = _subscriptions(peer, peer.expect_json())
    for sub in subs:
        peer.send({"action": "subscribe", "response": "ok", "time": 1, "type": sub["type"], "book": sub["book"]})
    trade = json.loads((TRADES / "bitso_trades_doc.json").read_text())
    for step in range(1, 400):
        for sub in subs:
            book = sub["book"]
            if sub["type"] == "diff-orders":
                side, price = (0, str(900 - step)) if step % 2 else (1, str(1100 + step))
                order = {"o": f"n{step}", "d": 1, "r": price, "t": side, "a": "0.1", "v": "1", "s": "open", "z": 1}
                peer.send({"type": "diff-orders", "book": book, "sequence": SEED_SEQUENCE + step, "sent": 1767225600000 + step,
                           "payload": [order]})
            elif sub["type"] == "orders":
                orders = [{"o": f"b{i}", "r": str(1000 - i - step % 3), "a": "0.5", "v": "1", "t": 0, "d": 1} for i in range(3)]
                orders += [{"o": f"a{i}", "r": str(1010 + i), "a": "0.25", "v": "1", "t": 1, "d": 1} for i in range(3)]
                peer.send({"type": "orders", "book": book, "sent": 1767225600000 + step,
                           "payload": {"bids": orders[:3], "asks": orders[3:]}})
            else:
                trade["book"] = book
                trade["payload"][0]["i"] = 77777 + step
                peer.send(trade)
        time.sleep(0.02)
    peer.hold()


def bitso_seed(request) -> Reply:
    book = dict(part.split("=", 1) for part in request.query.split("&") if "=" in part).get("book", "btc_mxn")

    def order(oid, price, amount):
        return {"book": book, "price": price, "amount": amount, "oid": oid}

    bids = [order("b1", "1000", "1.0"), order("b2", "1000", "0.5"), order("b3", "990", "2.0")]
    asks = [order("a1", "1010", "0.25"), order("a2", "1020", "3.0")]
    return Reply(200, {"success": True, "payload": {"bids": bids, "asks": asks, "updated_at": "2026-01-01T00:00:00+00:00",
                                                     "sequence": str(SEED_SEQUENCE)}})


def bitmart_v3(peer) -> None:
    """increase100 (snapshot, then updates), depth20 (top) or trades, for the symbol asked."""
    subs = [arg for sub in _subscriptions(peer, peer.expect_json()) for arg in sub["args"]]
    for arg in subs:
        peer.send({"event": "subscribe", "topic": arg})
    trade = json.loads((TRADES / "bitmart_trade_doc.json").read_text())
    for step in range(0, 400):
        for arg in subs:
            channel, symbol = arg.split(":", 1)
            if channel == "spot/depth/increase100":
                kind = "snapshot" if step == 0 else "update"
                bids = [["1000", "1"], ["999", "2"]] if step == 0 else [[str(990 - step % 50), "0.5"]]
                asks = [["1010", "1"], ["1011", "2"]] if step == 0 else []
                data = {"asks": asks, "bids": bids, "ms_t": 1767225600000 + step, "symbol": symbol, "type": kind, "version": 10 + step}
                peer.send(_deflated(json.dumps({"table": channel, "data": [data]})))
            elif channel == "spot/depth20":
                data = {"bids": [["1000", "1"]], "asks": [["1010", str(1 + step % 3)]], "symbol": symbol, "ms_t": 1767225600000 + step}
                peer.send(_deflated(json.dumps({"table": channel, "data": [data]})))
            else:
                for item in trade["data"]:
                    item["symbol"] = symbol
                peer.send(json.dumps(trade))
        try:  # answer pings; a client's seed request is answered by the next round's frames
            peer.recv(timeout=0.02)
        except TimeoutError:
            pass
    peer.hold()


# bid-heavy (imbalance@25bps 40%), so the README's imbalance alert fires
def kraken(peer) -> None:
    """Kraken v2: the book channel (a checksummed snapshot, then the venue's answers) or trades, for the pair asked."""
    peer.send(STATUS)
    request = peer.expect_json()
    params = request["params"]
    symbol = params["symbol"][0]
    if params["channel"] == "book":
        book = KrakenBook(symbol, params["depth"], [("1000.0", "1.5"), ("999.5", "2")], [("1010.0", "0.25"), ("1011.5", "3")])
        peer.send(ack("subscribe", symbol, params["depth"]))
        peer.send(book.snapshot())
        answer(peer, lambda _params: book, seconds=10)
        return
    peer.send(json.dumps({"method": "subscribe", "result": {"channel": "trade", "snapshot": False, "symbol": symbol},
                          "success": True, "time_in": "2026-12-05T10:00:00.000001Z", "time_out": "2026-12-05T10:00:00.000002Z"}))
    trade = json.loads((TRADES / "kraken_trade_update_btcusd.json").read_text())
    for step in range(1, 400):
        trade["data"][0].update(symbol=symbol, trade_id=105994519 + step)
        peer.send(json.dumps(trade))
        time.sleep(0.02)
    peer.hold()


REVX_BOOK = {"data": {"bids": [{"p": "86612", "q": "2.5", "no": "1"}, {"p": "86610", "q": "0.3", "no": "2"}],
                      "asks": [{"p": "86615", "q": "0.2", "no": "1"}, {"p": "86620", "q": "1", "no": "4"}]},
             "metadata": {"timestamp": 1763700000500}}


@pytest.fixture
def venues(ws_venue, http_venue) -> dict[str, str]:
    """Every venue the README names, on loopback; the environment that points obook at them."""
    http_venue.route("/api/v3/order_book/", bitso_seed)
    for symbol in ("BTC-USD", "ETH-USD"):
        for version in ("1.0", "2.0"):  # shallow books on v1, deeper on v2
            http_venue.route(f"/api/{version}/public/order-book/{symbol}", Reply(200, REVX_BOOK))
    http_venue.route("/api/1.0/public/trades/all", Reply(200, json.loads((TRADES / "revx_trades_doc.json").read_text())))
    return {"OBOOK_BITSO_URL": ws_venue(bitso).url, "OBOOK_BITSO_REST_URL": http_venue.url,
            "OBOOK_REVX_URL": http_venue.url, "OBOOK_BITMART_V3_URL": ws_venue(bitmart_v3).url,
            "OBOOK_KRAKEN_URL": ws_venue(kraken).url}


# ---------------------------------------------------------------- running a line as a user would

def run_line(line: str, cwd: Path, env: dict[str, str]) -> tuple[int, str, str, bool]:
    """(exit status, stdout, stderr, whether it got Ctrl-C): bash runs the line with the installed obook first on PATH.

    A line still running after RUNS_UNTIL_CTRL_C gets Ctrl-C once it has written something (to stdout or to the
    file it redirects to), as a user presses it after seeing the books: a loaded machine slows the first book, not
    the verdict. Output a pipe holds back (jq buffers) cannot be seen: such a line gets Ctrl-C at 3× the time."""
    full_env = {**os.environ, **env, "PATH": f"{Path(OBOOK).parent}:{os.environ['PATH']}", "COLUMNS": "120"}
    before = {path: path.stat().st_size for path in cwd.iterdir() if path.is_file()}
    proc = subprocess.Popen(["bash", "-o", "pipefail", "-c", line], cwd=cwd, env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    out: list[bytes] = []
    err: list[bytes] = []

    def read(fd: int, into: list[bytes]) -> None:
        while chunk := os.read(fd, 65536):
            into.append(chunk)

    readers = [threading.Thread(target=read, args=(stream.fileno(), into), daemon=True)
               for stream, into in ((proc.stdout, out), (proc.stderr, err)) if stream is not None]
    for reader in readers:
        reader.start()

    redirected = [cwd / name for name in re.findall(r"(?<![>'\w])>>? *([A-Za-z][\w.]*)", line)]  # `> books.ndjson`, `cat >> alerts.ndjson`

    def wrote_something() -> bool:
        if redirected:  # the books go to a file: wait for them there
            return all(path.is_file() and path.stat().st_size > before.get(path, 0) for path in redirected)
        if out:
            return True
        files = [path for path in cwd.iterdir() if path.is_file()]
        return any(path.stat().st_size != before.get(path) for path in files)

    started = time.monotonic()
    pressed = False
    while proc.poll() is None and time.monotonic() - started < 60:
        waited = time.monotonic() - started
        if waited >= RUNS_UNTIL_CTRL_C and not pressed and (wrote_something() or waited >= 3 * RUNS_UNTIL_CTRL_C):
            pressed = True  # Ctrl-C to obook (a jq after it then ends at the end of its input, printing all it read)
            for pid in _obook_processes(proc.pid) or [proc.pid]:
                os.kill(pid, signal.SIGINT)
        time.sleep(0.05)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    for reader in readers:
        reader.join(timeout=10)
    return proc.returncode, b"".join(out).decode(errors="replace"), b"".join(err).decode(errors="replace"), pressed


def _obook_processes(group: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = stat.with_name("cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[2]) == group and b"obook" in command and not command.startswith(b"bash"):
            found.append(int(stat.parent.name))
    return found


BLOCKS = obook_blocks()


def test_the_readme_has_the_examples_this_test_runs():
    lines = [line for block in BLOCKS for line in block]
    assert len(lines) >= 30
    assert "obook snapshot revx BTC-USD --json | jq -r '.asks[0].price'" in lines
    assert "[boards]" in config_example()  # the config the @board lines use is the README's own


@pytest.mark.parametrize("block", BLOCKS, ids=[f"{n}:{block[0][:40]}" for n, block in enumerate(BLOCKS)])
def test_every_readme_example_runs(block, venues, tmp_path, isolated_user_state):
    config = isolated_user_state / ".config" / "obook" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(config_example(), encoding="utf-8")
    failures = []
    for line in block:
        code, out, err, interrupted = run_line(line, tmp_path, venues)
        redirected = ">" in line or "--svg" in line or line.startswith("mkdir ")
        problems = []
        # Ctrl-C: 130, or death by SIGINT (-2) when bash ran obook as its only command
        if code not in ((0, 130, -signal.SIGINT) if interrupted else (0,)):
            problems.append(f"exit {code}")
        if "Traceback" in err or re.search(r"\berror\b", err):
            problems.append("an error on stderr")
        if not redirected and not out.strip():
            problems.append("no output")
        if "jq" in line and out.strip() in ("", "[]", "null"):
            problems.append("jq found nothing")
        if problems:
            failures.append(f"{line}\n    {', '.join(problems)}: stdout {out[:200]!r} stderr {err[:300]!r}")
    assert not failures, "README examples that do not work:\n" + "\n".join(failures)
    for written in re.findall(r"(?:> |--svg |--record )([A-Za-z][\w.]*)", " ".join(block)):  # the files a block writes
        assert (tmp_path / written).stat().st_size > 0, written


def test_the_readme_sample_screen_is_what_replay_sample_draws(terminal):
    """The README's picture of the ladder, against the real one: `obook replay --sample --speed 0.01`
    (slowed so the first book stays) in an 80×12 terminal. Only the age may differ."""
    section = README.split("### Reading the ladder", 1)[1]
    command, size = re.search(r"`(obook replay --sample[^`]*)` in an (\d+×\d+) terminal", section).groups()
    width, height = (int(n) for n in size.split("×"))
    picture = re.search(r"```\n(.*?)```", section, flags=re.S).group(1).rstrip("\n").splitlines()
    terminal.start(f"{OBOOK} {command.removeprefix('obook ')}", width=width, height=height)
    screen = terminal.wait_for(r"book 1/240[\s\S]*near mid", timeout=20, stable=True).rstrip("\n").splitlines()

    def without_age(lines: list[str]) -> list[str]:
        return [re.sub(r"age \d+\.\ds", "age …", line).rstrip() for line in lines]

    assert without_age(screen) == without_age(picture)
