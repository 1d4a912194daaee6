"""The Rich console obook prints through (no markup, no emoji, NO_COLOR honoured), and the
live screen's painter (Painter: each distinct line rendered once)."""

from __future__ import annotations

import sys
from itertools import chain
from typing import NamedTuple

from rich.cells import cell_len
from rich.console import COLOR_SYSTEMS, Console, ConsoleOptions, Group, RenderableType
from rich.control import Control
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

# Far beyond any screen people read; what a view allocates grows with the size,
# so COLUMNS=10000000 (or a pty that says so) must not be taken at its word.
MAX_COLUMNS, MAX_LINES = 1000, 500
UNKNOWN_SIZE = (80, 25)  # what a terminal that reports 0x0 (or COLUMNS=0) is drawn at


def bounded_size(columns: int, lines: int) -> tuple[int, int]:
    """The size obook draws at for a terminal (or COLUMNS/LINES) that says columns x lines."""
    return (min(columns, MAX_COLUMNS) if columns > 0 else UNKNOWN_SIZE[0],
            min(lines, MAX_LINES) if lines > 0 else UNKNOWN_SIZE[1])


def console(no_color: bool = False, file=None) -> Console:
    out = Console(file=file or sys.stdout, highlight=False, no_color=no_color or None, emoji=False, markup=False)
    said = tuple(out.size)
    if said != bounded_size(*said):  # fixed only when out of bounds: Rich keeps following a sane terminal
        out.size = bounded_size(*said)
    return out


def colour_mode(console: Console) -> str:
    """truecolor when the terminal says so (COLORTERM), 256 colours otherwise, none for NO_COLOR / --no-color."""
    if console.no_color or console.color_system is None:
        return "none"
    return "truecolor" if console.color_system == "truecolor" else "256"


def _plain_lines(renderable: RenderableType) -> bool:
    """Whether `renderable` is lines of text with no style of their own (a Text whose
    whole-line style is a span), alone or in Groups: left-justified in a cell, such a
    line's padding is unstyled however wide the cell."""
    if isinstance(renderable, Group):
        return all(_plain_lines(item) for item in renderable.renderables)
    return isinstance(renderable, Text) and not renderable.style


class Beside(NamedTuple):
    """`left` in the first `left_width` columns and `right` in `right_width` columns to its
    right, `gap` columns apart, top-aligned, on a screen exactly that wide: what one row
    of a Rich grid (Table.grid(padding=(0, gap)), columns of those widths) draws, drawn
    by the Painter line by line from the lines it remembers instead of a table measured
    every frame."""

    left: RenderableType
    left_width: int
    right: RenderableType
    right_width: int
    gap: int = 2

    @staticmethod
    def _cell(console: Console, options: ConsoleOptions, renderable: RenderableType, width: int) -> ConsoleOptions:
        """How a grid cell draws `renderable` in a column `width` wide: left-justified, unwrapped,
        as wide as it measures (Rich's Padding), at most `width`."""
        cell = options.update(width=width, justify="left", no_wrap=True, overflow="ellipsis", height=None)
        if _plain_lines(renderable):  # padded to the measure or to `width`: the same unstyled spaces, no need to measure
            return cell
        return cell.update_width(min(Measurement.get(console, cell, renderable).maximum, width))

    def left_options(self, console: Console, options: ConsoleOptions) -> ConsoleOptions:
        return self._cell(console, options, self.left, self.left_width)

    def right_options(self, console: Console, options: ConsoleOptions) -> ConsoleOptions:
        return self._cell(console, options, self.right, self.right_width)

    def join(self, left: list[str], left_drawn: int, right: list[str], right_drawn: int) -> list[str]:
        """The sides' lines (terminal text `left_drawn` and `right_drawn` cells wide: their options'
        width) side by side, the shorter side continued with blank lines; each line
        `left_width + gap + right_width` wide."""
        after_left = " " * (self.left_width - left_drawn + self.gap)
        blank_left = " " * (self.left_width + self.gap)
        after_right = " " * (self.right_width - right_drawn)
        blank_right = " " * self.right_width
        return [(left[n] + after_left if n < len(left) else blank_left) + (right[n] + after_right if n < len(right) else blank_right)
                for n in range(max(len(left), len(right)))]


Line = list[Segment]
HOME = Control.home().segment.text  # where Live's alternate screen starts each frame


class Painter:
    """The live screen, each frame written as Rich's Live writes it on the alternate screen
    (cursor home, then the screen's lines, each as wide as the screen, cut or filled with
    blank lines to its height), without laying out the same lines again every frame.

    A live view redraws up to 20 times a second and most of its lines are the frame
    before's: a line of text (a rich Text, by what it says, how it is styled and the room
    it is drawn in) is turned into Rich's segments and their terminal text once, and
    reused while the frames keep showing it; a line no frame showed last time is
    forgotten. The segments are Rich's for the same text in the same place (in a Group,
    or a column of Beside), and their text what the console writes for them, so a
    frame is byte for byte what Live would write (tests/test_paint.py holds it to that).
    """

    def __init__(self, console: Console):
        self.console = console
        self._drawn: dict = {}  # this frame's lines, by their key (Painter._key)
        self._before: dict = {}  # the frame before's
        self._styles: dict = {}  # style names as Rich reads them
        self._system = COLOR_SYSTEMS.get(console.color_system or "")

    def draw(self, renderable: RenderableType) -> None:
        """Write the frame for the console's size (what Live.update with refresh does)."""
        console = self.console
        if not console.is_terminal or console.is_dumb_terminal:
            return  # where Live draws nothing while it runs
        width, height = console.size
        console.file.write(self.frame(renderable, width, height))
        console.file.flush()

    def frame(self, renderable: RenderableType, width: int, height: int) -> str:
        """The text of one frame of `renderable` on a `width` x `height` alternate screen."""
        options = self.console.options.update(width=width, height=None, justify=None, overflow=None, no_wrap=None)
        lines = self._lines(renderable, options)[:height]
        lines.extend([" " * width] * (height - len(lines)))
        self._before, self._drawn = self._drawn, {}
        return HOME + "\n".join(lines)

    def _lines(self, renderable: RenderableType, options: ConsoleOptions) -> list[str]:
        """`renderable`'s lines at `options`' width, as text for the terminal, each that wide."""
        if isinstance(renderable, Group):
            return [line for item in renderable.renderables for line in self._lines(item, options)]
        if isinstance(renderable, Beside):
            assert renderable.left_width + renderable.gap + renderable.right_width == options.max_width, "Beside fills its width"
            left, right = renderable.left_options(self.console, options), renderable.right_options(self.console, options)
            return renderable.join(self._lines(renderable.left, left), left.max_width, self._lines(renderable.right, right), right.max_width)
        if not isinstance(renderable, Text):
            made = renderable.__rich_console__(self.console, options) if hasattr(renderable, "__rich_console__") else None
            items = list(made) if made is not None else [renderable]
            if made is not None and not any(isinstance(item, Segment) for item in items):  # renderables made of renderables (the ladder)
                return [line for item in items for line in self._lines(item, options)]
            return [self._text(line) for line in self._stream(items, options)]  # segments of their own: as Rich renders them
        if renderable.end != "\n":  # not whole lines of its own
            return [self._text(line) for line in self._stream([renderable], options)]
        key = self._key(renderable, options)
        lines = self._drawn.get(key)
        if lines is None:
            lines = self._before.get(key)
            if lines is None:
                lines = [self._text(line) for line in self._render(renderable, options)]
            self._drawn[key] = lines
        return lines

    @staticmethod
    def _key(text: Text, options: ConsoleOptions) -> tuple:
        return (text.plain, tuple(text.spans), text.style, text.justify, text.overflow, text.no_wrap, text.tab_size,
                options.max_width, options.justify, options.overflow, options.no_wrap)

    def _render(self, renderable: RenderableType, options: ConsoleOptions) -> list[Line]:
        """Rich's segments for `renderable` in a Group at `options`, cut into lines that wide."""
        width = options.max_width
        if isinstance(renderable, Text) and not renderable.style and (renderable.justify or options.justify) in (None, "default", "left"):
            # One line that fits, with no style of its own: Rich's wrapping and justifying leave
            # it as it is (but for unstyled padding), so its segments are its own render's.
            plain = renderable.plain
            used = cell_len(plain)
            if used <= width and "\n" not in plain and "\t" not in plain:
                line = self._segments(renderable, plain)
                return [[*line, Segment(" " * (width - used))] if used < width else line]
        return self._stream([renderable], options)

    def _stream(self, items: list, options: ConsoleOptions) -> list[Line]:
        """Segments and renderables rendered one after the other, as Rich does, cut into lines."""
        segments = chain.from_iterable([item] if isinstance(item, Segment) else self.console.render(item, options) for item in items)
        return list(Segment.split_and_crop_lines(segments, options.max_width, include_new_lines=False))

    def _segments(self, text: Text, plain: str) -> Line:
        """A line's segments (Text.render's): each span in its style, the text between them
        unstyled, when the spans follow one another without overlapping (the common case,
        made directly); else Text.render's own stack of spans."""
        out: Line = []
        at = 0
        for span in text.spans:
            if span.start < at or span.end <= span.start or span.end > len(plain):
                return list(text.render(self.console))
            if span.start > at:
                out.append(Segment(plain[at:span.start]))
            style = self._styles.get(span.style)
            if style is None:
                style = self._styles[span.style] = self.console.get_style(span.style, default=Style.null())
            out.append(Segment(plain[span.start:span.end], style))
            at = span.end
        if at < len(plain):
            out.append(Segment(plain[at:]))
        return out

    def _text(self, line: Line) -> str:
        """What the console writes for a line's segments (Console._render_buffer, on a terminal)."""
        system, legacy = self._system, self.console.legacy_windows
        if self.console.no_color and system:
            line = list(Segment.remove_color(line))
        return "".join([style.render(text, color_system=system, legacy_windows=legacy) if style else text for text, style, _ in line])
