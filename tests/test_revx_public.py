"""Revolut X public book, end to end: installed `obook` against a loopback HTTP venue."""

import json
import time

import pytest

from tests.conftest import assert_clean_failure
from tests.servers.http_venue import Reply, payload

V1 = "/api/1.0/public/order-book/{}"
V2 = "/api/2.0/public/order-book/{}"


@pytest.fixture
def revx(http_venue):
    return {"OBOOK_REVX_URL": http_venue.url}


def test_doc_example_v1_resorted_with_totals_spread_mid(obook, http_venue, revx):
    http_venue.route(V1.format("ETH-USD"), Reply(body=payload("revx_doc_public_v1.json")))
    run = obook("snapshot", "revx", "ETH-USD", "--json", env=revx)
    assert run.code == 0, run
    book = run.json()
    assert http_venue.paths() == ["/api/1.0/public/order-book/ETH-USD"]
    assert book["venue"] == "revx" and book["symbol"] == "ETH-USD"
    assert book["asks"] == [
        {"price": "4005.00", "amount": "1.7000", "total": "1.7000", "count": 3},
        {"price": "4010.00", "amount": "2.1234", "total": "3.8234", "count": 2},
    ]
    assert book["bids"] == [
        {"price": "4000.00", "amount": "0.25", "total": "0.25", "count": 1},
        {"price": "3995.00", "amount": "4.4200", "total": "4.6700", "count": 5},
    ]
    assert (book["best_bid"], book["best_ask"], book["spread"], book["mid"]) == ("4000.00", "4005.00", "5.00", "4002.50")
    assert book["timestamp"] == "2026-07-29T08:23:53.816Z"
    assert book["received_at"].endswith("Z")


@pytest.mark.parametrize("typed", ["eth/usd", "ETH_USD", "eth-usd", "Eth/Usd"])
def test_symbol_spellings_translate(obook, http_venue, revx, typed):
    http_venue.route(V1.format("ETH-USD"), Reply(body=payload("revx_doc_public_v1.json")))
    run = obook("snapshot", "revx", typed, "--json", env=revx)
    assert run.code == 0, run
    assert run.json()["symbol"] == "ETH-USD"


def test_depth_over_five_uses_v2_with_limit(obook, http_venue, revx):
    http_venue.route(V2.format("ETH-USDC"), Reply(body=payload("revolutx_1.json")))
    run = obook("snapshot", "revx", "ETH/USDC", "--depth", "10", "--json", env=revx)
    assert run.code == 0, run
    assert http_venue.paths() == ["/api/2.0/public/order-book/ETH-USDC?limit=10"]
    book = run.json()
    # revolutx_1: asks arrive descending (worst first), integer counts, epoch-ms timestamp
    assert [a["price"] for a in book["asks"]] == ["2097.13", "2099.00", "2099.42", "2100.00", "2101.00"]
    assert book["asks"][-1]["total"] == "9.98545386"
    assert [b["price"] for b in book["bids"]][0] == "2090.13"
    assert book["spread"] == "7.00" and book["mid"] == "2093.63"
    assert book["timestamp"] == "2026-08-19T16:39:32.533Z"


@pytest.mark.parametrize("status", [404, 410])
def test_v1_gone_falls_back_to_v2(obook, http_venue, revx, status):
    http_venue.route(V1.format("ETH-USD"), Reply(status, {"message": "Gone"}))
    http_venue.route(V2.format("ETH-USD"), Reply(body=payload("revx_doc_public_v2.json")))
    run = obook("snapshot", "revx", "ETH-USD", "--json", env=revx)
    assert run.code == 0, run
    assert http_venue.paths() == ["/api/1.0/public/order-book/ETH-USD", "/api/2.0/public/order-book/ETH-USD?limit=5"]
    assert run.json()["best_ask"] == "4005.00"


def test_depth_trims_levels(obook, http_venue, revx):
    http_venue.route(V1.format("ETH-USD"), Reply(body=payload("revx_doc_public_v1.json")))
    run = obook("snapshot", "revx", "ETH-USD", "--depth", "1", "--json", env=revx)
    assert run.code == 0, run
    book = run.json()
    assert len(book["asks"]) == 1 and len(book["bids"]) == 1


@pytest.mark.parametrize("name, best_bid, best_ask, asks", [
    ("revx_seed_authenticated.json", "3752", "3753", [{"price": "3753", "amount": "1", "total": "1", "count": 1}]),
    ("revolutx_2.json", "2282.65", "2290.00", None),
    ("revx_doc_authenticated.json", "4000.00", "4005.00", None),
])
def test_every_shape_in_the_wild_parses(obook, http_venue, revx, name, best_bid, best_ask, asks):
    http_venue.route(V1.format("ETH-USD"), Reply(body=payload(name)))
    run = obook("snapshot", "revx", "ETH-USD", "--json", env=revx)
    assert run.code == 0, run
    book = run.json()
    assert (book["best_bid"], book["best_ask"]) == (best_bid, best_ask)
    if asks:
        assert book["asks"] == asks
    assert book["timestamp"] is not None


def test_seed_shape_timestamp_without_zone_is_utc(obook, http_venue, revx):
    http_venue.route(V1.format("ETH-USD"), Reply(body=payload("revx_seed_authenticated.json")))
    book = obook("snapshot", "revx", "ETH-USD", "--json", env=revx).json()
    assert book["timestamp"] == "2025-08-08T21:40:35.133Z"
    assert book["bids"][0]["amount"] == "27"  # "0027" is the number 27


def test_unknown_pair_exits_4_naming_symbol(obook, http_venue, revx):
    http_venue.route(V1.format("BTC-BTC"), Reply(400, {"message": "No such pair: BTC-BTC", "error_id": "x", "timestamp": 1}))
    run = obook("snapshot", "revx", "BTC-BTC", "--json", env=revx)
    assert_clean_failure(run, 4, "BTC-BTC", "No such pair")


def test_venue_5xx_retries_then_exits_5(obook, http_venue, revx):
    http_venue.route(V1.format("ETH-USD"), Reply(503, {"message": "Something went wrong!"}))
    run = obook("snapshot", "revx", "ETH-USD", "--json", env=revx)
    assert_clean_failure(run, 5, "503", "Something went wrong")
    assert 2 <= len(http_venue.requests) <= 3  # bounded retries


def test_5xx_then_success_recovers(obook, http_venue, revx):
    http_venue.route(V1.format("ETH-USD"), Reply(502, "bad gateway"), Reply(body=payload("revx_doc_public_v1.json")))
    run = obook("snapshot", "revx", "ETH-USD", "--json", env=revx)
    assert run.code == 0, run
    assert len(http_venue.requests) == 2


def test_nothing_listening_exits_3_within_timeout(obook, unused_port):
    started = time.monotonic()
    run = obook("snapshot", "revx", "ETH-USD", "--timeout", "3", env={"OBOOK_REVX_URL": f"http://127.0.0.1:{unused_port}"})
    assert_clean_failure(run, 3, "cannot connect", "OBOOK_REVX_URL")
    assert time.monotonic() - started < 3 + 2  # process start-up on a loaded machine


def test_silent_server_times_out_with_exit_3(obook, http_venue, revx):
    http_venue.route(V1.format("ETH-USD"), Reply(hang=True))
    started = time.monotonic()
    run = obook("snapshot", "revx", "ETH-USD", "--timeout", "1", env=revx)
    assert_clean_failure(run, 3)
    assert time.monotonic() - started < 1 + 3


@pytest.mark.parametrize("body", [b"not json", b"{\"data\": {\"asks\": 5}}", b"[]", b"{\"asks\": [{\"p\": \"abc\", \"q\": \"1\"}], \"bids\": []}"])
def test_unusable_data_exits_5(obook, http_venue, revx, body):
    http_venue.route(V1.format("ETH-USD"), Reply(body=body))
    run = obook("snapshot", "revx", "ETH-USD", "--json", env=revx)
    assert_clean_failure(run, 5)


def test_unknown_venue_and_malformed_symbol_exit_2(obook):
    assert_clean_failure(obook("snapshot", "nasdaq", "BTC-USD"), 2, "unknown venue", "revx")
    assert_clean_failure(obook("snapshot", "revx", "BTC/USD/X"), 2, "malformed symbol")
    assert_clean_failure(obook("snapshot", "revx", "../../etc"), 2, "malformed symbol")
    assert_clean_failure(obook("snapshot", "revx", "BTC-USD", "--depth", "51"), 2, "1..50")
    assert_clean_failure(obook("snapshot", "revx", "BTC-USD", "--bogus"), 2, "--bogus")


def test_ladder_snapshot_prints_book(obook, http_venue, revx):
    http_venue.route(V1.format("ETH-USD"), Reply(body=payload("revx_doc_public_v1.json")))
    run = obook("snapshot", "revx", "ETH-USD", env=revx)
    assert run.code == 0, run
    out = run.stdout
    assert "revx ETH-USD" in out and "spread 5.00" in out and "mid 4002.50" in out
    # asks above bids, the worst ask first, the best bid right under the spread
    order = [out.index(p) for p in ("4010.00", "4005.00", "spread", "4000.00", "3995.00")]
    assert order == sorted(order)
    assert "\x1b[" not in out  # not a terminal: no colour codes


def test_watch_piped_writes_ndjson_at_most_one_request_per_second(obook, http_venue, revx):
    http_venue.route(V1.format("ETH-USD"), Reply(body=payload("revx_doc_public_v1.json")))
    run = obook("watch", "revx", "ETH-USD", "--count", "3", env=revx)
    assert run.code == 0, run
    books = run.lines()
    assert len(books) == 3 and all(b["best_ask"] == "4005.00" for b in books)
    times = [r.at for r in http_venue.requests]
    assert all(b - a >= 0.95 for a, b in zip(times, times[1:])), times


def test_debug_logs_wire_traffic_to_stderr_only(obook, http_venue, revx):
    http_venue.route(V1.format("ETH-USD"), Reply(body=payload("revx_doc_public_v1.json")))
    run = obook("snapshot", "revx", "ETH-USD", "--json", "--debug", env=revx)
    assert run.code == 0, run
    json.loads(run.stdout)
    assert "HTTP GET" in run.stderr and "/api/1.0/public/order-book/ETH-USD" in run.stderr


def test_group_and_impact_in_json_match_hand_calculation(obook, http_venue, revx):
    http_venue.route(V2.format("BTC-USD"), Reply(body=payload("revolutx_1.json")))
    run = obook("snapshot", "revx", "BTC-USD", "--group", "10", "--impact", "2", "--json", env=revx)
    assert run.code == 0, run
    assert http_venue.paths() == ["/api/2.0/public/order-book/BTC-USD?limit=50"]  # buckets need the deep book
    book = run.json()
    # asks round up to 10: 2097.13, 2099.00, 2099.42, 2100.00 -> 2100; 2101.00 -> 2110
    assert book["asks"] == [
        {"price": "2100", "amount": "9.96165567", "total": "9.96165567", "count": 6},
        {"price": "2110", "amount": "0.02379819", "total": "9.98545386", "count": 1},
    ]
    # bids round down: all of 2090.13 .. 2089.49 -> 2090 and 2080
    assert book["bids"] == [
        {"price": "2090", "amount": "2.33801954", "total": "2.33801954", "count": 1},
        {"price": "2080", "amount": "215.51637131", "total": "217.85439085", "count": 4},
    ]
    # the figures are the real book's, not the buckets': best 2090.13 / 2097.13, mid 2093.63
    assert (book["best_bid"], book["best_ask"], book["spread"], book["mid"]) == ("2090.13", "2097.13", "7.00", "2093.63")
    impact = book["impact"]
    assert impact["size"] == "2"
    # buying 2 fills at 2097.13 (4 there): slippage (2097.13-2093.63)/2093.63 = 16.72 bps
    assert impact["buy"] == {"filled": "2", "notional": "4194.26", "average_price": "2097.13", "worst_price": "2097.13",
                             "slippage_bps": "16.72", "complete": True}
    # selling 2 fills at 2090.13 (2.338 there): (2093.63-2090.13)/2093.63 = 16.72 bps
    assert impact["sell"] == {"filled": "2", "notional": "4180.26", "average_price": "2090.13", "worst_price": "2090.13",
                              "slippage_bps": "16.72", "complete": True}


def test_impact_beyond_the_book_says_incomplete(obook, http_venue, revx):
    http_venue.route(V1.format("ETH-USD"), Reply(body=payload("revx_doc_public_v1.json")))
    impact = obook("snapshot", "revx", "ETH-USD", "--impact", "5", "--json", env=revx).json()["impact"]
    # asks: 1.7 @ 4005 + 2.1234 @ 4010 = 3.8234 fillable, 15323.334 quote
    assert impact["buy"]["complete"] is False and impact["buy"]["filled"] == "3.8234"
    assert impact["buy"]["notional"] == "15323.334000"  # 4-decimal amounts x 2-decimal prices
    assert impact["buy"]["worst_price"] == "4010.00"
