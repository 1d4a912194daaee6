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


def test_the_heatmaps_history_keeps_the_real_book_while_grouped():
    from decimal import Decimal

    from orderbook_cli.feed import HeldEvent
    from orderbook_cli.shape import shape
    from orderbook_cli.views.heatmap import Column

    book = sample()
    live = LiveLadder("bitso", "btc_mxn", ShapeSpec(depth=20, group=Decimal(500)), stale_after=5)
    live.on_held(HeldEvent(book, ShapeSpec(depth=20, group=Decimal(500))), 0.0)
    assert live.book is not None and live.book.figures.group == Decimal(500)  # the ladder shows buckets
    column = live.history.columns()[-1]
    assert column.group is None and column.bids == shape(book, ShapeSpec(depth=20)).bids  # the heatmap keeps the levels
    # A grouped book (a full feed's, shaped on its thread) is never drawn finer than its tick: no made-up sizes,
    # and the traces at the real best bid and ask, not at its buckets.
    grouped = Column(0, shape(book, ShapeSpec(group=Decimal(500))))
    cells, bid, ask = grouped.cells(Decimal(1), None)
    assert cells == {} and (bid, ask) == (int(book.best_bid), int(-(-book.best_ask // 1)))
    assert grouped.cells(Decimal(1000), None)[0]
