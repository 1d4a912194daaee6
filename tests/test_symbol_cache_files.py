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
