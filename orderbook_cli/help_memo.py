"""Help pages remembered: Typer writes every help page, and obook keeps what it wrote, so
the same request again is answered without loading Typer, whose import is most of a
`--help` (73 ms of CPU against 11 for `python -c pass` in bench/run.py; 28 remembered).

A page is reused only for the very same arguments and terminal width (what click
lays the page out by), the same Python, and the very same obook and Typer files (path,
size and modification time of each), and never while a venue plugin may be installed
(its options are on the pages); anything else is rendered by Typer afresh. The
memory is one small file in obook's cache folder, replaced whole, read as any outside
file is (bounded, checked, printable text only); when it cannot be read or written,
help is simply rendered.
"""

from __future__ import annotations

import os
import re
import sys
from functools import cache, lru_cache

from orderbook_cli import smallfile
from orderbook_cli.distributions import venue_plugins_may_exist

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (this is the fast path)

if TYPE_CHECKING:
    from collections.abc import Mapping

FILE_NAME = "help-pages.json"
MAX_BYTES = 512 * 1024
MAX_PAGES = 64  # a handful of commands at a few widths; then the oldest are forgotten
MAX_PAGE_CHARS = 16 * 1024  # obook's longest page is about 5,000 characters
HELP_FLAGS = ("-h", "--help")
_NAME = re.compile(r"[a-z][a-z0-9-]{0,23}")  # a command's name, as obook spells them
_PRINTABLE = re.compile(r"[^\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]*")  # no control character but the newline, no lone surrogate


def is_page_request(args: list[str]) -> bool:
    """`obook`, `obook [COMMAND]... --help` (or -h), `obook help [COMMAND]...`: arguments that
    ask for a help page and nothing else (an option or a value may change what is printed)."""
    if not args:
        return True
    if len(args) > 4:
        return False
    names = args[1:] if args[0] == "help" else args[:-1] if args[-1] in HELP_FLAGS else None
    return names is not None and all(_NAME.fullmatch(name) for name in names)


def recall(args: list[str], environ: Mapping[str, str] = os.environ) -> str | None:
    """The page Typer wrote for this very request, or None."""
    stamp = _stamp()
    memory = None if stamp is None else _load(environ)
    if memory is None or memory.get("stamp") != stamp:
        return None
    page = memory["pages"].get(_key(args, environ))
    return page if isinstance(page, str) and _printable(page) else None


def keep(args: list[str], page: str, environ: Mapping[str, str] = os.environ) -> None:
    """Remember the page Typer wrote for `args`; a cache that cannot be written is no error."""
    import json

    stamp = _stamp()
    if stamp is None or not page or len(page) > MAX_PAGE_CHARS or not _printable(page) or not _typer_is_scanned():
        return
    memory = _load(environ)
    pages: dict[str, str] = memory["pages"] if memory is not None and memory.get("stamp") == stamp else {}
    pages.pop(key := _key(args, environ), None)
    pages[key] = page  # newest last: the oldest are forgotten first
    kept = dict(list(pages.items())[-MAX_PAGES:])
    try:
        smallfile.replace_atomically(_file(environ), json.dumps({"stamp": stamp, "pages": kept}))
    except OSError:
        pass  # a read-only or full disk: the next help is rendered again


def _file(environ: Mapping[str, str]) -> str:
    return os.path.join(smallfile.cache_dir(environ), FILE_NAME)


def _load(environ: Mapping[str, str]) -> dict | None:
    """The memory's object if it is one: {"stamp": str, "pages": {str: str}}."""
    import json

    try:
        data = json.loads(smallfile.read_small(_file(environ), MAX_BYTES).decode("utf-8"))
    except (OSError, ValueError, RecursionError, smallfile.Unsuitable):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("stamp"), str) or not isinstance(data.get("pages"), dict):
        return None
    return data


def _key(args: list[str], environ: Mapping[str, str]) -> str:
    """The request and what click's width comes from (shutil.get_terminal_size: COLUMNS,
    else the terminal on stdout): each raw, so equal keys lay the page out alike."""
    try:
        columns: int | None = os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ is not None else None
    except (AttributeError, ValueError, OSError):
        columns = None
    return repr((args, environ.get("COLUMNS"), columns))


def _printable(page: str) -> bool:
    return _PRINTABLE.fullmatch(page) is not None  # a tampered file cannot write escapes to the terminal


def _typer_is_scanned() -> bool:
    """Typer as imported is the one _stamp found on sys.path (not one a custom finder supplied)."""
    typer = sys.modules.get("typer")
    return typer is not None and os.path.dirname(getattr(typer, "__file__", None) or "") == _find_package("typer")


@cache
def _find_package(name: str) -> str | None:
    """The folder a plain `import name` loads a regular package from: the first sys.path entry holding it."""
    for entry in sys.path:
        folder = os.path.join(entry or os.getcwd(), name)
        if os.path.isfile(os.path.join(folder, "__init__.py")):
            return os.path.abspath(folder)
    return None


@lru_cache(maxsize=1)
def _stamp() -> str | None:
    """What a page is written from: the Python, and obook's and Typer's files (click comes
    with Typer); None, no page remembered, when Typer is not found or a venue plugin may be
    installed (its options are on the pages, and its files are in no stamp). Once a process:
    a missed page is looked up, then kept."""
    typer = _find_package("typer")
    if typer is None or venue_plugins_may_exist():
        return None
    own = os.path.dirname(os.path.abspath(__file__))
    return f"{sys.version}|{own}|{typer}|{files_stamp([own, typer])}"


def files_stamp(folders: list[str]) -> str:
    """The path, size and modification time of every source file under `folders`, in one short text."""
    import zlib

    files: list[str] = []
    for folder in folders:
        for where, subfolders, names in os.walk(folder):
            subfolders.sort()
            for name in sorted(names):
                if name.endswith(".py"):
                    info = os.stat(path := os.path.join(where, name))
                    files.append(f"{path}\0{info.st_size}\0{info.st_mtime_ns}")
    return f"{len(files)}:{zlib.crc32(chr(10).join(files).encode('utf-8', 'surrogateescape')):08x}"
