"""Several sources on one screen: ladders side by side, or one consolidated ladder.

Pure functions from the board (every source's book and state) to Rich
renderables of a given width and height, plus the live loop. Columns that do
not fit are dropped whole (a number is never cut); sources that do not fit
are named in a note. Venues are told apart by a tag letter (A, B, …) in
their own colour, so the screen reads the same without colour.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Sequence

from rich.console import Group, RenderableType
from rich.text import Text

from orderbook_cli import consolidate, render
from orderbook_cli.book import Book, Level, plain
from orderbook_cli.errors import sanitize
from orderbook_cli.feed import State
from orderbook_cli.multi import Board, FanIn, Plan, SourceState, first_book_deadlines, open_feeds

TAGS = "ABCDEF"
COLOURS = ("cyan", "magenta", "yellow", "blue", "bright_white", "bright_magenta")
SEPARATOR = " │ "
MERGED_BAR_WIDTH = 16
HELP_LINE = "keys: q quit · +/- depth · space pause · ? help"


@dataclass
class BoardView:
    """What the screen shows besides the books."""

    stale_after: float = 5.0
    impact: Decimal | None = None
    paused: bool = False
    show_help: bool = False
    frozen: list = field(default_factory=list)  # the books on screen while paused
    live: bool = True  # False for a printed snapshot: no ages, nothing goes stale
    depth: int | None = None  # levels a side the user asked for with +/- (None: as many as fit)

    def rows(self, fitting: int | None) -> int | None:
        """Levels a side: what fits the screen, and no more than +/- asked for."""
        if self.depth is None or fitting is None:
            return fitting if self.depth is None else self.depth
        return min(fitting, self.depth)


def tag(index: int) -> Text:
    return Text(TAGS[index], style=f"bold {COLOURS[index]}")


# -- columns that fit --------------------------------------------------------

@dataclass
class Column:
    title: str
    cells: list[Text]
    right: bool = True
    rank: int = 0  # lower ranks are kept first when space runs out

    @property
    def width(self) -> int:
        return max([len(self.title)] + [cell.cell_len for cell in self.cells])


def fit(columns: Sequence[Column], width: int) -> list[Column] | None:
    """The columns that fit `width` (one space apart), by rank, in their own order;
    None when not even the first-ranked one does."""
    kept: list[Column] = []
    for column in sorted(columns, key=lambda c: c.rank):
        used = sum(c.width + 1 for c in kept) + column.width
        if used <= width:
            kept.append(column)
        elif not kept:
            return None
    return [c for c in columns if c in kept]


def rows(columns: Sequence[Column], count: int) -> tuple[Text, list[Text]]:
    """The title line and `count` padded lines of the given columns."""
    def line(cells: Sequence[Text]) -> Text:
        out = Text(no_wrap=True, overflow="crop")
        for column, cell in zip(columns, cells):
            pad = " " * (column.width - cell.cell_len)
            out.append_text(Text(pad) + cell if column.right else cell + Text(pad))
            out.append(" ")
        out.rstrip()
        return out

    titles = line([Text(c.title, style="bold") for c in columns])
    return titles, [line([c.cells[i] for c in columns]) for i in range(count)]


def words(text: str, width: int, style: str = "") -> Text:
    """Text cut at a word boundary with an ellipsis, so no number is ever half shown."""
    text = sanitize(text)
    if len(text) > width:
        cut = text[: max(0, width - 1)]
        cut = cut.rsplit(" ", 1)[0] if " " in cut else ""
        text = (cut + "…") if cut else ""
    return Text(text, style=style, no_wrap=True)


def pack(parts: Sequence[Text], width: int, max_lines: int, sep: str = " · ") -> list[Text]:
    """Whole parts packed into at most `max_lines` lines; what does not fit is counted."""
    lines: list[Text] = []
    current = Text(no_wrap=True)
    for i, part in enumerate(parts):
        extra = (len(sep) if current.cell_len else 0) + part.cell_len
        if current.cell_len and current.cell_len + extra > width:
            lines.append(current)
            current = Text(no_wrap=True)
            if len(lines) == max_lines:
                lines[-1] = _with_more(lines[-1], len(parts) - i, width)
                return lines
        if current.cell_len:
            current.append(sep, style="dim")
        current.append_text(part if part.cell_len <= width else words(part.plain, width))
    if current.cell_len:
        lines.append(current)
    return lines


def _with_more(line: Text, left: int, width: int) -> Text:
    more = f" +{left} more"
    if line.cell_len + len(more) > width:
        line = words(line.plain, width - len(more))
    return line + Text(more, style="dim")


# -- one source's state ------------------------------------------------------

def status(state: SourceState, now: float, view: BoardView, width: int | None = None, rate: bool = True) -> Text:
    """● live  age 0.4s  12.0 upd/s, or RECONNECTING / STALE / FAILED, never hidden;
    in a narrow column the rate, then the age, give way (the state and STALE stay)."""
    if not view.live or state.failed:
        return Text("FAILED", style="bold white on red") if state.failed else Text("● snapshot", style="bold green")
    name = state.state
    ok = name == State.LIVE.value
    warn = "bold black on yellow"
    parts = [(0, Text(f"● {name}" if ok else name.upper(), style="bold green" if ok else warn))]
    age = state.age(now)
    if age is not None:
        parts.append((2, Text(f"age {age:.1f}s")))
        if state.stale(now, view.stale_after):
            parts.append((1, Text("STALE", style=warn)))
        if rate and state.feed is not None:
            parts.append((3, Text(f"{state.feed.stats.updates_per_second(now):.1f} upd/s")))
    while width is not None and len(parts) > 1 and sum(t.cell_len + 2 for _, t in parts) - 2 > width:
        parts.remove(max(parts, key=lambda part: part[0]))
    return Text("  ").join(text for _, text in parts)


def _notice(state: SourceState) -> str:
    if state.error is not None:
        return f"{state.error.kind}: {state.error.message}"
    if state.feed is not None and state.feed.stats.state is State.RECONNECTING:
        return state.feed.stats.detail
    return ""


# -- side by side ------------------------------------------------------------

def _ladder_columns(asks: tuple[Level, ...], bids: tuple[Level, ...]) -> list[Column]:
    levels = list(asks[::-1]) + list(bids)
    prices, amounts, totals = (render.aligned([getattr(lv, f) for lv in levels]) for f in ("price", "amount", "total"))
    styles = ["red"] * len(asks) + ["green"] * len(bids)
    scale = max((lv.total for lv in levels), default=Decimal(0))
    return [
        Column("price", [Text(p, style=f"bold {s}") for p, s in zip(prices, styles)], rank=0),
        Column("amount", [Text(a) for a in amounts], rank=1),
        Column("total", [Text(t) for t in totals], rank=2),
        Column("depth", [Text(_blocks(lv.total, scale, MERGED_BAR_WIDTH), style=s) for lv, s in zip(levels, styles)], right=False, rank=3),
    ]


def _blocks(amount: Decimal, scale: Decimal, width: int) -> str:
    return "█" * int(amount / scale * width) if scale else ""


def _spread(book: Book, width: int) -> Text:
    if book.spread is None:
        return words("spread — (one side empty)", width, "dim")
    text = f"spread {plain(book.spread)}"
    if book.mid:
        bps = (book.spread / book.mid * 10000).quantize(Decimal("0.01"))
        if len(text) + len(plain(bps)) + 7 <= width:
            text += f" ({plain(bps)} bps)"
    return Text(text if len(text) <= width else "", style="bold")


def source_column(index: int, state: SourceState, book: Book | None, now: float, view: BoardView, width: int, levels: int | None) -> list[Text] | None:
    """One source's ladder as lines of at most `width` cells; None when it cannot fit."""
    head = Text.assemble(tag(index), " ") + words(state.source.label, width - 2, "bold cyan")
    lines = [head, status(state, now, view, width)]
    notice = _notice(state)
    if notice:
        lines.append(words(notice, width, "yellow"))
    if book is None:
        lines.append(words("failed" if state.failed else "waiting for the first book…", width, "dim"))
        return lines
    asks = book.asks[:levels] if levels is not None else book.asks
    bids = book.bids[:levels] if levels is not None else book.bids
    columns = fit(_ladder_columns(asks, bids), width)
    if columns is None or (len(columns) < 2 and book.asks + book.bids):
        return None
    titles, body = rows(columns, len(asks) + len(bids))
    stale = view.live and state.stale(now, view.stale_after)
    if stale:
        for line in body:
            line.stylize("dim")
    return lines + [titles, *body[: len(asks)], _spread(book, width), *body[len(asks):]]


def side_by_side(board: Board, books: Sequence[Book | None], now: float, view: BoardView, width: int, height: int | None) -> RenderableType:
    """As many source ladders as fit, left to right, each with its own header and state."""
    count = len(board.states)
    gap = len(SEPARATOR)
    chrome = 6 + (1 if view.show_help else 0)  # name, state, notice, titles, spread, note
    levels = view.rows(None if height is None else max(1, (height - chrome) // 2))
    shown: list[list[Text]] = []
    for fitting in range(count, 0, -1):
        column_width = (width - gap * (fitting - 1)) // fitting
        built = [source_column(i, board.states[i], books[i], now, view, column_width, levels) for i in range(fitting)]
        if all(b is not None for b in built) or fitting == 1:
            shown = [b or [words("too narrow for this ladder", column_width, "dim")] for b in built]
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
        out.append(words(f"not shown (too narrow): {hidden} — widen the terminal or use --merge", width, "yellow"))
    _footer(out, view, width)
    return Group(*out)


def _footer(out: list[Text], view: BoardView, width: int) -> None:
    if view.live:
        hint = HELP_LINE if view.show_help else "? for keys"
        line = words(hint if view.depth is None else f"depth {view.depth} · {hint}", width, "dim")
        out.append(Text.assemble(("PAUSED ", "bold magenta"), line) if view.paused and line.cell_len + 7 <= width else line)


# -- consolidated ----------------------------------------------------------

def _split_bar(level: Level, scale: Decimal, keys: Sequence[str]) -> Text:
    """The level's amount as a bar split by venue: each venue's part in its tag letter and colour."""
    text = Text()
    if not scale:
        return text
    position, running = 0, Decimal(0)
    for key, amount in (level.venues or {}).items():
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


def _merged_columns(asks: tuple[Level, ...], bids: tuple[Level, ...], keys: Sequence[str]) -> list[Column]:
    levels = list(asks[::-1]) + list(bids)
    prices, amounts, totals = (render.aligned([getattr(lv, f) for lv in levels]) for f in ("price", "amount", "total"))
    sides = [("ask", "red")] * len(asks) + [("bid", "green")] * len(bids)
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


def _who(level: Level, keys: Sequence[str]) -> str:
    return "+".join(f"{TAGS[keys.index(k)]} {k}" for k in (level.venues or {}))


def best_line(book: Book, keys: Sequence[str], width: int, max_lines: int) -> list[Text]:
    """Best bid and ask with the venues quoting them, then spread and mid."""
    parts = []
    if book.bids:
        parts.append(Text.assemble(("best bid ", "bold"), (plain(book.bids[0].price), "bold green"), f" {_who(book.bids[0], keys)}"))
    if book.asks:
        parts.append(Text.assemble(("best ask ", "bold"), (plain(book.asks[0].price), "bold red"), f" {_who(book.asks[0], keys)}"))
    if book.spread is not None:
        parts.append(_spread(book, width))
        parts.append(Text.assemble(("mid ", "bold"), plain(book.mid)))
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


def impact_lines(book: Book, size: Decimal, keys: Sequence[str], width: int, lines_per_side: int) -> list[Text]:
    """buy/sell SIZE routed across venues: average, worst, slippage, and each venue's fill."""
    out = []
    for routed in consolidate.route(book, size):
        fill = routed.fill
        verb = "buy " if fill.side == "buy" else "sell"
        if fill.average_price is None:
            out.append(words(f"{verb} {plain(size)}: no liquidity on this side", width, "yellow"))
            continue
        parts = [Text(f"{verb} {plain(size)}: avg {plain(fill.average_price)}"), Text(f"worst {plain(fill.worst_price)}")]
        if fill.slippage_bps is not None:
            parts.append(Text(f"slippage {plain(fill.slippage_bps)} bps"))
        if not fill.complete:
            parts.append(Text(f"book too thin: only {plain(fill.filled)} fillable", style="bold yellow"))
        for key, part in routed.venues.items():
            parts.append(Text.assemble(tag(keys.index(key)), f" {key} {plain(part.filled)} @ {plain(part.average_price)}"))
        out.extend(pack(parts, width, lines_per_side, sep="  "))
    return out


def merged_view(board: Board, books: Sequence[Book | None], now: float, view: BoardView, width: int, height: int | None) -> RenderableType:
    """The consolidated ladder: who is in it, crossings, levels tagged by venue, routed impact."""
    keys = [s.source.key for s in board.states]
    stale_after = view.stale_after if view.live else None
    live = [consolidate.SourceBook(s.source.key, b) for s, b in zip(board.states, books)
            if b is not None and not s.failed and (stale_after is None or not s.stale(now, stale_after))]
    book = consolidate.merge(live, board.plan.symbol or "", depth=board.plan.depth)
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
        entry.append_text(status(state, now, view, rate=False))
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
    best = best_line(book, keys, width, 1 if tight else 2)
    impact = impact_lines(book, view.impact, keys, width, 1 if tight else 2) if view.impact is not None else []
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
    columns = fit(_merged_columns(asks, bids, keys), width)
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
    console = render.console(opts.no_color)
    view = BoardView(impact=opts.impact, live=False)
    console.print(frame(board, now, view, console.width, None))


# -- the live loop -----------------------------------------------------------

def on_key(key: str, board: Board, view: BoardView) -> bool:
    """Handle one key; True to quit."""
    if key in ("q", "Q"):
        return True
    if key in ("+", "-"):
        deepest = board.plan.depth
        current = view.depth or deepest
        view.depth = min(deepest, current + 1) if key == "+" else max(1, current - 1)
    elif key == " ":
        view.paused = not view.paused
        view.frozen = [s.book for s in board.states] if view.paused else []
    elif key == "?":
        view.show_help = not view.show_help
    return False


def run(plan: Plan, opts) -> None:
    """Draw until q, Ctrl-C, --count books, or every source failed (raised after the screen is restored)."""
    from rich.live import Live

    from orderbook_cli.feed import BookEvent
    from orderbook_cli.live import IDLE_REDRAW, MAX_FPS, KeyEvent, Keys, follow_terminal_size

    feeds, errors = open_feeds(plan)
    board = Board(plan, feeds, errors)
    if board.all_failed:
        raise board.failure()
    view = BoardView(stale_after=opts.stale_after, impact=opts.impact)
    console = render.console(opts.no_color)
    books_seen, quit_ = 0, False
    deadline = time.monotonic() + opts.timeout
    with FanIn(feeds) as fan, Keys() as keys:
        keys.forward(fan.inject)
        with Live(console=console, screen=True, auto_refresh=False, redirect_stdout=False, redirect_stderr=False) as screen:
            last_draw, pending = 0.0, True
            try:
                while not quit_:
                    now = time.monotonic()
                    due = last_draw + (1 / MAX_FPS if pending else IDLE_REDRAW)
                    if now < deadline:
                        due = min(due, deadline)
                    item = fan.get(timeout=max(0.0, due - now))
                    while item is not None and not quit_:
                        index, event = item
                        if index is None and isinstance(event, KeyEvent):
                            quit_ = any(on_key(key, board, view) for key in event.keys)
                        elif index is not None:
                            board.on_event(index, event)
                            books_seen += isinstance(event, BookEvent)
                        pending = True
                        if opts.count and books_seen >= opts.count:
                            quit_ = True
                        item = fan.get(timeout=0)
                    now = time.monotonic()
                    first_book_deadlines(board, fan, deadline, now, lambda error: None)
                    if board.all_failed:
                        raise board.failure()
                    if (pending and now - last_draw >= 1 / MAX_FPS) or now - last_draw >= IDLE_REDRAW or quit_:
                        follow_terminal_size(console)
                        screen.update(frame(board, now, view, console.size.width, console.size.height), refresh=True)
                        last_draw, pending = now, False
            except KeyboardInterrupt:
                pass  # Ctrl-C is how people leave a live view: exit 0
