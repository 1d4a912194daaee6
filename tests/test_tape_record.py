"""`watch --record` keeps the tape's trade frames beside the book's, and `replay`
plays them back into the same panes (tape, volume delta, 1m vol, heatmap marks);
NDJSON replay stays books only. Against loopback venues and the installed obook."""

from __future__ import annotations

import gzip
import io
import json
import shlex
import shutil
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orderbook_cli.feed import FeedRequest, State, StatusEvent
from orderbook_cli.recording import replay_feed
from orderbook_cli.tape import ReplayedTrades, TradesEvent
from tests.conftest import OBOOK
from tests.test_tape import deflated, raw
from tests.test_terminal import Terminal, orders


def lifted_and_hit() -> str:
    """A buy of 0.5 at the best ask (8000) and a sell of 0.25 at the best bid (7001), at the book's time."""
    doc = json.loads(raw("bitso_trades_doc.json"))
    lifted = {**doc["payload"][0], "i": 1, "r": "8000", "a": "0.5", "t": 0, "x": 1700000000001}
    hit = {**doc["payload"][0], "i": 2, "r": "7001", "a": "0.25", "t": 1, "x": 1700000000001}
    return json.dumps({**doc, "payload": [lifted, hit], "sent": 1700000000001})


def bitso_with_trades(peer) -> None:
    if peer.expect_json()["type"] == "trades":  # the tape's own connection
        peer.send(raw("bitso_trades_ack_recorded.json"))
        peer.send(lifted_and_hit())
    else:
        peer.send({"action": "subscribe", "response": "ok", "time": 1, "type": "orders"})
        peer.send(orders(1))
    peer.hold(20)


def records(path) -> list[dict]:
    with gzip.open(path, "rt") as file:
        return [json.loads(line) for line in file]


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_record_keeps_the_trade_frames_and_replay_shows_them_in_the_same_panes(terminal, ws_venue, tmp_path):
    target = tmp_path / "session.raw.gz"
    venue = ws_venue(bitso_with_trades)
    terminal.start(f"OBOOK_BITSO_URL={shlex.quote(venue.url)} {shlex.quote(OBOOK)} watch bitso --feed top btc_mxn "
                   f"--record {shlex.quote(str(target))}", width=150, height=45)
    live = terminal.wait_for(r"delta \+0\.25", stable=True)
    assert "trades bitso btc_mxn" in live
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")

    kept = records(target)
    assert kept[0]["venue"] == "bitso" and kept[0]["feed"] == "top"
    assert sum(1 for r in kept if r.get("trades_connect") is True) == 1
    assert [r["trades"] for r in kept if "trades" in r] == [raw("bitso_trades_ack_recorded.json"), lifted_and_hit()]  # verbatim
    assert any("frame" in r and '"type": "orders"' in r["frame"] for r in kept)  # the book's frames, as before

    again = Terminal()
    try:
        again.start(f"{shlex.quote(OBOOK)} replay {shlex.quote(str(target))} --speed max", width=150, height=45)
        screen = again.wait_for(r"end of recording", stable=True)
        lines = screen.splitlines()
        assert "trades bitso btc_mxn" in lines[0] and "bought 0.5" in lines[0] and "sold 0.25" in lines[0]
        assert "delta +0.25" in screen  # the ladder's header: taker buys minus sells, from the recording
        tape_rows = [line[-44:].split() for line in lines[1:3]]
        assert [row[1:4] for row in tape_rows] == [["-", "0.25", "7001"], ["+", "0.50", "8000"]]  # newest first
        titles = next(line for line in lines if "price" in line and "amount" in line)
        end = titles.index("1m vol BTC") + len("1m vol BTC")
        rows = {line.split()[1]: line for line in lines if line.startswith(("ask ", "bid "))}
        assert rows["8000"][end - 4:end] == "0.50" and rows["7001"][end - 4:end] == "0.25"  # the last minute of the recording
        again.keys("t")
        again.wait_for(lambda s: "trades bitso" not in s and "1m vol BTC" in s)
        again.keys("t", "vv")  # the tape back; ladder -> chart -> heatmap
        heat = again.wait_for(r"1s/col", stable=True)
        assert "●" in heat or "@" in heat  # the recorded prints marked at their price and time
        again.keys("q")
        again.wait_for(r"EXIT=0")
    finally:
        again.close()


def write_recording(path, venue: str, symbol: str, events: list[dict]) -> None:
    header = {"obook_raw_recording": 1, "venue": venue, "symbol": symbol, "depth": 5, "feed": "top", "obook": "test"}
    start = datetime(2026, 12, 5, 10, 0, tzinfo=UTC).timestamp()
    lines = [json.dumps(header)]
    for n, event in enumerate(events):
        stamp = datetime.fromtimestamp(start + n / 10, UTC).isoformat(timespec="microseconds")
        lines.append(json.dumps({"t": stamp, **event}))
    path.write_text("\n".join(lines) + "\n")


def test_ndjson_replay_of_a_recording_with_trades_is_its_books_only(obook, tmp_path):
    session = tmp_path / "session.raw"
    write_recording(session, "bitso", "btc_mxn", [
        {"connect": True}, {"frame": json.dumps(orders(1))},
        {"trades_connect": True}, {"trades": raw("bitso_trades_ack_recorded.json")}, {"trades": lifted_and_hit()},
        {"frame": json.dumps(orders(2))},
    ])
    run = obook("replay", str(session), "--speed", "max", "--json", "--debug")
    assert run.code == 0, run
    assert [book["best_bid"] for book in run.lines()] == ["7001", "7002"]
    assert "skipped" not in run.stderr  # trade records are not bad lines: NDJSON carries books only


def drain(feed, replayed: ReplayedTrades, seconds: float = 5.0) -> list:
    """Run the replay to its end; what reached the tape."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        event = feed.get(timeout=0.2)
        if isinstance(event, StatusEvent) and event.state is State.CLOSED:
            break
    feed.close()
    out = []
    while (event := replayed.get()) is not None:
        out.append(event)
    return out


def test_replayed_binary_trade_frames_go_through_the_venues_own_parser(tmp_path):
    """BitMart's deflated binary trade frames, recorded in base64, come back as its trades
    (side unknown, the venue's word kept); a malformed one is skipped and counted."""
    import base64

    session = tmp_path / "bitmart.raw"
    book = '{"table":"spot/depth20","data":[{"symbol":"BTC_USDT","ms_t":1,"bids":[["100","1"]],"asks":[["101","1"]]}]}'
    write_recording(session, "bitmart-v3", "BTC_USDT", [
        {"connect": True}, {"frame": book},
        {"trades_connect": True},
        {"trades_binary": base64.b64encode(deflated(raw("bitmart_trade_recorded_1.json"))).decode()},
        {"trades": "pong"},
        {"trades_binary": "not base64!"},
    ])
    replayed = ReplayedTrades()
    request = FeedRequest("replay", "bitmart.raw", 5, timeout=5, options={"depth": None})
    feed = replay_feed(request, io.BufferedReader(io.BytesIO(session.read_bytes())), None, replayed)
    events = drain(feed, replayed)
    assert replayed.title == "bitmart-v3 BTC_USDT"
    [event] = events
    assert isinstance(event, TradesEvent)
    [trade] = event.trades
    assert (trade.venue, trade.price, trade.amount, trade.side, dict(trade.extras)) == (
        "bitmart-v3", Decimal("77604.55"), Decimal("0.01307"), None, {"venue_side": "sell"})
    assert trade.received_at == datetime(2026, 12, 5, 10, 0, 0, 300000, tzinfo=UTC)  # the recorded time
    assert feed.stats.malformed == 1  # the frame that is not base64


def test_a_recorded_trade_refusal_reaches_the_tape_and_the_book_plays_on(tmp_path):
    session = tmp_path / "refused.raw"
    write_recording(session, "bitso", "btc_mxn", [
        {"connect": True}, {"trades_connect": True},
        {"trades": json.dumps({"action": "subscribe", "type": "trades", "error": "This book is not supported"})},
        {"frame": json.dumps(orders(1))},
    ])
    replayed = ReplayedTrades()
    feed = replay_feed(FeedRequest("replay", "x", 5, timeout=5, options={"depth": None}),
                       io.BufferedReader(io.BytesIO(session.read_bytes())), None, replayed)
    books = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        event = feed.get(timeout=0.2)
        if isinstance(event, StatusEvent) and event.state is State.CLOSED:
            break
        if hasattr(event, "book"):
            books.append(event.book)
    feed.close()
    [refusal] = [replayed.get()]
    assert "Bitso does not support the book" in refusal.error.message
    assert [b.best_bid for b in books] == [Decimal(7001)]
