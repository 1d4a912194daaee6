"""Fuzzing every registered venue's parsers: arbitrary JSON and bytes, and each venue's own
examples (Venue.examples) with fuzzed values, may only produce a valid book or obook's own
error types, never anything else. A venue added as one file is fuzzed by its examples."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderbook_cli.book import Book
from orderbook_cli.errors import ObookError
from orderbook_cli.feed import FeedRequest
from orderbook_cli.sync import Change, Seed
from orderbook_cli.venues import load_all
from orderbook_cli.venues.synced import SyncedVenue
from orderbook_cli.venues.websocket import BookUpdate, Control, Rejected, WebSocketVenue

NOW = datetime(2026, 1, 1, tzinfo=UTC)
WS_VENUES = {venue.info.id: venue for venue in load_all() if isinstance(venue, WebSocketVenue) and venue.examples()}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.decimals(allow_nan=False, allow_infinity=False, places=8),
    st.text(max_size=12), st.sampled_from(["1", "0.5", "1e-7", "-1", "NaN", "Infinity", "1e999", "0027", ""]),
)
keys = st.sampled_from(["type", "book", "payload", "bids", "asks", "buys", "sells", "data", "table", "symbol", "r", "a", "o",
                        "price", "amount", "count", "total", "p", "q", "no", "quantity", "sent", "ms_t", "event", "errorCode",
                        "action", "response", "error", "message", "subscribe", "metadata", "timestamp", "last_price", "pdt",
                        "sequence", "version", "checksum", "qty", "channel"])
json_values = st.recursive(scalars, lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(keys, children, max_size=6)), max_leaves=40)


def fuzzed(value):
    """The example's JSON with any leaf replaced, any list shortened or repeated: reaches deep into the parsers."""
    if isinstance(value, dict):
        return st.fixed_dictionaries({k: fuzzed(v) for k, v in value.items()})
    if isinstance(value, list):
        return st.one_of(st.tuples(*[fuzzed(v) for v in value]).map(list), st.lists(fuzzed(value[0]), max_size=4) if value else st.just([]))
    return st.one_of(st.just(value), scalars)


def example_frames(venue) -> list:
    """Every JSON frame and REST body of the venue's examples, decoded."""
    out = []
    for example in venue.examples():
        for text in [*example.frames, *(body for _, body in example.rest)]:
            try:
                out.append(json.loads(text))
            except ValueError:
                continue
    return out


def shaped(venue):
    return st.sampled_from(example_frames(venue)).flatmap(fuzzed)


def request_for(venue, feed=None) -> FeedRequest:
    options = {"feed": feed} if feed else {}
    return FeedRequest(venue=venue.info.id, symbol=venue.examples()[0].symbol, depth=20, timeout=1, options=options)


def check_book(request: FeedRequest, bids, asks, timestamp) -> None:
    book = request.book(bids, asks, timestamp, NOW)
    assert isinstance(book, Book)
    for level in book.bids + book.asks:
        assert isinstance(level.price, Decimal) and level.amount > 0
    assert list(book.bids) == sorted(book.bids, key=lambda lv: lv.price, reverse=True)


def check_ws(venue, frame) -> None:
    synced = isinstance(venue, SyncedVenue)
    for feed in ("top", "full") if venue.takes("feed") else ("full",) if synced else (None,):
        request = request_for(venue, feed)
        try:
            if not (synced and feed == "full"):  # a full feed is read by read(); parse() is for pushed books
                message = venue.parse(frame, request)
                if isinstance(message, BookUpdate):
                    check_book(request, message.bids, message.asks, message.timestamp)
                else:
                    assert isinstance(message, (Control, Rejected))
        except ObookError:
            pass
        if feed == "full":
            try:
                for message in venue.read(frame, request):
                    assert isinstance(message, (Seed, Change, Control, Rejected))
            except ObookError:
                pass
            if not venue.seeds_in_band:  # the same text as a REST seed body
                try:
                    assert isinstance(venue.read_seed(frame.encode() if isinstance(frame, str) else frame, request), Seed)
                except ObookError:
                    pass


def _encode(value) -> str:
    return json.dumps(value, default=str)


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("venue_id", sorted(WS_VENUES))
@FUZZ
@given(data=st.data())
def test_ws_parsers_on_arbitrary_json(venue_id, data):
    venue = WS_VENUES[venue_id]
    value = data.draw(st.one_of(json_values, shaped(venue)))
    check_ws(venue, _encode(value))


@pytest.mark.parametrize("venue_id", sorted(WS_VENUES))
@FUZZ
@given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_ws_parsers_on_arbitrary_bytes_and_text(venue_id, raw):
    check_ws(WS_VENUES[venue_id], raw)


@FUZZ
@given(data=st.data())
def test_revx_parser_on_arbitrary_json(data):
    from orderbook_cli.timefmt import parse_venue_time
    from orderbook_cli.transport.wire import json_loads
    from orderbook_cli.venues import get_venue
    from orderbook_cli.venues.revx import parse_book

    venue = get_venue("revx")
    value = data.draw(st.one_of(json_values, shaped(venue)))
    try:
        bids, asks, stamp = parse_book(json_loads(_encode(value)))
        check_book(request_for(venue), bids, asks, parse_venue_time(stamp))
    except ObookError:
        pass
