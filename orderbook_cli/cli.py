"""The obook command line: Typer declarations only.

Each command imports what does its work when it runs (start-up stays lean);
main.py runs the app and turns errors into messages and exit statuses.
No `from __future__ import annotations` here: Typer would evaluate every
annotation string at each start (a third of building the app).
"""

import copy
import enum
import re
from decimal import Decimal
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperOption

from orderbook_cli.config import MAX_SECONDS
from orderbook_cli.errors import ExitStatus

_COMMENT = re.compile(r"(?<=\S) {2,}")  # two spaces or more after a command: its comment follows
COMMENT_COLUMN = 56  # a command longer than this puts its comment right after it, not the others' further out


def _epilog(rows: list[str], *paragraphs: str, title: str = "Examples") -> str:
    """A help page's closing section: `title`, its command lines as written (click's \\b
    block: not rewrapped), each comment after two spaces aligned, then `paragraphs` (wrapped)."""
    split = [_COMMENT.split(row, maxsplit=1) for row in rows]
    width = max([len(parts[0]) for parts in split if len(parts) == 2 and len(parts[0]) <= COMMENT_COLUMN] or [0])
    lines = ["  " + (parts[0] if len(parts) == 1 else f"{parts[0]:<{width}}  {parts[1]}") for parts in split]
    return "\n\n".join([f"{title}:", "\b\n" + "\n".join(lines), *paragraphs])


app = typer.Typer(
    name="obook",
    help="Market depth in the terminal: live order-book ladders and normalized JSON books.\n\n"
    "Venues: see 'obook venues'.",
    epilog=_epilog([
        "obook watch bitso btc_mxn  live ladder, q to quit",
        "obook snapshot revx BTC-USD --json | jq -r '.asks[0].price'",
        "obook watch bitmart-v3 BTC_USDT --json --count 10 > books.ndjson",
        "obook replay --sample  a recorded ladder, no network needed",
    ], "Exit codes: " + ", ".join(f"{int(status)} {status.meaning}" for status in ExitStatus) + "."),
    rich_markup_mode=None,  # click's plain help: drawing it with Rich loaded Rich and cost 28 ms of every --help (bench/run.py)
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def command_for(args: list[str]) -> Any:
    """The click command that runs `args`. Typer builds every command's parameters from its
    signature (about 4% of a `snapshot --json`); a command line that starts with one
    command's name gets a root holding that command alone: the same parsing, help and
    errors. `help` walks the whole tree, so it and everything else get the whole app."""
    from typer.main import get_command, get_command_name

    name = args[0] if args else None
    chosen = [info for info in app.registered_commands
              if name != "help" and info.callback is not None and (info.name or get_command_name(info.callback.__name__)) == name]
    if not chosen:
        return get_command(app)
    alone = copy.copy(app)
    alone.registered_commands, alone.registered_groups = chosen, []
    return get_command(alone)


def _decimal(text: str) -> Decimal:
    """Decimal options: bounded like venue numbers (length, digits, exponent) before use."""
    from orderbook_cli.book import to_decimal
    from orderbook_cli.errors import MalformedData

    text = str(text)
    try:
        value = to_decimal(text, "value")
    except MalformedData:
        raise typer.BadParameter(f"{text[:40]!r} is not a plain positive decimal number from 1e-30 to below 1e31 (at most 64 characters)") from None
    if value <= 0:
        raise typer.BadParameter(f"{text[:40]!r} must be a positive number")
    return value


MAX_COUNT = 10**9


def _whole_number(text: str, *, low: int, high: int, what: str) -> int:
    """Integer options: digits only, bounded before conversion, with a message that names the range."""
    from orderbook_cli.venues.base import whole_number

    try:
        return whole_number(low, high, what)(str(text))
    except ValueError as error:
        raise typer.BadParameter(f"{str(text).strip()[:40]!r} is {error}") from None


def _levels(text: str) -> int:
    return _whole_number(text, low=1, high=100_000, what="a number of price levels")


def _count(text: str) -> int:
    return _whole_number(text, low=1, high=MAX_COUNT, what="a number of books")


def _trade_count(text: str) -> int:
    return _whole_number(text, low=1, high=MAX_COUNT, what="a number of trades")


def _seconds(text: str) -> float:
    """Durations: a finite number of seconds from 0.1 to a day (no nan, inf or 1e308)."""
    text = str(text)
    try:
        value = float(text) if len(text) <= 40 else float("nan")  # float-ok: a duration, not money
    except ValueError:
        raise typer.BadParameter(f"{text[:40]!r} is not a number of seconds") from None
    if not 0.1 <= value <= MAX_SECONDS:
        raise typer.BadParameter(f"{text[:40]!r} must be a number of seconds from 0.1 to {MAX_SECONDS:g}")
    return value


def _verify_seconds(text: str) -> float:
    """--verify-every: 0 (no checks), or seconds from 1 to a day, read as every duration is."""
    text = str(text)
    if text.strip().rstrip("0").rstrip(".").lstrip("0") == "" and text.strip()[:1] == "0":  # 0, 0.0, 00
        return 0.0
    try:
        value = _seconds(text)
    except typer.BadParameter as error:
        if "not a number" in str(error):
            raise
        value = 0.0  # out of range: said below, with this option's range
    if value < 1:
        raise typer.BadParameter(f"{text[:40]!r} must be 0 (no checks) or a number of seconds from 1 to {MAX_SECONDS:g}")
    return value


def _complete_venue(incomplete: str) -> list[str]:
    from orderbook_cli.venues import venue_ids

    return [venue for venue in venue_ids() if venue.startswith(incomplete.lower())]


VenueArg = Annotated[str, typer.Argument(metavar="VENUE", help="Venue id (see 'obook venues').", show_default=False, autocompletion=_complete_venue)]
DepthOpt = Annotated[int | None, typer.Option("--depth", "-d", parser=_levels, metavar="LEVELS", help="Price levels per side (default: the config file's, else the venue's, see 'obook venues').", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the normalized JSON book instead of the ladder.")]
NdjsonOpt = Annotated[bool, typer.Option("--json", help="Print one normalized JSON book per line (NDJSON) instead of the ladder.")]
CountOpt = Annotated[int | None, typer.Option("--count", "-n", parser=_count, metavar="BOOKS", help="Stop after this many books.", show_default=False)]
TimeoutOpt = Annotated[float | None, typer.Option("--timeout", parser=_seconds, metavar="SECONDS", help="Give up connecting or waiting for the first book after this many seconds (default 10, or the config file's).", show_default=False)]
StaleOpt = Annotated[float | None, typer.Option("--stale-after", parser=_seconds, metavar="SECONDS", help="Warn in the ladder when the book is older than this many seconds (default 5, or the config file's).", show_default=False)]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Log wire traffic and full errors to stderr (secrets redacted).")]
GroupOpt = Annotated[Decimal | None, typer.Option("--group", parser=_decimal, metavar="TICK", help="Bucket levels into multiples of TICK (bids round down, asks round up).", show_default=False)]
ImpactOpt = Annotated[str | None, typer.Option("--impact", metavar="SIZE", help="Show the cost of buying and selling SIZE against the book: base units (2) or a quote amount (50000USD).", show_default=False)]
LiquidityOpt = Annotated[bool, typer.Option("--liquidity", help="Add a 'liquidity' object to the JSON book: depth within ±10/25/50/100 bps of mid per side and the bid/ask imbalance (the ladder always shows it).")]
NoColorOpt = Annotated[bool, typer.Option("--no-color", help="No colours (NO_COLOR is respected too).")]


VIEW_NAMES = ("ladder", "chart", "heatmap")  # views.VIEWS; a plain string option keeps the fast parse


def _view(text: str) -> str:
    if text.lower() not in VIEW_NAMES:
        raise typer.BadParameter(f"{text!r} is not one of {', '.join(VIEW_NAMES)}")
    return text.lower()


def _complete_view(incomplete: str) -> list[str]:
    return [name for name in VIEW_NAMES if name.startswith(incomplete)]


ViewOpt = Annotated[str, typer.Option("--view", parser=_view, metavar="ladder|chart|heatmap", autocompletion=_complete_view,
                                      help="ladder (numbers), chart (cumulative depth) or heatmap (resting size over time); the v key cycles them.")]


def _complete_source(ctx: typer.Context, incomplete: str) -> list[str]:
    """VENUE, then SYMBOL after a bare venue; VENUE:SYMBOL once a colon is typed; @BOARD from the config."""
    from orderbook_cli import symbol_cache

    if incomplete.startswith("@"):
        from orderbook_cli import config

        try:
            boards = config.load().boards
        except config.ConfigError:
            return []  # completion never complains; `obook config show` says what is wrong
        return [f"@{name}" for name in boards if name.startswith(incomplete[1:])]

    typed = list(ctx.params.get("sources") or ())
    if ":" in incomplete:
        venue, _, symbol = incomplete.partition(":")
        return [f"{venue}:{s}" for s in symbol_cache.complete(venue, symbol)]
    if len(typed) == 1 and ":" not in typed[0]:
        return symbol_cache.complete(typed[0], incomplete)
    return _complete_venue(incomplete) if not typed or ":" in typed[0] else []


SourcesArg = Annotated[list[str], typer.Argument(
    metavar="VENUE SYMBOL | VENUE:SYMBOL...",
    help="One source as VENUE SYMBOL (bitso btc_mxn), or up to six as VENUE:SYMBOL (bitso:btc_usd revx:BTC-USD), "
    "or @BOARD, a named list from the config file (see 'obook config'). "
    "SYMBOL: the venue's spelling or BASE/QUOTE, BASE-QUOTE, BASE_QUOTE in any case.",
    show_default=False, autocompletion=_complete_source)]
MergeOpt = Annotated[bool, typer.Option("--merge", help="Several sources: one consolidated book (levels summed, per-venue breakdown) instead of one book each.")]
QuoteAliasOpt = Annotated[list[str] | None, typer.Option("--quote-alias", metavar="A=B", help="With --merge: treat quote currency A as B (e.g. USDT=USD); repeatable.", show_default=False)]


def _options(sources: list[str], merge: bool, quote_alias: list[str] | None, **kw):
    from orderbook_cli import pipeline
    from orderbook_cli.config import board_conditions, expand_boards
    from orderbook_cli.symbols import split_sources

    pairs = split_sources(expand_boards(sources))
    return pipeline.Options(venue=pairs[0][0], symbol=pairs[0][1], sources=tuple(pairs), merge=merge,
                           quote_aliases=tuple(quote_alias or ()), conditions=board_conditions(sources), **kw)


UntilOpt = Annotated[str | None, typer.Option("--until", metavar="COND", help="Stop (exit 0) at the first book for which COND holds; that book is the last output. "
                                                 "124 when --count or --duration ends the watch first. COND: FIELD OP NUMBER[UNIT], OP < <= > >= =; "
                                                 "FIELD spread (spread>20bps: in bps of mid), mid, best_bid, best_ask, bid_depth@Nbps, ask_depth@Nbps "
                                                 "(base units within N bps of mid), imbalance@Nbps (percent); or the words crossed, stale, resync. "
                                                 "With --merge it reads the consolidated book.", show_default=False)]
AlertOpt = Annotated[list[str] | None, typer.Option("--alert", metavar="COND", help="When COND becomes true: a bell and a mark in the header on the ladder; "
                                                       "with --json one stderr line 'obook: alert: COND (…)'. Repeatable (at most 16); COND as for --until.", show_default=False)]
DurationOpt = Annotated[float | None, typer.Option("--duration", parser=_seconds, metavar="SECONDS", help="Stop after this many seconds (exit 0; 124 with an --until that never held).", show_default=False)]
VerifyOpt = Annotated[float | None, typer.Option("--verify-every", parser=_verify_seconds, metavar="SECONDS",
                                                  help="Full feeds: compare the kept book with the venue's own REST book this often "
                                                       "(default 60; 0: never). A mismatch resyncs; with --json each check writes one stderr line. "
                                                       "Kraken needs none: its checksum proves every message.", show_default=False)]
AlertCmdOpt = Annotated[str | None, typer.Option("--alert-cmd", metavar="CMD", help="Also run CMD (through the shell) for each alert, the alert as one JSON object on stdin; "
                                                    "one at a time (alerts meanwhile: the newest is sent next, with \"skipped\" counting the others), "
                                                    "killed after 5 s, its output discarded, a failure reported on stderr.", show_default=False)]


HELP_FLAGS = {"-h", "--help"}
VENUE_OPTIONS = "venue_options"  # where VenueCommand leaves the venue options given, in ctx.meta


class VenueCommand(TyperCommand):
    """snapshot and watch: their own options, plus every venue's own (Venue.info.options).

    Those are declared only when they can matter, so start-up loads no venue for them:
    for --help and shell completion, every venue's; for an option the command does not
    know, those of the venues named on the command line, else obook's own venues', else
    every installed venue's (only then are plugins looked up)."""

    venue_params: dict[str, str]  # click's parameter name -> the venue option's name

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        from orderbook_cli import venues

        words = args[: args.index("--")] if "--" in args else args
        if ctx.resilient_parsing or HELP_FLAGS & set(words):
            self._declare(venues.venue_ids())
        else:
            named = sorted({found for word in words if not word.startswith("-") and (found := venues.own_id(word.partition(":")[0]))})
            for scope in (lambda: named, lambda: sorted(venues.own()), venues.venue_ids):  # widened only while needed
                if not self._unknown(words):
                    break
                self._declare(scope())
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        given = {option: ctx.params.pop(name) for name, option in getattr(self, "venue_params", {}).items()}
        ctx.meta[VENUE_OPTIONS] = tuple((option, value) for option, value in given.items() if value not in (None, False))
        return super().invoke(ctx)

    def _known(self) -> set[str]:
        return {name for param in self.params for name in getattr(param, "opts", ())}

    def _unknown(self, words: list[str]) -> bool:
        known = self._known()
        return any(word.startswith("--") and word.partition("=")[0] not in known for word in words)

    def _declare(self, venue_ids: list[str]) -> None:
        from orderbook_cli.venues import declared_options

        self.venue_params = getattr(self, "venue_params", {})
        for option, takers in declared_options(venue_ids).values():
            if f"--{option.name}" in self._known():
                continue
            param = TyperOption(param_decls=[f"--{option.name}"], is_flag=not option.metavar, default=None if option.metavar else False,
                                metavar=option.metavar or None, help=f"{', '.join(takers)}: {option.help}",
                                autocompletion=_completer(option.choices))
            self.params.append(param)
            self.venue_params[str(param.name)] = option.name


def _completer(choices: tuple[str, ...]) -> Any:
    def complete(ctx: Any, args: list[str], incomplete: str) -> list[str]:
        return [choice for choice in choices if choice.startswith(incomplete.lower())]
    return complete


def _venue_options(ctx: typer.Context) -> tuple[tuple[str, Any], ...]:
    return ctx.meta.get(VENUE_OPTIONS, ())


def _version(value: bool) -> None:
    """`obook --version` after other arguments (main.py answers a plain `obook --version` without Typer)."""
    if value:
        from orderbook_cli.about import version_text

        print(version_text())
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="With --version: also the Python and library versions.")] = False,
) -> None:
    pass


@app.command(
    epilog=_epilog([
        "obook venues",
        "obook venues --json | jq -r '.[].id'",
    ]),
)
def venues(json_output: Annotated[bool, typer.Option("--json", help="Print the list as a JSON array of venue objects.")] = False) -> None:
    """List the venues: transport, auth, depth limits, symbol format, endpoint."""
    from orderbook_cli import pipeline

    pipeline.list_venues(json_output=json_output)


@app.command(
    cls=VenueCommand,
    epilog=_epilog([
        "obook snapshot revx BTC-USD",
        "obook snapshot revx eth/usd --depth 20 --json | jq '.spread'",
        "obook snapshot bitso btc_mxn --json | jq -r '.bids[0].price'",
        "obook snapshot bitmart-v3 BTC_USDT --depth 50 --json | jq '.asks | length'",
        "obook snapshot bitso:btc_usd revx:BTC-USD --merge --json  one consolidated book",
        "obook snapshot bitso:btc_usd revx:BTC-USD --json  two books, one per line",
        "obook snapshot revx ETH-USD --svg book.svg  the ladder as a picture to share",
        "obook snapshot bitso btc_mxn --view chart --svg depth.svg",
    ]),
)
def snapshot(
    ctx: typer.Context,
    sources: SourcesArg,
    depth: DepthOpt = None,
    json_output: JsonOpt = False,
    timeout: TimeoutOpt = None,
    debug: DebugOpt = False,
    group: GroupOpt = None,
    impact: ImpactOpt = None,
    liquidity: LiquidityOpt = False,
    no_color: NoColorOpt = False,
    merge: MergeOpt = False,
    quote_alias: QuoteAliasOpt = None,
    view: Annotated[str, typer.Option("--view", parser=_view, metavar="ladder|chart", autocompletion=_complete_view,
                                      help="ladder or chart (the depth chart), on screen or in the --svg file.")] = "ladder",
    svg: Annotated[str | None, typer.Option("--svg", metavar="FILE", help="Write the picture (ladder, or chart with --view chart) to FILE as SVG.", show_default=False)] = None,
) -> None:
    """Fetch one order book, print it once (ladder, or JSON with --json), and exit.

    Several VENUE:SYMBOL sources print side by side (one JSON line each), or
    with --merge as one consolidated book.
    """
    from orderbook_cli import pipeline

    pipeline.snapshot(_options(
        sources, merge, quote_alias, depth=depth, json_output=json_output, timeout=timeout, debug=debug,
        group=group, impact=impact, liquidity=liquidity, no_color=no_color, view=view, svg=svg, venue_options=_venue_options(ctx),
    ))


@app.command(
    cls=VenueCommand,
    epilog=_epilog([
        "obook watch bitmart-v3 BTC_USDT  live ladder; q or Ctrl-C quits",
        "obook watch bitso btc_mxn --json --count 3  three NDJSON books, then exit",
        "obook watch revx BTC-USD | jq -c '{t: .timestamp, bid: .best_bid}'",
        "obook watch bitso:btc_usd revx:BTC-USD bitmart-v3:BTC_USDT --merge --quote-alias USDT=USD",
        "obook watch bitso:btc_mxn bitso:eth_mxn  two ladders side by side",
        "obook watch bitso btc_mxn --view heatmap  liquidity over time; v: next view",
        "obook watch revx ETH-USD --json --until 'spread<10' | tail -1  wait for a tight spread",
        "obook watch revx ETH-USD --json --alert 'spread>20bps' --alert-cmd 'cat >> alerts.ndjson'",
        "obook watch bitso:btc_usd revx:BTC-USD --merge --json --alert crossed --duration 3600",
        "obook watch bitso btc_mxn --json --order-flow  books with what was filled and what pulled, per level",
    ], 'Keys: q quit, v next view (ladder, chart, heatmap), ↑/↓ or j/k level cursor, + / - depth, g price grouping, space pause, t trades beside the ladder (venues with a trades stream; 146+ columns), ? help.'),
)
def watch(
    ctx: typer.Context,
    sources: SourcesArg,
    depth: DepthOpt = None,
    json_output: NdjsonOpt = False,
    count: CountOpt = None,
    timeout: TimeoutOpt = None,
    debug: DebugOpt = False,
    group: GroupOpt = None,
    impact: ImpactOpt = None,
    liquidity: LiquidityOpt = False,
    idle_timeout: Annotated[float | None, typer.Option("--idle-timeout", parser=_seconds, metavar="SECONDS", help="Reconnect when a WebSocket venue sends nothing (keep-alives included) for this long (default: the venue's).", show_default=False)] = None,
    stale_after: StaleOpt = None,
    no_color: NoColorOpt = False,
    merge: MergeOpt = False,
    quote_alias: QuoteAliasOpt = None,
    view: ViewOpt = "ladder",
    record: Annotated[str | None, typer.Option("--record", metavar="FILE", help="Also write the raw venue traffic to FILE (gzip if it ends in .gz), for `obook replay FILE`.", show_default=False)] = None,
    until: UntilOpt = None,
    alert: AlertOpt = None,
    alert_cmd: AlertCmdOpt = None,
    duration: DurationOpt = None,
    order_flow: Annotated[bool, typer.Option("--order-flow", help="JSON books carry order_flow: per level and in all, the liquidity filled and pulled over the last minute (bitso full feed; other trade venues: filled only).")] = False,
    verify_every: VerifyOpt = None,
) -> None:
    """Show the live book until q / Ctrl-C (or --count books).

    On a terminal this draws the ladder; with --json, or when stdout is not a
    terminal, it writes one JSON book per line (NDJSON), flushed per line.
    Several VENUE:SYMBOL sources: ladders side by side (a JSON line whenever
    any source updates), or with --merge one consolidated ladder.
    """
    from orderbook_cli import pipeline

    pipeline.watch(_options(
        sources, merge, quote_alias, depth=depth, json_output=json_output, timeout=timeout, debug=debug,
        group=group, impact=impact, liquidity=liquidity, no_color=no_color, count=count,
        idle_timeout=idle_timeout, stale_after=stale_after, view=view, record=record, venue_options=_venue_options(ctx),
        until=until, alerts=tuple(alert or ()), alert_cmd=alert_cmd, duration=duration,
        order_flow=order_flow, verify_every=verify_every,
    ))


@app.command(
    epilog=_epilog([
        "obook trades bitso btc_mxn  live time and sales; q or Ctrl-C quits",
        "obook trades bitso btc_mxn --json --count 5  five NDJSON trades, then exit",
        "obook trades bitso:btc_usd revx:BTC-USD  one tape of both, tagged by venue",
        "obook trades bitmart-v3 BTC_USDT | jq -r .price",
    ], "side is the taker's (aggressor's): buy, sell, or null where the venue does not say whose side it sends (BitMart, Revolut X: their label is kept as venue_side). Venues: bitso, bitmart-v3, kraken, revx."),
)
def trades(
    sources: SourcesArg,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON trade per line (NDJSON) instead of the live list.")] = False,
    count: Annotated[int | None, typer.Option("--count", "-n", parser=_trade_count, metavar="TRADES", help="Stop after this many trades.", show_default=False)] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", parser=_seconds, metavar="SECONDS", help="Give up connecting after this many seconds (default 10, or the config file's).", show_default=False)] = None,
    debug: DebugOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Follow the venue's public trades until q / Ctrl-C (or --count trades).

    On a terminal a live time-and-sales list (newest first; + bought, - sold,
    ? side unknown; volume bought and sold since start); with --json, or when
    stdout is not a terminal, one JSON trade per line, flushed per line.
    """
    from orderbook_cli import tape

    tape.run(sources, count=count, json_output=json_output, timeout=timeout, no_color=no_color, debug=debug)


class Shell(str, enum.Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


COMPLETE_VAR = "_OBOOK_COMPLETE"


@app.command(
    epilog=_epilog([
        "bash: mkdir -p ~/.local/share/bash-completion/completions",
        "      obook completions bash > ~/.local/share/bash-completion/completions/obook",
        "zsh:  mkdir -p ~/.zfunc && obook completions zsh > ~/.zfunc/_obook",
        "      then in ~/.zshrc, before compinit: fpath=(~/.zfunc $fpath)",
        "fish: mkdir -p ~/.config/fish/completions",
        "      obook completions fish > ~/.config/fish/completions/obook.fish",
    ], title='Install'),
)
def completions(shell: Annotated[Shell, typer.Argument(metavar="SHELL", help="bash, zsh or fish.", show_default=False)]) -> None:
    """Print the shell completion script (commands, options, venues, and cached symbols)."""
    from typer.completion import get_completion_script

    script = get_completion_script(prog_name="obook", complete_var=COMPLETE_VAR, shell=shell.value)
    if shell is Shell.zsh:  # installed in $fpath, compinit runs the file as _obook on the first TAB: complete then too
        script += '\nif [[ "${funcstack[1]}" == "_obook" ]]; then _obook_completion "$@"; fi'
    print(script)


SYMBOLS_TIMEOUT = 10.0


@app.command(
    epilog=_epilog([
        "obook symbols revx",
        "obook symbols bitso --refresh --json | jq -r '.[]'",
    ]),
)
def symbols(
    venue: VenueArg,
    refresh: Annotated[bool, typer.Option("--refresh", help="Fetch the venue's pair list now (otherwise the cache, refreshed daily).")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the pairs as a JSON array of strings.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", parser=_seconds, metavar="SECONDS", help="Give up fetching the pair list after this many seconds (default 10).", show_default=False)] = SYMBOLS_TIMEOUT,
    quiet: Annotated[bool, typer.Option("--quiet", hidden=True)] = False,
) -> None:
    """List a venue's pairs (the list shell completion uses)."""
    from orderbook_cli import pipeline

    pipeline.list_symbols(venue, refresh=refresh, json_output=json_output, timeout=timeout, quiet=quiet)


@app.command(
    epilog=_epilog([
        "obook replay --sample  a moving ladder, no network needed",
        "obook watch bitso btc_mxn --json --count 50 > s.ndjson && obook replay s.ndjson --speed max",
        "gzip -c s.ndjson | obook replay - --speed 10 --json | jq -r .best_bid",
        "obook replay --sample --view heatmap --speed max  the session's liquidity as a heatmap",
    ], 'Replay keys: space pause, ←/→ (or , .) step a book, [ / ] slower/faster, Home/End (or < >) start/end, l loop. As in watch: q quit, v next view, ↑/↓ or j/k level cursor, + / - depth, g grouping, ? help.', 'Lines that are not books are skipped and counted on stderr; a file with no book at all exits 2.'),
)
def replay(
    recording: Annotated[str | None, typer.Argument(metavar="[FILE|-]", help="A recording: NDJSON books from `watch --json`, or raw traffic from `watch --record` (gzip is fine); - or nothing reads stdin.", show_default=False)] = None,
    sample: Annotated[bool, typer.Option("--sample", help="Play the recording shipped with obook.")] = False,
    speed: Annotated[str, typer.Option("--speed", help="Playback speed factor, or 'max' for no waiting.")] = "1",
    depth: DepthOpt = None,
    json_output: NdjsonOpt = False,
    count: CountOpt = None,
    group: GroupOpt = None,
    impact: ImpactOpt = None,
    liquidity: LiquidityOpt = False,
    stale_after: StaleOpt = None,
    debug: DebugOpt = False,
    no_color: NoColorOpt = False,
    view: ViewOpt = "ladder",
    until: UntilOpt = None,
    alert: AlertOpt = None,
    alert_cmd: AlertCmdOpt = None,
    duration: DurationOpt = None,
) -> None:
    """Play a recording back in the live ladder at its recorded pace (NDJSON when piped)."""
    from orderbook_cli import pipeline

    pipeline.replay(recording, sample=sample, speed=speed, opts=pipeline.Options(
        venue="replay", symbol=recording or "", depth=depth, json_output=json_output, debug=debug, group=group,
        impact=impact, liquidity=liquidity, no_color=no_color, count=count, stale_after=stale_after, view=view,
        until=until, alerts=tuple(alert or ()), alert_cmd=alert_cmd, duration=duration,
    ))


config_app = typer.Typer(
    help="The config file: default depth, timeout, staleness, colours, and named boards of sources.",
    rich_markup_mode=None,  # as the app's
    no_args_is_help=True,
    epilog=_epilog([
        "obook config path  where the file is (or would be)",
        '$EDITOR "$(obook config path)"',
        "obook config show  check it and print the settings in effect",
    ]),
)
app.add_typer(config_app, name="config")


@config_app.command("path", epilog=_epilog([
    "obook config path  where the file is (or would be)",
    '$EDITOR "$(obook config path)"  edit it',
    "OBOOK_CONFIG=./team.toml obook config path  another file",
]))
def config_path() -> None:
    """Print the config file's path: $OBOOK_CONFIG, else $XDG_CONFIG_HOME/obook/config.toml (~/.config/obook/config.toml)."""
    from orderbook_cli import config

    where = config.path()
    print(str(where) if where is not None else "")


@config_app.command("show", epilog=_epilog([
    "obook config show  check the file and print the settings in effect",
    "obook config show --json | jq .boards  the named boards",
]))
def config_show(json_output: Annotated[bool, typer.Option("--json", help="Print the settings as one JSON object.")] = False) -> None:
    """Check the config file (exit 2 naming the bad key) and print the settings in effect."""
    from orderbook_cli import pipeline

    pipeline.show_config(json_output=json_output)


@app.command("help", epilog=_epilog(["obook help watch", "obook help config show"]))
def help_command(
    ctx: typer.Context,
    command: Annotated[list[str] | None, typer.Argument(metavar="[COMMAND]...", help="A command, e.g. watch or config show.", show_default=False)] = None,
) -> None:
    """Show the help of obook, or of a command."""
    root = ctx.find_root().command
    root.main([*(command or ()), "--help"], prog_name="obook", standalone_mode=False)

