"""Keys in a real terminal (tmux): +/- ask the venue for another depth (issue 15)."""

import json
import re
import shlex
import shutil
import threading
import time
from urllib.parse import parse_qs

import pytest

from orderbook_cli.shape import ShapeSpec
from tests.conftest import OBOOK
from tests.servers.http_venue import Reply

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def revx_book(levels: int) -> dict:
    return {"data": {"asks": [{"price": str(4005 + i), "quantity": "1", "count": 1} for i in range(levels)],
                     "bids": [{"price": str(4000 - i), "quantity": "1", "count": 1} for i in range(levels)]},
            "metadata": {"timestamp": int(time.time() * 1000)}}


def test_plus_asks_revx_for_a_deeper_book_up_to_its_maximum(terminal, http_venue):
    http_venue.route("/api/1.0/public/order-book/BTC-USD", lambda request: Reply(body=revx_book(5)))
    http_venue.route("/api/2.0/public/order-book/BTC-USD",
                     lambda request: Reply(body=revx_book(int(parse_qs(request.query)["limit"][0]))))
    terminal.start(f"OBOOK_REVX_URL={http_venue.url} {shlex.quote(OBOOK)} watch revx BTC-USD", 100, 40)
    terminal.wait_for(r"bid\s+4000\s")
    terminal.keys("+", "+")
    screen = terminal.wait_for(r"bid\s+3994\s")  # the 7th level: only a deeper request can show it
    assert "4011" in screen  # and on the ask side
    assert "limit=7" in " ".join(http_venue.paths())
    terminal.keys("-")
    terminal.wait_for(lambda screen: "3994" not in screen and "3995" in screen)
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def test_plus_at_the_venues_maximum_says_so(terminal, http_venue):
    http_venue.route("/api/2.0/public/order-book/BTC-USD",
                     lambda request: Reply(body=revx_book(int(parse_qs(request.query)["limit"][0]))))
    terminal.start(f"OBOOK_REVX_URL={http_venue.url} {shlex.quote(OBOOK)} watch revx BTC-USD --depth 50", 100, 40)
    terminal.wait_for(r"bid\s+4000\s")
    terminal.keys("+")
    terminal.wait_for(r"depth 50 is the most revx offers")
    assert all("limit=50" in path for path in http_venue.paths() if "order-book" in path)
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def test_plus_resubscribes_bitmart_v3_to_a_deeper_channel(terminal, ws_venue):
    subscribed = []
    done = threading.Event()

    def script(peer):
        topic = peer.expect_json()["args"][0]
        subscribed.append(topic)
        while not done.is_set():
            size = int(topic.split(":")[0].removeprefix("spot/depth"))
            peer.send({"table": f"spot/depth{size}", "data": [{
                "symbol": "BTC_USDT", "ms_t": int(time.time() * 1000),
                "bids": [[str(60000 - i), "1"] for i in range(size)], "asks": [[str(60001 + i), "1"] for i in range(size)]}]})
            try:
                message = json.loads(peer.recv(timeout=0.2))
            except TimeoutError:
                continue
            except Exception:
                return
            if message.get("op") == "subscribe":
                topic = message["args"][0]
                subscribed.append(topic)

    venue = ws_venue(script)
    try:
        terminal.start(f"OBOOK_BITMART_V3_URL={venue.url} {shlex.quote(OBOOK)} watch bitmart-v3 BTC_USDT --feed top --depth 5", 100, 40)
        terminal.wait_for(r"bid\s+60000\s")
        terminal.keys("+")
        terminal.wait_for(r"bid\s+59995\s")  # the 6th level comes from the depth20 channel
        assert subscribed == ["spot/depth5:BTC_USDT", "spot/depth20:BTC_USDT"]
        assert any('"unsubscribe"' in str(m) for m in venue.received)
        assert len(venue.connections) == 1  # re-subscribed on the same link
        terminal.keys("q")
        terminal.wait_for(r"EXIT=0")
    finally:
        done.set()


def header(screen: str) -> str:
    return screen.splitlines()[0]


def test_replay_looks_like_a_replay_and_has_keys(terminal):
    terminal.start(f"{shlex.quote(OBOOK)} replay --sample", 120, 40)
    screen = terminal.wait_for(r"book ([3-9]|\d\d+)/240")  # far enough in to step back
    top = header(screen)
    assert "REPLAY" in top and "live" not in top and "2018-06-01" in top  # the recording's own date
    terminal.keys(" ")
    paused = terminal.wait_for(lambda s: "PAUSED" in header(s))
    position = int(re.search(r"book (\d+)/", header(paused)).group(1))
    terminal.wait_for(lambda s: re.search(r"age [1-9]\.\ds", header(s)))  # age keeps counting while paused
    assert f"book {position}/" in header(terminal.screen())  # and nothing moves
    terminal.tmux("send-keys", "-t", "t", "Left")
    terminal.wait_for(lambda s: f"book {position - 1}/240" in header(s))
    terminal.keys(".")
    terminal.wait_for(lambda s: f"book {position}/240" in header(s))
    terminal.tmux("send-keys", "-t", "t", "End")
    terminal.wait_for(lambda s: "book 240/240" in header(s))
    terminal.wait_for(r"end of recording")
    terminal.tmux("send-keys", "-t", "t", "Home")
    terminal.wait_for(lambda s: "book 1/240" in header(s))
    terminal.keys("]", "]", "l")
    terminal.wait_for(lambda s: "4× loop" in header(s))
    terminal.keys("[", "+")
    terminal.wait_for(lambda s: "2×" in header(s))
    screen = terminal.wait_for(r"the recording has 20 levels")
    assert "depth 50" not in screen
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def test_split_keys_names_escape_sequences():
    from orderbook_cli.views.keys import split_keys

    assert split_keys("q") == ["q"]
    assert split_keys("\x1b[D\x1b[D.") == ["left", "left", "."]
    assert split_keys("\x1b[1~\x1bOF\x1b[C") == ["home", "end", "right"]
    assert split_keys("\x1b[15~x") == ["x"]  # unknown sequences (F5) vanish whole, not as stray keys


def test_connecting_before_the_first_book_and_the_retry_counts_down():
    from orderbook_cli.feed import State, StatusEvent
    from orderbook_cli.pipeline.live import LiveLadder
    from tests.test_render import draw

    live = LiveLadder("bitso", "btc_mxn", ShapeSpec(depth=20, group=None), stale_after=5)
    live.on_status(StatusEvent(State.CONNECTING, "cannot resolve ws.bitso.com", retry_at=100.0))
    first = draw(live.frame(92.9, 24, None, 0.0, 0), width=120)
    assert "CONNECTING" in first and "RECONNECTING" not in first
    assert "cannot resolve ws.bitso.com; retrying in 8s" in first
    assert "retrying in 3s" in draw(live.frame(97.2, 24, None, 0.0, 0), width=120)
    assert "retrying in 0s" in draw(live.frame(100.5, 24, None, 0.0, 0), width=120)


def test_the_header_says_connecting_while_the_venue_refuses(terminal, unused_port):
    terminal.start(f"OBOOK_BITSO_URL=ws://127.0.0.1:{unused_port} {shlex.quote(OBOOK)} watch bitso btc_mxn --timeout 20", 120, 20)
    screen = terminal.wait_for(r"connection refused.*retrying in \d+s")
    assert "CONNECTING" in screen and "RECONNECTING" not in screen and "Error" not in screen
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def test_replay_ladder_keeps_the_line_cap(terminal, tmp_path):
    from tests.test_replay import recorded_line

    bad = tmp_path / "huge.ndjson"
    bad.write_bytes((recorded_line(1, "2025-01-01T00:00:00Z") + "\n").encode() + b"x" * (9 * 1024 * 1024))
    terminal.start(f"{shlex.quote(OBOOK)} replay {shlex.quote(str(bad))} 2>{shlex.quote(str(tmp_path / 'err'))}", 100, 30)
    terminal.wait_for(r"EXIT=2")
    assert "longer than" in (tmp_path / "err").read_text()
