"""What the commands do: resolve the venue and symbol, open a feed, and hand
its books to JSON output or to the ladder."""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Callable, NamedTuple
from decimal import Decimal

from orderbook_cli import jsonout
from orderbook_cli.errors import ObookError, UsageError, sanitize
from orderbook_cli.feed import BookEvent, Feed, FeedRequest, State, StatusEvent
from orderbook_cli.impact import parse_size
from orderbook_cli.shape import ShapeSpec
from orderbook_cli.stdio import silence_stdout
from orderbook_cli.venues import Venue, get_venue, load_all


class Options(NamedTuple):
    venue: str
    symbol: str
    depth: int | None = None
    json_output: bool = False
    timeout: float | None = None  # None: the config file's, else DEFAULT_TIMEOUT
    debug: bool = False
    precision: int | None = None
    group: Decimal | None = None
    impact: str | None = None  # --impact SIZE as typed: base units, or a quote amount (50000USD)
    liquidity: bool = False
    no_color: bool = False
    count: int | None = None
    idle_timeout: float | None = None
    stale_after: float | None = None  # None: the config file's, else DEFAULT_STALE_AFTER
    sources: tuple[tuple[str, str], ...] = ()  # (venue, symbol) as typed; several: see multi.py
    merge: bool = False
    quote_aliases: tuple[str, ...] = ()
    feed: str | None = None  # --feed top|full
    record: str | None = None  # watch --record FILE
    view: str = "ladder"  # ladder | chart | heatmap (views.VIEWS)
    svg: str | None = None  # snapshot: write the picture to this file
    colours: tuple[str, str] | None = None  # (ask, bid) from the config's theme; None: the default (views.theme.Theme)


    config_depth: int | None = None  # the config file's default depth (capped at each venue's maximum)
    public: bool | None = None  # revx: the public book even when credentials are configured


DEFAULT_TIMEOUT, DEFAULT_STALE_AFTER = 10.0, 5.0


def settle(opts: Options) -> Options:
    """Options with the config file's defaults filled in where the command line gave none."""
    from orderbook_cli import config

    settings = config.load()
    opts = opts._replace(
        timeout=opts.timeout if opts.timeout is not None else settings.timeout or DEFAULT_TIMEOUT,
        stale_after=opts.stale_after if opts.stale_after is not None else settings.stale_after or DEFAULT_STALE_AFTER,
        config_depth=settings.depth,
        no_color=opts.no_color or settings.theme == "mono",
        colours=settings.colours,
    )
    return opts


def shape_spec(opts: Options, depth: int | None, *, ladder: bool) -> ShapeSpec:
    """What the shape step makes of every book for these options (the ladder always shows liquidity)."""
    impact = parse_size(opts.impact) if opts.impact is not None else None
    return ShapeSpec(depth=depth, group=opts.group, impact=impact, liquidity=opts.liquidity or ladder)


def open_shaped(open_feed: Callable[[FeedRequest], Feed], request: FeedRequest, spec: ShapeSpec) -> Feed:
    """A feed whose books come shaped by `spec` (no depth: the feed's own)."""
    feed = open_feed(request)
    feed.shape_spec = spec if spec.depth is not None else replace(spec, depth=feed.shape_spec.depth)
    return feed


class Prepared(NamedTuple):
    venue: Venue
    request: FeedRequest
    spec: ShapeSpec

    @property
    def context(self) -> str:
        return f"{self.request.venue} {self.request.symbol}"


def _debug_logging(opts: Options) -> None:
    if opts.debug:
        from orderbook_cli import debuglog

        debuglog.enable()


def prepare(opts: Options, *, once: bool) -> Prepared:
    _debug_logging(opts)
    venue = get_venue(opts.venue)
    try:
        symbol = venue.symbol(opts.symbol)
        venue_options = {"precision": opts.precision, "public": opts.public, "feed": _feed_kind(opts.feed)}
        if len(opts.sources) > 1 and "feed" not in venue.info.options:
            venue_options["feed"] = None  # several sources: --feed is for those whose venue has both feeds
        venue.check_options(venue_options)
        venue.use_options(venue_options)  # before the depth: options may change the venue's default
        venue_options = {k: v for k, v in venue_options.items() if v is not None}
        depth = venue.check_depth(opts.depth if opts.depth is not None else _capped(opts.config_depth, venue, venue_options), venue_options)
        if opts.record:
            _check_recordable(venue, opts)
    except ObookError as error:
        raise error.with_context(f"{venue.info.id} {sanitize(opts.symbol, 40)}")
    asked = depth
    if opts.group is not None:  # buckets of a top-of-book feed sum more levels than they show
        asked = max(depth, venue.max_depth(venue_options) or depth)
    request = FeedRequest(
        venue=venue.info.id, symbol=symbol, depth=asked, timeout=opts.timeout, once=once,
        idle_timeout=opts.idle_timeout, options=venue_options,
    )
    spec = shape_spec(opts, depth, ladder=not opts.json_output and (once or sys.stdout.isatty()))
    _check_impact_currency(spec, symbol)
    return Prepared(venue, request, spec)


def _check_impact_currency(spec: ShapeSpec, symbol: str) -> None:
    """--impact 50000USD prices USD: the book must be quoted in USD (where the symbol says)."""
    from orderbook_cli.symbols import is_pair, parse_pair

    currency = spec.impact.currency if spec.impact is not None else None
    if currency is None or not is_pair(symbol):
        return
    quote = parse_pair(symbol).quote
    if currency != quote:
        raise UsageError(f"--impact is in {currency}, but {sanitize(symbol, 40)} is quoted in {quote}",
                         hint=f"give the size in {quote} (e.g. --impact 50000{quote}) or in base units")


def _feed_kind(text: str | None) -> str | None:
    from orderbook_cli.errors import UsageError

    if text is None or text.strip().lower() in ("top", "full"):
        return text and text.strip().lower()
    raise UsageError(f"--feed {sanitize(text, 20)!r} is neither 'top' nor 'full'")


def _check_recordable(venue: Venue, opts: Options) -> None:
    from orderbook_cli.errors import UsageError
    from orderbook_cli.venues.websocket import WebSocketVenue

    if len(opts.sources) > 1:
        raise UsageError("--record records one source at a time")
    if not isinstance(venue, WebSocketVenue):
        raise UsageError(f"--record records WebSocket traffic; {venue.info.id} is polled over REST")


def _capped(depth: int | None, venue: Venue, options: dict) -> int | None:
    """A default depth is a wish, not a request: no deeper than the venue allows."""
    limit = venue.max_depth(options)
    return depth if depth is None or limit is None else min(depth, limit)


def _several(opts: Options) -> bool:
    return opts.merge or len(opts.sources) > 1


def snapshot(opts: Options) -> None:
    opts = settle(opts)
    if opts.view == "heatmap":
        raise UsageError("snapshot shows one moment; the heatmap needs history", hint="use --view ladder or chart, or obook watch --view heatmap")
    if opts.svg is not None:
        from orderbook_cli.views.svg import check_target

        check_target(opts.svg)
    if _several(opts):
        if opts.svg is not None or opts.view != "ladder":
            raise UsageError("--svg and --view draw one source's book", hint="give one VENUE SYMBOL")
        from orderbook_cli import multi

        return multi.snapshot(opts)
    prepared = prepare(opts, once=True)
    try:
        with open_shaped(prepared.venue.open_feed, prepared.request, prepared.spec) as feed:
            book = feed.first_book()
    except ObookError as error:
        raise error.with_context(prepared.context)
    if opts.svg is not None:
        from orderbook_cli.views.svg import write_svg
        from orderbook_cli.views.theme import Theme

        write_svg(book, opts.svg, opts.view, Theme.from_colours(opts.colours))
        print(f"obook: wrote {sanitize(opts.svg, 200)} ({opts.view}, {prepared.context})", file=sys.stderr, flush=True)
        if not opts.json_output:
            return
    if opts.json_output:
        jsonout.write_line(jsonout.dumps(jsonout.book_to_dict(book), pretty=sys.stdout.isatty()))
    else:
        from orderbook_cli.views.choose import print_snapshot
        from orderbook_cli.views.theme import Theme

        print_snapshot(book, opts.view, theme=Theme.from_colours(opts.colours), no_color=opts.no_color)


def watch(opts: Options) -> None:
    opts = settle(opts)
    if _several(opts):
        if opts.view != "ladder":
            raise UsageError("--view chart and heatmap draw one source's book", hint="give one VENUE SYMBOL, or leave out --view")
        from orderbook_cli import multi

        return multi.watch(opts)
    prepared = prepare(opts, once=False)
    open_feed: Callable[[FeedRequest], Feed] = prepared.venue.open_feed
    if opts.record:  # the recorder taps what the venue receives, below the parsers
        from orderbook_cli.recording import recorded

        open_feed = recorded(open_feed, opts.record, prepared.venue.feed_kind)  # type: ignore[attr-defined]  # a WebSocket venue (checked)
    try:
        _show(open_feed, prepared.request, prepared.spec, opts, prepared.context, max_depth=prepared.venue.max_depth(prepared.request.options))
    except ObookError as error:
        raise error.with_context(prepared.context)


def _wants_ladder(opts: Options) -> bool:
    return not opts.json_output and sys.stdout.isatty()


def _show(open_feed, request: FeedRequest, spec: ShapeSpec, opts: Options, context: str, **ladder) -> None:
    """The live ladder on a terminal; NDJSON with --json or when stdout is not a terminal.
    `ladder` goes to live.run (the venue's max_depth for +/-, a replay's player)."""
    if not _wants_ladder(opts):
        _write_ndjson(open_feed, request, spec, context, opts.count)
    else:
        from orderbook_cli import live

        live.run(open_feed, request, spec, opts, **ladder)


def _write_ndjson(open_feed, request: FeedRequest, spec: ShapeSpec, context: str, count: int | None) -> None:
    """Every book as one JSON line, written as it arrives (the feed runs on this
    thread: no hand-off per book); state changes after the first book go to stderr."""
    import time

    written, resyncing = 0, False

    def on_event(event) -> bool:
        nonlocal written, resyncing
        if isinstance(event, BookEvent):
            try:
                jsonout.write_line(jsonout.book_line(event.book))
            except BrokenPipeError:
                silence_stdout()  # the reader is gone (`| head -1`): done, quietly
                return False
            written += 1
            return count is None or written < count
        if isinstance(event, StatusEvent) and event.state is State.CLOSED:
            return False  # the feed ended (a recording played to its end)
        if isinstance(event, StatusEvent) and event.state is State.RESYNCING:
            print(f"obook: {context}: resyncing: {sanitize(event.detail)}", file=sys.stderr, flush=True)
            resyncing = True  # the next book says it is whole again: no "live again" line
        elif isinstance(event, StatusEvent) and event.state is State.LIVE and resyncing:
            resyncing = False
        elif isinstance(event, StatusEvent) and written and event.state in (State.RECONNECTING, State.LIVE):
            note = f"reconnecting: {event.describe(time.monotonic())}" if event.state is State.RECONNECTING else "live again"
            print(f"obook: {context}: {sanitize(note)}", file=sys.stderr, flush=True)
        return True

    with open_shaped(open_feed, request, spec) as feed:
        feed.run(on_event)


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
    _debug_logging(opts)
    rate = parse_speed(speed)
    stream = open_recording(source, sample)
    name = "sample" if sample else "stdin" if source in (None, "-") else source
    opts = opts._replace(depth=opts.depth or opts.config_depth)  # None: the depth the recording has
    request = FeedRequest(venue="replay", symbol=sanitize(name, 60), depth=opts.depth or REPLAY_DEPTH, timeout=opts.timeout,
                          options={"depth": opts.depth})  # a raw recording plays at its recorded depth unless told otherwise
    spec = shape_spec(opts, opts.depth, ladder=_wants_ladder(opts))  # no depth: the recording's
    tally = Tally()
    try:
        if recording.is_recording(stream):  # raw venue traffic from `watch --record`: re-run through the venue's parsers
            _show(lambda req: recording.replay_feed(req, stream, rate), request, spec, opts, f"replay {request.symbol}")
        elif _wants_ladder(opts):
            player = Player(stream, rate, tally)
            _show(player.feed, request, spec, opts, f"replay {request.symbol}", player=player)
        else:
            _show(lambda req: replay_feed(req, stream, rate, tally), request, spec, opts, f"replay {request.symbol}")
    except ObookError as error:
        raise error.with_context(f"replay {request.symbol}")
    summary = tally.summary()
    if summary:
        print(f"obook: replay {request.symbol}: {summary}", file=sys.stderr, flush=True)


def list_symbols(venue_id: str, *, refresh: bool, json_output: bool, timeout: float, quiet: bool) -> None:
    """A venue's pairs from the cache, fetched when asked or when the cache is missing or stale."""
    from orderbook_cli import symbol_cache

    venue = get_venue(venue_id)
    symbols, fetched_at = symbol_cache.read(venue.info.id)
    if refresh or symbol_cache.is_stale(fetched_at):
        try:
            symbols = symbol_cache.write(venue.info.id, venue.list_symbols(timeout))
        except ObookError as error:
            raise error.with_context(f"{venue.info.id} pair list")
    if quiet:
        return
    if json_output:
        jsonout.write_line(jsonout.dumps(symbols, pretty=sys.stdout.isatty()))
    else:
        for symbol in symbols:
            jsonout.write_line(sanitize(symbol, 60))


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
