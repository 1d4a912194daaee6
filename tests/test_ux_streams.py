"""Issue 25: every command that prints data, on every registered venue (from its own
examples, on loopback), ends well whatever stdout is: a reader that went away is a
normal end (exit 0, nothing on stderr), a full disk is exit 74 with one line.
(tests/test_cli_streams.py holds the commands that need no venue.)"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from orderbook_cli.venues import load_all
from tests.conftest import OBOOK
from tests.servers.http_venue import Reply, payload
from tests.test_venue_examples import serve_example

TRADES = Path(__file__).resolve().parent / "payloads" / "trades" / "revx_trades_doc.json"
EXAMPLES = [(venue, example) for venue in load_all() for example in venue.examples()]


def command_lines(venue, example) -> list[list[str]]:
    target = [venue.info.id, example.symbol, *example.options]
    lines = [["snapshot", *target], ["snapshot", *target, "--json"]]
    if example.frames:  # a streaming example: watch it too
        lines.append(["watch", *target, "--json", "--count", "1"])
    return lines


CASES = [(venue, example, line) for venue, example in EXAMPLES for line in command_lines(venue, example)]
OFFLINE = [["replay", "--sample", "--speed", "max"], ["replay", "--sample", "--speed", "max", "--json"], ["completions", "fish"],
           ["help", "watch"]]


def run_into(stdout_fd: int, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([OBOOK, *args], stdout=stdout_fd, stderr=subprocess.PIPE, text=True, timeout=60,
                          env={**os.environ, "OBOOK_CONFIG": "", "COLUMNS": "80", **env})


def closed_pipe(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before obook writes a byte (`| head -0`)
    try:
        return run_into(write_end, args, env)
    finally:
        os.close(write_end)


def full_disk(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    with open("/dev/full", "w") as full:
        return run_into(full.fileno(), args, env)


def assert_both_ends(args: list[str], env: dict[str, str]) -> None:
    proc = closed_pipe(args, env)
    assert (proc.returncode, proc.stderr) == (0, ""), (args, proc)
    proc = full_disk(args, env)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 74, (args, proc)
    assert len(lines) == 1 and "No space left on device" in lines[0], (args, proc)


@pytest.mark.parametrize(("venue", "example", "args"), CASES, ids=[" ".join(args) for _, _, args in CASES])
def test_every_data_command_on_every_venue_survives_a_closed_pipe_and_a_full_disk(ws_venue, http_venue, venue, example, args):
    assert_both_ends(args, serve_example(venue, example, ws_venue, http_venue))


@pytest.mark.parametrize("args", OFFLINE, ids=" ".join)
def test_offline_commands_survive_a_closed_pipe_and_a_full_disk(args):
    assert_both_ends(args, {})


def test_symbols_and_trades_survive_a_closed_pipe_and_a_full_disk(http_venue, tmp_path):
    http_venue.route("/api/1.0/public/configuration/pairs", Reply(body=payload("revx_doc_pairs.json")))
    http_venue.route("/api/1.0/public/trades/all", Reply(body=TRADES.read_bytes()))
    env = {"OBOOK_REVX_URL": http_venue.url, "XDG_CACHE_HOME": str(tmp_path)}
    for args in (["symbols", "revx", "--refresh"], ["symbols", "revx", "--json"], ["trades", "revx", "BTC-USD", "--count", "1"]):
        assert_both_ends(args, env)
