"""The pipeline: from the command line to stdout, for one to six sources.

    plan      Options -> the sources to open (venue, symbol, request, shape spec), checked before any network
    sources   the open sources: feeds delivering into one shared queue, each source's newest book and state
    output    the one JSON serializer (plain and consolidated books), the one NDJSON writer and its notes
    live      the live loops on a terminal (events, keys, coalescing, staleness); views draw

Every book a feed delivers is already shaped (shape.py: figures from the whole
book, then grouping and depth), so every output reads the same numbers. The
functions here are the commands' entry points (cli.py calls them).
"""

from __future__ import annotations

import sys
import time
from functools import partial
from typing import TYPE_CHECKING

from orderbook_cli import jsonout
from orderbook_cli.errors import ObookError, OutputError, UsageError, sanitize
from orderbook_cli.feed import Feed, FeedRequest
from orderbook_cli.pipeline.output import first_books, note, print_json, write_ndjson
from orderbook_cli.pipeline.plan import (
    DEFAULT_STALE_AFTER,
    DEFAULT_TIMEOUT,
    Options,
    Plan,
    Source,
    make_plan,
    settle,
    shape_spec,
    wants_ladder,
)
from orderbook_cli.pipeline.sources import Board
from orderbook_cli.shape import ShapeSpec
from orderbook_cli.venues import get_venue, load_all

if TYPE_CHECKING:
    from orderbook_cli.replay import Player
    from orderbook_cli.views.theme import Theme

__all__ = ["DEFAULT_STALE_AFTER", "DEFAULT_TIMEOUT", "Options", "list_symbols", "list_venues", "replay", "show_config", "snapshot", "watch"]


def snapshot(opts: Options) -> None:
    """One book per source (or the consolidated book), printed once."""
    opts = settle(opts)
    if opts.view == "heatmap":
        raise UsageError("snapshot shows one moment; the heatmap needs history", hint="use --view ladder or chart, or obook watch --view heatmap")
    several = len(opts.sources) > 1
    if several and (opts.svg is not None or opts.view != "ladder"):
        raise UsageError("--svg and --view draw one source's book", hint="give one VENUE SYMBOL")
    if opts.svg is not None:
        from orderbook_cli.views.svg import check_target

        check_target(opts.svg)
    board = Board(make_plan(opts, once=True))
    first_books(board, opts.timeout or DEFAULT_TIMEOUT)
    now = time.monotonic()
    if opts.svg is not None:
        from orderbook_cli.views.svg import write_svg

        book, label = board.states[0].book, board.states[0].source.label
        assert book is not None  # first_books raised otherwise
        write_svg(book, opts.svg, opts.view, _theme(opts))
        note(f"obook: wrote {opts.svg} ({opts.view}, {label})")
        if not opts.json_output:
            return
    if opts.json_output:
        print_json(board, now)
        return
    theme = _theme(opts)
    if several:
        from orderbook_cli.views.boards import print_board

        print_board(*board.shown(now, None), no_color=opts.no_color, theme=theme)
    else:
        from orderbook_cli.views.choose import print_snapshot

        book = board.states[0].book
        assert book is not None
        print_snapshot(book, opts.view, theme=theme, no_color=opts.no_color)


def _theme(opts: Options) -> Theme:
    """The colours a picture is drawn in (loaded only for one: JSON has none)."""
    from orderbook_cli.views.theme import Theme

    return Theme.from_colours(opts.colours)


def watch(opts: Options) -> None:
    """Live books: the ladder or board on a terminal, NDJSON otherwise."""
    opts = settle(opts)
    if len(opts.sources) > 1 and opts.view != "ladder":
        raise UsageError("--view chart and heatmap draw one source's book", hint="give one VENUE SYMBOL, or leave out --view")
    _show(make_plan(opts, once=False), opts)


def _show(plan: Plan, opts: Options, player=None, replayed=None) -> None:
    if not wants_ladder(opts):
        monitor = None
        if opts.conditions is not None and (opts.conditions.until is not None or opts.conditions.alerts):
            from orderbook_cli.alerts import Monitor

            monitor = Monitor.of(opts.conditions, lambda alert: note(alert.line()), note)
        order_flow = None
        if opts.order_flow:
            from orderbook_cli.tape import OrderFlowFeed

            request = plan.sources[0].request
            order_flow = OrderFlowFeed(request.venue, request.symbol, request.timeout, plan.sources[0].order_flow)
        try:
            ended = write_ndjson(Board(plan), count=opts.count, stale_after=opts.stale_after or DEFAULT_STALE_AFTER,
                                 timeout=opts.timeout or DEFAULT_TIMEOUT, monitor=monitor, duration=opts.duration, order_flow=order_flow)
        finally:
            if monitor is not None:
                monitor.close()  # an alert fired just before the end still runs its command (bounded)
        if monitor is not None:
            monitor.verdict(ended)
        return
    from orderbook_cli.pipeline import live

    live.run(plan, opts, player=player, replayed=replayed)


def list_venues(*, json_output: bool) -> None:
    rows = [venue.describe() for venue in load_all()]
    if json_output:
        jsonout.write_line(jsonout.dumps(rows, pretty=sys.stdout.isatty()))
        return
    from orderbook_cli.views.venue_list import print_venues

    print_venues(rows)


REPLAY_DEPTH = 50


def replay(source: str | None, *, sample: bool, speed: str, opts: Options) -> None:
    """Play a recording back through the same ladder / NDJSON output as `watch`."""
    from orderbook_cli import recording
    from orderbook_cli.replay import Player, Tally, open_recording, parse_speed, replay_feed

    opts = settle(opts)
    rate = parse_speed(speed)
    stream = open_recording(source, sample)
    name = sanitize("sample" if sample else "stdin" if source in (None, "-") else source, 60)
    opts = opts._replace(depth=opts.depth or opts.config_depth)  # None: the depth the recording has
    request = FeedRequest(venue="replay", symbol=name, depth=opts.depth or REPLAY_DEPTH, timeout=opts.timeout or DEFAULT_TIMEOUT,
                          options={"depth": opts.depth})  # a raw recording plays at its recorded depth unless told otherwise
    spec = shape_spec(opts, opts.depth, ladder=wants_ladder(opts))  # no depth: the recording's
    tally = Tally()
    player = None
    replayed = None
    if recording.is_recording(stream):  # raw venue traffic from `watch --record`: re-run through the venue's parsers
        if wants_ladder(opts):  # its trade frames, if any, to the tape pane (NDJSON: books only)
            from orderbook_cli.tape import ReplayedTrades

            replayed = ReplayedTrades()
        open_feed = lambda req: recording.replay_feed(req, stream, rate, replayed)  # noqa: E731
    elif wants_ladder(opts):
        player = Player(stream, rate, tally)
        open_feed = partial(_player_feed, player)
    else:
        open_feed = lambda req: replay_feed(req, stream, rate, tally)  # noqa: E731
    plan = Plan([Source("replay", f"replay {name}", request, spec, open_feed)], None, spec)
    _show(plan, opts, player=player, replayed=replayed)
    if source not in (None, "-") and not sample:
        import shlex  # only for this note: off the start-up of every other command

        summary = tally.summary(shlex.quote(sanitize(source, 200)))
    else:
        summary = tally.summary()
    if summary:
        note(f"obook: replay {name}: {summary}")


def _player_feed(player: Player, request: FeedRequest) -> Feed:
    feed = player.feed(request)
    feed.shape_spec = ShapeSpec()  # no --depth: the depth the recording has
    return feed


def list_symbols(venue_id: str, *, refresh: bool, json_output: bool, timeout: float, quiet: bool) -> None:
    """A venue's pairs from the cache, fetched when asked or when the cache is missing or stale."""
    from orderbook_cli import symbol_cache

    venue = get_venue(venue_id)
    symbols, fetched_at = symbol_cache.read(venue.info.id)
    unwritable: OSError | None = None
    if refresh or symbol_cache.is_stale(fetched_at):
        try:
            fetched = venue.list_symbols(timeout)
        except ObookError as error:
            raise error.with_context(f"{venue.info.id} pair list") from None
        try:
            symbols = symbol_cache.write(venue.info.id, fetched)
        except OSError as error:  # the list is still shown; the cache failing is said after it
            symbols, unwritable = symbol_cache.cleaned(fetched), error
    if not quiet:
        if json_output:
            jsonout.write_line(jsonout.dumps(symbols, pretty=sys.stdout.isatty()))
        else:
            for symbol in symbols:
                jsonout.write_line(sanitize(symbol, 60))
    if unwritable is not None:
        reason = "it is not a folder" if isinstance(unwritable, (FileExistsError, NotADirectoryError)) else unwritable.strerror or unwritable
        raise OutputError(f"cannot write the pair cache in {sanitize(str(symbol_cache.cache_dir()), 200)}: {reason}",
                          hint="check that folder, or set XDG_CACHE_HOME") from None


def show_config(*, json_output: bool) -> None:
    """`obook config show`: the settings in effect, after checking the file."""
    from orderbook_cli import config

    settings = config.load()
    ask, bid = settings.colours
    effective = {
        "path": str(settings.path) if settings.path else None,
        "depth": settings.depth, "timeout": settings.timeout or DEFAULT_TIMEOUT,
        "stale_after": settings.stale_after or DEFAULT_STALE_AFTER, "theme": settings.theme,
        "ask_color": ask or None, "bid_color": bid or None,
        "boards": {name: list(sources) for name, sources in settings.boards.items()},
    }
    if json_output:
        jsonout.write_line(jsonout.dumps(effective, pretty=sys.stdout.isatty()))
        return
    where = config.path()
    jsonout.write_line(f"config file: {where or '(none: OBOOK_CONFIG is empty)'}{'' if settings.path else ' (not there: built-in defaults)'}")
    jsonout.write_line(f"depth: {settings.depth or 'the venue default'} · timeout: {effective['timeout']:g}s · stale after: {effective['stale_after']:g}s")
    jsonout.write_line(f"theme: {settings.theme} (asks {ask or 'no colour'}, bids {bid or 'no colour'})")
    for name, sources in settings.boards.items():
        jsonout.write_line(f"@{name}: {' '.join(sources)}")
