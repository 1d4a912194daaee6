"""The live view's state machine drawn on fixed-size consoles: a paused screen is a
still picture; the heatmap's past is the real book whatever the grouping."""

from orderbook_cli.pipeline.live import LiveLadder
from orderbook_cli.shape import ShapeSpec
from tests.test_render import sample
from tests.test_views import draw


def test_a_paused_screen_keeps_the_feeds_figures_as_they_were():
    live = LiveLadder("bitso", "btc_mxn", ShapeSpec(depth=20), stale_after=5)
    live.on_book(sample(), 0.0)
    assert "9.8 upd/s" in draw(live.frame(1.0, 24, 0.0, 9.8, 0, width=120), 120)
    live.on_key(" ", 1.5)
    paused = draw(live.frame(3.0, 24, 0.0, 2.6, 4, width=120), 120)
    assert "PAUSED" in paused and "9.8 upd/s" in paused and "2.6" not in paused, paused
    live.on_key(" ", 4.0)
    assert "2.6 upd/s" in draw(live.frame(4.0, 24, 0.0, 2.6, 4, width=120), 120)  # unpaused: now
