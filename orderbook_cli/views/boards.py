"""Several sources on one screen: ladders side by side, or one consolidated ladder.

Pure functions from the board (every source's book and state) to Rich
renderables of a given width and height (the pipeline hands them plain data:
views.state.SourceStatus, Consolidated). Columns that do
not fit are dropped whole (a number is never cut); sources that do not fit
are named in a note. Venues are told apart by a tag letter (A, B, …) in
their own colour, so the screen reads the same without colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import NamedTuple

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.text import Text

from orderbook_cli import consolidate
from orderbook_cli.book import EXACT, Book, Level, plain
from orderbook_cli.errors import sanitize
from orderbook_cli.feed import State
from orderbook_cli.views.header import checksum_mark, header, health_items, spread_row
from orderbook_cli.views.keys import BOARD_ACTIONS, MERGED_ACTIONS, help_keys, help_lines, keys_text
from orderbook_cli.views.ladder import ladder_screen, liquidity_line, running_notionals
from orderbook_cli.views.layout import Column, Item, first_fitting, fit, fit_columns, pack, rows, words
from orderbook_cli.views.numbers import aligned, average_places, fixed, quote_places, size_words, units
from orderbook_cli.views.state import LadderView, SourceStatus
from orderbook_cli.views.terminal import console
from orderbook_cli.views.theme import DEFAULT, Theme

TAGS = "ABCDEF"
COLOURS = ("cyan", "magenta", "yellow", "blue", "bright_white", "bright_magenta")
SEPARATOR = " │ "
MERGED_BAR_WIDTH = 16
MIN_COLUMN = 16  # narrower than this, a source's ladder is only a summary


@dataclass
class BoardView:
    """What the screen shows besides the books."""

    paused: bool = False
    show_help: bool = False
    ladders: dict = field(default_factory=dict)  # side by side: each source's own ladder view
    live: bool = True  # False for a printed snapshot: no ages, nothing goes stale
    depth: int | None = None  # levels a side the user asked for with +/- (None: as many as fit)
    group: Decimal | None = None  # merged view: every source bucketed by this tick (key g)
    group_key: bool = False  # whether g regroups (the merged view: one pair, one tick)
    alert: str = ""  # the latest --alert that fired (its source and condition), marked while recent
    notice: str = ""  # a short-lived message (an --alert-cmd that failed)
    theme: Theme = DEFAULT

    def rows(self, fitting: int | None) -> int | None:
        """Levels a side: what fits the screen, and no more than +/- asked for."""
        if self.depth is None or fitting is None:
            return fitting if self.depth is None else self.depth
        return min(fitting, self.depth)


class Consolidated(NamedTuple):
    """What --merge shows, computed by the pipeline from the sources in it."""

    symbol: str  # the common BASE-QUOTE
    book: Book | None  # shaped once: grouped as asked, figures from every level merged; None: no source in it
    cross: consolidate.Crossing | None  # one venue's bid above another's ask


def tag(index: int) -> Text:
    return Text(TAGS[index], style=f"bold {COLOURS[index]}")


# -- one source's state ------------------------------------------------------

def status(state: SourceStatus, view: BoardView) -> list[Item]:
    """● live  age 0.4s, or RECONNECTING / STALE / FAILED: the state never hidden, the age first to go."""
    if not view.live or state.failed:
        return [Item(0, Text("FAILED", style="bold white on red") if state.failed else Text("● snapshot", style="bold green"))]
    name = state.state
    ok = name == State.LIVE.value
    warn = "bold black on yellow"
    items = [Item(0, Text(f"● {name}" if ok else name.upper(), style="bold green" if ok else warn))]
    if state.age is not None:
        items.append(Item(1, Text(f"age {state.age:.1f}s")))
        if state.stale:
            items.append(Item(0, Text("STALE", style=warn)))
    return items


def _evidence(state: SourceStatus, view: BoardView) -> list[tuple[Text, Text]]:
    """A source's integrity marks on the merged board (each in full and short), as its own
    ladder's header shows them: its last comparison with the venue's REST book (a mismatch
    first), a clock found off, its checksum confirmations; not the delay (the legend has
    room for what proves the book)."""
    if not view.live or state.failed:
        return []

    def worded(short: bool) -> list[Text]:
        items = health_items(*state.evidence, theme=view.theme, short=short) if state.evidence else []
        return [item.text for item in sorted(items, key=lambda item: item.priority) if item.priority <= 3]

    marks = list(zip(worded(False), worded(True)))
    mark = checksum_mark(state.book)
    return marks if mark is None else [*marks, (mark, mark)]


# -- side by side ------------------------------------------------------------

def _ladder_view(index: int, state: SourceStatus, view: BoardView) -> LadderView:
    """The source's own ladder view (kept between frames, so its columns keep their widths)."""
    ladder = view.ladders.setdefault(index, LadderView(theme=view.theme, actions=frozenset()))  # the board has the keys
    ladder.state = state.state if view.live or state.failed else "snapshot"
    ladder.age = state.age if view.live else None
    ladder.stale = view.live and state.stale
    ladder.updates_per_second = state.updates_per_second if view.live else None
    ladder.malformed = state.malformed if view.live else 0
    ladder.notice = state.notice
    ladder.paused = view.paused
    ladder.health = health_items(*state.evidence, theme=view.theme) if view.live and state.evidence else []
    return ladder


def source_column(index: int, state: SourceStatus, view: BoardView, width: int, height: int | None,
                  named: bool = True) -> list[Text] | None:
    """One source's ladder (the single-source ladder, laid out for `width` × `height`);
    None when not even its narrowest layout fits. Not `named`: the source's name gets
    a line of its own above a header without it."""
    ladder = _ladder_view(index, state, view)
    ladder.named = named
    book = state.book
    above = [] if named else [words(state.label, width, "bold cyan")]  # a name is text: it may be shortened
    if height is not None:
        height = max(1, height - len(above))
    if book is None:
        lines = [*above, header(None, ladder, state.venue, state.symbol, width)]
        if ladder.notice:
            lines.append(words(ladder.notice, width, "yellow"))
        lines.append(words("failed" if state.failed else "waiting for the first book…", width, "dim"))
        return lines
    if view.depth is not None:
        book = book._replace(bids=book.bids[: view.depth], asks=book.asks[: view.depth])
    lines = [*above, *_within(ladder_screen(book, ladder, state.venue, state.symbol, width=width, height=height), width)]
    if ladder.rows_shown == 0 and (book.bids or book.asks):
        return None  # only the compact summary fits: fewer, wider columns instead
    return lines


def _within(group: Group, width: int) -> list[Text]:
    """The ladder's lines, each kept inside its column (an over-long text line is cut
    at a word, never inside a number), so the columns beside it stay in place."""
    lines = [line for line in group.renderables if isinstance(line, Text)]  # the ladder is made of Text lines
    return [line if line.cell_len <= width else words(line.plain, width, "yellow") for line in lines]


def side_by_side(sources: Sequence[SourceStatus], view: BoardView, width: int, height: int | None) -> RenderableType:
    """As many source ladders as fit, left to right, each with its own header, state, age and staleness."""
    count = len(sources)
    gap = len(SEPARATOR)
    asked = help_lines(help_keys(BOARD_ACTIONS), width) if view.show_help else []  # the keys, wrapped between keys
    shown: list[list[Text]] = []
    for fitting in range(min(count, max(1, (width + gap) // (MIN_COLUMN + gap))), 0, -1):
        below = len(asked) + (1 if fitting < count else 0)  # the keys, and the note naming the sources left out
        column_width = (width - gap * (fitting - 1)) // fitting
        column_height = None if height is None else max(1, height - below)
        built = [source_column(i, sources[i], view, column_width, column_height) for i in range(fitting)]
        if any(b is not None and sources[i].label not in b[0].plain for i, b in enumerate(built)):
            # a narrow header shortened a name: every column names its source on a line of its own, so rows stay level
            built = [source_column(i, sources[i], view, column_width, column_height, named=False) for i in range(fitting)]
        if all(b is not None for b in built) or fitting == 1:
            shown = [b if b is not None else _compact(i, sources[i], view, column_width, column_height)
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
        hidden = ", ".join(s.label for s in sources[len(shown):])
        # the longest telling that fits whole: a note cut mid-sentence would lose the names or the advice
        notes = [f"not shown: {hidden} (too narrow; widen the terminal or use --merge)", f"not shown: {hidden} (widen or --merge)",
                 f"not shown: {hidden}", f"{count - len(shown)} not shown (widen or --merge)", f"{count - len(shown)} not shown"]
        said = [Text(sanitize(n), style="yellow") for n in notes]
        out.append(first_fitting(said, width) or words(notes[-1], width, "yellow"))
    out.extend(Text(line.plain, style="dim", no_wrap=True) for line in asked)
    return Group(*out)


def _compact(index: int, state: SourceStatus, view: BoardView, width: int, height: int | None) -> list[Text]:
    """A single column too narrow for a ladder: the single ladder's compact summary."""
    ladder = _ladder_view(index, state, view)
    return _within(ladder_screen(state.book, ladder, state.venue, state.symbol, width=width, height=height), width)


def _footer(view: BoardView, width: int) -> list[Text]:
    """The line under a live board (notice, settings, "? for keys"); with the help asked for,
    the keys too, wrapped between keys onto lines of their own when one line cannot hold them."""
    if not view.live:
        return []
    offered = MERGED_ACTIONS if view.group_key else BOARD_ACTIONS
    settings = ([f"grouped by {plain(view.group)}"] if view.group is not None else []) + ([f"depth {view.depth}"] if view.depth is not None else [])
    said = [sanitize(view.notice, 200), *settings]
    one = " · ".join(filter(None, [*said, keys_text(offered) if view.show_help else "? for keys"]))
    wrapped: list[Text] = []
    if view.show_help and cell_len(one) > width:
        wrapped = [Text(line.plain, style="dim", no_wrap=True) for line in help_lines(help_keys(offered), width)]
        one = " · ".join(filter(None, said))
    line = words(one, width, "dim")
    alert = f"ALERT {sanitize(view.alert, 100)}" if view.alert and not view.group_key else ""  # merged: in its head
    for mark, style in (("PAUSED" if view.paused else "", "bold magenta"), (alert, view.theme.warn)):
        if mark and line.cell_len + len(mark) + 1 <= width:
            line = Text.assemble((mark, style), " ", line) if line.cell_len else Text(mark, style=style)
    return ([line] if line.cell_len else []) + wrapped


# -- consolidated ----------------------------------------------------------

def _split_bar(by_venue: Mapping[str, Decimal], scale: Decimal, keys: Sequence[str]) -> Text:
    """The running total as a bar on the single ladder's scale (the largest total on
    screen fills it), split by venue: each venue's share in its tag letter and colour."""
    text = Text()
    if not scale:
        return text
    position, running = 0, Decimal(0)
    for key, amount in by_venue.items():
        with localcontext(EXACT):
            running += amount
            end = min(MERGED_BAR_WIDTH, int(running / scale * MERGED_BAR_WIDTH))
        index = keys.index(key)
        if end > position:
            text.append(TAGS[index] * (end - position), style=f"reverse {COLOURS[index]}")
        position = max(position, end)
    return text


def _running_by_venue(levels: Sequence[Level], keys: Sequence[str]) -> list[dict[str, Decimal]]:
    """Each level's running total from the best level out, per venue (in tag order)."""
    running = dict.fromkeys(keys, Decimal(0))
    out = []
    with localcontext(EXACT):
        for level in levels:
            for key, amount in (level.venues or {}).items():
                running[key] += amount
            out.append({key: amount for key, amount in running.items() if amount})
    return out


def _venue_tags(level: Level, keys: Sequence[str]) -> Text:
    text = Text()
    for index, key in enumerate(keys):
        text.append_text(tag(index) if key in (level.venues or {}) else Text("·", style="dim"))
    return text


def _merged_columns(book: Book, asks: tuple[Level, ...], bids: tuple[Level, ...], keys: Sequence[str], theme: Theme) -> list[Column]:
    """The single ladder's columns (units in the titles, running notional, the depth bar
    meaning the running total), plus which venues quote each level."""
    levels = list(asks[::-1]) + list(bids)
    prices, amounts, totals = (aligned([getattr(lv, f) for lv in levels]) for f in ("price", "amount", "total"))
    sides = [("ask", theme.ask)] * len(asks) + [("bid", theme.bid)] * len(bids)
    notionals = [fixed(n, quote_places(book)) for n in running_notionals(asks)[::-1] + running_notionals(bids)]
    scale = max((lv.total for lv in levels), default=Decimal(0))  # one scale for both sides, as the ladder
    by_venue = _running_by_venue(asks, keys)[::-1] + _running_by_venue(bids, keys)
    base, quote = units(book.symbol) or ("", "")
    return [
        Column("side", [Text(name, style=s) for name, s in sides], right=False, rank=3),
        Column(f"price {quote}".rstrip(), [Text(p, style=f"bold {s}") for p, (_, s) in zip(prices, sides)], rank=0),
        Column(f"amount {base}".rstrip(), [Text(a) for a in amounts], rank=1),
        Column(f"total {base}".rstrip(), [Text(t) for t in totals], rank=4),
        Column(f"notional {quote}".rstrip(), [Text(n, style="dim") for n in notionals], rank=7),
        Column("orders", [Text("" if lv.count is None else str(lv.count), style="dim") for lv in levels], rank=6),
        Column("venues", [_venue_tags(lv, keys) for lv in levels], right=False, rank=2),
        Column("depth by venue", [_split_bar(v, scale, keys) for v in by_venue], right=False, rank=5),
    ]


def _who(venues: Mapping[str, Decimal] | None, keys: Sequence[str], names: bool) -> str:
    """The venues quoting a price: tag letters and ids (`C bitmart-v3+B revx`), or the letters alone."""
    return "+".join(f"{TAGS[keys.index(k)]} {k}" if names else TAGS[keys.index(k)] for k in (venues or {}))


def _spreads(book: Book, theme: Theme) -> list[Text]:
    """The spread row in full, then each shorter form it takes as the width shrinks (mid, then bps,
    left out) while it still says the spread; none when a side is empty."""
    if book.spread is None:
        return []
    forms, said = [spread_row(book, None, theme)], f"spread {plain(book.spread)}"
    while (shorter := spread_row(book, forms[-1].cell_len - 1, theme)).cell_len < forms[-1].cell_len and said in shorter.plain:
        forms.append(shorter)
    return forms


def best_line(book: Book, keys: Sequence[str], width: int, max_lines: int, theme: Theme = DEFAULT) -> list[Text]:
    """Best bid and ask, then the spread (and mid), then the venues quoting the best prices:
    as the width shrinks, the venues' names go first, then their letters, then mid and bps, then "best"."""
    bid_venues, ask_venues = book.figures.best_venues if book.figures is not None else (None, None)

    def side(label: str, price: Decimal | None, style: str, venues: Mapping[str, Decimal] | None, who: str | None) -> list[Item]:
        if price is None:
            return []
        text = Text.assemble((f"{label} ", "bold"), (plain(price), f"bold {style}"))
        return [Item(0, text.append(f" {_who(venues, keys, who == 'names')}") if who and venues else text)]

    spreads = _spreads(book, theme)
    wordings = [(n, who, "best ") for n in range(max(1, len(spreads))) for who in ("names", "letters", None)]
    forms = [side(f"{best}bid", book.best_bid, theme.bid, bid_venues, who) + side(f"{best}ask", book.best_ask, theme.ask, ask_venues, who)
             + [Item(1, spread) for spread in spreads[n:n + 1]]
             for n, who, best in [*wordings, (len(spreads) - 1, None, "")]]
    if not forms[0]:
        return [Text("both sides empty", style="dim")]
    return pack(forms[0], width, max_lines, shorter=forms[1:])


def crossed_lines(cross: consolidate.Crossing, keys: Sequence[str], width: int, max_lines: int = 2) -> list[Text]:
    """CROSSED: which venue bids above which venue's ask, and by how much; shorter as the width
    shrinks (the venues' letters for their names, then the gap alone), never the word without a figure."""
    bid_tag, ask_tag = TAGS[keys.index(cross.bid_key)], TAGS[keys.index(cross.ask_key)]
    alarm = "bold white on red"
    gap, bps = f"by {plain(cross.gap)}", f"({plain(cross.gap_bps)} bps)"

    def said(*parts: str) -> list[Item]:
        return [Item(0, Text(part, style=alarm)) for part in parts]

    forms = [said(f"CROSSED: {bid_tag} {cross.bid_key} bid {plain(cross.bid)}", f"> {ask_tag} {cross.ask_key} ask {plain(cross.ask)}", f"{gap} {bps}"),
             said(f"CROSSED: {bid_tag} bid {plain(cross.bid)}", f"> {ask_tag} ask {plain(cross.ask)}", f"{gap} {bps}"),
             said(f"CROSSED {gap} {bps}:", f"{bid_tag} bid {plain(cross.bid)} > {ask_tag} ask {plain(cross.ask)}"),
             said(f"CROSSED {gap}:", f"{bid_tag} bid {plain(cross.bid)} > {ask_tag} ask {plain(cross.ask)}"),
             said(f"CROSSED {gap} {bps}"), said(f"CROSSED {gap}")]
    return pack(forms[0], width, max_lines, sep=" ", shorter=forms[1:])


def impact_lines(book: Book, keys: Sequence[str], width: int, lines_per_side: int) -> list[Text]:
    """buy/sell SIZE routed across venues (the shape step's fills): average, slippage, worst, and
    each venue's fill, dropped whole in that order of need; no lines at all when a side's average does not fit."""
    out: list[Text] = []
    fills = book.figures.impact if book.figures is not None else None
    places = average_places(book)  # as the ladder writes an average
    for fill in fills or ():
        size = size_words(book, fill)
        verb = "buy " if fill.side == "buy" else "sell"
        if fill.average_price is None:
            out.extend(pack([Item(0, Text(f"{verb} {size}: no liquidity on this side", style="yellow"))], width, 1,
                            shorter=[[Item(0, Text(f"{verb} {size}: none", style="yellow"))]]))
            continue
        parts = [Item(0, Text(f"{verb} {size}: avg {fixed(fill.average_price, places)}")), Item(2, Text(f"worst {plain(fill.worst_price)}"))]
        if fill.slippage_bps is not None:
            parts.append(Item(1, Text(f"slippage {plain(fill.slippage_bps)} bps")))
        if not fill.complete:
            parts.append(Item(0, Text(f"book too thin: only {plain(fill.filled)} fillable", style="bold yellow")))
        for key, part in (fill.venues or {}).items():
            parts.append(Item(3, Text.assemble(tag(keys.index(key)), f" {key} {plain(part.filled)} @ {fixed(part.average_price, places)}")))
        if parts[0].text.cell_len > width:
            return []  # the side and its average, or nothing: a figure never stands without them
        out.extend(pack(parts, width, lines_per_side, sep="  "))
    return out


def _legend_entry(index: int, state: SourceStatus, view: BoardView, room: int) -> Item:
    """A source's line in the legend, within `room`: its tag, name (shortened first, it is text),
    state, age, integrity marks (each in full or short, never pushing the age out), whether it is left out."""
    after = status(state, view)
    if not state.merged:
        after.append(Item(0, Text("(left out)", style="yellow")))
    head, rest = after[0], after[1:]
    needed = sum(item.text.cell_len + 2 for item in rest if item.priority == 0)
    name = words(state.label, room - needed - len(f"{TAGS[index]}  ") - head.text.cell_len, COLOURS[index])
    items = [Item(0, Text.assemble(tag(index), " ", name, " ", head.text)), *rest]
    for full, short in _evidence(state, view):
        fitting = [marked for marked in (_with(items, mark, state) for mark in (full, short)) if _width(marked) <= room]
        if not fitting:
            break
        items = fitting[0]
    return Item(0, fit(items, room))


def _with(items: list[Item], mark: Text, state: SourceStatus) -> list[Item]:
    """The entry's items with one more mark, before "(left out)"."""
    at = len(items) - (0 if state.merged else 1)
    return [*items[:at], Item(2, mark), *items[at:]]


def _width(items: Sequence[Item], sep: str = "  ") -> int:
    return sum(item.text.cell_len for item in items) + len(sep) * (len(items) - 1)


def merged_view(sources: Sequence[SourceStatus], merged: Consolidated, view: BoardView, width: int, height: int | None) -> RenderableType:
    """The consolidated ladder: who is in it, crossings, levels tagged by venue, routed impact."""
    keys = [s.key for s in sources]
    book = merged.book
    merged_in = sum(s.merged for s in sources)  # live and fresh: a stale source is "● live … STALE (left out)"
    tight = height is not None and height < 20  # small screens: one line each for the legend, best prices, impact
    counted = "bold green" if merged_in == len(keys) else "bold black on yellow"
    head = [Item(0, words(f"consolidated {merged.symbol}", width, "bold cyan")), Item(0, Text(f"{merged_in} of {len(keys)} sources in the book", style=counted))]
    if book is not None:
        from orderbook_cli.timefmt import iso_utc

        head.append(Item(2, Text(f"{iso_utc(book.timestamp or book.received_at)[11:19]} UTC")))
    if view.paused:
        head.append(Item(1, Text("PAUSED", style="bold magenta")))
    if view.alert:
        head.append(Item(0, words(f"ALERT {sanitize(view.alert, 100)}", width, view.theme.warn)))
    shorter = [head[0], Item(0, Text(f"{merged_in}/{len(keys)} in the book", style=counted)), *head[2:]]
    out: list[Text] = pack(head, width, 2, sep="  ", shorter=[shorter])
    legend_lines = 1 if tight else 3
    # a mark never pushes the rest of an entry out: room is left for "+N more" unless every source has a line
    room = width if len(sources) <= legend_lines else width - len(f" +{len(sources)} more")
    legend = [_legend_entry(index, state, view, room) for index, state in enumerate(sources)]
    out.extend(pack(legend, width, legend_lines))
    if book is None:
        out.append(words("no live source: every source is connecting, stale, reconnecting or failed", width, "yellow"))
        out.extend(_footer(view, width))
        return Group(*out)
    if merged.cross is not None:
        out.extend(crossed_lines(merged.cross, keys, width, 1 if tight else 2))
    best = best_line(book, keys, width, 1 if tight else 2, view.theme)
    impact = impact_lines(book, keys, width, 1 if tight else 2)
    footer = _footer(view, width)
    levels = None
    if height is not None:
        fixed = len(out) + 1 + len(best)  # with the column titles
        if fixed + 2 + len(impact) + len(footer) > height and not view.show_help:
            footer = []  # the smallest screens keep a level a side before the key hint (help asked for stays)
        if fixed + 2 + len(impact) + len(footer) > height:
            impact = impact_lines(book, keys, width, 1)  # a line a side before a side goes
        while impact and fixed + 2 + len(impact) + len(footer) > height:
            impact.pop()
        levels = max(1, (height - fixed - len(impact) - len(footer)) // 2)
    levels = view.rows(levels)
    asks = book.asks[:levels] if levels is not None else book.asks
    bids = book.bids[:levels] if levels is not None else book.bids
    columns = fit_columns(_merged_columns(book, asks, bids, keys, view.theme), width)
    if columns is None:
        out.append(words("too narrow for the ladder", width, "dim"))
    else:
        titles, body = rows(columns, len(asks) + len(bids))
        out.extend([titles, *body[: len(asks)], *best, *body[len(asks):]])
    out.extend(impact)
    liquidity = liquidity_line(book, width, view.theme)  # the single ladder's line, from the merged book's figures
    if liquidity is not None and (height is None or len(out) + len(footer) < height):
        out.append(liquidity)
    out.extend(footer)
    return Group(*out)


def frame(sources: Sequence[SourceStatus], merged: Consolidated | None, view: BoardView, width: int, height: int | None) -> RenderableType:
    """The board: the consolidated ladder with --merge, else the sources side by side."""
    if merged is not None:
        return merged_view(sources, merged, view, width, height)
    return side_by_side(sources, view, width, height)


def print_board(sources: Sequence[SourceStatus], merged: Consolidated | None, *, no_color: bool, theme: Theme) -> None:
    """`snapshot` with several sources: the board printed once at the terminal's width."""
    out = console(no_color)
    view = BoardView(live=False, theme=theme)
    out.print(frame(sources, merged, view, out.width, None))
