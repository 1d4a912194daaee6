"""Fills versus cancels on a scripted Bitso sequence: real diff-orders and trades
frames, the order map kept as the full feed keeps it, attribution exact."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from orderbook_cli.orderflow import OrderFlow, Resting
from orderbook_cli.trades import bitso_trades
from orderbook_cli.venues.bitso import read_diff

NOW = datetime(2026, 12, 5, tzinfo=UTC)
D = Decimal


def diff(sequence: int, *orders: dict) -> dict:
    return {"type": "diff-orders", "book": "btc_mxn", "sequence": sequence, "payload": list(orders), "sent": 1}


def trade(i: int, maker: str, rate: str, amount: str, taker_side: int) -> dict:
    return {"type": "trades", "book": "btc_mxn",
            "payload": [{"i": i, "a": amount, "r": rate, "v": "0", "mo": maker, "to": f"taker{i}", "t": taker_side, "x": 1}]}


class Replay:
    """The order map (as the sync engine keeps it) feeding OrderFlow with before/after states."""

    def __init__(self, flow: OrderFlow):
        self.flow = flow
        self.orders: dict[str, Resting] = {}

    def diff(self, frame: dict, at: float) -> None:
        [change] = read_diff(frame, "btc_mxn")
        raw = {entry["o"]: entry for entry in frame["payload"]}
        for op in change.ops:
            before = self.orders.get(op.order_id)
            after = Resting(op.is_bid if op.is_bid is not None else before.is_bid, op.price, op.amount) if op.is_open else None
            self.flow.order_changed(op.order_id, before, after, completed=raw[op.order_id]["s"] == "completed", at=at)
            if after is None:
                self.orders.pop(op.order_id, None)
            else:
                self.orders[op.order_id] = after

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
