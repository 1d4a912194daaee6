"""The symbol cache is read like any file from outside: bounded, never hanging,
never a crash; an unusable cache is no cache (completion offers nothing)."""

from __future__ import annotations

import json
import os
import time

import pytest

from orderbook_cli import symbol_cache


@pytest.fixture
def cache(tmp_path):
    environ = {"XDG_CACHE_HOME": str(tmp_path)}
    (tmp_path / "obook").mkdir()
    return environ, tmp_path / "obook" / "symbols-bitso.json"


def timed_read(environ):
    started = time.monotonic()
    result = symbol_cache.read("bitso", environ)
    return result, time.monotonic() - started


def test_a_fifo_is_no_cache_and_does_not_hang(cache):
    environ, path = cache
    os.mkfifo(path)
    assert timed_read(environ)[0] == ([], None)


def test_a_symlink_to_dev_zero_is_no_cache(cache):
    environ, path = cache
    path.symlink_to("/dev/zero")
    result, took = timed_read(environ)
    assert result == ([], None) and took < 2


def test_a_200_mb_file_is_not_loaded(cache):
    environ, path = cache
    with open(path, "wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse: 200 MB by size, nothing on disk
    result, took = timed_read(environ)
    assert result == ([], None) and took < 2


def test_deep_nesting_is_no_cache(cache):
    environ, path = cache
    path.write_text("[" * 100_000 + "]" * 100_000)
    assert timed_read(environ)[0] == ([], None)


def test_a_good_cache_is_read_and_the_venue_in_any_case(cache):
    environ, path = cache
    fetched_at = time.time()  # fresh: completion starts no background refresh
    path.write_text(json.dumps({"fetched_at": fetched_at, "symbols": ["btc_mxn", "eth_mxn", "bad*name"]}))
    assert symbol_cache.read("Bitso", environ) == (["btc_mxn", "eth_mxn"], fetched_at)
    assert symbol_cache.complete("Bitso", "BTC", environ) == ["BTC_MXN"]


# ------------------------------------------------------------------ no litter (issue 25)

def _cache_files(home) -> list[str]:
    folder = home / ".cache" / "obook"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _wait_for_requests(http_venue, count: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while len(http_venue.requests) < count and time.monotonic() < deadline:
        time.sleep(0.1)


def test_a_failed_background_refresh_leaves_only_the_cache_and_is_not_retried_at_once(isolated_user_state, http_venue):
    from tests.servers.http_venue import Reply
    from tests.test_completions import bash_complete

    http_venue.route("/api/1.0/public/configuration/pairs", Reply(status=500, body=b'{"message":"down"}'))
    env = {**os.environ, "OBOOK_REVX_URL": http_venue.url}
    legacy = isolated_user_state / ".cache" / "obook" / "symbols-revx.refreshing"
    legacy.parent.mkdir(parents=True)
    legacy.touch()  # what an older obook left behind
    assert bash_complete("obook watch revx ", env) == []
    _wait_for_requests(http_venue, 1)
    time.sleep(3)  # the refresh's own retries, then its exit
    asked = len(http_venue.requests)
    assert asked >= 1
    assert bash_complete("obook watch revx ", env) == []  # within ten minutes: no second refresh
    time.sleep(1)
    assert len(http_venue.requests) == asked
    assert _cache_files(isolated_user_state) == ["symbols-revx.json"]


def test_an_interrupted_refresh_leaves_no_file(obook, isolated_user_state, http_venue):
    import signal
    import subprocess

    from tests.conftest import OBOOK
    from tests.servers.http_venue import Reply

    http_venue.route("/api/1.0/public/configuration/pairs", Reply(body=b"{}", delay=20))
    proc = subprocess.Popen([OBOOK, "symbols", "revx", "--refresh", "--timeout", "30"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "OBOOK_REVX_URL": http_venue.url})
    _wait_for_requests(http_venue, 1)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=10)
    assert proc.returncode == 143
    assert _cache_files(isolated_user_state) == []


def test_a_cache_that_cannot_be_written_is_one_line_exit_74_and_leaves_no_file(obook, tmp_path, http_venue):
    from tests.servers.http_venue import Reply, payload

    http_venue.route("/api/1.0/public/configuration/pairs", Reply(body=payload("revx_doc_pairs.json")))
    blocked = tmp_path / "cache"
    blocked.mkdir()
    (blocked / "obook").write_text("")  # a file where the cache folder goes: unwritable, even for root
    run = obook("symbols", "revx", "--refresh", env={"OBOOK_REVX_URL": http_venue.url, "XDG_CACHE_HOME": str(blocked)})
    assert run.code == 74, run
    assert run.stdout.split() == ["BTC-USD", "ETH-EUR"]  # the list is still shown
    assert len(run.stderr.splitlines()) == 1 and "pair cache" in run.stderr and "not a folder" in run.stderr, run.stderr
    assert sorted(p.name for p in blocked.iterdir()) == ["obook"]
