"""`obook watch` in a real terminal (tmux): what a person sees, keys, resize, staleness."""

import re
import shlex
import shutil
import subprocess
import time
import uuid

import pytest

from tests.conftest import OBOOK

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

ACK = {"action": "subscribe", "response": "ok", "time": 1, "type": "orders"}


def orders(seq: int, levels: int = 20):
    bids = [{"o": f"b{i}", "r": str(7000 - i), "a": f"{1 + (seq + i) % 7}.5", "v": "1", "t": 0, "d": 1} for i in range(levels)]
    bids[0]["r"] = str(7000 + seq)  # the best bid carries the sequence number
    bids.append({"o": "dup", "r": str(7000 - 1), "a": "0.25", "v": "1", "t": 0, "d": 1})  # a repeated price
    asks = [{"o": f"a{i}", "r": str(8000 + i * 10), "a": "2", "v": "1", "t": 1, "d": 1} for i in range(levels)]
    return {"type": "orders", "book": "btc_mxn", "payload": {"bids": bids, "asks": asks}, "sent": 1700000000000 + seq}


class Terminal:
    """One tmux server per test on its own socket name (`tmux -L`), so tests can run in parallel."""

    def __init__(self, tmp_path=None):
        self.socket = f"obook-{uuid.uuid4().hex[:12]}"

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True).stdout

    def start(self, command: str, width: int = 80, height: int = 24) -> None:
        shell = f"{command}; echo EXIT=$?; sleep 60"
        self.tmux("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), shell)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "t")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", "t", "-l", key)

    def wait_for(self, pattern, timeout: float = 10, stable: bool = False) -> str:
        """Poll the screen until `pattern` (a regex, or a predicate on the screen) holds.

        ``stable``: and the screen is a settled frame, the same on two captures in a
        row, so a capture taken while the program is still drawing (cut off mid-row)
        is never what the test reads. Only for screens that stop changing.
        """
        check = pattern if callable(pattern) else (lambda screen: re.search(pattern, screen))
        deadline = time.monotonic() + timeout
        previous = None
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen) and (not stable or screen == previous):
                return screen
            previous = screen
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} never held{' on a settled screen' if stable else ''}; screen:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def watch_command(url: str, *args: str) -> str:
    return f"OBOOK_BITSO_URL={shlex.quote(url)} {shlex.quote(OBOOK)} watch bitso --feed top btc_mxn " + " ".join(args)


def test_ladder_at_80x24_keys_resize_and_quit(terminal, ws_venue):
    def script(peer):
        sub = peer.expect_json()
        peer.send({**ACK, "book": sub["book"]})
        for seq in range(100000):
            peer.send(orders(seq % 50))
            time.sleep(0.05)

    venue = ws_venue(script)
    terminal.start(watch_command(venue.url))
    screen = terminal.wait_for(r"spread .* bps")
    lines = screen.splitlines()
    assert "bitso btc_mxn" in lines[0] and "live" in lines[0] and "upd/s" in lines[0]
    assert max(len(line) for line in lines) <= 80
    asks = [i for i, line in enumerate(lines) if line.startswith("ask")]
    bids = [i for i, line in enumerate(lines) if line.startswith("bid")]
    spread = next(i for i, line in enumerate(lines) if line.startswith("spread"))
    assert asks and bids and max(asks) < spread < min(bids)
    assert "notional" in screen and "orders" in screen and "█" in screen
    assert len(asks) == len(bids) >= 8  # as many levels as 24 lines allow

    terminal.keys("-", "-")
    screen = terminal.wait_for(r"9 of 18 levels shown")
    terminal.keys("g")
    screen = terminal.wait_for(r"grouped by 5 \(≈6\.7 bps\)")  # the 1-2-5 tick nearest 5 bps of a 7,500 mid
    assert re.search(r"bid\s+70[0-9][05]\s", screen)
    terminal.keys("?")
    terminal.wait_for(r"q quit")
    terminal.keys(" ")
    paused = terminal.wait_for(r"PAUSED")
    time.sleep(0.6)
    assert terminal.screen().splitlines()[3:] == paused.splitlines()[3:]  # frozen while the feed runs on
    terminal.keys(" ", "g", "g", "g")  # resume; grouping 5 -> 10 -> 50 -> off
    time.sleep(0.8)
    assert "grouped by" not in terminal.screen() and "PAUSED" not in terminal.screen()
    terminal.tmux("resize-window", "-t", "t", "-x", "110", "-y", "40")
    terminal.wait_for(lambda screen: sum(line.startswith("bid") for line in screen.splitlines()) == 16, timeout=5)  # reflowed to 40 lines (the help on two)
    terminal.keys("q")
    screen = terminal.wait_for(r"EXIT=0")
    assert "Traceback" not in screen


def test_fast_feed_screen_shows_the_newest_book(terminal, ws_venue):
    def script(peer):
        sub = peer.expect_json()
        peer.send({**ACK, "book": sub["book"]})
        for seq in range(3000):  # as fast as the socket allows
            peer.send(orders(seq % 900))
        peer.send(orders(999))
        peer.hold()

    venue = ws_venue(script)
    terminal.start(watch_command(venue.url))
    terminal.wait_for(r"bid\s+7999\s", timeout=15)
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def test_silent_feed_is_shown_stale(terminal, ws_venue):
    def script(peer):
        sub = peer.expect_json()
        peer.send({**ACK, "book": sub["book"]})
        peer.send(orders(1))
        peer.hold(60)

    venue = ws_venue(script)
    terminal.start(watch_command(venue.url, "--stale-after", "1.5"))
    terminal.wait_for(r"● live")
    started = time.monotonic()
    terminal.wait_for(r"STALE", timeout=5)
    assert time.monotonic() - started < 3


def quiet_bitso(ws_venue, seconds: float = 30):
    """One book, then only keep-alives every 0.3 s: a quiet book on a live link."""
    def script(peer):
        sub = peer.expect_json()
        peer.send({**ACK, "book": sub["book"]})
        peer.send(orders(1))
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(0.3)
            peer.send({"type": "ka"})

    return ws_venue(script)


def test_a_quiet_book_on_a_live_link_shows_its_age_not_stale(terminal, ws_venue):
    venue = quiet_bitso(ws_venue)
    terminal.start(watch_command(venue.url, "--stale-after", "1"), width=100)
    terminal.wait_for(r"● live")
    screen = terminal.wait_for(r"age [3-9]\.\ds", timeout=10)  # quiet for three times --stale-after
    assert "STALE" not in screen and "● live" in screen, screen
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def test_dropped_feed_shows_reconnecting_then_recovers(terminal, ws_venue):
    def script(peer):
        sub = peer.expect_json()
        peer.send({**ACK, "book": sub["book"]})
        peer.send(orders(peer.index))
        if peer.index == 0:
            time.sleep(1)
            peer.drop()
        else:
            peer.hold(60)

    venue = ws_venue(script)
    terminal.start(watch_command(venue.url))
    terminal.wait_for(r"bid\s+7000\s")
    terminal.wait_for(r"bid\s+7001\s", timeout=10)
    assert len(venue.connections) == 2
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def test_ctrl_c_quits_cleanly_with_0(terminal, ws_venue):
    venue = ws_venue(lambda peer: (peer.expect_json(), peer.send(orders(1)), peer.hold(60)))
    terminal.start(watch_command(venue.url))
    terminal.wait_for(r"spread")
    terminal.tmux("send-keys", "-t", "t", "C-c")
    screen = terminal.wait_for(r"EXIT=0")
    assert "Traceback" not in screen


@pytest.mark.parametrize("venue_id", ["bitmart", "bitmart-v3"])
def test_websocket_venues_draw_live_ladders(terminal, ws_venue, venue_id):
    from tests.servers.faults import WS_VENUES

    spec = next(s for s in WS_VENUES if s.venue == venue_id)

    def script(peer):
        sub = peer.expect_json()
        ack = spec.ack(sub)
        if ack:
            peer.send(ack)
        for seq in range(1000):
            peer.send(spec.good(seq % 90))
            time.sleep(0.1)

    venue = ws_venue(script)
    terminal.start(f"{spec.env}={shlex.quote(venue.url)} {shlex.quote(OBOOK)} watch {' '.join(spec.target)}")
    first = terminal.wait_for(r"spread")
    assert f"{venue_id} {spec.symbol}" in first and "live" in first
    assert ("orders" in first) is (venue_id == "bitmart")  # bitmart-v3 sends no counts: no empty column
    best_bid = lambda screen: next((line for line in screen.splitlines() if line.startswith("bid")), None)  # noqa: E731
    terminal.wait_for(lambda screen: best_bid(screen) not in (None, best_bid(first)))  # it refreshes
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def test_revx_draws_and_refreshes_the_ladder(terminal, http_venue):
    from tests.servers.http_venue import Reply

    seq = iter(range(10**6))

    def book(request):
        n = next(seq)
        return Reply(body={"data": {"asks": [{"p": "4005.00", "q": "1.7", "no": "3"}],
                                    "bids": [{"p": f"{4000 - n}.00", "q": "0.25", "no": "1"}]},
                           "metadata": {"timestamp": 1785313433816 + n}})

    http_venue.route("/api/1.0/public/order-book/ETH-USD", book)
    terminal.start(f"OBOOK_REVX_URL={http_venue.url} {shlex.quote(OBOOK)} watch revx ETH-USD")
    terminal.wait_for(r"bid\s+4000\.00")
    terminal.wait_for(r"bid\s+399[0-9]\.00", timeout=5)  # polled again about a second later
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")
