"""Several sources at once against loopback venues: Revolut X over HTTP, Bitso and
BitMart over WebSocket; side by side and consolidated (`--merge`)."""

import json
import time
import zlib

import pytest

from tests.conftest import assert_clean_failure
from tests.servers.http_venue import Reply

ACK = {"action": "subscribe", "response": "ok", "time": 1, "type": "orders"}
REVX_BTC = "/api/1.0/public/order-book/BTC-USD"


def bitso_orders(book, bids, asks):
    """An orders message: one entry per individual order, (price, amount)."""
    def side(orders, t):
        return [{"o": f"{t}{i}", "r": p, "a": a, "v": "1", "t": t, "d": 1} for i, (p, a) in enumerate(orders)]

    return {"type": "orders", "book": book, "sent": 1763700000000, "payload": {"bids": side(bids, 0), "asks": side(asks, 1)}}


BITSO_BIDS = [("86612", "0.1"), ("86612", "0.07311818"), ("86600", "1")]
BITSO_ASKS = [("86620", "0.5")]
REVX_BODY = {"data": {"bids": [{"p": "86612", "q": "0.25", "no": "1"}, {"p": "86610", "q": "0.3", "no": "2"}],
                      "asks": [{"p": "86615", "q": "0.2", "no": "1"}, {"p": "86620", "q": "1", "no": "4"}]},
             "metadata": {"timestamp": 1763700000500}}


def bitso_script(frames, then="hold"):
    def script(peer):
        sub = peer.expect_json()
        peer.send({**ACK, "book": sub["book"]})
        for frame in frames:
            peer.send(frame(sub["book"]) if callable(frame) else frame)
            peer.pause(0.05)
        if then == "drop":
            peer.drop()
        else:
            peer.hold()

    return script


def bitmart_v3_push(bids, asks, symbol="BTC_USDT"):
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    text = json.dumps({"table": "spot/depth20", "data": [{"bids": bids, "asks": asks, "symbol": symbol, "ms_t": 1763700000900}]})
    return packer.compress(text.encode()) + packer.flush()


def bitmart_v3_script(pushes):
    def script(peer):
        sub = peer.expect_json()
        peer.send({"event": "subscribe", "topic": sub["args"][0]})
        for push in pushes:
            peer.send(push)
            peer.pause(0.05)
        peer.hold()

    return script


@pytest.fixture
def two_venues(http_venue, ws_venue):
    http_venue.route(REVX_BTC, Reply(body=REVX_BODY))
    bitso = ws_venue(bitso_script([lambda book: bitso_orders(book, BITSO_BIDS, BITSO_ASKS)]))
    return {"OBOOK_REVX_URL": http_venue.url, "OBOOK_BITSO_URL": bitso.url}


def test_merged_snapshot_sums_levels_with_venue_breakdown(obook, two_venues):
    run = obook("snapshot", "--feed", "top", "bitso:btc_usd", "revx:BTC-USD", "--merge", "--json", env=two_venues)
    assert run.code == 0, run
    book = run.json()
    assert book["venue"] == "consolidated" and book["symbol"] == "BTC-USD"
    assert [(s["venue"], s["symbol"], s["sequence"]) for s in book["sources"]] == [("bitso", "btc_usd", None), ("revx", "BTC-USD", None)]
    assert book["sources"][0]["timestamp"] == "2025-11-21T04:40:00.000Z"
    assert book["sources"][1]["timestamp"] == "2025-11-21T04:40:00.500Z"
    assert book["bids"] == [
        {"price": "86612", "amount": "0.42311818", "total": "0.42311818", "count": 3,
         "venues": {"bitso": "0.17311818", "revx": "0.25"}},
        {"price": "86610", "amount": "0.3", "total": "0.72311818", "count": 2, "venues": {"revx": "0.3"}},
        {"price": "86600", "amount": "1", "total": "1.72311818", "count": 1, "venues": {"bitso": "1"}},
    ]
    assert book["asks"] == [
        {"price": "86615", "amount": "0.2", "total": "0.2", "count": 1, "venues": {"revx": "0.2"}},
        {"price": "86620", "amount": "1.5", "total": "1.7", "count": 5, "venues": {"bitso": "0.5", "revx": "1"}},
    ]
    assert (book["best_bid"], book["best_ask"], book["spread"], book["mid"]) == ("86612", "86615", "3", "86613.5")
    assert book["crossed"] is None and book["excluded"] == []


def test_without_merge_two_books_in_the_order_given(obook, two_venues):
    run = obook("snapshot", "--feed", "top", "revx:btc/usd", "bitso:BTC-USD", "--json", env=two_venues)
    assert run.code == 0, run
    books = run.lines()
    assert [(b["venue"], b["symbol"]) for b in books] == [("revx", "BTC-USD"), ("bitso", "btc_usd")]
    assert "venues" not in books[0]["bids"][0]  # plain contract books
    assert books[1]["bids"][0] == {"price": "86612", "amount": "0.17311818", "total": "0.17311818", "count": 2}


@pytest.mark.parametrize("command", ["snapshot", "watch"])
def test_quote_mismatch_exits_2_naming_both_before_any_network(obook, command, unused_port):
    nowhere = {"OBOOK_REVX_URL": f"http://127.0.0.1:{unused_port}", "OBOOK_BITSO_URL": f"ws://127.0.0.1:{unused_port}"}
    run = obook(command, "bitso:btc_mxn", "revx:BTC-USD", "--merge", env=nowhere)
    assert_clean_failure(run, 2, "MXN", "USD")
    assert "--quote-alias" not in run.stderr  # MXN is not USD: no alias is suggested
    same_money = obook(command, "bitso:btc_usd", "revx:BTC-USDC", "--merge", env=nowhere)
    assert_clean_failure(same_money, 2, "USD", "USDC", "--quote-alias USDC=USD")


@pytest.mark.parametrize("args, needles", [
    (["bitso", "btc_mxn", "revx:BTC-USD"], ["'bitso' is not VENUE:SYMBOL"]),
    (["bitso"], ["symbol is missing"]),
    (["bitso", "btc_mxn", "revx"], ["3 arguments", "VENUE:SYMBOL"]),
    ([f"revx:BTC-{q}" for q in ("USD", "EUR", "GBP", "USDC", "USDT", "CHF", "PLN")], ["7 sources", "at most 6"]),
    (["revx:BTC-USD", "revx:btc/usd"], ["given twice"]),
    (["revx:", "bitso:btc_usd"], ["needs both a venue and a symbol"]),
    (["nasdaq:BTC-USD", "revx:BTC-USD"], ["unknown venue"]),
    (["bitso:btc_usd", "revx:ETH-USD", "--merge"], ["BTC", "ETH", "base"]),
    (["bitso:btc_usd", "revx:BTC-USD", "--quote-alias", "USDT=USD"], ["--merge only"]),
    (["bitso:btc_usd", "revx:BTC-USD", "--merge", "--quote-alias", "US DT"], ["CURRENCY=CURRENCY"]),
    (["bitso:btc_usd", "revx:BTC-USD", "--merge", "--quote-alias", "USDT"], ["CURRENCY=CURRENCY"]),
    (["bitso", "btc_mxn", "--merge"], ["--merge consolidates two or more sources"]),
    (["bitso", "btc_mxn", "--quote-alias", "USDT"], ["--merge only"]),
])
def test_source_usage_errors_exit_2(obook, args, needles):
    assert_clean_failure(obook("snapshot", *args), 2, *needles)


def test_a_quote_sized_impact_on_a_merged_book_is_in_its_quote_aliases_included(obook, http_venue, ws_venue):
    """bitso:btc_usd + bitmart-v3:btc_usdt merged under USDT=USD is a BTC-USD book: --impact 1000USD
    (or 1000USDT, the same money here) is dollars; EUR is not its quote."""
    bitso = ws_venue(bitso_script([lambda book: bitso_orders(book, BITSO_BIDS, BITSO_ASKS)]))
    bitmart = ws_venue(bitmart_v3_script([bitmart_v3_push([["86612", "2"]], [["86630", "3"]])]))
    env = {"OBOOK_BITSO_URL": bitso.url, "OBOOK_BITMART_V3_URL": bitmart.url}
    args = ["snapshot", "--feed", "top", "bitso:btc_usd", "bitmart-v3:btc_usdt", "--merge", "--quote-alias", "USDT=USD", "--json"]
    for size in ("1000USD", "1000USDT"):
        run = obook(*args, "--impact", size, env=env)
        assert run.code == 0, run
        assert (run.json()["impact"]["size"], run.json()["impact"]["unit"]) == ("1000", "USD")
    assert_clean_failure(obook(*args, "--impact", "1000EUR", env=env), 2, "BTC-USD is quoted in USD")


def test_three_sources_mixed_transports_with_quote_alias_crossing_and_routed_impact(obook, http_venue, ws_venue):
    http_venue.route(REVX_BTC, Reply(body=REVX_BODY))
    bitso = ws_venue(bitso_script([lambda book: bitso_orders(book, BITSO_BIDS, BITSO_ASKS)]))
    # BitMart's bid 86618 is above Revolut X's ask 86615: a cross-venue opportunity
    bitmart = ws_venue(bitmart_v3_script([bitmart_v3_push([["86618", "0.05"], ["86612", "2"]], [["86630", "3"]])]))
    env = {"OBOOK_REVX_URL": http_venue.url, "OBOOK_BITSO_URL": bitso.url, "OBOOK_BITMART_V3_URL": bitmart.url}
    args = ["bitso:btc_usd", "revx:BTC-USD", "bitmart-v3:btc_usdt", "--merge", "--quote-alias", "USDT=USD", "--json"]
    run = obook("snapshot", "--feed", "top", *args, "--impact", "0.5", env=env)
    assert run.code == 0, run
    book = run.json()
    assert book["symbol"] == "BTC-USD"
    assert [s["venue"] for s in book["sources"]] == ["bitso", "revx", "bitmart-v3"]
    assert book["bids"][0] == {"price": "86618", "amount": "0.05", "total": "0.05", "count": None, "venues": {"bitmart-v3": "0.05"}}
    # BitMart sends no order counts: a level it contributes to has no count
    assert book["bids"][1] == {"price": "86612", "amount": "2.42311818", "total": "2.47311818", "count": None,
                               "venues": {"bitso": "0.17311818", "revx": "0.25", "bitmart-v3": "2"}}
    # 86618 - 86615 = 3, 3 / 86615 = 0.35 bps
    assert book["crossed"] == {"bid_venue": "bitmart-v3", "bid": "86618", "ask_venue": "revx", "ask": "86615", "gap": "3", "gap_bps": "0.35"}
    impact = book["impact"]
    # buy 0.5: 0.2 @ 86615 (revx), then at 86620 bitso 0.3 (sources fill in the order given)
    assert impact["buy"]["venues"] == {"revx": {"filled": "0.2", "notional": "17323.0", "average_price": "86615"},
                                       "bitso": {"filled": "0.3", "notional": "25986.0", "average_price": "86620"}}
    assert impact["buy"]["filled"] == "0.5" and impact["buy"]["average_price"] == "86618"
    # sell 0.5: 0.05 @ 86618 (bitmart), then 0.45 at 86612: bitso 0.17311818, revx 0.25, bitmart 0.02688182;
    # bitmart: 0.05 * 86618 + 0.02688182 * 86612 = 4330.9 + 2328.28819384 = 6659.18819384 for 0.07688182
    assert impact["sell"]["venues"] == {
        "bitmart-v3": {"filled": "0.07688182", "notional": "6659.18819384", "average_price": "86615.902092848478"},
        "bitso": {"filled": "0.17311818", "notional": "14994.11180616", "average_price": "86612"},
        "revx": {"filled": "0.25", "notional": "21653.00", "average_price": "86612"},
    }
    side_by_side = obook("snapshot", "--feed", "top", *[a for a in args if a not in ("--merge", "--quote-alias", "USDT=USD")], env=env)
    assert [b["venue"] for b in side_by_side.lines()] == ["bitso", "revx", "bitmart-v3"]


def test_same_venue_twice_is_keyed_by_venue_and_symbol(obook, ws_venue):
    def script(peer):
        sub = peer.expect_json()
        peer.send({**ACK, "book": sub["book"]})
        price = "86612" if sub["book"] == "btc_usd" else "86611"
        peer.send(bitso_orders(sub["book"], [(price, "1")], [("86700", "1")]))
        peer.hold()

    bitso = ws_venue(script)
    run = obook("snapshot", "--feed", "top", "bitso:btc_usd", "bitso:btc_usdt", "--merge", "--quote-alias", "USDT=USD", "--json",
                env={"OBOOK_BITSO_URL": bitso.url})
    assert run.code == 0, run
    book = run.json()
    assert book["asks"][0]["venues"] == {"bitso:btc_usd": "1", "bitso:btc_usdt": "1"}
    assert [lv["venues"] for lv in book["bids"]] == [{"bitso:btc_usd": "1"}, {"bitso:btc_usdt": "1"}]


def test_one_failing_source_is_left_out_and_the_other_printed(obook, http_venue, unused_port):
    http_venue.route(REVX_BTC, Reply(body=REVX_BODY))
    env = {"OBOOK_REVX_URL": http_venue.url, "OBOOK_BITSO_URL": f"ws://127.0.0.1:{unused_port}"}
    run = obook("snapshot", "--feed", "top", "bitso:btc_usd", "revx:BTC-USD", "--merge", "--json", "--timeout", "2", env=env)
    assert run.code == 0, run
    book = run.json()
    assert [s["venue"] for s in book["sources"]] == ["revx"]
    assert book["excluded"] == [{"venue": "bitso", "symbol": "btc_usd", "state": "failed"}]
    assert all(set(lv["venues"]) == {"revx"} for lv in book["bids"] + book["asks"])
    assert "bitso btc_usd" in run.stderr and "cannot connect" in run.stderr


def test_every_source_failing_exits_with_the_first_sources_code(obook, http_venue, unused_port):
    http_venue.route("/api/1.0/public/order-book/BTC-EUR", Reply(400, {"message": "No such pair: BTC-EUR"}))
    env = {"OBOOK_REVX_URL": http_venue.url, "OBOOK_BITSO_URL": f"ws://127.0.0.1:{unused_port}"}
    run = obook("snapshot", "--feed", "top", "bitso:btc_usd", "revx:BTC-EUR", "--timeout", "1", env=env)
    assert_clean_failure(run, 3, "every source failed", "bitso btc_usd", "revx BTC-EUR", "No such pair")
    swapped = obook("watch", "--feed", "top", "revx:BTC-EUR", "bitso:btc_usd", "--json", "--timeout", "1", env=env)
    assert swapped.code == 4, swapped
    assert "every source failed" in swapped.stderr.splitlines()[-1]


def test_watch_side_by_side_ndjson_a_line_per_update(obook, http_venue, ws_venue):
    http_venue.route(REVX_BTC, Reply(body=REVX_BODY))
    frames = [lambda book, i=i: bitso_orders(book, [(str(86600 + i), "1")], BITSO_ASKS) for i in range(3)]
    bitso = ws_venue(bitso_script(frames))
    env = {"OBOOK_REVX_URL": http_venue.url, "OBOOK_BITSO_URL": bitso.url}
    run = obook("watch", "--feed", "top", "bitso:btc_usd", "revx:BTC-USD", "--json", "--count", "4", env=env)
    assert run.code == 0, run
    books = run.lines()
    assert len(books) == 4
    assert [b["best_bid"] for b in books if b["venue"] == "bitso"] == ["86600", "86601", "86602"][: sum(b["venue"] == "bitso" for b in books)]
    assert {b["venue"] for b in books} == {"bitso", "revx"}


def test_watch_merged_source_that_drops_is_left_out_and_others_go_on(obook, http_venue, ws_venue):
    http_venue.route(REVX_BTC, Reply(body=REVX_BODY))
    connections = []

    def script(peer):
        connections.append(peer)
        sub = peer.expect_json()
        if peer.index > 0:
            peer.drop()  # after the drop the venue stays unreachable
            return
        peer.send({**ACK, "book": sub["book"]})
        peer.send(bitso_orders(sub["book"], BITSO_BIDS, BITSO_ASKS))
        peer.pause(0.3)
        peer.drop()

    bitso = ws_venue(script)
    env = {"OBOOK_REVX_URL": http_venue.url, "OBOOK_BITSO_URL": bitso.url}
    run = obook("watch", "--feed", "top", "bitso:btc_usd", "revx:BTC-USD", "--merge", "--json", "--count", "5", env=env, timeout=30)
    assert run.code == 0, run
    books = run.lines()
    assert len(books) == 5
    with_bitso = [b for b in books if any(s["venue"] == "bitso" for s in b["sources"])]
    assert with_bitso, books  # it was in the book while it was live
    last = books[-1]
    assert [s["venue"] for s in last["sources"]] == ["revx"]
    assert last["excluded"] == [{"venue": "bitso", "symbol": "btc_usd", "state": "reconnecting"}]
    assert all(set(lv["venues"]) == {"revx"} for lv in last["bids"] + last["asks"])
    assert "bitso btc_usd: reconnecting" in run.stderr


@pytest.mark.parametrize("keep_alives", [True, False], ids=["quiet-but-alive", "silent"])
def test_watch_three_sources_merged_keeps_a_quiet_live_source_and_drops_a_silent_one(obook, http_venue, ws_venue, keep_alives):
    http_venue.route(REVX_BTC, Reply(body=REVX_BODY))

    def quiet_bitso(peer):  # one book, then keep-alives every 0.2 s (a quiet book on a live link), or nothing at all
        sub = peer.expect_json()
        peer.send({**ACK, "book": sub["book"]})
        peer.send(bitso_orders(sub["book"], BITSO_BIDS, BITSO_ASKS))
        for _ in range(100):
            peer.pause(0.2)
            if keep_alives:
                peer.send({"type": "ka"})

    def streaming_bitmart(peer):
        sub = peer.expect_json()
        peer.send({"event": "subscribe", "topic": sub["args"][0]})
        for seq in range(200):
            peer.send(bitmart_v3_push([[str(86500 + seq), "1"]], [["86700", "1"]]))
            peer.pause(0.1)

    bitso, bitmart = ws_venue(quiet_bitso), ws_venue(streaming_bitmart)
    env = {"OBOOK_REVX_URL": http_venue.url, "OBOOK_BITSO_URL": bitso.url, "OBOOK_BITMART_V3_URL": bitmart.url}
    run = obook("watch", "--feed", "top", "bitso:btc_usd", "revx:BTC-USD", "bitmart-v3:BTC_USDT", "--merge", "--quote-alias", "USDT=USD",
                "--json", "--count", "25", "--stale-after", "1", env=env, timeout=30)
    assert run.code == 0, run
    books = run.lines()
    assert len(books) == 25 and all(b["venue"] == "consolidated" for b in books)
    assert any({s["venue"] for s in b["sources"]} == {"bitso", "revx", "bitmart-v3"} for b in books[:8]), books[:8]
    last = books[-1]  # about 2.5 s in: Bitso's only book is older than --stale-after
    if keep_alives:  # liveness is not change: its book is old, its link alive
        assert {s["venue"] for s in last["sources"]} == {"bitso", "revx", "bitmart-v3"} and last["excluded"] == []
        assert any("bitso" in lv["venues"] for lv in last["bids"])
    else:
        assert "bitso" not in {s["venue"] for s in last["sources"]}
        assert {"venue": "bitso", "symbol": "btc_usd", "state": "stale"} in last["excluded"]
        assert all("bitso" not in lv["venues"] for lv in last["bids"] + last["asks"])


def test_venue_options_go_to_the_sources_that_have_them(obook, http_venue, ws_venue):
    http_venue.route(REVX_BTC, Reply(body=REVX_BODY))

    def bitmart(peer):
        sub = peer.expect_json()
        assert sub == {"subscribe": "order", "symbol": "BTC_USD", "precision": 2}
        peer.send({"subscribe": "depth", "symbol": "BTC_USD", "data": {
            "buys": [{"amount": "1", "total": "1", "price": "86612.00", "count": "1"}],
            "sells": [{"amount": "1", "total": "1", "price": "86625.00", "count": "1"}]}})
        peer.hold()

    seed = ws_venue(bitmart)
    env = {"OBOOK_REVX_URL": http_venue.url, "OBOOK_BITMART_URL": seed.url}
    run = obook("snapshot", "revx:BTC-USD", "bitmart:BTC-USD", "--precision", "2", "--merge", "--json", env=env)
    assert run.code == 0, run
    assert run.json()["bids"][0]["venues"] == {"revx": "0.25", "bitmart": "1"}
    assert_clean_failure(obook("snapshot", "revx:BTC-USD", "bitso:btc_usd", "--precision", "2"), 2, "--precision", "bitmart")


def test_bash_completes_sources(isolated_user_state):
    import os

    from tests.test_completions import bash_complete

    cache = isolated_user_state / ".cache" / "obook"
    cache.mkdir(parents=True)
    (cache / "symbols-revx.json").write_text(json.dumps({"fetched_at": time.time(), "symbols": ["BTC-USD", "ETH-USD"]}))
    env = {**os.environ, "OBOOK_REVX_URL": "http://127.0.0.1:9"}
    assert bash_complete("obook watch bitso:btc_usd re", env) == ["revx"]
    assert bash_complete("obook watch bitso:btc_usd revx:B", env) == ["revx:BTC-USD"]
    assert bash_complete("obook snapshot revx B", env) == ["BTC-USD"]  # the one-source form as before


def test_watch_goes_on_when_one_source_is_rejected(obook, http_venue, ws_venue):
    http_venue.route(REVX_BTC, Reply(body=REVX_BODY))

    def rejecting(peer):
        sub = peer.expect_json()
        peer.send({"action": "subscribe", "type": "orders", "error": f"This book is not supported - {sub['book']}"})
        peer.hold(5)

    bitso = ws_venue(rejecting)
    env = {"OBOOK_REVX_URL": http_venue.url, "OBOOK_BITSO_URL": bitso.url}
    run = obook("watch", "bitso:foo_bar", "revx:BTC-USD", "--json", "--count", "2", env=env)
    assert run.code == 0, run
    assert [b["venue"] for b in run.lines()] == ["revx", "revx"]
    assert "bitso foo_bar" in run.stderr and "not supported" in run.stderr and "going on with the other sources" in run.stderr


def test_merged_snapshot_with_bitsos_full_book_carries_its_sequence(obook, http_venue):
    from tests.test_full_depth import BOOK_PATH, SEED_100

    http_venue.route(BOOK_PATH, Reply(body=SEED_100))  # the full feed's snapshot is Bitso's REST book
    http_venue.route("/api/1.0/public/order-book/BTC-MXN", Reply(body={
        "data": {"bids": [{"p": "1000", "q": "0.25", "no": "1"}], "asks": [{"p": "1015", "q": "1", "no": "1"}]}}))
    env = {"OBOOK_BITSO_REST_URL": http_venue.url, "OBOOK_REVX_URL": http_venue.url, "OBOOK_BITSO_URL": "ws://127.0.0.1:9"}
    run = obook("snapshot", "bitso:btc_mxn", "revx:BTC-MXN", "--merge", "--json", env=env)
    assert run.code == 0, run
    book = run.json()
    assert [(s["venue"], s["sequence"]) for s in book["sources"]] == [("bitso", 100), ("revx", None)]
    assert book["sequence"] is None  # no one sequence for several venues
    assert book["bids"][0] == {"price": "1000", "amount": "1.75000000", "total": "1.75000000", "count": 3,
                               "venues": {"bitso": "1.50000000", "revx": "0.25"}}
    assert [a["venues"] for a in book["asks"]] == [{"bitso": "0.25000000"}, {"revx": "1"}, {"bitso": "3.00000000"}]


@pytest.mark.parametrize("merge", [False, True], ids=["side-by-side", "merged"])
def test_watch_sources_flooding_at_once_give_every_line_in_order(obook, ws_venue, merge):
    """Books arriving faster than lines are written are written in bursts (one write for
    the lines of several books): still one line per book, none lost or reordered, and
    --count exact."""
    frames = 300

    def script(peer):
        sub = peer.expect_json()
        peer.send({**ACK, "book": sub["book"]})
        for i in range(frames):  # no pause: the feeds deliver faster than one write a line
            peer.send(bitso_orders(sub["book"], [(str(86000 + i), "1")], BITSO_ASKS))
        peer.hold()

    bitso = ws_venue(script)
    extra = ["--merge", "--quote-alias", "USDT=USD"] if merge else []
    count = 2 * frames - 10  # ends while books are still waiting
    run = obook("watch", "--feed", "top", "bitso:btc_usd", "bitso:btc_usdt", *extra, "--json", "--count", str(count),
                env={"OBOOK_BITSO_URL": bitso.url}, timeout=60)
    assert run.code == 0, run
    books = run.lines()
    assert len(books) == count
    if merge:  # a line per book of either source: exactly one source's price moves on by one from a line to the next
        keys = ("bitso:btc_usd", "bitso:btc_usdt")
        tops = [tuple(next((int(lv["price"]) for lv in book["bids"] if key in lv["venues"]), None) for key in keys) for book in books]
        previous = (None, None)
        for top in tops:
            moved = [(was, now) for was, now in zip(previous, top) if was != now]
            assert len(moved) == 1 and moved[0][1] == (86000 if moved[0][0] is None else moved[0][0] + 1), (previous, top)
            previous = top
    else:
        for symbol in ("btc_usd", "btc_usdt"):
            tops = [int(b["best_bid"]) for b in books if b["symbol"] == symbol]
            assert tops == list(range(86000, 86000 + len(tops))), symbol  # every book, in the order sent
        assert {b["symbol"] for b in books} == {"btc_usd", "btc_usdt"}
