"""The normalized trade: real venue trade messages in, exact trades and NDJSON out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from orderbook_cli.errors import MalformedData, VenueRejected
from orderbook_cli.trades import SeenIds, Tape, Trade, trade_line
from orderbook_cli.transport.wire import json_loads
from orderbook_cli.venues.bitmart_v3 import read_trades as bitmart_trades
from orderbook_cli.venues.bitso import read_trades as bitso_trades
from orderbook_cli.venues.kraken import read_trades as kraken_trades
from orderbook_cli.venues.revx import next_cursor
from orderbook_cli.venues.revx import read_trades as revx_trades

TRADES = Path(__file__).resolve().parent / "payloads" / "trades"
NOW = datetime(2026, 12, 5, 10, 0, 0, 123000, tzinfo=UTC)


def payload(name: str):
    return json_loads((TRADES / name).read_bytes())


def test_bitso_doc_trade_has_the_documented_taker_side_and_order_ids():
    [trade] = bitso_trades(payload("bitso_trades_doc.json"), "btc_mxn", NOW)
    assert json.loads(trade_line(trade)) == {
        "venue": "bitso", "symbol": "btc_mxn", "id": "77777", "price": "7190", "amount": "0.0035",
        "side": "buy",  # t = 0: "Taker side ... 0 indicates buy"
        "timestamp": "2023-02-05T00:05:46.102Z", "received_at": "2026-12-05T10:00:00.123Z",
        "maker_order": "laasdqw1ywYgfYI2", "taker_order": "asADW123wedwqeYk",
    }


@pytest.mark.parametrize("name,book,price", [
    ("bitso_trades_recorded_btc_mxn.json", "btc_mxn", "207300"),
    ("bitso_trades_recorded_btc_usd.json", "btc_usd", "40928.89"),
])
def test_bitso_recorded_trades_without_a_time_have_none(name, book, price):
    [trade] = bitso_trades(payload(name), book, NOW)
    assert (trade.price, trade.side, trade.timestamp) == (Decimal(price), "buy", None)
    assert trade_line(trade).count('"timestamp":null') == 1


def test_bitso_sell_side_and_other_books_and_acks():
    frame = payload("bitso_trades_doc.json")
    frame["payload"][0]["t"] = 1
    assert bitso_trades(frame, "btc_mxn", NOW)[0].side == "sell"
    assert bitso_trades(frame, "eth_mxn", NOW) == []  # another book's trades are not ours
    assert bitso_trades(payload("bitso_trades_ack_recorded.json"), "btc_mxn", NOW) == []
    assert bitso_trades({"type": "ka"}, "btc_mxn", NOW) == []
    with pytest.raises(VenueRejected, match="xyz_abc"):
        bitso_trades({"action": "subscribe", "type": "trades", "error": "This book is not supported"}, "xyz_abc", NOW)


def test_bitmart_side_is_not_the_takers_so_it_is_kept_as_the_venues_label():
    [trade] = bitmart_trades(payload("bitmart_trade_recorded_1.json"), "BTC_USDT", NOW)
    line = json.loads(trade_line(trade))
    assert line == {
        "venue": "bitmart-v3", "symbol": "BTC_USDT", "id": None, "price": "77604.55", "amount": "0.01307",
        "side": None, "timestamp": "2026-09-02T07:44:36.327Z", "received_at": "2026-12-05T10:00:00.123Z",
        "venue_side": "sell",
    }
    [padded] = bitmart_trades(payload("bitmart_trade_recorded_2.json"), "BTC_USDT", NOW)
    assert json.loads(trade_line(padded))["price"] == "77576.00"  # the venue's own digits, exact
    assert bitmart_trades(payload("bitmart_trade_ack_recorded.json"), "BTC_USDT", NOW) == []
    assert bitmart_trades(payload("bitmart_trade_doc.json"), "BTC_USDT", NOW) == []  # ETH_USDT's
    [doc] = bitmart_trades(payload("bitmart_trade_doc.json"), "ETH_USDT", NOW)
    assert (doc.amount, doc.timestamp) == (Decimal("11.085"), datetime(2018, 11, 16, 3, 0, 19, 120000, tzinfo=UTC))
    with pytest.raises(VenueRejected):
        bitmart_trades({"event": "subscribe", "errorCode": "30000", "errorMessage": "Invalid symbol"}, "NOPE_USDT", NOW)


def test_revx_page_is_oldest_first_with_the_venues_label():
    data = payload("revx_trades_doc.json")
    trades = revx_trades(data, "BTC-USD", NOW)
    assert [t.id for t in trades] == ["3b2b202b-7668-43cf-a6c8-b3354e7f4c52", "1e09b1f7-e2da-4b1e-92a0-4c2d4f3b0e1d"]
    assert [(t.side, dict(t.extras)["venue_side"]) for t in trades] == [(None, "sell"), (None, "buy")]
    assert trades[0].price == Decimal("119980.00") and trades[1].amount == Decimal("0.00500000")
    assert next_cursor(data).startswith("ZGF0ZT0x")
    assert next_cursor({"metadata": {"next_cursor": "x" * 600}}) == ""


@pytest.mark.parametrize("entry,match", [
    ({"i": 1, "a": "1e999999", "r": "1", "mo": "m", "to": "t", "t": 0}, "amount"),
    ({"i": 1, "a": "1", "r": "-5", "mo": "m", "to": "t", "t": 0}, "rate"),
    ({"i": 1, "a": "1", "r": "5", "mo": "m", "to": "t", "t": 2}, "neither 0 nor 1"),
    ({"i": 1, "a": "1", "r": "5", "mo": "m", "to": "t", "t": True}, "neither 0 nor 1"),
    ({"i": "x" * 65, "a": "1", "r": "5", "mo": "m", "to": "t", "t": 0}, "trade id"),
    ({"i": 1, "a": "1", "r": "5", "mo": "\x1b[2J", "to": "t", "t": 0}, "maker order id"),
    ({"i": 1, "a": "1", "r": "5", "mo": "m", "to": "t", "t": 0, "x": -1}, "timestamp"),
    ({"i": 10**30, "a": "1", "r": "5", "mo": "m", "to": "t", "t": 0}, "trade id"),
])
def test_hostile_bitso_trades_are_malformed_never_a_crash(entry, match):
    with pytest.raises(MalformedData, match=match):
        bitso_trades({"type": "trades", "book": "btc_mxn", "payload": [entry]}, "btc_mxn", NOW)


def test_hostile_frames_are_bounded():
    with pytest.raises(MalformedData, match="believable"):
        bitmart_trades({"table": "spot/trade", "data": [{}] * 10_001}, "BTC_USDT", NOW)
    with pytest.raises(MalformedData, match="neither buy nor sell"):
        revx_trades({"data": [{"id": "a", "price": "1", "quantity": "1", "side": "\x1b]0;pwn\x07", "timestamp": 1}]}, "BTC-USD", NOW)
    with pytest.raises(MalformedData):
        revx_trades({"data": "nope"}, "BTC-USD", NOW)
    with pytest.raises(MalformedData):
        bitso_trades([1, 2], "btc_mxn", NOW)


def _trade(trade_id: str | None, price: str = "10", amount: str = "1", side: str | None = "buy") -> Trade:
    return Trade("revx", "BTC-USD", trade_id, Decimal(price), Decimal(amount), side, None, NOW)


def test_overlapping_windows_print_each_trade_once_with_bounded_memory():
    seen = SeenIds(capacity=3)
    assert [t.id for t in seen.fresh([_trade("a"), _trade("b")])] == ["a", "b"]
    assert [t.id for t in seen.fresh([_trade("b"), _trade("c"), _trade("a")])] == ["c"]
    assert [t.id for t in seen.fresh([_trade("d"), _trade(None), _trade(None)])] == ["d", None, None]  # no id: nothing to compare
    assert len(seen._ids) == 3  # "a" forgotten to make room
    assert [t.id for t in seen.fresh([_trade("a")])] == ["a"]


def test_tape_keeps_a_ring_volume_by_side_and_the_last_minute_per_price():
    tape = Tape(capacity=2, window=60.0)
    tape.add(_trade("1", "10", "0.5", "buy"), now=0.0)
    tape.add(_trade("2", "10", "0.25", "sell"), now=10.0)
    tape.add(_trade("3", "11", "2", None), now=30.0)
    assert [t.id for t in tape.newest_first()] == ["3", "2"]  # the ring holds two
    assert (tape.bought, tape.sold, tape.unsided, tape.delta) == (Decimal("0.5"), Decimal("0.25"), Decimal(2), Decimal("0.25"))
    assert tape.volume_at(now=30.0) == {Decimal(10): Decimal("0.75"), Decimal(11): Decimal(2)}
    assert tape.volume_at(now=65.0) == {Decimal(10): Decimal("0.25"), Decimal(11): Decimal(2)}  # trade 1 left the minute
    assert tape.volume_at(now=200.0) == {}
    assert _trade("x", side="sell").signed_amount == Decimal(-1)


def test_tape_window_ring_is_bounded_and_stays_consistent():
    tape = Tape(capacity=10, window=60.0, max_recent=3)
    for n in range(5):
        tape.add(_trade(str(n), "10", "1"), now=float(n))
    assert tape.volume_at(now=5.0) == {Decimal(10): Decimal(3)}  # only the last three are remembered


def test_kraken_doc_snapshot_has_the_takers_side_and_exact_numbers():
    first, second = kraken_trades(payload("kraken_trade_snapshot_doc.json"), "MATIC/USD", NOW)
    assert json.loads(trade_line(first)) == {
        "venue": "kraken", "symbol": "MATIC/USD", "id": "4665846", "price": "0.5147", "amount": "6423.46326",
        "side": "buy",  # "The side of the taker order"
        "timestamp": "2023-09-25T07:48:36.925Z", "received_at": "2026-12-05T10:00:00.123Z",
    }
    assert second.amount == Decimal("1136.19677815")  # a JSON number, never through a float
    [sold] = kraken_trades(payload("kraken_trade_update_btcusd.json"), "BTC/USD", NOW)
    assert (sold.id, sold.price, sold.amount, sold.side) == ("105994519", Decimal("78568.6"), Decimal("0.04244195"), "sell")


def test_kraken_other_symbols_channels_and_refusals():
    assert kraken_trades(payload("kraken_trade_update_btcusd.json"), "ETH/USD", NOW) == []
    assert kraken_trades(json_loads('{"channel":"heartbeat"}'), "BTC/USD", NOW) == []
    ack = '{"method":"subscribe","result":{"channel":"trade","snapshot":false,"symbol":"BTC/USD"},"success":true}'
    assert kraken_trades(json_loads(ack), "BTC/USD", NOW) == []
    refused = json_loads((TRADES.parent.parent / "kraken" / "payloads" / "kraken_subscribe_refused_xbtusd.json").read_bytes())
    with pytest.raises(VenueRejected, match="Currency pair not supported XBT/USD"):
        kraken_trades(refused, "XBT/USD", NOW)
    bad = payload("kraken_trade_update_btcusd.json")
    bad["data"][0]["side"] = "taker"
    with pytest.raises(MalformedData, match="neither buy nor sell"):
        kraken_trades(bad, "BTC/USD", NOW)
    bad["data"][0].update(side="buy", price="1e999999")  # checked by size before conversion
    with pytest.raises(MalformedData):
        kraken_trades(bad, "BTC/USD", NOW)


def test_the_tapes_memory_is_bounded_whatever_the_rate():
    """Prints at distinct prices, all inside the minute, through the pane `watch` uses (the
    trade ring, the per-price minute, heatmap marks): every ring stops at its bound, the
    minute's sums stay exact, and memory stops growing once the rings are full. The
    minute's ring is made 10,000 long here (100,000 in use) so the test is quick: from
    20,000 to 40,000 prints memory moves by no more than the per-price table's own
    resizing, where keeping every print would add some 8 MB."""
    import threading
    import tracemalloc

    from orderbook_cli.tape import ReplayedTrades, TapePane
    from orderbook_cli.views.heatmap import MAX_MARKS, History

    assert Tape()._recent.maxlen == 100_000 and Tape().trades.maxlen == 500  # what `watch` uses
    clock = [0.0]
    feed = ReplayedTrades()
    pane = TapePane.replaying(feed, "bench", History(), None, lambda: clock[0])
    pane.tape = Tape(max_recent=10_000)
    stopped = threading.Event()
    base = NOW.timestamp()

    def batch(start: int, n: int = 1000) -> list[Trade]:
        out = []
        for i in range(start, start + n):
            at = datetime.fromtimestamp(base + i / 1000, UTC)  # 1,000 a second: 40,000 in 40 s, inside the minute
            out.append(Trade("bench", "X", str(i), Decimal(100_000 + i), Decimal("0.001"), "buy" if i % 2 else "sell", at, at))
        return out

    sizes: list[int] = []
    tracemalloc.start()
    try:
        for start in range(0, 40_000, 1000):
            feed.put(batch(start), stopped)
            pane.drain()
            if start >= 20_000 and start % 4000 == 0:
                sizes.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    tape = pane.tape
    assert len(tape.trades) == 500 and tape.newest_first()[0].id == "39999"
    assert len(tape._recent) == 10_000  # the minute's ring: the newest prints only
    minute = tape.volume_at(clock[0] + 40)
    assert len(minute) == 10_000 and sum(minute.values()) == Decimal(10)  # exactly what the ring holds, 0.001 each
    assert len(pane.history.marks) == MAX_MARKS
    assert (tape.bought, tape.sold) == (Decimal(20), Decimal(20))  # the totals since start are sums, not lists
    assert max(sizes) - sizes[0] < 2 * 1024 * 1024, sizes
