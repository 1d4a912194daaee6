"""The live loop in a real terminal (tmux): a resize is drawn at once, a pause freezes the picture."""

import shlex
import shutil
import time

import pytest

from tests.conftest import OBOOK

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def test_help_beside_the_tape_lists_t_and_esc(terminal, ws_venue):
    from tests.test_tape import raw, watch_bitso_with_trades

    watch_bitso_with_trades(terminal, ws_venue, raw("bitso_trades_doc.json"))
    terminal.wait_for(r"trades bitso btc_mxn")
    terminal.keys("?")
    screen = terminal.wait_for(r"\? help")
    assert "t tape" in screen and "Esc hide level" in screen, screen
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")
