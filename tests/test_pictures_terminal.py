"""The chart and heatmap views in a real terminal (tmux): drawn against a local venue, `v` cycles, `q` quits with 0."""

import re
import shlex
import shutil
import time

import pytest

from tests.conftest import OBOOK
from tests.test_terminal import ACK, orders, quiet_bitso, watch_command

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def live_bitso(ws_venue, seconds: float = 60):
    """A Bitso venue sending a moving book in real time (the heatmap's columns are book time)."""
    def script(peer):
        sub = peer.expect_json()
        peer.send({**ACK, "book": sub["book"]})
        end = time.monotonic() + seconds
        seq = 0
        while time.monotonic() < end:
            peer.send({**orders(seq % 50), "sent": int(time.time() * 1000)})
            seq += 1
            time.sleep(0.05)

    return ws_venue(script)


def plot_lines(screen: str) -> list[str]:
    return [line for line in screen.splitlines() if "┤" in line or "│" in line]


def history_width(screen: str) -> int:
    """How many time columns the heatmap shows (they grow leftwards from the right edge)."""
    bodies = [re.split("[┤│]", line)[0] for line in plot_lines(screen)]
    return max((len(body.lstrip()) for body in bodies), default=0)


def test_chart_view_draws_price_axis_near_the_book_and_q_quits(terminal, ws_venue):
    venue = live_bitso(ws_venue)
    terminal.start(watch_command(venue.url, "--view", "chart"))
    # a whole frame (tmux may be captured half-way through drawing one)
    screen = terminal.wait_for(lambda s: re.search(r"best bid 70\d\d.*best ask 8000", s) and s.rstrip().splitlines()[-1].startswith("chart"))
    lines = screen.rstrip().splitlines()
    assert "bitso btc_mxn" in lines[0] and "live" in lines[0]
    assert max(len(line) for line in lines) <= 80
    labels = [int(n) for n in re.findall(r"\b\d{4}\b", lines[-2])]  # the price axis, above the footer
    assert len(labels) >= 3 and all(6700 <= n <= 8300 for n in labels) and labels == sorted(labels), screen
    assert "┬" in lines[-3] and "▲" in lines[-3]
    assert "⣿" in screen and "⡇" in screen
    terminal.tmux("resize-window", "-t", "t", "-x", "150", "-y", "45")
    screen = terminal.wait_for(lambda s: max(len(line) for line in s.splitlines()) > 100 and len(plot_lines(s)) > 30)
    terminal.keys("q")
    screen = terminal.wait_for(r"EXIT=0")
    assert "Traceback" not in screen


def test_heatmap_view_builds_history_and_q_quits(terminal, ws_venue):
    venue = live_bitso(ws_venue)
    terminal.start(watch_command(venue.url, "--view", "heatmap"))
    screen = terminal.wait_for(r"size .*>0 .*\(max \d+\)")
    coloured = terminal.tmux("capture-pane", "-p", "-e", "-t", "t")
    assert "48;5;" in coloured  # tmux is a 256-colour terminal: shades are background colours
    prices = [int(m) for m in re.findall(r"┤(\d+)", screen)]
    assert prices and all(6500 <= p <= 8500 for p in prices)
    assert "now" in screen.splitlines()[-2] and screen.splitlines()[-1].startswith("heatmap")
    first = history_width(screen)
    terminal.wait_for(lambda s: history_width(s) >= first + 2, timeout=10)  # a column per second of book time
    terminal.keys("q")
    screen = terminal.wait_for(r"EXIT=0")
    assert "Traceback" not in screen


def test_heatmap_moves_with_the_clock_on_a_quiet_book(terminal, ws_venue):
    venue = quiet_bitso(ws_venue)  # one book, then keep-alives: the venue's book time never moves
    terminal.start(watch_command(venue.url, "--view", "heatmap"))
    screen = terminal.wait_for(r"size .*>0 .*\(max \d+\)")
    first = history_width(screen)
    screen = terminal.wait_for(lambda s: history_width(s) >= first + 3, timeout=10)  # a column a second all the same
    assert "STALE" not in screen
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def test_v_cycles_ladder_chart_heatmap(terminal, ws_venue):
    venue = live_bitso(ws_venue)
    terminal.start(watch_command(venue.url))
    terminal.wait_for(r"spread .* bps")
    terminal.keys("v")
    terminal.wait_for(lambda s: s.splitlines()[-1].startswith("chart") and "best bid" in s)
    terminal.keys("v")
    terminal.wait_for(lambda s: s.splitlines()[-1].startswith("heatmap") and "now" in s)
    terminal.keys("v")
    terminal.wait_for(lambda s: any(line.startswith("bid") for line in s.splitlines()))
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def test_replay_at_max_speed_builds_a_heatmap(terminal):
    terminal.start(f"NO_COLOR=1 {shlex.quote(OBOOK)} replay --sample --view heatmap --speed max", width=120, height=30)
    screen = terminal.wait_for(r"end of recording")
    assert re.search(r"size ·>0 :\S+ ░", screen) and "░" in screen.split("\n", 2)[2]  # the character ramp
    axis = next(line for line in screen.splitlines() if line.rstrip().endswith("now"))
    assert "-1m" in axis  # 82 s of book time, though it played in a moment
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def test_chart_on_the_sequence_checked_bitso_feed(terminal, ws_venue, http_venue):
    """The default (full) Bitso feed: REST seed + diff-orders; the chart draws it under the shared header."""
    from tests.test_full_depth import SEED_100, Seeds, bitso_env, bitso_script, diff, opened

    seeds = Seeds(http_venue, SEED_100)
    ws = ws_venue(bitso_script(seeds, "seed", diff(101, opened("b4", "bid", "1005", "0.1")), diff(102, opened("a3", "ask", "1030", "1"))))
    env = " ".join(f"{key}={shlex.quote(value)}" for key, value in bitso_env(ws, http_venue).items())
    terminal.start(f"{env} {shlex.quote(OBOOK)} watch bitso btc_mxn --view chart")
    screen = terminal.wait_for(lambda s: "seq 102" in s and "best bid 1005" in s and s.rstrip().splitlines()[-1].startswith("chart"))
    lines = screen.rstrip().splitlines()
    labels = [int(n) for n in re.findall(r"\b\d{3,4}\b", lines[-2])]
    assert labels and all(980 <= n <= 1040 for n in labels), screen  # the price axis sits on the book
    terminal.keys("q")
    assert "Traceback" not in terminal.wait_for(r"EXIT=0")
