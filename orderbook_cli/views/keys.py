"""Keys: single keypresses from the terminal, the one key map (key -> action name)
every live view uses, and the `?` help built from that map."""

from __future__ import annotations

import os
import select
import sys
import threading
from collections.abc import Collection, Sequence
from typing import Self

from rich.text import Text


class KeyEvent:
    __slots__ = ("keys",)

    def __init__(self, keys: str):
        self.keys = keys


class Resized:
    """The terminal changed size (SIGWINCH): the screen is to be drawn again at once."""

    __slots__ = ()


RESIZED = Resized()


class Keys:
    """Single keypresses without Enter (cbreak mode), and the terminal's resizes; the
    terminal and the SIGWINCH handler are always restored."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stdin
        self.fd: int | None = None
        self._saved: list | None = None  # the terminal's settings before cbreak
        self._open = False
        self._resized: tuple[int, int] | None = None  # a pipe the SIGWINCH handler writes a byte to: (read end, write end)
        self._winch: object = None  # the SIGWINCH handler before ours
        self._reader: threading.Thread | None = None  # the thread forward() started

    def __enter__(self) -> Self:
        self._open = True
        try:
            import termios
            import tty
        except ImportError:  # no terminal control here: no keys
            return self
        try:
            if self.stream.isatty():
                self.fd = self.stream.fileno()
                self._saved = termios.tcgetattr(self.fd)
                tty.setcbreak(self.fd)
        except (OSError, ValueError, termios.error):  # termios.error is no OSError: a terminal that cannot be set up is none
            self.fd = None
        return self

    def __exit__(self, *exc: object) -> None:
        self._open = False
        if self._resized is not None:
            import signal

            signal.signal(signal.SIGWINCH, signal.SIG_DFL if self._winch is None else self._winch)  # type: ignore[arg-type]  # what was there
            pipe, self._resized = self._resized, None
            if self._reader is not None:  # woken and gone before the pipe closes: never closed under its select
                os.write(pipe[1], b"x")
                self._reader.join(1.0)
            for end in pipe:
                os.close(end)
        if self._saved is not None and self.fd is not None:
            import termios

            saved, self._saved = self._saved, None
            try:
                termios.tcsetattr(self.fd, termios.TCSADRAIN, saved)
            except (termios.error, OSError):  # the terminal is gone (closed: EIO): nothing left to restore
                pass

    def _watch_resizes(self) -> None:
        """SIGWINCH writes a byte to a pipe (all a signal handler may safely do here): the
        reading thread hands on RESIZED. Only the main thread may set a handler; elsewhere
        (or without SIGWINCH) the screen follows its size at the next frame."""
        import signal

        if not hasattr(signal, "SIGWINCH") or threading.current_thread() is not threading.main_thread():
            return
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)

        def resized(signum: int, frame: object) -> None:
            try:
                os.write(write_end, b"w")
            except OSError:  # the pipe is full: a redraw is already asked for
                pass

        self._winch = signal.signal(signal.SIGWINCH, resized)
        self._resized = (read_end, write_end)

    def forward(self, put) -> None:
        """Read keys (and resizes) on a daemon thread and hand them to `put`, so the view can
        sleep until something happens instead of polling the keyboard or the size."""
        self._watch_resizes()
        keys, resized = self.fd, self._resized[0] if self._resized is not None else None
        watched = [fd for fd in (keys, resized) if fd is not None]
        if not watched:
            return

        def read() -> None:
            while self._open and watched:
                ready, _, _ = select.select(watched, [], [], 0.5)
                if not self._open:
                    return
                if resized in ready:
                    os.read(resized, 64)
                    put(RESIZED)
                if keys is not None and keys in ready:
                    data = os.read(keys, 64)
                    if data:
                        put(KeyEvent(data.decode("utf-8", "ignore")))
                    else:  # no more keys; resizes still come
                        watched.remove(keys)

        self._reader = threading.Thread(target=read, name="obook-keys", daemon=True)
        self._reader.start()


UP, DOWN, LEFT, RIGHT, HOME, END, ESCAPE = "up", "down", "left", "right", "home", "end", "escape"
_SEQUENCES = {  # xterm and VT220 styles
    "\x1b[A": UP, "\x1bOA": UP, "\x1b[B": DOWN, "\x1bOB": DOWN,
    "\x1b[C": RIGHT, "\x1bOC": RIGHT, "\x1b[D": LEFT, "\x1bOD": LEFT,
    "\x1b[H": HOME, "\x1bOH": HOME, "\x1b[1~": HOME, "\x1b[7~": HOME,
    "\x1b[F": END, "\x1bOF": END, "\x1b[4~": END, "\x1b[8~": END,
}


def split_keys(data: str) -> list[str]:
    """Keys from what the terminal sent: characters, and the sequences above by name."""
    keys, i = [], 0
    while i < len(data):
        if data[i] == "\x1b":
            sequence = next((seq for seq in _SEQUENCES if data.startswith(seq, i)), None)
            if sequence:
                keys.append(_SEQUENCES[sequence])
                i += len(sequence)
                continue
            if data[i + 1:i + 2] in ("[", "O"):  # another escape sequence: ignored whole (up to its final byte), not read as letters
                i += 2
                while i < len(data) and not "@" <= data[i] <= "~":
                    i += 1
                i += 1
                continue
            keys.append(ESCAPE)
        else:
            keys.append(data[i])
        i += 1
    return keys


# The one key map: what each key means. A view acts on the actions it offers.
KEYMAP = {
    "q": "quit", "Q": "quit", "v": "next_view", "+": "deeper", "-": "shallower", "g": "group", " ": "pause", "?": "help",
    UP: "cursor_up", "k": "cursor_up", DOWN: "cursor_down", "j": "cursor_down", ESCAPE: "cursor_off", "t": "tape",
    LEFT: "step_back", ",": "step_back", RIGHT: "step_forward", ".": "step_forward",
    "[": "slower", "]": "faster", HOME: "to_start", "<": "to_start", END: "to_end", ">": "to_end", "l": "loop",
}
# The `?` help, in this order: (what the keys do, the actions they stand for); the keys themselves come from KEYMAP.
HELP = (
    ("quit", ("quit",)), ("view", ("next_view",)), ("level", ("cursor_up", "cursor_down")), ("hide level", ("cursor_off",)),
    ("depth", ("deeper", "shallower")), ("grouping", ("group",)), ("pause", ("pause",)), ("tape", ("tape",)), ("help", ("help",)),
    ("step", ("step_back", "step_forward")), ("slower/faster", ("slower", "faster")), ("start/end", ("to_start", "to_end")),
    ("loop", ("loop",)),
)
KEY_NAMES = {UP: "↑", DOWN: "↓", LEFT: "←", RIGHT: "→", HOME: "Home", END: "End", ESCAPE: "Esc", " ": "space"}
# What each kind of screen offers.
BOARD_ACTIONS = frozenset({"quit", "deeper", "shallower", "pause", "help"})
MERGED_ACTIONS = BOARD_ACTIONS | {"group"}
PICTURE_ACTIONS = MERGED_ACTIONS | {"next_view"}
LADDER_ACTIONS = PICTURE_ACTIONS | {"cursor_up", "cursor_down", "cursor_off"}
REPLAY_ACTIONS = frozenset({"step_back", "step_forward", "slower", "faster", "to_start", "to_end", "loop"})
TAPE_ACTIONS = frozenset({"tape"})  # a ladder with the trades tape beside it


def action(key: str, offered: Collection[str]) -> str | None:
    """The action a key stands for on a screen that offers `offered` (None: nothing)."""
    name = KEYMAP.get(key)
    return name if name in offered else None


def bound_keys(name: str) -> list[str]:
    """The keys bound to action `name`, as help shows them (an upper-case letter is its lower-case one's, caps lock on)."""
    return [KEY_NAMES.get(key, key) for key, bound in KEYMAP.items() if bound == name and not (key.isupper() and KEYMAP.get(key.lower()) == name)]


def _keys_label(actions: Sequence[str]) -> str:
    """"q", "+/-", "↑/↓ k/j": each alternative key of a pair of actions (up/down) as one pair."""
    return " ".join("/".join(pair) for pair in zip(*(bound_keys(name) for name in actions), strict=True))


def help_keys(offered: Collection[str]) -> list[str]:
    """The help entries ("q quit", …) for the actions a screen offers, every key bound to them."""
    return [f"{_keys_label(actions)} {what}" for what, actions in HELP if any(a in offered for a in actions)]


def keys_text(offered: Collection[str]) -> str:
    """The help on one line: "keys: q quit · …"."""
    return "keys: " + " · ".join(help_keys(offered))


def help_lines(keys: Sequence[str], width: int | None) -> list[Text]:
    """"keys: ..." wrapped between keys, never inside one."""
    lines, current = [], "keys:"
    for key in keys:
        joined = f"{current}{' ' if current == 'keys:' else ' · '}{key}"
        if width is not None and len(joined) > width:
            lines.append(Text(current, no_wrap=True))
            joined = key
        current = joined
    lines.append(Text(current, no_wrap=True))
    return lines
