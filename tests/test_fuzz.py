"""Fuzzing every venue parser: arbitrary JSON and bytes may only produce a
valid book or obook's own error types, never anything else."""

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderbook_cli.book import Book
from orderbook_cli.errors import ObookError
from orderbook_cli.feed import FeedRequest
from orderbook_cli.venues.websocket import BookUpdate, Control, Rejected
from orderbook_cli.venues import get_venue
from orderbook_cli.venues.revx import parse_book as revx_parse

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
SYMBOLS = {"bitso": "btc_mxn", "bitmart": "BMX_ETH", "bitmart-v3": "BTC_USDT"}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.decimals(allow_nan=False, allow_infinity=False, places=8),
    st.text(max_size=12), st.sampled_from(["1", "0.5", "1e-7", "-1", "NaN", "Infinity", "1e999", "0027", ""]),
)
keys = st.sampled_from(["type", "book", "payload", "bids", "asks", "buys", "sells", "data", "table", "symbol", "r", "a", "o",
                        "price", "amount", "count", "total", "p", "q", "no", "quantity", "sent", "ms_t", "event", "errorCode",
                        "action", "response", "error", "message", "subscribe", "metadata", "timestamp", "last_price", "pdt"])
json_values = st.recursive(scalars, lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(keys, children, max_size=6)), max_leaves=40)


def shaped(venue: str):
    """JSON that looks like the venue's book, with fuzzed values: reaches deep into the parsers."""
    level = st.dictionaries(keys, scalars, max_size=5)
    pair = st.lists(scalars, max_size=3)
    if venue == "bitso":
        return st.fixed_dictionaries({"type": st.just("orders"), "book": st.just("btc_mxn"), "sent": scalars,
                                      "payload": st.fixed_dictionaries({"bids": st.lists(level, max_size=4), "asks": st.lists(level, max_size=4)})})
    if venue == "bitmart":
        return st.fixed_dictionaries({"subscribe": st.just("depth"), "data": st.fixed_dictionaries({"buys": st.lists(level, max_size=4), "sells": st.lists(level, max_size=4)})})
    return st.fixed_dictionaries({"table": st.just("spot/depth20"), "data": st.lists(st.fixed_dictionaries(
        {"bids": st.lists(pair, max_size=4), "asks": st.lists(pair, max_size=4), "symbol": st.just("BTC_USDT"), "ms_t": scalars}), min_size=1, max_size=2)})


def check_ws(venue_id: str, frame) -> None:
    venue = get_venue(venue_id)
    request = FeedRequest(venue=venue_id, symbol=SYMBOLS[venue_id], depth=20, timeout=1)
    try:
        message = venue.parse(frame, request)
        if isinstance(message, BookUpdate):
            book = request.book(message.bids, message.asks, message.timestamp, NOW)
            assert isinstance(book, Book)
            for level in book.bids + book.asks:
                assert isinstance(level.price, Decimal) and level.amount > 0
            assert list(book.bids) == sorted(book.bids, key=lambda lv: lv.price, reverse=True)
        else:
            assert isinstance(message, (Control, Rejected))
    except ObookError:
        pass


def _encode(value) -> str:
    return json.dumps(value, default=str)


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("venue_id", sorted(SYMBOLS))
@FUZZ
@given(data=st.data())
def test_ws_parsers_on_arbitrary_json(venue_id, data):
    value = data.draw(st.one_of(json_values, shaped(venue_id)))
    check_ws(venue_id, _encode(value))


@pytest.mark.parametrize("venue_id", sorted(SYMBOLS))
@FUZZ
@given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_ws_parsers_on_arbitrary_bytes_and_text(venue_id, raw):
    check_ws(venue_id, raw)


@FUZZ
@given(value=st.one_of(json_values, st.fixed_dictionaries({"data": st.fixed_dictionaries({
    "bids": st.lists(st.dictionaries(keys, scalars, max_size=5), max_size=4),
    "asks": st.lists(st.dictionaries(keys, scalars, max_size=5), max_size=4)}), "metadata": st.dictionaries(keys, scalars, max_size=3)})))
def test_revx_parser_on_arbitrary_json(value):
    request = FeedRequest(venue="revx", symbol="BTC-USD", depth=5, timeout=1)
    try:
        from orderbook_cli.transport.wire import json_loads
        from orderbook_cli.timefmt import parse_venue_time

        bids, asks, stamp = revx_parse(json_loads(_encode(value)))
        book = request.book(bids, asks, parse_venue_time(stamp), NOW)
        assert isinstance(book, Book)
    except ObookError:
        pass
