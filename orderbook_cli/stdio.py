"""The process's standard streams when they are closed, vanish or fail.

A reader that went away (`| head -1`, `>&-`) ends obook quietly (exit 0);
an output that cannot take the data (`> /dev/full`, an I/O error) is one
clear stderr line and its own exit status; a closed stderr swallows the
error lines instead of Python sending them to stdout.
"""

from __future__ import annotations

import errno
import os
import sys
import threading

from orderbook_cli.errors import OutputError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy reads the name)

if TYPE_CHECKING:  # annotations only: `obook --version` never loads typing
    from typing import Any, NoReturn

_READER_GONE = (errno.EPIPE, errno.EBADF)
_READER_WENT_AWAY = threading.Event()  # process-wide: Typer may wrap sys.stdout after the failure


class GuardedStdout:
    """sys.stdout, with every write failure turned into what it means for obook."""

    def __init__(self, stream: Any):
        self._stream = stream  # None when the process started with stdout closed

    def __getattr__(self, name: str) -> Any:
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)

    def isatty(self) -> bool:
        return self._stream is not None and self._stream.isatty()

    def fileno(self) -> int:
        """Closed from the start (`>&-`): descriptor 1, free. Rich, meeting the closed stream,
        points it at /dev/null (dup2 onto it) before it ends; asking a closed stream raised instead."""
        return 1 if self._stream is None else int(self._stream.fileno())

    def write(self, text: str) -> int:
        if text == "":  # nothing to write cannot fail: click probes its stream with write(""), which
            return 0  # fails on a full disk, and it would take that for a binary stream and write past us
        stream = self._stream
        if stream is None:
            _READER_WENT_AWAY.set()
            raise BrokenPipeError("stdout is closed")
        try:  # the stream's own method, called directly: a line of NDJSON is written and flushed per book
            return stream.write(text)
        except (OSError, ValueError) as exc:
            self._failed(exc)

    def flush(self) -> None:
        stream = self._stream
        if stream is None:  # nothing buffered for a closed stdout (Python flushes at exit too)
            return
        try:
            stream.flush()
        except (OSError, ValueError) as exc:
            self._failed(exc)

    def _failed(self, exc: OSError | ValueError) -> NoReturn:
        """Raise what a failed write or flush means for obook."""
        if isinstance(exc, (UnicodeError, BrokenPipeError)):
            if isinstance(exc, BrokenPipeError):
                _READER_WENT_AWAY.set()
            raise exc
        if isinstance(exc, ValueError) or exc.errno in _READER_GONE:  # ValueError: "I/O operation on closed file"
            _READER_WENT_AWAY.set()
            raise BrokenPipeError(errno.EPIPE, str(exc)) from exc
        silence_stdout()  # the data cannot go anywhere; stop Python retrying at exit
        raise OutputError(f"cannot write to standard output: {exc.strerror or exc}", hint="check the disk or device it goes to") from exc


class GuardedStderr:
    """sys.stderr, where a line that cannot be written (2>/dev/full, an I/O error) is dropped:
    the exit status still says what happened, and a failing error line must not become a traceback."""

    def __init__(self, stream: Any):
        self._stream = stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def write(self, text: str) -> int:
        self._call("write", text)
        return len(text)

    def flush(self) -> None:
        self._call("flush")

    def _call(self, method: str, *args: Any) -> None:
        try:
            getattr(self._stream, method)(*args)
        except (OSError, ValueError):
            _to_devnull(self._stream)  # and Python's own flush at exit finds nothing to fail on
            self._stream = open(os.devnull, "w")


def guard_streams() -> None:
    """Install the guards on stdout and stderr; give a closed stderr a sink (else print(file=None) writes to stdout)."""
    if not isinstance(sys.stdout, GuardedStdout):
        if not writes_unicode(sys.stdout):  # PYTHONIOENCODING=ascii: a glyph the encoding lacks is "?", never a crash
            getattr(sys.stdout, "reconfigure", lambda **_: None)(errors="replace")  # an io.TextIOWrapper's
        sys.stdout = GuardedStdout(sys.stdout)
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")
    if not isinstance(sys.stderr, GuardedStderr):
        sys.stderr = GuardedStderr(sys.stderr)


def writes_unicode(stream: Any) -> bool:
    """Whether the stream's encoding writes every character (a UTF one); a closed stream loses nothing."""
    import codecs

    encoding = getattr(stream, "encoding", None)
    return not encoding or codecs.lookup(encoding).name.startswith("utf")


def reader_went_away() -> bool:
    """Whether a write found stdout's reader gone: libraries that meet a broken pipe
    exit 1 on their own (rich's Console, Typer's main); for obook that is a normal end."""
    return _READER_WENT_AWAY.is_set()


def silence_stdout() -> None:
    """After the reader went away (`| head -1`): stop writing, and stop Python
    complaining at exit while flushing a closed pipe."""
    _to_devnull(sys.stdout)


def _to_devnull(stream: Any) -> None:
    """Point the stream's file descriptor at /dev/null (whatever is still buffered goes nowhere)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stream.fileno())
    except (AttributeError, OSError, ValueError):
        pass
    finally:
        os.close(devnull)
