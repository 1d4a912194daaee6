"""Issue 21 item 5: each venue's documented limits are declared once, on the venue
(`VenueInfo.limits`, read by the feed's retry policy), and obook keeps under them
against a flapping venue. Every registered venue is run from its own examples:
a WebSocket venue drops the link right after every book; a REST venue answers
every other request with a cut-off body. Connection attempts (WebSocket) and
requests (REST) are counted by the loopback server over a fixed window."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from orderbook_cli.venues import load_all
from orderbook_cli.venues.websocket import WebSocketVenue
from tests.conftest import OBOOK
from tests.servers.http_venue import Reply
from tests.test_venue_examples import serve_example

WINDOW = 12.0  # seconds watched
SLACK = 0.05  # seconds: the server stamps an arrival a little after obook sent it

VENUES = list(load_all())
FLAPPING = [(venue, next(e for e in venue.examples() if e.frames)) for venue in VENUES
            if isinstance(venue, WebSocketVenue) and any(e.frames for e in venue.examples())]
POLLED = [(venue, next(e for e in venue.examples() if e.rest)) for venue in VENUES
          if not isinstance(venue, WebSocketVenue) and any(e.rest for e in venue.examples())]


def test_every_registered_venue_is_run_here():
    covered = {venue.info.id for venue, _ in FLAPPING + POLLED}
    assert covered == {venue.info.id for venue in VENUES}, "a venue without examples escapes the limits test"
    assert {"bitso", "bitmart", "bitmart-v3", "kraken", "revx"} <= covered


@pytest.mark.parametrize("venue", VENUES, ids=[venue.info.id for venue in VENUES])
def test_every_venue_declares_where_its_limits_come_from(venue):
    limits = venue.info.limits
    assert limits.source, f"{venue.info.id}: limits without a source"
    if isinstance(venue, WebSocketVenue):
        assert limits.connect_floor > 0, f"{venue.info.id}: nothing keeps its reconnections apart"
        if limits.connects_per_minute:
            assert limits.connect_floor >= 60 / limits.connects_per_minute
    else:
        assert limits.requests_per_minute and limits.request_floor >= 60 / limits.requests_per_minute


def watch(venue, example, env: dict[str, str]) -> tuple[str, str]:
    """Run `watch --json` for WINDOW seconds, then SIGTERM; (stdout, stderr)."""
    proc = subprocess.Popen([OBOOK, "watch", venue.info.id, example.symbol, "--json", *example.options], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **env})
    try:
        time.sleep(WINDOW)
        assert proc.poll() is None, "a flapping venue never ends the watch"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 143, err
    assert out.strip(), "books arrived between the drops"
    return out, err


@pytest.mark.parametrize(("venue", "example"), FLAPPING, ids=[venue.info.id for venue, _ in FLAPPING])
def test_a_link_dropped_after_every_book_is_reopened_within_the_venues_limits(ws_venue, http_venue, venue, example):
    connections: list[float] = []

    def drop_after_the_book(peer):
        connections.append(time.monotonic())
        peer.pause(0.2)
        peer.drop()

    watch(venue, example, serve_example(venue, example, ws_venue, http_venue, then=drop_after_the_book))
    limits = venue.info.limits
    assert len(connections) >= 2, "the dropped link was reopened"
    if limits.connects_per_minute:  # the venue's own published count, over the window
        assert len(connections) <= 1 + limits.connects_per_minute * WINDOW / 60, (len(connections), limits)
    gaps = [b - a for a, b in zip(connections, connections[1:])]
    assert all(gap >= limits.connect_floor - SLACK for gap in gaps), (gaps, limits.connect_floor)


@pytest.mark.parametrize(("venue", "example"), POLLED, ids=[venue.info.id for venue, _ in POLLED])
def test_a_rest_venue_failing_every_other_request_is_asked_within_its_limits(http_venue, venue, example):
    arrivals: list[float] = []
    for path, body in example.rest:
        def flapping(request, body=body):
            arrivals.append(request.at)
            return Reply(body=body) if len(arrivals) % 2 else Reply(body=body, truncate=True)  # cut off: a network error
        http_venue.route(path, flapping)
    _, err = watch(venue, example, {example.rest_env or venue.info.url_env: http_venue.url})
    limits = venue.info.limits
    assert len(arrivals) >= 3, err
    assert len(arrivals) <= 1 + limits.requests_per_minute * WINDOW / 60, (len(arrivals), limits)
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert all(gap >= limits.request_floor - SLACK for gap in gaps), (gaps, limits.request_floor)
