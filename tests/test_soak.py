"""Soak: 100,000 frames through `obook watch --json` with flat memory.

Measured from outside, as the kernel sees it: the obook process's resident
set size (VmRSS in /proc/PID/status), sampled after 20,000 frames (warm) and
at 100,000. Flat means it grew by less than a few MiB over 80,000 frames.
"""

import json
import os
import subprocess
import time

import pytest

from tests.conftest import OBOOK

FRAMES = 100_000
WARM = 20_000
ALLOWED_GROWTH_KIB = 4096


def rss_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc")
def test_100k_frames_flat_memory(ws_venue):
    def script(peer):
        sub = peer.expect_json()
        peer.send({"action": "subscribe", "response": "ok", "time": 1, "type": "orders", "book": sub["book"]})
        for seq in range(FRAMES + 10):
            peer.send(json.dumps({"type": "orders", "book": "btc_mxn", "sent": 1700000000000 + seq, "payload": {
                "bids": [{"o": str(seq), "r": str(7000 + seq % 500), "a": "0.5", "v": "1", "t": 0, "d": 1},
                         {"o": "b", "r": "6999", "a": "1", "v": "1", "t": 0, "d": 1}],
                "asks": [{"o": "a", "r": str(8000 + seq % 300), "a": "2", "v": "1", "t": 1, "d": 1}]}}))
        peer.hold()

    venue = ws_venue(script)
    proc = subprocess.Popen([OBOOK, "watch", "bitso", "--feed", "top", "btc_mxn", "--json", "--count", str(FRAMES)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "OBOOK_BITSO_URL": venue.url})
    samples = {}
    started = time.monotonic()
    count = 0
    for _line in proc.stdout:
        count += 1
        if count in (WARM, FRAMES - 1):
            samples[count] = rss_kib(proc.pid)
    proc.wait(timeout=60)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr.read()
    assert count == FRAMES
    growth = samples[FRAMES - 1] - samples[WARM]
    print(f"\nsoak: {FRAMES} frames in {elapsed:.1f}s; RSS {samples[WARM]} KiB at {WARM}, {samples[FRAMES - 1]} KiB at {FRAMES - 1} (growth {growth} KiB)")
    assert growth < ALLOWED_GROWTH_KIB, samples
