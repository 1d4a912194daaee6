"""`obook trades`: follow venues' public trades through the feed machinery.

Each source is a :class:`TradeFeed`: the same producer thread, retry policy,
states and malformed-frame counting as a book feed, delivering
:class:`TradesEvent` instead of books. What a venue's trades are is declared
in its own venue file (``Venue.trades``): a :class:`~orderbook_cli.venues.base.TradeStream`
(subscribe frames and a frame parser, followed here over the venue's
WebSocket) or a :class:`~orderbook_cli.venues.base.TradePoll` (one poll of a
REST trade history, repeated here at the venue's interval, every trade
printed once however the polled windows overlap: :class:`trades.SeenIds`).
Nothing below names a venue.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from orderbook_cli.errors import MalformedData, ObookError, UsageError
from orderbook_cli.feed import (
    NO_LIMITS,
    NO_TAP,
    FatalEvent,
    Feed,
    FeedContext,
    FeedRequest,
    Limits,
    Producer,
    State,
    Tap,
)
from orderbook_cli.trades import SeenIds, Trade
from orderbook_cli.venues.base import TradePoll, TradeStream, Venue

MAX_SOURCES = 6


class TradesEvent(NamedTuple):
    trades: list[Trade]


class TapeContext(FeedContext):
    """A feed context whose producer hands over trades (a list per frame or poll)."""

    def emit_book(self, trades: Any, changed: bool = True) -> None:  # what feed.poll hands over: here, a list of trades
        self.emit_trades(trades)

    def emit_trades(self, trades: list[Trade]) -> None:
        self._attempts = 0
        self.backoff.reset()
        feed = self._feed
        assert isinstance(feed, TradeFeed)
        feed._trades(trades)


class TradeFeed(Feed):
    def __init__(self, request: FeedRequest, producer: Producer, *, tap: Tap = NO_TAP, limits: Limits = NO_LIMITS):
        super().__init__(request, producer, tap=tap, limits=limits)
        self._context = TapeContext(request, self, limits)

    def _trades(self, trades: list[Trade]) -> None:
        if self.stats.state is not State.LIVE:
            self._status(State.LIVE)
        if trades:
            for _ in trades:
                self._count_book()  # the update rate counts prints here
            self._put(TradesEvent(trades))  # type: ignore[arg-type]  # a trade feed's own event


def supported() -> list[str]:
    """The venues whose trades obook follows (their venue files declare them)."""
    from orderbook_cli.venues import load_all

    return sorted(venue.info.id for venue in load_all() if venue.trades() is not None)


def streams_trades(venue_id: str) -> bool:
    """Whether the venue streams its trades (a WebSocket beside the book, not a REST poll)."""
    from orderbook_cli.venues import get_venue

    try:
        return isinstance(get_venue(venue_id).trades(), TradeStream)
    except UsageError:  # not a venue (a replay's source)
        return False


class _TradeFrames:
    """One connection's frames to trades; a refusal (VenueRejected) ends the feed."""

    tick_seconds = None

    def __init__(self, ctx: TapeContext, source: TradeStream, symbol: str):
        self.ctx, self.source, self.symbol = ctx, source, symbol

    def frame(self, frame: str | bytes, received_at: datetime) -> bool:
        try:
            trades = self.source.parse(frame, self.symbol, received_at)
        except MalformedData as exc:
            self.ctx.malformed(exc)
            return False
        self.ctx.emit_trades(trades)
        return False

    def tick(self) -> bool:
        return False


def _stream(venue: Venue, source: TradeStream, ctx: TapeContext) -> None:
    from orderbook_cli.venues.websocket import stream

    symbol = ctx.request.symbol

    def on_connect(link):
        for message in source.subscribe(symbol):
            link.send(message)
        return _TradeFrames(ctx, source, symbol)

    stream(ctx, venue.url, venue.info.url_env, source.idle, source.ping, on_connect)


def _poll(venue: Venue, source: TradePoll, ctx: TapeContext) -> None:
    from orderbook_cli.feed import poll
    from orderbook_cli.transport.http import HttpClient

    seen = SeenIds()
    http = HttpClient(venue.url, ctx.request.timeout, venue.info.url_env)
    one_poll = source.pages(http, ctx.request.symbol)
    try:
        poll(ctx, lambda: list(seen.fresh(one_poll())), source.interval)
    finally:
        http.close()


def open_trade_feed(venue_id: str, symbol_text: str, timeout: float, environ=None, tap: Tap = NO_TAP) -> TradeFeed:
    """The venue's trade feed (not started); `tap` sees its raw frames (`watch --record`)."""
    from orderbook_cli.venues import get_venue

    venue = get_venue(venue_id)
    if environ is not None:
        venue.environ = environ
    venue.check_endpoints()
    vid = venue.info.id
    source = venue.trades()
    if source is None:
        why = f" ({venue.trades_note})" if venue.trades_note else ""
        raise UsageError(f"{vid} has no public trades in obook{why}", hint=f"trades work on: {', '.join(supported())}")
    symbol = venue.symbol(symbol_text)
    request = FeedRequest(vid, symbol, depth=1, timeout=timeout)

    def producer(ctx: FeedContext) -> None:
        assert isinstance(ctx, TapeContext)
        if isinstance(source, TradeStream):
            _stream(venue, source, ctx)
        else:
            _poll(venue, source, ctx)

    return TradeFeed(request, producer, tap=tap, limits=venue.info.limits)


class ReplayedTrades:
    """A raw recording's trade frames on their way to the tape pane: what a replayed
    recording's feed (recording.replay_feed) hands over, drained like a live trade feed.
    Bounded: the replay waits for the pane rather than running ahead."""

    def __init__(self) -> None:
        self._queue: queue.Queue[TradesEvent | FatalEvent] = queue.Queue(maxsize=256)
        self.title = ""  # the recorded venue and symbol, once the recording's header is read

    def put(self, trades: list[Trade], stopped: threading.Event) -> None:
        self._send(TradesEvent(trades), stopped)

    def fail(self, error: ObookError, stopped: threading.Event) -> None:
        self._send(FatalEvent(error), stopped)

    def _send(self, event: TradesEvent | FatalEvent, stopped: threading.Event) -> None:
        while not stopped.is_set():
            try:
                self._queue.put(event, timeout=0.2)
                return
            except queue.Full:
                continue

    def get(self, timeout: float | None = 0) -> TradesEvent | FatalEvent | None:
        try:
            return self._queue.get(timeout=timeout) if timeout else self._queue.get_nowait()
        except queue.Empty:
            return None

    def close(self) -> None:
        pass


def parse_sources(args: Sequence[str]) -> list[tuple[str, str]]:
    """`VENUE SYMBOL`, or one or more `VENUE:SYMBOL`."""
    if len(args) == 2 and ":" not in args[0] and ":" not in args[1]:
        return [(args[0], args[1])]
    if not args or any(":" not in arg for arg in args):
        raise UsageError("give VENUE SYMBOL, or one or more VENUE:SYMBOL", hint="e.g. obook trades bitso btc_mxn")
    if len(args) > MAX_SOURCES:
        raise UsageError(f"at most {MAX_SOURCES} sources, not {len(args)}")
    return [tuple(arg.split(":", 1)) for arg in args]  # type: ignore[misc]


def follow(sources: Sequence[tuple[str, str]], *, timeout: float, on_trade: Callable[[Trade], bool],
           on_idle: Callable[[], bool] | None = None, idle_every: float = 0.25, keys: Any = None,
           on_key: Callable[[str], bool] | None = None, on_status: Callable[[str], None] | None = None,
           on_resize: Callable[[], None] | None = None, environ=None) -> None:
    """Every trade of every source, in arrival order, to ``on_trade`` (False: stop).

    A source not live within ``timeout`` is a network error; a fatal error
    of any source ends the tape with that error. ``keys`` (views.keys.Keys)
    hand each key to ``on_key``; ``on_idle`` runs between events; either
    returns False to stop. ``on_status`` hears, when it changes, which sources
    are not live and why ("" once all are); ``on_resize`` that the terminal changed size.
    """
    from orderbook_cli.pipeline.sources import FanIn
    from orderbook_cli.views.keys import KeyEvent, Resized, split_keys

    feeds = [open_trade_feed(venue, symbol, timeout, environ) for venue, symbol in sources]
    deadline = time.monotonic() + timeout
    live = [False] * len(feeds)
    told = None
    with FanIn(feeds) as fan:
        if keys is not None:
            keys.forward(fan.inject)
        while True:
            item = fan.get(timeout=idle_every)
            now = time.monotonic()
            if item is not None:
                index, event = item
                if isinstance(event, FatalEvent):
                    raise event.error.with_context(f"{feeds[index or 0].request.venue} {feeds[index or 0].request.symbol}")
                if index is not None and feeds[index].stats.state is State.LIVE:
                    live[index] = True
                if isinstance(event, TradesEvent):
                    for trade in event.trades:
                        if not on_trade(trade):
                            return
                if isinstance(event, KeyEvent) and on_key is not None and not all(on_key(key) for key in split_keys(event.keys)):
                    return
                if isinstance(event, Resized) and on_resize is not None:
                    on_resize()
            if on_status is not None and (status := _not_live(feeds)) != told:
                on_status(status)
                told = status
            if not all(live) and now > deadline:
                late = feeds[live.index(False)]
                detail = f": {late.stats.detail}" if late.stats.detail else ""
                message = f"no live trades feed within {timeout:g}s{detail}"  # connected or not: the detail says
                where = f"{late.request.venue} {late.request.symbol}"  # the source's name leads the line, as a book's does
                raise late.stats.unanswered(message, hint="check the network or raise --timeout").with_context(where)
            if on_idle is not None and not on_idle():
                return


def _not_live(feeds: Sequence[TradeFeed]) -> str:
    """The sources that are not live, with their state and its reason: "kraken ETH/USD: reconnecting (…)"."""
    notes = []
    for feed in feeds:
        if feed.stats.state is not State.LIVE:
            detail = f" ({feed.stats.detail})" if feed.stats.detail else ""
            notes.append(f"{feed.request.venue} {feed.request.symbol}: {feed.stats.state.value}{detail}")
    return "; ".join(notes)


def write_ndjson(sources: Sequence[tuple[str, str]], *, count: int | None, timeout: float, environ=None) -> None:
    """One trade per line, flushed per line, until `count` trades (or forever)."""
    from orderbook_cli.jsonout import write_line
    from orderbook_cli.trades import trade_line

    printed = 0

    def on_trade(trade: Trade) -> bool:
        nonlocal printed
        write_line(trade_line(trade))
        printed += 1
        return not (count and printed >= count)

    follow(sources, timeout=timeout, on_trade=on_trade, environ=environ)


MAX_FPS = 20


def show_terminal(sources: Sequence[tuple[str, str]], *, count: int | None, timeout: float, no_color: bool = False,
                  theme: Any = None, environ=None) -> None:
    """The live time-and-sales list until q, Ctrl-C or `count` trades (then the last frame stays)."""
    from rich.live import Live

    from orderbook_cli.trades import Tape
    from orderbook_cli.views import tape as view
    from orderbook_cli.views.keys import Keys
    from orderbook_cli.views.terminal import colour_mode
    from orderbook_cli.views.terminal import console as make_console
    from orderbook_cli.views.theme import DEFAULT

    console = make_console(no_color)
    tape = Tape()
    title = "  ".join(f"{venue} {symbol}" for venue, symbol in sources)
    state: dict[str, Any] = {"seen": 0, "drawn": 0.0, "dirty": True, "status": ""}

    def draw(live) -> None:
        live.update(view.frame(tape, title, width=console.size.width, height=console.size.height, theme=theme or DEFAULT,
                               colour=colour_mode(console) != "none", venues=len(sources) > 1, status=state["status"]),
                    refresh=True)
        state["drawn"], state["dirty"] = time.monotonic(), False

    with Keys() as keys, Live(console=console, screen=True, auto_refresh=False, redirect_stdout=False, redirect_stderr=False) as live:
        def on_trade(trade: Trade) -> bool:
            tape.add(trade)
            state["seen"] += 1
            state["dirty"] = True
            return not (count and state["seen"] >= count)

        def on_idle() -> bool:
            if state["dirty"] and time.monotonic() - state["drawn"] >= 1 / MAX_FPS:
                draw(live)
            return True

        def on_status(status: str) -> None:
            state["status"], state["dirty"] = status, True

        def on_resize() -> None:  # drawn at once for the new size, not at the next trade
            state["dirty"], state["drawn"] = True, 0.0

        draw(live)
        try:
            follow(sources, timeout=timeout, on_trade=on_trade, on_idle=on_idle, idle_every=1 / MAX_FPS,
                   keys=keys, on_key=lambda key: key not in ("q", "Q"), on_status=on_status, on_resize=on_resize, environ=environ)
        except KeyboardInterrupt:
            pass  # Ctrl-C is how people leave a live view: exit 0
    if count and state["seen"] >= count:  # leave the last frame on the normal screen
        console.print(view.frame(tape, title, width=console.size.width, height=min(console.size.height - 1, count + 1),
                                 theme=theme or DEFAULT, colour=colour_mode(console) != "none", venues=len(sources) > 1))


def run(args: Sequence[str], *, count: int | None, json_output: bool, timeout: float | None, no_color: bool, debug: bool) -> None:
    """`obook trades`: NDJSON when asked or when stdout is not a terminal, else the live list."""
    import sys

    from orderbook_cli import config
    from orderbook_cli.pipeline.plan import DEFAULT_TIMEOUT
    from orderbook_cli.views.theme import Theme

    if debug:
        from orderbook_cli import debuglog

        debuglog.enable()
    settings = config.load()
    sources = parse_sources(config.expand_boards(list(args), settings))
    timeout = timeout if timeout is not None else settings.timeout or DEFAULT_TIMEOUT
    if json_output or not sys.stdout.isatty():
        write_ndjson(sources, count=count, timeout=timeout)
        return
    show_terminal(sources, count=count, timeout=timeout, no_color=no_color or settings.theme == "mono",
                  theme=Theme.from_colours(settings.colours))


TAPE_PANE_WIDTH = 44  # time, side, size and price of most pairs
LADDER_MIN_WIDTH = 100  # the tape is shown only where the ladder keeps this much room


class TapePane:
    """`watch`'s tape beside the ladder: the venue's trades on their own feed (streamed
    venues only: a second REST poll would break Revolut X's public limit), a ring
    of the last trades, `t` to hide and show it. The trade feed is opened the first
    time the terminal is wide enough to show it (at once with --record, so the
    recording has every trade); from then on its trades also mark the heatmap, sum
    into the header's volume delta and fill the ladder's traded-volume column,
    whether the pane is shown or not.

    Replaying a raw recording (:meth:`replaying`) the trades come from the recording
    at its pace, on its clock, and the pane appears with the first of them."""

    def __init__(self, venue_id: str, symbol: str, timeout: float, history: Any = None, view: Any = None, tap: Tap = NO_TAP):
        """`history`: the heatmap's (views.heatmap.History) to mark trades on; `view`: the
        ladder's views.state.LadderView the trades' volumes are shown on; `tap`: what sees
        the trade feed's raw frames (the recorder's, with --record)."""
        from orderbook_cli.trades import Tape

        self.source = (venue_id, symbol, timeout)
        self.tap = tap
        self.history, self.view = history, view
        self.feed: TradeFeed | ReplayedTrades | None = None
        self.opened = False
        self.tape = Tape()
        self.visible = True
        self.title = f"trades {venue_id} {symbol}"
        self.failure = ""
        self.recorded_clock: Callable[[], float] | None = None  # a replay: the recording's time of the book on screen

    @classmethod
    def replaying(cls, trades: ReplayedTrades, title: str, history: Any, view: Any, clock: Callable[[], float]) -> TapePane:
        """The pane of a replayed raw recording: its trades from `trades`, the 1-minute
        window on `clock` (the recorded time of the newest book)."""
        pane = cls("", "", 0.0, history, view)
        pane.feed, pane.title, pane.recorded_clock = trades, f"trades {title}", clock
        return pane

    @staticmethod
    def offered(venue_id: str) -> bool:
        return streams_trades(venue_id)

    def _now(self, trade: Trade | None = None) -> float:
        """The tape's clock: live, monotonic; replayed, the recording's time."""
        if self.recorded_clock is None:
            return time.monotonic()
        recorded = self.recorded_clock()
        return recorded if trade is None else max(recorded, trade.received_at.timestamp())  # float-ok: time

    def drain(self) -> bool:
        """Take what the trade feed has delivered (each trade marked on the heatmap's
        history); True when anything new is to be drawn."""
        changed = False
        while self.feed is not None and (event := self.feed.get(timeout=0)) is not None:
            if isinstance(event, TradesEvent):
                if isinstance(self.feed, ReplayedTrades) and self.feed.title:
                    self.title = f"trades {self.feed.title}"
                self.opened = True  # a replay's pane appears with its first trades
                for trade in event.trades:
                    self.tape.add(trade, self._now(trade))
                    if self.history is not None:  # live: when it arrived, as the live heatmap's books; replayed: its own time
                        self.history.trade(trade, None if self.recorded_clock else trade.received_at.timestamp())  # float-ok: time
                changed = True
            elif isinstance(event, FatalEvent):  # the ladder goes on without its tape
                self.failure, self.feed = f"no trades: {event.error.message}", None
                changed = True
        return changed

    def open(self) -> None:
        if not self.opened and self.recorded_clock is None:
            self.opened = True
            self.feed = open_trade_feed(*self.source, tap=self.tap)

    def toggle(self) -> None:
        self.visible = not self.visible

    def decorate(self) -> None:
        """Once trades are followed: the ladder's volume per level over the last minute
        and the header's volume delta, on the view."""
        from orderbook_cli.views.tape import volume_items

        if self.opened and self.view is not None:
            self.view.traded = self.tape.volume_at(self._now())
            self.view.header_items = volume_items(self.tape, self.view.theme)

    def fits(self, width: int) -> bool:
        replay_without_trades = self.recorded_clock is not None and not self.opened
        return self.visible and not replay_without_trades and width >= LADDER_MIN_WIDTH + TAPE_PANE_WIDTH + 2

    @staticmethod
    def ladder_width(width: int) -> int:
        return width - TAPE_PANE_WIDTH - 2

    def beside(self, ladder: Any, width: int, height: int, *, theme: Any, colour: bool) -> Any:
        """The ladder (drawn for `width - TAPE_PANE_WIDTH - 2` columns) with the tape to its right."""
        from orderbook_cli.views import tape as view
        from orderbook_cli.views.terminal import Beside

        return Beside(ladder, self.ladder_width(width), view.frame(self.tape, self.title, width=TAPE_PANE_WIDTH, height=height, theme=theme,
                                                                   colour=colour, status=self.failure), TAPE_PANE_WIDTH)

    def close(self) -> None:
        if self.feed is not None:
            self.feed.close()


class OrderFlowFeed:
    """`watch --json --order-flow`: the venue's trades beside its book feed, for the
    `order_flow` object on every JSON book (README "Fills versus cancels").

    On Bitso's full feed the book is kept order by order: its order book is an
    orderflow.ObservedOrderBook and each trade names the maker order it filled, so
    liquidity leaving a level is told filled from pulled (orderflow.OrderFlow).
    Other venues publish price levels, not orders: only the volume traded at each
    level is known (`pulled` is null). Everything runs on the writer's thread: the
    trades are taken between books."""

    def __init__(self, venue_id: str, symbol: str, timeout: float, flow: Any = None):
        """`flow`: the orderflow.OrderFlow the venue's order book reports to (pipeline.plan
        sets it up on Bitso's full feed); None: filled volume only."""
        from orderbook_cli.trades import Tape

        if not streams_trades(venue_id):
            streamed = [venue for venue in supported() if streams_trades(venue)]
            raise UsageError(f"--order-flow follows the venue's trades, and {venue_id} streams none in obook",
                             hint=f"it works on: {', '.join(streamed)}")
        self.source = (venue_id, symbol, timeout)
        self.flow = flow
        self.tape = Tape()
        self.feed: TradeFeed | None = None

    def __enter__(self) -> OrderFlowFeed:
        self.feed = open_trade_feed(*self.source)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.feed is not None:
            self.feed.close()

    def _drain(self, now: float) -> None:
        while self.feed is not None and (event := self.feed.get(timeout=0)) is not None:
            if isinstance(event, FatalEvent):
                raise event.error.with_context(f"trades of {self.source[0]} {self.source[1]}")
            if isinstance(event, TradesEvent):
                for trade in event.trades:
                    self.tape.add(trade, now)
                    if self.flow is not None:
                        self.flow.trade(dict(trade.extras).get("maker_order"), trade.amount, now)

    def to_dict(self, book: Any) -> dict[str, Any]:
        """The `order_flow` object for `book` (the shaped book about to be written)."""
        from decimal import Decimal, localcontext

        from orderbook_cli.book import EXACT, plain
        from orderbook_cli.trades import traded_by_level

        now = time.monotonic()
        self._drain(now)
        if self.flow is not None:
            return self.flow.to_dict(now)
        group = book.figures.group if book.figures is not None else None
        at_level = traded_by_level(book, self.tape.volume_at(now), group)
        with localcontext(EXACT):
            filled = sum(at_level.values(), Decimal(0))

        def rows(side: str, descending: bool) -> list[dict[str, Any]]:
            prices = sorted((price for s, price in at_level if s == side), reverse=descending)
            return [{"price": plain(p), "filled": plain(at_level[(side, p)]), "pulled": None} for p in prices]

        return {"window_seconds": self.tape.window, "filled": plain(filled), "pulled": None,
                "bids": rows("bid", True), "asks": rows("ask", False)}
