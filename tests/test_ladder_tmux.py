"""The ladder in a real terminal (tmux) at 40×10, 60×15, 80×24 and 120×40, with and
without NO_COLOR: every number on screen is whole, the cursor works, and
`--count` leaves the last frame on the normal screen."""

import re
import shlex
import shutil

import pytest

from orderbook_cli.jsonout import book_to_dict, dumps
from tests.conftest import OBOOK
from tests.ladder_check import check_screen
from tests.test_ladder_layout import big_book
from tests.test_terminal import Terminal

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.fixture
def tmux():
    term = Terminal()
    yield term
    term.close()


@pytest.fixture
def recording(tmp_path):
    book = big_book()
    path = tmp_path / "book.ndjson"
    path.write_text(dumps(book_to_dict(book)) + "\n")
    return book, path


def replay(path, *args, no_color: bool) -> str:
    env = "NO_COLOR=1" if no_color else "env -u NO_COLOR"
    return f"{env} {shlex.quote(OBOOK)} replay {shlex.quote(str(path))} " + " ".join(args)


@pytest.mark.parametrize("no_color", [True, False], ids=["NO_COLOR", "colour"])
@pytest.mark.parametrize("width,height", [(40, 10), (60, 15), (80, 24), (120, 40)])
def test_every_number_on_screen_is_whole(tmux, recording, width, height, no_color):
    book, path = recording
    tmux.start(replay(path, no_color=no_color), width, height)
    screen = tmux.wait_for(lambda s: "end of recording" in s and "spread" in s, stable=True)
    lines = screen.rstrip("\n").splitlines()
    assert len(lines) <= height and "Traceback" not in screen
    seen = check_screen(screen, book, width)
    assert seen["ask"] >= 3 and seen["bid"] >= 3, screen
    if height >= 15:
        assert re.search(rf"{seen['bid']} of 20 levels shown", screen), screen
    if width >= 80:
        assert "notional MXN" in screen
    tmux.tmux("send-keys", "-t", "t", "Up", "Up")
    cursor = tmux.wait_for(lambda s: "▸ ask 2" in s, stable=True)
    assert check_screen(cursor, book, width)
    tmux.keys("q")
    tmux.wait_for(lambda s: "EXIT=0" in s, stable=True)


def test_count_leaves_the_last_frame_on_the_normal_screen(tmux, recording):
    book, path = recording
    tmux.start(replay(path, "--count", "1", no_color=True), 80, 24)
    screen = tmux.wait_for(lambda s: "EXIT=0" in s, stable=True)
    assert "spread 200.00" in screen and "1400100.00" in screen  # the ladder is still there
    above = screen[: screen.index("EXIT=0")]
    check_screen(above, book, 80)


def test_watch_count_leaves_the_last_frame(tmux, ws_venue):
    from tests.test_terminal import ACK, orders

    def script(peer):
        sub = peer.expect_json()
        peer.send({**ACK, "book": sub["book"]})
        for seq in range(3):
            peer.send(orders(seq))
        peer.hold(30)

    venue = ws_venue(script)
    tmux.start(f"OBOOK_BITSO_URL={shlex.quote(venue.url)} {shlex.quote(OBOOK)} watch bitso --feed top btc_mxn --count 3", 80, 24)
    screen = tmux.wait_for(lambda s: "EXIT=0" in s, stable=True)
    above = screen[: screen.index("EXIT=0")]
    assert re.search(r"bid\s+7002\s", above) and "spread" in above, screen  # the third book, on the normal screen


def test_columns_stay_put_while_the_book_changes(tmux, tmp_path):
    from orderbook_cli.book import RawLevel, make_book
    from tests.test_ladder_layout import T0

    wide = big_book()
    narrow = make_book("bitso", "btc_mxn", [RawLevel(wide.bids[0].price, wide.bids[0].amount, 1)], [RawLevel(wide.asks[0].price, wide.asks[0].amount, 1)], timestamp=T0, received_at=T0)
    path = tmp_path / "two.ndjson"
    later = book_to_dict(narrow)
    later["received_at"] = "2025-08-08T21:40:37.000Z"  # a second later
    path.write_text(dumps(book_to_dict(wide)) + "\n" + dumps(later) + "\n")
    tmux.start(replay(path, no_color=True), 100, 30)
    first = tmux.wait_for(lambda s: "of 20 levels shown" in s, stable=True)
    second = tmux.wait_for(lambda s: "end of recording" in s, stable=True)
    assert "1 level " in second
    titles = lambda s: next(line for line in s.splitlines() if "price" in line)  # noqa: E731
    assert titles(first) == titles(second)
    best = lambda s: next(line for line in s.splitlines() if "1400100.00" in line)  # noqa: E731
    assert best(first).index("1400100.00") == best(second).index("1400100.00")
