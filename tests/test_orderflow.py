"""Fills versus cancels on a scripted Bitso sequence: real diff-orders and trades
frames, the order map kept as the full feed keeps it, attribution exact."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

from orderbook_cli.orderflow import ObservedOrderBook, OrderFlow
from orderbook_cli.venues.bitso import read_diff
from orderbook_cli.venues.bitso import read_trades as bitso_trades

NOW = datetime(2026, 12, 5, tzinfo=UTC)
D = Decimal


def diff(sequence: int, *orders: dict) -> dict:
    return {"type": "diff-orders", "book": "btc_mxn", "sequence": sequence, "payload": list(orders), "sent": 1}


def trade(i: int, maker: str, rate: str, amount: str, taker_side: int) -> dict:
    return {"type": "trades", "book": "btc_mxn",
            "payload": [{"i": i, "a": amount, "r": rate, "v": "0", "mo": maker, "to": f"taker{i}", "t": taker_side, "x": 1}]}


class Replay:
    """The full feed's order book (an ObservedOrderBook, as `--order-flow` keeps it) and the
    trades channel feeding one OrderFlow, at scripted times."""

    def __init__(self, flow: OrderFlow):
        self.flow = flow
        self.now = 0.0
        self.book = ObservedOrderBook(flow, clock=lambda: self.now)

    def diff(self, frame: dict, at: float) -> None:
        self.now = at
        [change] = read_diff(frame, "btc_mxn")
        self.book.apply(change.ops)

    def trade(self, frame: dict, at: float) -> None:
        for t in bitso_trades(frame, "btc_mxn", NOW):
            self.flow.trade(dict(t.extras)["maker_order"], t.amount, at=at)


def seeded() -> Replay:
    replay = Replay(OrderFlow(window=60.0))
    replay.diff(diff(1,
        {"o": "A", "d": 1, "r": "100", "t": 0, "a": "1.00000000", "v": "100", "s": "open"},
        {"o": "B", "d": 1, "r": "100", "t": 0, "a": "0.50000000", "v": "50", "s": "open"},
        {"o": "C", "d": 1, "r": "105", "t": 1, "a": "2.00000000", "v": "210", "s": "open"},
        {"o": "E", "d": 1, "r": "106", "t": 1, "a": "0.30000000", "v": "31.8", "s": "open"},
    ), at=0.0)
    return replay


def test_partly_filled_cancelled_and_moved_orders_are_attributed_exactly():
    replay = seeded()
    # A partly filled: the trade (maker A) arrives first, then A's smaller amount.
    replay.trade(trade(1, "A", "100", "0.4", 1), at=1.0)
    replay.diff(diff(2, {"o": "A", "d": 2, "r": "100", "t": 0, "a": "0.60000000", "v": "60", "s": "open"}), at=1.1)
    # B cancelled (recorded traffic: a/v present on cancelled orders).
    replay.diff(diff(3, {"o": "B", "d": 3, "r": "100", "t": 0, "a": "0.50000000", "v": "50", "s": "cancelled"}), at=2.0)
    # C moved from 105 to 107: cancelled at the old price, open at the new one.
    replay.diff(diff(4, {"o": "C", "d": 4, "r": "105", "t": 1, "a": "2.00000000", "v": "210", "s": "cancelled"}), at=3.0)
    replay.diff(diff(5, {"o": "C", "d": 5, "r": "107", "t": 1, "a": "2.00000000", "v": "214", "s": "open"}), at=3.1)
    flow = replay.flow.to_dict(now=5.0)
    assert flow == {
        "window_seconds": 60.0, "filled": "0.40000000", "pulled": "2.50000000",
        "bids": [{"price": "100", "filled": "0.40000000", "pulled": "0.50000000"}],
        "asks": [{"price": "105", "filled": "0", "pulled": "2.00000000"}],
    }


def test_a_trade_after_its_diff_turns_pulled_into_filled_and_completed_is_filled():
    replay = seeded()
    replay.diff(diff(2, {"o": "E", "d": 2, "r": "106", "t": 1, "s": "completed"}), at=1.0)  # no a/v on completed
    replay.diff(diff(3, {"o": "A", "d": 3, "r": "100", "t": 0, "a": "0.75000000", "v": "75", "s": "open"}), at=2.0)
    bids, asks = replay.flow.levels(now=2.5)
    assert (bids[0].filled, bids[0].pulled) == (D(0), D("0.25"))  # no trade seen yet: pulled
    assert (asks[0].price, asks[0].filled, asks[0].pulled) == (D("106"), D("0.3"), D(0))
    replay.trade(trade(7, "A", "100", "0.25", 1), at=2.6)  # the print arrives late
    bids, _ = replay.flow.levels(now=3.0)
    assert (bids[0].filled, bids[0].pulled) == (D("0.25"), D(0))


def test_the_minute_passes_and_memory_is_bounded():
    replay = seeded()
    replay.diff(diff(2, {"o": "B", "d": 2, "r": "100", "t": 0, "a": "0.5", "v": "50", "s": "cancelled"}), at=1.0)
    assert replay.flow.to_dict(now=60.5)["pulled"] == "0.50000000"
    assert replay.flow.to_dict(now=61.5) == {"window_seconds": 60.0, "filled": "0", "pulled": "0", "bids": [], "asks": []}
    assert not replay.flow._debt
    for n in range(1000):  # prints for orders never seen leaving stay bounded by MAX_ORDERS
        replay.flow.trade(f"ghost{n}", D("0.1"), at=70.0)
    assert len(replay.flow._credit) == 1000


def test_a_move_is_pulled_even_after_a_fill_credit():
    replay = seeded()
    replay.trade(trade(3, "C", "105", "0.5", 0), at=1.0)  # 0.5 of C traded...
    replay.diff(diff(2, {"o": "C", "d": 2, "r": "105", "t": 1, "a": "1.50000000", "v": "157.5", "s": "open"}), at=1.1)
    replay.diff(diff(3, {"o": "C", "d": 3, "r": "104", "t": 1, "a": "1.50000000", "v": "156", "s": "open"}), at=1.2)  # ...then moved
    _, asks = replay.flow.levels(now=2.0)
    assert [(lv.price, lv.filled, lv.pulled) for lv in asks] == [(D("105"), D("0.5"), D("1.50000000"))]


def exact(value):
    """JSON decimal strings as Decimals (the venue's digits vary: 0.4 and 0.40000000 are one amount)."""
    if isinstance(value, dict):
        return {key: exact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [exact(item) for item in value]
    return D(value) if isinstance(value, str) else value


# --- `obook watch --json --order-flow` against a loopback Bitso (diff-orders + REST seed + trades) ---

def test_order_flow_json_attributes_filled_and_pulled_per_level_exactly(obook, ws_venue, http_venue):
    import threading

    from tests.test_full_depth import ACK, Seeds, bitso_env, gone, opened, seed
    from tests.test_full_depth import diff as numbered

    Seeds(http_venue, seed(100, bids=[("A", "100", "1.00000000"), ("B", "100", "0.50000000")],
                       asks=[("C", "105", "2.00000000"), ("E", "106", "0.30000000")]))
    traded = threading.Event()

    def script(peer):
        kind = peer.expect_json()["type"]
        peer.send({**ACK, "type": kind, "book": "btc_mxn"})
        if kind == "trades":
            peer.send(trade(1, "A", "100", "0.4", 1))  # A partly filled: a taker sold 0.4 into it
            peer.send(trade(2, "E", "106", "0.3", 0))  # E filled: a taker bought it all
            traded.set()
        else:
            traded.wait(10)
            time.sleep(0.3)  # the prints reach obook first (credits); either order attributes the same
            for frame in (numbered(101, opened("A", "bid", "100", "0.60000000")),
                          numbered(102, gone("B", "cancelled", a="0.50000000", v="50", t=0, r="100")),
                          numbered(103, gone("C", "cancelled", a="2.00000000", v="210", t=1, r="105")),
                          numbered(104, opened("C", "ask", "107", "2.00000000")),  # C moved: pulled from 105
                          numbered(105, gone("E", "completed"))):
                peer.send(frame)
            for n in range(20):  # new orders far away (nothing leaves a level): books while any late print arrives
                time.sleep(0.1)
                peer.send(numbered(106 + n, opened(f"Z{n}", "bid", "50", "1")))
        peer.hold()

    ws = ws_venue(script)
    run = obook("watch", "bitso", "btc_mxn", "--json", "--order-flow", "--count", "26", env=bitso_env(ws, http_venue))
    assert run.code == 0, run
    books = run.lines()
    assert [b["sequence"] for b in books] == list(range(100, 126))
    assert books[0]["order_flow"] == {"window_seconds": 60.0, "filled": "0", "pulled": "0", "bids": [], "asks": []}
    assert exact(books[-1]["order_flow"]) == exact({
        "window_seconds": 60.0, "filled": "0.7", "pulled": "2.5",
        "bids": [{"price": "100", "filled": "0.4", "pulled": "0.5"}],
        "asks": [{"price": "105", "filled": "0", "pulled": "2"}, {"price": "106", "filled": "0.3", "pulled": "0"}],
    })
    [level] = exact(books[2]["order_flow"])["bids"]  # A's 0.4 and B's cancelled 0.5 left 100 by then (how, once the print is in)
    assert (level["price"], level["filled"] + level["pulled"]) == (D(100), D("0.9"))
    assert [lv["price"] for lv in books[-1]["asks"]] == ["107"]  # the book itself: C now rests at 107


def test_order_flow_elsewhere_is_filled_volume_only_and_refused_where_it_cannot_be(obook, ws_venue):
    from tests.conftest import assert_clean_failure
    from tests.test_tape import raw

    def script(peer):
        sub = peer.expect_json()
        if sub["args"] == ["spot/trade:BTC_USDT"]:
            peer.send(raw("bitmart_trade_ack_recorded.json"))
            time.sleep(0.3)
            peer.send(raw("bitmart_trade_recorded_1.json"))  # 0.01307 at 77604.55, side unknown
        else:
            for n in range(40):
                peer.send({"table": "spot/depth20", "data": [{"asks": [["77604.55", "1"], ["77610", "2"]], "bids": [["77600", "3"]],
                                                              "symbol": "BTC_USDT", "ms_t": 1756799076000 + n}]})
                time.sleep(0.05)
        peer.hold()

    ws = ws_venue(script)
    run = obook("watch", "bitmart-v3", "BTC_USDT", "--feed", "top", "--json", "--order-flow", "--count", "40",
                env={"OBOOK_BITMART_V3_URL": ws.url})
    assert run.code == 0, run
    flows = [b["order_flow"] for b in run.lines()]
    assert flows[0]["filled"] == "0" and flows[0]["pulled"] is None
    assert flows[-1] == {"window_seconds": 60.0, "filled": "0.01307", "pulled": None, "bids": [],
                         "asks": [{"price": "77604.55", "filled": "0.01307", "pulled": None}]}
    assert_clean_failure(obook("watch", "revx", "BTC-USD", "--json", "--order-flow"), 2, "streams none")
    assert_clean_failure(obook("watch", "bitso:btc_mxn", "bitso:btc_usd", "--json", "--order-flow"), 2, "one source")
