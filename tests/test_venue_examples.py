"""Every registered venue's own examples (Venue.examples), run end to end: the
venue's loopback server (WebSocket and/or HTTP, as the example says) serves the
example's frames and bodies, and the installed `obook snapshot` must print the
example's book. A venue added as one file brings its examples with it."""

from __future__ import annotations

import json

import pytest

from orderbook_cli.venues import load_all
from tests.servers.http_venue import Reply

EXAMPLES = [(venue.info.id, index, example) for venue in load_all() for index, example in enumerate(venue.examples())]


def serve_example(venue, example, ws_venue, http_venue, then=lambda peer: peer.hold()) -> dict[str, str]:
    """Stand up the example's loopback servers; the environment that points obook at them.
    `then(peer)`: what the WebSocket venue does after the example's frames (hold the link)."""
    env = {}
    if example.frames:
        subscriptions = len(venue.subscribe_messages(example_request(venue, example)))

        def script(peer):
            for _ in range(subscriptions):
                peer.recv()
            for frame in example.frames:
                peer.send(frame)
            then(peer)

        env[venue.info.url_env] = ws_venue(script).url
    for path, body in example.rest:
        http_venue.route(path, lambda request, body=body: Reply(body=body))
    if example.rest:
        env[example.rest_env or venue.info.url_env] = http_venue.url
    return env


def example_request(venue, example):
    from orderbook_cli.feed import FeedRequest

    options = dict(zip(example.options[::2], example.options[1::2]))
    feed = {"feed": options["--feed"]} if "--feed" in options else {}
    return FeedRequest(venue=venue.info.id, symbol=example.symbol, depth=20, timeout=5, options=feed)


def test_every_built_in_venue_brings_examples():
    from orderbook_cli.venues import own

    bare = [venue.info.id for venue in load_all() if venue.info.id in own() and not venue.examples()]
    assert not bare, f"venues without examples: {bare}"


@pytest.mark.parametrize(("venue_id", "index", "example"), EXAMPLES, ids=[f"{v}-{i}" for v, i, _ in EXAMPLES])
def test_venue_example_end_to_end(obook, ws_venue, http_venue, venue_id, index, example):
    venue = next(v for v in load_all() if v.info.id == venue_id)
    env = serve_example(venue, example, ws_venue, http_venue)
    run = obook("snapshot", venue_id, example.symbol, "--json", *example.options, env=env)
    assert run.code == 0, run
    book = json.loads(run.stdout)
    assert [(lv["price"], lv["amount"]) for lv in book["bids"]] == [tuple(pair) for pair in example.bids]
    assert [(lv["price"], lv["amount"]) for lv in book["asks"]] == [tuple(pair) for pair in example.asks]
    assert book["sequence"] == example.sequence
