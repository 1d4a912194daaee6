"""Issue 21 item 5 and 10: bad local input (config numbers, terminal sizes) is bounded,
never exit 1: a config number of thousands of digits is a usage error naming its key,
and COLUMNS/LINES of 20 digits, ten million, zero or garbage draw within a memory cap."""

from __future__ import annotations

import os
import resource
import subprocess
import time

import pytest

from tests.conftest import OBOOK, assert_clean_failure
from tests.servers.http_venue import Reply, payload

V1 = "/api/1.0/public/order-book/BTC-USD"


@pytest.mark.parametrize(("text", "key"), [
    ("[defaults]\ndepth = " + "9" * 4301, "defaults.depth"),
    ("[defaults]\ntimeout = -" + "1_" * 4400 + "1", "defaults.timeout"),
    ("[boards]\nbig = [" + "9" * 5000 + "]", "boards.big"),
])
def test_config_numbers_of_thousands_of_digits_are_usage_errors_naming_the_key(obook, tmp_path, text, key):
    config = tmp_path / "config.toml"
    config.write_text(text)
    run = obook("snapshot", "revx", "BTC-USD", "--timeout", "1", env={"OBOOK_CONFIG": str(config), "OBOOK_REVX_URL": "http://127.0.0.1:9"})
    assert_clean_failure(run, 2, key, "digits")


MEMORY_CAP = 1 << 30  # address space: obook normally needs a few hundred MiB of it; COLUMNS=10000000 wanted 2 GB


def _capped():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


@pytest.mark.parametrize("size", ["99999999999999999999", "10000000", "0", "", "1", "abc", "-5"])
def test_any_columns_and_lines_draw_within_bounds(http_venue, size):
    http_venue.route(V1, Reply(body=payload("revx_doc_public_v1.json")))
    for view in ("ladder", "chart"):
        started = time.monotonic()
        proc = subprocess.run([OBOOK, "snapshot", "revx", "BTC-USD", "--view", view], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "OBOOK_REVX_URL": http_venue.url, "COLUMNS": size, "LINES": size}, preexec_fn=_capped)
        assert proc.returncode == 0, (view, proc.stderr)
        assert "Traceback" not in proc.stderr and "bug" not in proc.stderr
        assert time.monotonic() - started < 30
        widest = max((len(line) for line in proc.stdout.splitlines()), default=0)
        assert widest <= 1000 * 20, widest  # bounded by the column cap (a cell may carry colour codes)
