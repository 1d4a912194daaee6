"""Small local files (obook's config, Revolut X credentials, its caches), read safely:
checked by type and size before a byte is read, so a FIFO cannot hang obook,
a device cannot feed it for ever, and a huge file is never loaded; caches are
replaced whole, so no reader ever sees half a file."""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a remembered help page reads through here)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from os import PathLike

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class Unsuitable(Exception):
    """The path exists but is not a small regular file; the text says why (never the content)."""


def _nonblocking(name: str, flags: int) -> int:
    return os.open(name, flags | os.O_NONBLOCK)  # a FIFO swapped in after stat() cannot block the open


def read_small(path: str | PathLike[str], limit: int, check: Callable[[os.stat_result], None] | None = None) -> bytes:
    """The file's bytes. FileNotFoundError and OSError pass through; Unsuitable for the wrong
    kind of file or one over ``limit`` bytes; ``check`` sees the stat result before reading."""
    try:
        info = os.stat(path)
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


def cache_dir(environ: Mapping[str, str] = os.environ) -> str:
    """obook's folder under the user's cache dir (XDG_CACHE_HOME, else ~/.cache)."""
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser(environ.get("HOME", "~")), ".cache")
    return os.path.join(base, "obook")


def replace_atomically(path: str, text: str) -> None:
    """Write `text` to `path` through a temporary file in its folder (made if missing), then
    rename it over `path`: a reader sees the old file or the new one, never half of one, and
    the temporary file is gone afterwards, written or not (a full disk, Ctrl-C, SIGTERM)."""
    import tempfile

    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    finally:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
