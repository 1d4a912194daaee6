"""Small local files (obook's config, Revolut X credentials), read safely:
checked by type and size before a byte is read, so a FIFO cannot hang obook,
a device cannot feed it for ever, and a huge file is never loaded."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class Unsuitable(Exception):
    """The path exists but is not a small regular file; the text says why (never the content)."""


def _nonblocking(name: str, flags: int) -> int:
    return os.open(name, flags | os.O_NONBLOCK)  # a FIFO swapped in after stat() cannot block the open


def read_small(path: Path, limit: int, check: Callable[[os.stat_result], None] | None = None) -> bytes:
    """The file's bytes. FileNotFoundError and OSError pass through; Unsuitable for the wrong
    kind of file or one over ``limit`` bytes; ``check`` sees the stat result before reading."""
    try:
        info = path.stat()
    except ValueError:  # a NUL byte in a configured path
        raise Unsuitable("is not a usable path (it contains a NUL byte)") from None
    for is_kind, kind in _KINDS:
        if is_kind(info.st_mode):
            raise Unsuitable(f"is {kind}, not a regular file")
    too_large = Unsuitable(f"is larger than {limit // 1024} KiB")
    if info.st_size > limit:
        raise too_large
    if check is not None:
        check(info)
    with open(path, "rb", opener=_nonblocking) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise too_large
    return data


def open_for_writing(path: str, mode: str = "wb", encoding: str | None = None):
    """A file opened for writing that cannot hang obook: a FIFO is opened non-blocking
    (no process reading it: OSError ENXIO at once, not a wait for ever), then put back
    in blocking mode so writes wait for the reader as a pipe should."""
    def opener(name: str, flags: int) -> int:
        fd = os.open(name, flags | os.O_NONBLOCK, 0o666)  # as open() creates a file (os.open's default, 0o777, made it executable)
        os.set_blocking(fd, True)
        return fd

    return open(path, mode, encoding=encoding, opener=opener)


def write_failure(exc: OSError) -> str:
    """Why a write failed, in words (a FIFO with no reader says so)."""
    import errno

    if exc.errno == errno.ENXIO:
        return "it is a FIFO that no process is reading"
    return (exc.strerror or str(exc)).lower() if exc.strerror else str(exc)
