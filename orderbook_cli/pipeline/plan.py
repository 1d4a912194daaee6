"""The plan: from the command line to the sources to open, checked before any network.

One to six sources, one code path: a single source is the case N = 1. Each
source says how to open its feed, what to ask the venue for (its
FeedRequest) and what the shape step makes of its books (its ShapeSpec).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from orderbook_cli.errors import ObookError, UsageError, sanitize
from orderbook_cli.feed import Feed, FeedRequest
from orderbook_cli.shape import ShapeSpec
from orderbook_cli.symbols import is_pair, parse_pair
from orderbook_cli.venues import Venue, get_venue, read_options

if TYPE_CHECKING:
    from orderbook_cli.config import BoardConditions

DEFAULT_TIMEOUT, DEFAULT_STALE_AFTER = 10.0, 5.0
DEFAULT_VERIFY_EVERY = 60.0  # seconds between checks of a full feed against the venue's REST book


class Options(NamedTuple):
    venue: str
    symbol: str
    depth: int | None = None
    json_output: bool = False
    timeout: float | None = None  # None: the config file's, else DEFAULT_TIMEOUT
    debug: bool = False
    group: Decimal | None = None
    impact: str | None = None  # --impact SIZE as typed: base units, or a quote amount (50000USD)
    liquidity: bool = False
    no_color: bool = False
    count: int | None = None  # type: ignore[assignment]  # --count N: the field shadows tuple.count, never called here
    idle_timeout: float | None = None
    stale_after: float | None = None  # None: the config file's, else DEFAULT_STALE_AFTER
    sources: tuple[tuple[str, str], ...] = ()  # (venue, symbol) as typed, one to six
    merge: bool = False
    quote_aliases: tuple[str, ...] = ()
    record: str | None = None  # watch --record FILE
    view: str = "ladder"  # ladder | chart | heatmap (views.choose.VIEWS)
    svg: str | None = None  # snapshot: write the picture to this file
    colours: tuple[str, str] | None = None  # (ask, bid) from the config's theme; None: the default (views.theme.Theme)
    config_depth: int | None = None  # the config file's default depth (capped at each venue's maximum)
    venue_options: tuple[tuple[str, Any], ...] = ()  # venues' own options given (name, text or True): --precision 7, --public
    until: str | None = None  # --until COND as typed
    alerts: tuple[str, ...] = ()  # --alert COND, repeatable
    alert_cmd: str | None = None  # --alert-cmd CMD
    duration: float | None = None  # --duration S: the clock ends the watch
    conditions: BoardConditions | None = None  # the @boards' conditions; settle() makes them the ones in effect
    order_flow: bool = False  # watch --json --order-flow: the venue's trades beside the book (tape.OrderFlowFeed)
    verify_every: float | None = None  # watch --verify-every S (None: DEFAULT_VERIFY_EVERY; 0: no checks)


def settle(opts: Options) -> Options:
    """Options with the config file's defaults filled in where the command line gave none."""
    from orderbook_cli import config

    settings = config.load()
    if opts.debug:
        from orderbook_cli import debuglog

        debuglog.enable()
    return opts._replace(
        conditions=_conditions(opts),
        timeout=opts.timeout if opts.timeout is not None else settings.timeout or DEFAULT_TIMEOUT,
        stale_after=opts.stale_after if opts.stale_after is not None else settings.stale_after or DEFAULT_STALE_AFTER,
        config_depth=settings.depth,
        no_color=opts.no_color or settings.theme == "mono",
        colours=settings.colours,
    )


def _conditions(opts: Options) -> BoardConditions:
    """--until, --alert and --alert-cmd in effect: the command line's, else the @boards' (each checked: exit 2 naming it)."""
    from orderbook_cli.config import MAX_ALERT_CMD, BoardConditions

    board = opts.conditions or BoardConditions()
    until, alerts = board.until, board.alerts
    if opts.until is not None or opts.alerts:  # the parser is loaded only for conditions to parse
        from orderbook_cli import conditions

        if opts.until is not None:
            until = conditions.parse(opts.until, "--until")
        if opts.alerts:
            alerts = conditions.parse_all(opts.alerts, "--alert")
    command = opts.alert_cmd if opts.alert_cmd is not None else board.alert_cmd
    if command is not None and not alerts:
        raise UsageError("--alert-cmd runs for alerts; give at least one --alert COND")
    if opts.alert_cmd is not None and not 0 < len(opts.alert_cmd) <= MAX_ALERT_CMD:
        raise UsageError(f"--alert-cmd must be a command of 1 to {MAX_ALERT_CMD} characters")
    return BoardConditions(until, alerts, command)


def wants_ladder(opts: Options) -> bool:
    """A live view on a terminal; NDJSON with --json or when stdout is not one."""
    return not opts.json_output and sys.stdout.isatty()


def shape_spec(opts: Options, depth: int | None, *, ladder: bool) -> ShapeSpec:
    """What the shape step makes of every book for these options (the ladder always shows liquidity)."""
    impact = None
    if opts.impact is not None:
        from orderbook_cli.impact import parse_size  # only --impact loads the sweep

        impact = parse_size(opts.impact)
    bands: tuple[int, ...] = ()
    watched = () if opts.conditions is None else (*opts.conditions.alerts, *filter(None, (opts.conditions.until,)))
    if watched:  # the liquidity bands --until / --alert read
        from orderbook_cli.conditions import bands_needed

        bands = bands_needed(watched)
    return ShapeSpec(depth=depth, group=opts.group, impact=impact, liquidity=opts.liquidity or ladder, condition_bands=bands)


class Source(NamedTuple):
    """One source: how to open its feed, what to ask for, what to show of it."""

    key: str  # its name in a consolidated book's `venues` maps
    label: str  # "bitso btc_usd": errors and notes name it so
    request: FeedRequest
    spec: ShapeSpec
    open_feed: Callable[[FeedRequest], Feed]
    max_depth: int | None = None  # the venue's deepest book (the +/- keys); None: as many as it sends
    order_flow: Any = None  # --order-flow on a book kept order by order: its orderflow.OrderFlow

    def open(self) -> Feed:
        """Its feed, books shaped by its spec (no depth: the feed's own)."""
        feed = self.open_feed(self.request)
        feed.shape_spec = self.spec if self.spec.depth is not None else self.spec._replace(depth=feed.shape_spec.depth)
        return feed


class Plan(NamedTuple):
    sources: list[Source]
    symbol: str | None  # the common BASE-QUOTE when merging (None: one book per source)
    spec: ShapeSpec  # what a consolidated book shows (its sources are kept whole enough to compute it)

    @property
    def merged(self) -> bool:
        return self.symbol is not None


def _per_source(opts: Options, venues: list[Venue]) -> list[Options]:
    """Each source's options: a venue's own option (--precision, --feed) goes to the
    sources whose venue takes it; taken by none of them, the registry's error says so."""
    out = []
    for (venue_id, symbol), venue in zip(opts.sources, venues):
        mine = tuple((name, value) for name, value in opts.venue_options
                     if venue.takes(name) or not any(other.takes(name) for other in venues))
        out.append(opts._replace(venue=venue_id, symbol=symbol, venue_options=mine))
    return out


def _source(opts: Options, venue: Venue, *, once: bool, key: str = "") -> Source:
    label = f"{venue.info.id} {sanitize(opts.symbol, 40)}"
    try:
        symbol = venue.symbol(opts.symbol)
        venue_options = read_options(venue, dict(opts.venue_options))
        venue.use_options(venue_options)  # before the depth: options may change the venue's default
        wished = opts.depth if opts.depth is not None else _capped(opts.config_depth, venue, venue_options)
        depth = venue.check_depth(wished, venue_options)
        if opts.record:
            _check_recordable(venue, opts)
    except ObookError as error:
        raise error.with_context(label) from None
    asked = depth
    if opts.group is not None:  # buckets of a top-of-book feed sum more levels than they show
        asked = max(depth, venue.max_depth(venue_options) or depth)
    request = FeedRequest(venue=venue.info.id, symbol=symbol, depth=asked, timeout=opts.timeout or DEFAULT_TIMEOUT, once=once,
                          idle_timeout=opts.idle_timeout, options=venue_options,
                          verify_every=0.0 if once else DEFAULT_VERIFY_EVERY if opts.verify_every is None else opts.verify_every)
    spec = shape_spec(opts, depth, ladder=not opts.json_output and (once or sys.stdout.isatty()))
    if not opts.merge:  # merged, the consolidated book's quote is what counts (make_plan)
        _check_impact_currency(spec, symbol)
    open_feed: Callable[[FeedRequest], Feed] = venue.open_feed
    if opts.record:  # the recorder taps what the venue receives, below the parsers
        from orderbook_cli.recording import recorded

        open_feed = recorded(open_feed, opts.record, venue.feed_kind)  # type: ignore[attr-defined]  # a WebSocket venue (checked)
    return Source(key or venue.info.id, f"{venue.info.id} {sanitize(symbol, 40)}", request, spec, open_feed,
                  venue.max_depth(venue_options), _order_flow(venue, request) if opts.order_flow else None)


def make_plan(opts: Options, *, once: bool) -> Plan:
    """Check every source before any network: venues, symbols, depths, duplicates, quotes."""
    if opts.order_flow and (len(opts.sources) > 1 or wants_ladder(opts)):
        raise UsageError("--order-flow adds an order_flow object to one source's JSON books",
                         hint="give one VENUE SYMBOL and --json (or a pipe), e.g. obook watch bitso btc_mxn --json --order-flow")
    if opts.merge and len(opts.sources) < 2:
        raise UsageError("--merge consolidates two or more sources", hint="give several VENUE:SYMBOL, e.g. bitso:btc_usd revx:BTC-USD")
    if opts.quote_aliases and not opts.merge:
        raise UsageError("--quote-alias applies to --merge only", hint="add --merge, or leave out --quote-alias")
    venues = [get_venue(venue) for venue, _ in opts.sources]
    for venue in venues:  # a malformed OBOOK_*_URL is a usage error before any source connects
        venue.check_endpoints()
    sources = [_source(source_opts, venue, once=once) for source_opts, venue in zip(_per_source(opts, venues), venues)]
    seen: set[tuple[str, str]] = set()
    for s in sources:
        if (s.request.venue, s.request.symbol) in seen:
            raise UsageError(f"the source {s.request.venue}:{sanitize(s.request.symbol, 40)} is given twice")
        seen.add((s.request.venue, s.request.symbol))
    if len(sources) == 1:  # one source: named by its venue, nothing to merge (consolidate stays unloaded)
        return Plan(sources, None, sources[0].spec)
    from orderbook_cli import consolidate

    keys = consolidate.source_keys([(s.request.venue, s.request.symbol) for s in sources])
    sources = [s._replace(key=key) for s, key in zip(sources, keys)]
    if not opts.merge:
        return Plan(sources, None, sources[0].spec)
    aliases = consolidate.parse_aliases(opts.quote_aliases)
    pairs = []
    for source, (_, typed) in zip(sources, opts.sources):
        try:
            pairs.append((source.label, parse_pair(typed)))
        except UsageError:
            raise UsageError(f"cannot tell the base and quote currencies of {source.label} to merge it",
                             hint="write its symbol as BASE-QUOTE, e.g. BTC-USD") from None
    symbol = "-".join(consolidate.common_pair(pairs, aliases))
    depth = opts.depth or max(s.spec.depth or s.request.depth for s in sources)
    # each source as deep as its venue sends; the consolidated book is shaped once merged
    whole = [s._replace(spec=ShapeSpec(depth=max(depth, s.max_depth or depth))) for s in sources]
    spec = sources[0].spec._replace(depth=depth)
    if spec.impact is not None and spec.impact.currency is not None:  # --impact 50000USDC under USDC=USD: dollars
        spec = spec._replace(impact=spec.impact._replace(currency=aliases.get(spec.impact.currency, spec.impact.currency)))
    _check_impact_currency(spec, symbol)
    return Plan(whole, symbol, spec)


def _order_flow(venue: Venue, request: FeedRequest) -> Any:
    """--order-flow on a book kept order by order (Bitso's full feed): the OrderFlow its
    order book reports every order's change to; None elsewhere (filled volume only)."""
    from functools import partial

    from orderbook_cli.orderflow import ObservedOrderBook, OrderFlow
    from orderbook_cli.sync import OrderBook
    from orderbook_cli.venues.synced import SyncedVenue

    if not (isinstance(venue, SyncedVenue) and venue.book_kind is OrderBook and venue.full(request)):
        return None
    flow = OrderFlow()
    venue.book_kind = partial(ObservedOrderBook, flow)  # this feed's books report to the flow
    return flow


def _check_impact_currency(spec: ShapeSpec, symbol: str) -> None:
    """--impact 50000USD prices USD: the book must be quoted in USD (where the symbol says)."""
    currency = spec.impact.currency if spec.impact is not None else None
    if currency is None or not is_pair(symbol):
        return
    quote = parse_pair(symbol).quote
    if currency != quote:
        raise UsageError(f"--impact is in {currency}, but {sanitize(symbol, 40)} is quoted in {quote}",
                         hint=f"give the size in {quote} (e.g. --impact 50000{quote}) or in base units")


def _check_recordable(venue: Venue, opts: Options) -> None:
    from orderbook_cli.venues.websocket import WebSocketVenue

    if len(opts.sources) > 1:
        raise UsageError("--record records one source at a time")
    if not isinstance(venue, WebSocketVenue):
        raise UsageError(f"--record records WebSocket traffic; {venue.info.id} is polled over REST")


def _capped(depth: int | None, venue: Venue, options: dict) -> int | None:
    """A default depth is a wish, not a request: no deeper than the venue allows."""
    limit = venue.max_depth(options)
    return depth if depth is None or limit is None else min(depth, limit)
