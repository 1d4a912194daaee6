"""Every command ends well whatever stdout is: a reader that went away is a
normal end (exit 0, nothing on stderr), a full disk is exit 74 with one line."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import OBOOK

# Commands that print without a network: each must survive both outputs.
COMMANDS = [
    ["venues"],
    ["venues", "--json"],
    ["--help"],
    ["help", "config", "show"],
    ["config", "show"],
    ["config", "path"],
    ["--version"],
    ["completions", "bash"],
    ["completions", "zsh"],
    ["watch", "--help"],
]


def run_into(stdout_fd: int, args: list[str], tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OBOOK_CONFIG": "", "COLUMNS": "80"}
    return subprocess.run([OBOOK, *args], stdout=stdout_fd, stderr=subprocess.PIPE, text=True, env=env, timeout=30)


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_closed_pipe_is_a_normal_end(args, tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before obook writes a byte (`| head -0`)
    try:
        proc = run_into(write_end, args, tmp_path)
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (0, ""), proc


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_full_disk_is_exit_74_with_one_line(args, tmp_path):
    with open("/dev/full", "w") as full:
        proc = run_into(full.fileno(), args, tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 74, proc
    assert len(lines) == 1 and "No space left on device" in lines[0] and "Traceback" not in proc.stderr, proc


def test_head_reads_the_first_line_and_obook_exits_0(tmp_path):
    """The README's promise for `set -o pipefail` scripts, through a real shell pipeline."""
    env = {**os.environ, "OBOOK_CONFIG": ""}
    proc = subprocess.run(["bash", "-c", f'set -o pipefail; "{OBOOK}" venues | head -1; "{OBOOK}" --help | head -1'],
                          capture_output=True, text=True, env=env, timeout=30)
    assert proc.returncode == 0 and proc.stderr == "", proc
    assert len(proc.stdout.splitlines()) == 2
