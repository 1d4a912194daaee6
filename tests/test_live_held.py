"""A live terminal view shapes only the books it draws (Feed.defer_shaping, LiveLadder.on_held):
what it shows and what the heatmap keeps must equal what shaping every book gives."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from orderbook_cli.book import RawLevel, make_book
from orderbook_cli.feed import BookEvent, Feed, FeedRequest, HeldEvent, RawBook
from orderbook_cli.pipeline.live import LiveLadder
from orderbook_cli.shape import ShapeSpec, shape
from orderbook_cli.timefmt import now_utc

SPEC = ShapeSpec(depth=5, liquidity=True)
REQUEST = FeedRequest("bench", "X-Y", 5, timeout=5.0)


def _raw_books(count: int, spacing_ms: int = 300) -> list[RawBook]:
    """As a venue's frames parse: whole books of exact levels, unsorted, one price twice."""
    start = now_utc().replace(microsecond=0)
    out = []
    for n in range(count):
        bids = [RawLevel(Decimal(100 + n % 7) - i, Decimal(f"0.{n % 9 + 1}") + i, 1) for i in (3, 0, 1, 2, 4, 1, 5, 6)]
        asks = [RawLevel(Decimal(101 + n % 7) + i, Decimal(f"1.{n % 5}") + i, 1) for i in range(8)]
        at = start + timedelta(milliseconds=spacing_ms * n)
        out.append(RawBook(REQUEST, bids, asks, at, at))
    return out


def _books(count: int, spacing_ms: int = 300):
    return [raw.book() for raw in _raw_books(count, spacing_ms)]


def _watch(books, held: bool, draw_every: int):
    clock = [books[0].received_at.timestamp()]
    live = LiveLadder("bench", "X-Y", SPEC, stale_after=60, view="heatmap", clock=lambda: clock[0])
    drawn = []
    for n, book in enumerate(books):
        clock[0] = book.received_at.timestamp()
        book_now = book.book() if isinstance(book, RawBook) else book
        live.on_event(0, HeldEvent(book, SPEC) if held else BookEvent(shape(book_now, SPEC)), float(n))
        if n % draw_every == draw_every - 1:
            live.frame(float(n), 30, float(n), 0.0, 0, width=80)
            drawn.append(live.shown)
    live.frame(float(len(books)), 30, float(len(books)), 0.0, 0, width=80)
    drawn.append(live.shown)
    return drawn, [(c.slot, c.bids, c.asks) for c in live.history.columns()]


def test_deferred_shaping_draws_and_keeps_what_shaping_every_book_gives():
    books = _books(40)  # ~3 books per one-second heatmap slot; frames every 5 books skip most slots' last book
    eager_drawn, eager_columns = _watch(books, held=False, draw_every=5)
    held_drawn, held_columns = _watch(books, held=True, draw_every=5)
    assert held_drawn == eager_drawn
    assert held_drawn[-1] == shape(books[-1], SPEC)  # the newest at draw time, figures included
    assert len(eager_columns) > 5
    assert held_columns == eager_columns  # each column rests on its slot's last book, drawn or not


def test_books_normalized_only_when_drawn_are_the_same_books():
    raw = _raw_books(40)  # a top feed's frames, handed over before make_book (RawBook)
    eager_drawn, eager_columns = _watch(raw, held=False, draw_every=5)
    held_drawn, held_columns = _watch(raw, held=True, draw_every=5)
    assert held_drawn == eager_drawn
    assert held_drawn[-1] == shape(make_book("bench", "X-Y", raw[-1].bids, raw[-1].asks, timestamp=raw[-1].timestamp,
                                             received_at=raw[-1].received_at), SPEC)
    assert held_drawn[-1].bids[1].count == 2  # the price sent twice was merged by make_book
    assert held_columns == eager_columns


def _run_feed(books, defer: bool):
    request = REQUEST

    def producer(ctx):
        for book in books:
            ctx.emit_book(book)

    feed = Feed(request, producer)
    feed.set_shape(SPEC)
    if defer:
        feed.defer_shaping()
    events: list = []
    feed.run(lambda event: events.append(event) or True)
    return [e for e in events if isinstance(e, (BookEvent, HeldEvent))]


def test_a_deferring_feed_hands_over_unshaped_books_that_shape_to_the_same():
    books = _books(6)
    eager = _run_feed(books, defer=False)
    held = _run_feed(books, defer=True)
    assert all(isinstance(e, BookEvent) for e in eager)
    assert all(isinstance(e, HeldEvent) for e in held)
    assert [e.shaped() for e in held] == [e.book for e in eager]


def test_a_feed_normalizes_raw_books_itself_unless_it_defers():
    raw = _raw_books(6)
    eager = _run_feed(raw, defer=False)
    held = _run_feed(raw, defer=True)
    assert [e.book for e in eager] == [shape(r.book(), SPEC) for r in raw]
    assert [e.held for e in held] == raw
    assert [e.shaped() for e in held] == [e.book for e in eager]


def test_g_groups_the_book_on_screen_at_once_not_from_the_next_book():
    """The header says "grouped by" from the frame after the key: the rows must be the book on
    screen grouped then too, not the ungrouped one until the venue sends another (a quiet book:
    seconds)."""
    at = now_utc()
    book = RawBook(REQUEST, [RawLevel(Decimal("7499.5") - 7 * i, Decimal(1), 1) for i in range(8)],
                   [RawLevel(Decimal("7500.5") + 7 * i, Decimal(1), 1) for i in range(8)], at, at).book()
    live = LiveLadder("bench", "X-Y", SPEC, stale_after=60, view="ladder", clock=lambda: book.received_at.timestamp())
    live.on_event(0, HeldEvent(book, SPEC), 0.0)
    live.frame(0.0, 30, 0.0, 0.0, 0, width=80)
    live.on_key("g", 0.1)
    live.frame(0.1, 30, 0.0, 0.0, 0, width=80)
    assert live.view.group is not None
    assert live.shown == shape(book, SPEC._replace(group=live.view.group))


def test_the_footer_names_the_grouping_of_the_rows_on_screen():
    """A full feed's books come shaped by the feed: after g, the rows stay ungrouped until the
    next one, and the footer must not say "grouped by" over them meanwhile."""
    from orderbook_cli.views.ladder import footer
    from orderbook_cli.views.state import LadderView

    book = _books(1)[0]
    ungrouped, grouped = shape(book, SPEC), shape(book, SPEC._replace(group=Decimal(5)))
    view = LadderView(group=Decimal(5))
    assert "grouped by" not in " ".join(line.plain for line in footer(ungrouped, view, None, 80))
    assert "grouped by 5" in " ".join(line.plain for line in footer(grouped, view, None, 80))
