"""The live loop in a real terminal (tmux): a resize is drawn at once, a pause freezes the picture."""

import re
import shlex
import shutil
import time

import pytest

from tests.conftest import OBOOK

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def below_header(screen: str) -> list[str]:
    return [line.rstrip() for line in screen.splitlines()[1:]]


def test_a_resize_is_drawn_at_once_not_at_the_next_book_or_tick(terminal):
    """Paused, nothing but the one-second age tick would redraw: each new size must be
    drawn within 0.2 s, whole (the settled frame's rows), never the old frame cut at the edge."""
    terminal.start(f"{shlex.quote(OBOOK)} replay --sample --speed 0.01", 80, 12)
    terminal.wait_for(r"book 1/240")
    terminal.keys(" ")
    terminal.wait_for(r"PAUSED")
    for width, height in ((44, 10), (70, 12), (50, 10), (80, 14)):
        terminal.tmux("resize-window", "-t", "t", "-x", str(width), "-y", str(height))
        time.sleep(0.2)
        quick = terminal.screen()
        settled = terminal.wait_for(lambda screen: "PAUSED" in screen, stable=True)
        time.sleep(1.2)  # past the next age tick: the frame as drawn for this size
        assert below_header(quick) == below_header(terminal.screen()), (width, height, quick)
        assert below_header(settled) == below_header(quick)
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def test_help_beside_the_tape_lists_t_and_esc(terminal, ws_venue):
    from tests.test_tape import raw, watch_bitso_with_trades

    watch_bitso_with_trades(terminal, ws_venue, raw("bitso_trades_doc.json"))
    terminal.wait_for(r"trades bitso btc_mxn")
    terminal.keys("?")
    screen = terminal.wait_for(r"\? help")
    assert "t tape" in screen and "Esc hide level" in screen, screen
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def test_a_paused_screen_is_still_while_trades_go_on(terminal, ws_venue):
    """Paused, the tape, its delta and the header stay as they were (only the age counts);
    the trades go on underneath and show at once on resume."""
    import json

    from tests.test_tape import raw
    from tests.test_terminal import orders

    doc = json.loads(raw("bitso_trades_doc.json"))

    def script(peer):
        if peer.expect_json()["type"] == "trades":
            peer.send(raw("bitso_trades_ack_recorded.json"))
            for n in range(1, 200):
                trade = {**doc["payload"][0], "i": n, "r": "8000", "a": f"0.{n:03d}", "t": 0, "x": 1700000000000 + n}
                peer.send({**doc, "payload": [trade], "sent": 1700000000000 + n})
                time.sleep(0.2)
        else:
            peer.send({"action": "subscribe", "response": "ok", "time": 1, "type": "orders"})
            peer.send(orders(1))
            peer.hold(60)

    venue = ws_venue(script)
    terminal.start(f"OBOOK_BITSO_URL={shlex.quote(venue.url)} {shlex.quote(OBOOK)} watch bitso --feed top btc_mxn", width=150, height=45)
    terminal.wait_for(r"delta \+0\.0")
    terminal.keys(" ")
    first = terminal.wait_for(r"PAUSED")
    time.sleep(1.5)  # several trades arrive
    later = terminal.screen()

    def without_age(screen: str) -> list[str]:
        return [re.sub(r"age \d+\.\ds", "age", line) for line in screen.splitlines()]

    assert without_age(later) == without_age(first), later
    terminal.keys(" ")
    terminal.wait_for(lambda screen: "PAUSED" not in screen and re.search(r"delta \+(\d\.\d+)", screen).group(1)
                      != re.search(r"delta \+(\d\.\d+)", first).group(1))
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")
