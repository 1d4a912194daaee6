"""Several sources on one screen: ladders side by side, or one consolidated ladder.

Pure functions from the board (every source's book and state) to Rich
renderables of a given width and height, plus the live loop. Columns that do
not fit are dropped whole (a number is never cut); sources that do not fit
are named in a note. Venues are told apart by a tag letter (A, B, …) in
their own colour, so the screen reads the same without colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.text import Text

from orderbook_cli import consolidate
from orderbook_cli.book import EXACT, Book, Level, plain
from orderbook_cli.errors import sanitize
from orderbook_cli.feed import State
from orderbook_cli.views.header import header, spread_row
from orderbook_cli.views.keys import BOARD_ACTIONS, MERGED_ACTIONS, keys_text
from orderbook_cli.views.ladder import ladder_screen
from orderbook_cli.views.layout import Column, fit_columns, pack, rows, words
from orderbook_cli.views.numbers import aligned
from orderbook_cli.views.state import LadderView
from orderbook_cli.views.terminal import console
from orderbook_cli.views.theme import DEFAULT, Theme

if TYPE_CHECKING:  # the board's state is drawn here, not driven
    from orderbook_cli.multi import Board, SourceState

TAGS = "ABCDEF"
COLOURS = ("cyan", "magenta", "yellow", "blue", "bright_white", "bright_magenta")
SEPARATOR = " │ "
MERGED_BAR_WIDTH = 16
MIN_COLUMN = 16  # narrower than this, a source's ladder is only a summary


@dataclass
class BoardView:
    """What the screen shows besides the books."""

    stale_after: float = 5.0
    paused: bool = False
    show_help: bool = False
    frozen: list = field(default_factory=list)  # the books on screen while paused
    ladders: dict = field(default_factory=dict)  # side by side: each source's own ladder view
    live: bool = True  # False for a printed snapshot: no ages, nothing goes stale
    depth: int | None = None  # levels a side the user asked for with +/- (None: as many as fit)
    group: Decimal | None = None  # merged view: every source bucketed by this tick (key g)
    group_key: bool = False  # whether g regroups (the merged view: one pair, one tick)
    theme: Theme = DEFAULT

    def rows(self, fitting: int | None) -> int | None:
        """Levels a side: what fits the screen, and no more than +/- asked for."""
        if self.depth is None or fitting is None:
            return fitting if self.depth is None else self.depth
        return min(fitting, self.depth)


def tag(index: int) -> Text:
    return Text(TAGS[index], style=f"bold {COLOURS[index]}")


# -- one source's state ------------------------------------------------------

def status(state: SourceState, now: float, view: BoardView) -> Text:
    """● live  age 0.4s, or RECONNECTING / STALE / FAILED: never hidden."""
    if not view.live or state.failed:
        return Text("FAILED", style="bold white on red") if state.failed else Text("● snapshot", style="bold green")
    name = state.state
    ok = name == State.LIVE.value
    warn = "bold black on yellow"
    parts = [Text(f"● {name}" if ok else name.upper(), style="bold green" if ok else warn)]
    age = state.age(now)
    if age is not None:
        parts.append(Text(f"age {age:.1f}s"))
        if state.stale(now, view.stale_after):
            parts.append(Text("STALE", style=warn))
    return Text("  ").join(parts)


def _notice(state: SourceState, now: float) -> str:
    if state.error is not None:
        return f"{state.error.kind}: {state.error.message}"
    return state.problem.describe(now) if state.problem is not None else ""


# -- side by side ------------------------------------------------------------

def _ladder_view(index: int, state: SourceState, now: float, view: BoardView) -> LadderView:
    """The source's own ladder view (kept between frames, so its columns keep their widths)."""
    ladder = view.ladders.setdefault(index, LadderView(theme=view.theme, actions=frozenset()))  # the board has the keys
    ladder.state = state.state if view.live or state.failed else "snapshot"
    ladder.age = state.age(now) if view.live else None
    ladder.stale = view.live and state.stale(now, view.stale_after)
    stats = state.feed.stats if state.feed is not None and view.live else None
    ladder.updates_per_second = stats.updates_per_second(now) if stats else None
    ladder.malformed = stats.malformed if stats else 0
    ladder.notice = _notice(state, now)
    ladder.paused = view.paused
    return ladder


def source_column(index: int, state: SourceState, book: Book | None, now: float, view: BoardView, width: int, height: int | None,
                  named: bool = True) -> list[Text] | None:
    """One source's ladder (the single-source ladder, laid out for `width` × `height`);
    None when not even its narrowest layout fits. Not `named`: the source's name gets
    a line of its own above a header without it."""
    ladder = _ladder_view(index, state, now, view)
    ladder.named = named
    request = state.source.prepared.request
    above = [] if named else [words(state.source.label, width, "bold cyan")]  # a name is text: it may be shortened
    if height is not None:
        height = max(1, height - len(above))
    if book is None:
        lines = [*above, header(None, ladder, request.venue, request.symbol, width)]
        if ladder.notice:
            lines.append(words(ladder.notice, width, "yellow"))
        lines.append(words("failed" if state.failed else "waiting for the first book…", width, "dim"))
        return lines
    if view.depth is not None:
        book = book._replace(bids=book.bids[: view.depth], asks=book.asks[: view.depth])
    lines = [*above, *_within(ladder_screen(book, ladder, request.venue, request.symbol, width=width, height=height), width)]
    if ladder.rows_shown == 0 and (book.bids or book.asks):
        return None  # only the compact summary fits: fewer, wider columns instead
    return lines


def _within(group: Group, width: int) -> list[Text]:
    """The ladder's lines, each kept inside its column (an over-long text line is cut
    at a word, never inside a number), so the columns beside it stay in place."""
    return [line if line.cell_len <= width else words(line.plain, width, "yellow") for line in group.renderables]


def side_by_side(board: Board, books: Sequence[Book | None], now: float, view: BoardView, width: int, height: int | None) -> RenderableType:
    """As many source ladders as fit, left to right, each with its own header, state, age and staleness."""
    count = len(board.states)
    gap = len(SEPARATOR)
    below = 1 if view.show_help else 0  # the keys line under the columns
    shown: list[list[Text]] = []
    for fitting in range(min(count, max(1, (width + gap) // (MIN_COLUMN + gap))), 0, -1):
        if fitting < count:
            below = max(below, 1)  # the note naming the sources left out
        column_width = (width - gap * (fitting - 1)) // fitting
        column_height = None if height is None else max(1, height - below)
        built = [source_column(i, board.states[i], books[i], now, view, column_width, column_height) for i in range(fitting)]
        if any(b is not None and board.states[i].source.label not in b[0].plain for i, b in enumerate(built)):
            # a narrow header shortened a name: every column names its source on a line of its own, so rows stay level
            built = [source_column(i, board.states[i], books[i], now, view, column_width, column_height, named=False) for i in range(fitting)]
        if all(b is not None for b in built) or fitting == 1:
            shown = [b if b is not None else _compact(i, board.states[i], books[i], now, view, column_width, column_height)
                     for i, b in enumerate(built)]
            break
    column_width = (width - gap * (len(shown) - 1)) // len(shown)
    out: list[Text] = []
    for row in range(max(len(lines) for lines in shown)):
        line = Text(no_wrap=True, overflow="crop")
        for i, lines in enumerate(shown):
            cell = lines[row] if row < len(lines) else Text()
            if i:
                line.append(SEPARATOR, style="dim")
            line.append_text(cell)
            if i < len(shown) - 1:
                line.append(" " * (column_width - cell.cell_len))
        line.rstrip()
        out.append(line)
    if len(shown) < count:
        hidden = ", ".join(s.source.label for s in board.states[len(shown):])
        out.append(words(f"not shown: {hidden} (too narrow; widen the terminal or use --merge)", width, "yellow"))
    if view.show_help:
        out.append(words(keys_text(BOARD_ACTIONS), width, "dim"))
    return Group(*out)


def _compact(index: int, state: SourceState, book: Book | None, now: float, view: BoardView, width: int, height: int | None) -> list[Text]:
    """A single column too narrow for a ladder: the single ladder's compact summary."""
    ladder = _ladder_view(index, state, now, view)
    request = state.source.prepared.request
    return _within(ladder_screen(book, ladder, request.venue, request.symbol, width=width, height=height), width)


def _footer(out: list[Text], view: BoardView, width: int) -> None:
    if view.live:
        hint = keys_text(MERGED_ACTIONS if view.group_key else BOARD_ACTIONS) if view.show_help else "? for keys"
        settings = ([f"grouped by {plain(view.group)}"] if view.group is not None else []) + ([f"depth {view.depth}"] if view.depth is not None else [])
        line = words(" · ".join(settings + [hint]), width, "dim")
        out.append(Text.assemble(("PAUSED ", "bold magenta"), line) if view.paused and line.cell_len + 7 <= width else line)


# -- consolidated ----------------------------------------------------------

def _split_bar(level: Level, scale: Decimal, keys: Sequence[str]) -> Text:
    """The level's amount as a bar split by venue: each venue's part in its tag letter and colour."""
    text = Text()
    if not scale:
        return text
    position, running = 0, Decimal(0)
    for key, amount in (level.venues or {}).items():
        with localcontext(EXACT):
            running += amount
            end = min(MERGED_BAR_WIDTH, int(running / scale * MERGED_BAR_WIDTH))
        index = keys.index(key)
        if end > position:
            text.append(TAGS[index] * (end - position), style=f"reverse {COLOURS[index]}")
        position = max(position, end)
    return text


def _venue_tags(level: Level, keys: Sequence[str]) -> Text:
    text = Text()
    for index, key in enumerate(keys):
        text.append_text(tag(index) if key in (level.venues or {}) else Text("·", style="dim"))
    return text


def _merged_columns(asks: tuple[Level, ...], bids: tuple[Level, ...], keys: Sequence[str], theme: Theme) -> list[Column]:
    levels = list(asks[::-1]) + list(bids)
    prices, amounts, totals = (aligned([getattr(lv, f) for lv in levels]) for f in ("price", "amount", "total"))
    sides = [("ask", theme.ask)] * len(asks) + [("bid", theme.bid)] * len(bids)
    scale = max((lv.amount for lv in levels), default=Decimal(0))
    return [
        Column("side", [Text(name, style=s) for name, s in sides], right=False, rank=3),
        Column("price", [Text(p, style=f"bold {s}") for p, (_, s) in zip(prices, sides)], rank=0),
        Column("amount", [Text(a) for a in amounts], rank=1),
        Column("total", [Text(t) for t in totals], rank=4),
        Column("orders", [Text("" if lv.count is None else str(lv.count), style="dim") for lv in levels], rank=6),
        Column("venues", [_venue_tags(lv, keys) for lv in levels], right=False, rank=2),
        Column("by venue", [_split_bar(lv, scale, keys) for lv in levels], right=False, rank=5),
    ]


def _who(venues: Mapping[str, Decimal] | None, keys: Sequence[str]) -> str:
    return "+".join(f"{TAGS[keys.index(k)]} {k}" for k in (venues or {}))


def best_line(book: Book, keys: Sequence[str], width: int, max_lines: int, theme: Theme = DEFAULT) -> list[Text]:
    """Best bid and ask with the venues quoting them, then spread and mid."""
    parts = []
    bid_venues, ask_venues = book.figures.best_venues if book.figures is not None else (None, None)
    if book.best_bid is not None:
        parts.append(Text.assemble(("best bid ", "bold"), (plain(book.best_bid), f"bold {theme.bid}"), f" {_who(bid_venues, keys)}"))
    if book.best_ask is not None:
        parts.append(Text.assemble(("best ask ", "bold"), (plain(book.best_ask), f"bold {theme.ask}"), f" {_who(ask_venues, keys)}"))
    if book.spread is not None:
        parts.append(spread_row(book, None, theme))
    if not parts:
        parts.append(Text("both sides empty", style="dim"))
    return pack(parts, width, max_lines)


def crossed_lines(cross: consolidate.Crossing, keys: Sequence[str], width: int) -> list[Text]:
    """CROSSED: which venue bids above which venue's ask, and by how much."""
    bid_tag, ask_tag = TAGS[keys.index(cross.bid_key)], TAGS[keys.index(cross.ask_key)]
    alarm = "bold white on red"
    parts = [Text("CROSSED:", style=alarm), Text(f"{bid_tag} {cross.bid_key} bid {plain(cross.bid)}", style=alarm),
             Text(f"> {ask_tag} {cross.ask_key} ask {plain(cross.ask)}", style=alarm),
             Text(f"by {plain(cross.gap)} ({plain(cross.gap_bps)} bps)", style=alarm)]
    return pack(parts, width, 2, sep=" ")


def impact_lines(book: Book, keys: Sequence[str], width: int, lines_per_side: int) -> list[Text]:
    """buy/sell SIZE routed across venues (the shape step's fills): average, worst, slippage, and each venue's fill."""
    out: list[Text] = []
    fills = book.figures.impact if book.figures is not None else None
    for fill in fills or ():
        size = f"{plain(fill.size)} {fill.currency or ''}".rstrip()
        verb = "buy " if fill.side == "buy" else "sell"
        if fill.average_price is None:
            out.append(words(f"{verb} {size}: no liquidity on this side", width, "yellow"))
            continue
        parts = [Text(f"{verb} {size}: avg {plain(fill.average_price)}"), Text(f"worst {plain(fill.worst_price)}")]
        if fill.slippage_bps is not None:
            parts.append(Text(f"slippage {plain(fill.slippage_bps)} bps"))
        if not fill.complete:
            parts.append(Text(f"book too thin: only {plain(fill.filled)} fillable", style="bold yellow"))
        for key, part in (fill.venues or {}).items():
            parts.append(Text.assemble(tag(keys.index(key)), f" {key} {plain(part.filled)} @ {plain(part.average_price)}"))
        out.extend(pack(parts, width, lines_per_side, sep="  "))
    return out


def merged_view(board: Board, books: Sequence[Book | None], now: float, view: BoardView, width: int, height: int | None) -> RenderableType:
    """The consolidated ladder: who is in it, crossings, levels tagged by venue, routed impact."""
    keys = [s.source.key for s in board.states]
    stale_after = view.stale_after if view.live else None
    live = [consolidate.SourceBook(s.source.key, b) for s, b in zip(board.states, books)
            if b is not None and not s.failed and (stale_after is None or not s.stale(now, stale_after))]
    book = board.merge(live)  # shaped once: grouped as asked, figures from every level merged
    tight = height is not None and height < 20  # small screens: one line each for the legend, best prices, impact
    head = [Text(f"consolidated {sanitize(board.plan.symbol, 40)}", style="bold cyan"),
            Text(f"{len(live)} of {len(keys)} sources live", style="bold green" if len(live) == len(keys) else "bold black on yellow")]
    if book is not None:
        from orderbook_cli.timefmt import iso_utc

        head.append(Text(f"{iso_utc(book.timestamp or book.received_at)[11:19]} UTC"))
    if view.paused:
        head.append(Text("PAUSED", style="bold magenta"))
    out: list[Text] = pack(head, width, 2, sep="  ")
    legend = []
    for index, state in enumerate(board.states):
        entry = Text.assemble(tag(index), " ", (sanitize(state.source.label, 40), COLOURS[index]), " ")
        entry.append_text(status(state, now, view))
        if not any(s.key == state.source.key for s in live):
            entry.append(" (left out)", style="yellow")
        legend.append(entry)
    out.extend(pack(legend, width, 1 if tight else 3))
    if book is None:
        out.append(words("no live source: every source is connecting, stale, reconnecting or failed", width, "yellow"))
        _footer(out, view, width)
        return Group(*out)
    cross = consolidate.crossing(live)
    if cross is not None:
        out.extend(crossed_lines(cross, keys, width))
    best = best_line(book, keys, width, 1 if tight else 2, view.theme)
    impact = impact_lines(book, keys, width, 1 if tight else 2)
    footer = view.live
    levels = None
    if height is not None:
        fixed = len(out) + 1 + len(best)  # with the column titles
        if fixed + 2 + len(impact) + footer > height:
            footer = False  # the smallest screens keep a level a side before the key hint
        while impact and fixed + 2 + len(impact) > height:
            impact.pop()
        levels = max(1, (height - fixed - len(impact) - footer) // 2)
    levels = view.rows(levels)
    asks = book.asks[:levels] if levels is not None else book.asks
    bids = book.bids[:levels] if levels is not None else book.bids
    columns = fit_columns(_merged_columns(asks, bids, keys, view.theme), width)
    if columns is None:
        out.append(words("too narrow for the ladder", width, "dim"))
    else:
        titles, body = rows(columns, len(asks) + len(bids))
        out.extend([titles, *body[: len(asks)], *best, *body[len(asks):]])
    out.extend(impact)
    if footer:
        _footer(out, view, width)
    return Group(*out)


def frame(board: Board, now: float, view: BoardView, width: int, height: int | None) -> RenderableType:
    books = view.frozen if view.paused else [s.book for s in board.states]
    if board.plan.symbol is not None:
        return merged_view(board, books, now, view, width, height)
    return side_by_side(board, books, now, view, width, height)


def print_board(board: Board, opts, now: float) -> None:
    """`snapshot` with several sources: the board printed once at the terminal's width."""
    out = console(opts.no_color)
    view = BoardView(live=False, theme=Theme.from_colours(opts.colours))
    out.print(frame(board, now, view, out.width, None))
