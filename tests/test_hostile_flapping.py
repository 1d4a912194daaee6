"""Issue 21 item 8: against a venue that drops the link right after every book, every
registered WebSocket venue (run from its own examples) stays far under the strictest
documented connection limit: BitMart's 30 connects a minute (venue-notes)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from orderbook_cli.venues import load_all
from tests.conftest import OBOOK
from tests.test_venue_examples import serve_example

STRICTEST_CONNECTS_PER_MINUTE = 30  # BitMart: 30 connects/minute per IP; Bitso and Kraken allow more
WINDOW = 12.0  # seconds watched

FLAPPING = [(venue, next(e for e in venue.examples() if e.frames)) for venue in load_all() if any(e.frames for e in venue.examples())]


@pytest.mark.parametrize(("venue", "example"), FLAPPING, ids=[venue.info.id for venue, _ in FLAPPING])
def test_a_link_dropped_after_every_book_is_reopened_within_the_venues_limits(ws_venue, http_venue, venue, example):
    connections: list[float] = []

    def drop_after_the_book(peer):
        connections.append(time.monotonic())
        time.sleep(0.2)
        peer.drop()

    env = serve_example(venue, example, ws_venue, http_venue, then=drop_after_the_book)
    proc = subprocess.Popen([OBOOK, "watch", venue.info.id, example.symbol, "--json", *example.options], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **env})
    try:
        time.sleep(WINDOW)
        assert proc.poll() is None, "a flapping link never ends the watch"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 143, err
    assert out.strip(), "books arrived between the drops"
    allowed = 1 + STRICTEST_CONNECTS_PER_MINUTE * WINDOW / 60
    assert 2 <= len(connections) <= allowed, (len(connections), connections)
    gaps = [b - a for a, b in zip(connections, connections[1:])]
    assert all(gap >= venue.info.retry_floor for gap in gaps), gaps
