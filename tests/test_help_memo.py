"""Help pages remembered (orderbook_cli/help_memo.py): Typer's page, asked for again, is the
very same text without loading Typer; anything that could change the page renders afresh;
the memory file is outside input (bounded, checked, printable only) and never an error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orderbook_cli import help_memo
from tests.conftest import OBOOK

PAGES = (["--help"], [], ["-h"], ["watch", "--help"], ["help", "watch"], ["config", "show", "--help"], ["help", "config", "show"])


def run(args: list[str], cache: Path, columns: str = "80", importtime: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "COLUMNS": columns}
    command = [sys.executable, "-X", "importtime", "-m", "orderbook_cli", *args] if importtime else [OBOOK, *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


def memory_file(cache: Path) -> Path:
    return cache / "obook" / help_memo.FILE_NAME


@pytest.mark.parametrize("args", PAGES, ids=" ".join)
def test_a_page_asked_for_again_is_typers_page_without_loading_typer(tmp_path, args):
    first = run(args, tmp_path / "cache", importtime=True)
    assert first.returncode == 0 and first.stdout.startswith("Usage: obook"), first
    assert "| typer" in first.stderr  # the first is Typer's own rendering
    again = run(args, tmp_path / "cache", importtime=True)
    assert again.returncode == 0, again
    assert "| typer" not in again.stderr, "the remembered page still loaded Typer"
    assert again.stdout == first.stdout
    fresh = run(args, tmp_path / "elsewhere")  # nothing remembered there: Typer writes it
    assert again.stdout == fresh.stdout


def test_each_width_has_its_own_page(tmp_path):
    cache = tmp_path / "cache"
    narrow, wide = run(["watch", "--help"], cache, columns="50"), run(["watch", "--help"], cache, columns="100")
    assert narrow.stdout != wide.stdout
    assert len(narrow.stdout.splitlines()[0]) <= 50 < len(wide.stdout.splitlines()[0])  # the usage line wraps at 50
    assert run(["watch", "--help"], cache, columns="50").stdout == narrow.stdout
    assert run(["watch", "--help"], cache, columns="100").stdout == wide.stdout
    assert len(json.loads(memory_file(cache).read_text())["pages"]) == 2


@pytest.mark.parametrize("args", [["watch", "--depth", "5", "--help"], ["--debug", "--help"], ["--help", "--debug"], ["watch"],
                                  ["a", "b", "c", "d", "--help"], ["Watch", "--help"], ["watch", "x" * 30, "--help"], ["config"]])
def test_only_a_bare_page_request_is_remembered(args):
    assert not help_memo.is_page_request(args)


def test_a_failed_request_is_not_remembered(tmp_path):
    cache = tmp_path / "cache"
    failed = run(["bogus", "--help"], cache)
    assert failed.returncode == 2 and failed.stdout == "", failed
    assert not memory_file(cache).exists()


def test_a_page_from_other_files_is_not_reused(tmp_path):
    """Another obook or Typer (or an edited one) wrote the memory: its pages are not shown."""
    cache = tmp_path / "cache"
    real = run(["--help"], cache).stdout
    memory = json.loads(memory_file(cache).read_text())
    key = next(iter(memory["pages"]))
    memory_file(cache).write_text(json.dumps({"stamp": memory["stamp"] + "x", "pages": {key: "Usage: STALE\n"}}))
    assert run(["--help"], cache).stdout == real


def test_the_stamp_follows_every_file_size_and_time(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text("y = 1\n")
    before = help_memo.files_stamp([str(tmp_path)])
    assert help_memo.files_stamp([str(tmp_path)]) == before
    os.utime(tmp_path / "sub" / "b.py", ns=(1, 1))
    touched = help_memo.files_stamp([str(tmp_path)])
    assert touched != before
    (tmp_path / "a.py").write_text("x = 22\n")
    os.utime(tmp_path / "a.py", ns=(1, 1))
    assert help_memo.files_stamp([str(tmp_path)]) not in (before, touched)
    (tmp_path / "c.py").write_text("")
    assert help_memo.files_stamp([str(tmp_path)]) != touched


def _tampered(cache: Path, page: str) -> None:
    """The memory as obook writes it, with `page` for `obook --help` at 80 columns."""
    run(["--help"], cache)
    memory = json.loads(memory_file(cache).read_text())
    memory["pages"] = {key: page for key in memory["pages"]}
    memory_file(cache).write_text(json.dumps(memory))


def test_a_page_with_control_characters_is_never_shown(tmp_path):
    cache = tmp_path / "cache"
    real = run(["--help"], cache).stdout
    for page in ("Usage: \x1b]0;owned\x07\x1b[31mred\n", "Usage: \ud800 lone\n"):  # an escape; a lone surrogate (was exit 1)
        _tampered(cache, page)
        shown = run(["--help"], cache)
        assert (shown.returncode, shown.stdout, shown.stderr) == (0, real, "")
    _tampered(cache, "Usage: fine\n")  # the check can pass: a printable page is what is shown
    assert run(["--help"], cache).stdout == "Usage: fine\n"


@pytest.mark.parametrize("content", [b"", b"not json", b"[1, 2]", b'{"stamp": 1, "pages": {}}', b'{"stamp": "s", "pages": []}',
                                     b"[" * 100_000, b" " * (help_memo.MAX_BYTES + 1), b"\xff\xfe"])
def test_an_unusable_memory_is_ignored_and_replaced(tmp_path, content):
    cache = tmp_path / "cache"
    real = run(["--help"], tmp_path / "clean").stdout
    memory_file(cache).parent.mkdir(parents=True)
    memory_file(cache).write_bytes(content)
    shown = run(["--help"], cache)
    assert (shown.returncode, shown.stdout, shown.stderr) == (0, real, "")
    assert json.loads(memory_file(cache).read_text())["pages"]  # rewritten with the page


def test_a_fifo_memory_cannot_hang_help(tmp_path):
    cache = tmp_path / "cache"
    memory_file(cache).parent.mkdir(parents=True)
    os.mkfifo(memory_file(cache))
    shown = run(["--help"], cache)
    assert shown.returncode == 0 and shown.stdout.startswith("Usage: obook") and shown.stderr == ""


def test_an_unwritable_cache_is_no_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")  # the cache "folder" is a file: nothing can be written under it
    for _ in range(2):
        shown = run(["watch", "--help"], blocker)
        assert shown.returncode == 0 and shown.stdout.startswith("Usage: obook watch") and shown.stderr == ""


def test_the_memory_stays_small(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    import typer  # noqa: F401  (keep() remembers only what the Typer found on sys.path wrote)

    for width in range(help_memo.MAX_PAGES + 10):
        help_memo.keep(["--help"], f"Usage: page {width}\n", {"XDG_CACHE_HOME": str(tmp_path), "COLUMNS": str(width)})
    pages = json.loads(memory_file(tmp_path).read_text())["pages"]
    assert len(pages) == help_memo.MAX_PAGES
    assert "Usage: page 9\n" not in pages.values() and f"Usage: page {help_memo.MAX_PAGES + 9}\n" in pages.values()
    help_memo.keep(["--help"], "x" * (help_memo.MAX_PAGE_CHARS + 1), {"XDG_CACHE_HOME": str(tmp_path), "COLUMNS": "1"})
    assert "x" * (help_memo.MAX_PAGE_CHARS + 1) not in json.loads(memory_file(tmp_path).read_text())["pages"].values()
