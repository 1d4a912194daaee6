"""`obook watch A:X B:Y --merge` and side by side in a real terminal (tmux)."""

import re
import shlex
import shutil
import threading
import time

import pytest

from tests.conftest import OBOOK
from tests.servers.http_venue import Reply
from tests.test_multi import ACK, BITSO_ASKS, REVX_BODY, REVX_BTC, bitso_orders

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def bitso_stream(drop: threading.Event | None = None):
    """Bitso: a book every 0.1 s with a moving second bid; once `drop` is set the link is cut,
    and so is every later one (the venue stays unreachable)."""
    def script(peer):
        sub = peer.expect_json()
        if drop is not None and drop.is_set():
            peer.drop()
            return
        peer.send({**ACK, "book": sub["book"]})
        for seq in range(100000):
            if drop is not None and drop.is_set():
                peer.drop()
                return
            peer.send(bitso_orders(sub["book"], [("86612", "0.17311818"), (str(86500 + seq % 50), "1")], BITSO_ASKS))
            time.sleep(0.1)

    return script


def command(http_venue, bitso, *args):
    env = f"OBOOK_REVX_URL={shlex.quote(http_venue.url)} OBOOK_BITSO_URL={shlex.quote(bitso.url)}"
    return f"{env} {shlex.quote(OBOOK)} watch --feed top bitso:btc_usd revx:BTC-USD " + " ".join(args)


def test_merged_ladder_names_its_venues_and_quits_on_q(terminal, http_venue, ws_venue):
    http_venue.route(REVX_BTC, Reply(body=REVX_BODY))
    drop = threading.Event()
    bitso = ws_venue(bitso_stream(drop))
    terminal.start(command(http_venue, bitso, "--merge", "--stale-after", "1"), width=100, height=30)
    screen = terminal.wait_for(r"2 of 2 sources in the book")
    lines = screen.splitlines()
    assert "consolidated BTC-USD" in lines[0]
    assert "A bitso btc_usd ● live" in screen and "B revx BTC-USD ● live" in screen
    assert re.search(r"bid\s+86612\s+0\.42311818\s.*\sAB\s", screen), screen  # one level, two venues
    assert "best bid 86612 A bitso+B revx" in screen and "best ask 86615 B revx" in screen
    assert max(len(line) for line in lines) <= 100
    terminal.keys("g")  # every source bucketed by one tick; the best prices stay the real ones
    screen = terminal.wait_for(r"grouped by 10")
    assert re.search(r"bid\s+86610\s+0\.72311818\s.*\sAB\s", screen) and "best bid 86612" in screen, screen
    # Bitso drops and stays away: its levels leave the merged book, and the header says so
    drop.set()
    screen = terminal.wait_for(r"1 of 2 sources in the book", timeout=10)
    assert "(left out)" in screen and re.search(r"A bitso btc_usd (RECONNECTING|● live\s+age [\d.]+s\s+STALE)", screen), screen
    assert re.search(r"bid\s+86610\s+0\.55\s.*\s·B\s", screen), screen  # Revolut X's 86612 and 86610, grouped
    terminal.keys("q")
    screen = terminal.wait_for(r"EXIT=0")
    assert "Traceback" not in screen


def test_side_by_side_ladders_in_a_terminal(terminal, http_venue, ws_venue):
    http_venue.route(REVX_BTC, Reply(body=REVX_BODY))
    bitso = ws_venue(bitso_stream())
    terminal.start(command(http_venue, bitso), width=80, height=24)
    screen = terminal.wait_for(lambda s: s.count("● live") == 2)
    first = screen.splitlines()[0]
    assert "bitso btc_usd" in first and "revx BTC-USD" in first and "│" in first
    assert "spread 3 (0.35 bps)" in screen
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def test_every_source_failing_restores_the_terminal_and_exits_with_the_first_code(terminal, unused_port):
    env = f"OBOOK_REVX_URL=http://127.0.0.1:{unused_port} OBOOK_BITSO_URL=ws://127.0.0.1:{unused_port}"
    terminal.start(f"{env} {shlex.quote(OBOOK)} watch bitso:btc_usd revx:BTC-USD --merge --timeout 1 2>&1", width=100, height=20)
    screen = terminal.wait_for(r"EXIT=\d+", timeout=15)
    assert "EXIT=3" in screen and "every source failed" in screen and "bitso btc_usd" in screen and "revx BTC-USD" in screen
    assert "Traceback" not in screen
