"""The tape against loopback venues speaking each venue's real trade protocol
with the real payloads (tests/payloads/trades)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import threading
import time
import zlib
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from orderbook_cli.errors import NetworkError, UsageError, VenueRejected
from orderbook_cli.tape import follow, parse_sources, write_ndjson
from tests.conftest import OBOOK
from tests.servers.http_venue import Reply

TRADES = Path(__file__).resolve().parent / "payloads" / "trades"


def raw(name: str) -> str:
    return (TRADES / name).read_text()


def deflated(text: str) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(text.encode()) + packer.flush()


def lines(capsys) -> list[dict]:
    gone = time.monotonic() + 5  # the feeds' threads close their links by the clock; let them, so the server stops at once
    while any(t.name.startswith("obook-") for t in threading.enumerate()) and time.monotonic() < gone:
        time.sleep(0.02)
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def bitso_script(peer):
    assert peer.expect_json() == {"action": "subscribe", "book": "btc_mxn", "type": "trades"}
    peer.send(raw("bitso_trades_ack_recorded.json"))
    peer.send({"type": "ka"})
    peer.send(raw("bitso_trades_recorded_btc_mxn.json"))
    sold = json.loads(raw("bitso_trades_doc.json"))
    sold["payload"][0]["t"] = 1
    sold["payload"][0]["i"] = 77778
    peer.send(raw("bitso_trades_doc.json"))
    peer.send('{"type":"trades","book":"btc_mxn","payload":[{"i":1,"a":"NaN","r":"1","mo":"m","to":"t","t":0}]}')  # skipped
    peer.send(sold)
    peer.hold(2)


def test_bitso_trades_with_the_documented_taker_side(ws_venue, capsys):
    venue = ws_venue(bitso_script)
    write_ndjson([("bitso", "btc_mxn")], count=3, timeout=5, environ={"OBOOK_BITSO_URL": venue.url})
    out = lines(capsys)
    assert [(t["id"], t["side"], t["price"], t["amount"]) for t in out] == [
        ("4768575", "buy", "207300", "0.0004824"), ("77777", "buy", "7190", "0.0035"), ("77778", "sell", "7190", "0.0035")]
    assert out[1]["maker_order"] == "laasdqw1ywYgfYI2" and out[1]["timestamp"] == "2023-02-05T00:05:46.102Z"


def test_bitso_refusal_is_the_venues(ws_venue):
    def refuse(peer):
        peer.expect_json()
        peer.send({"action": "subscribe", "type": "trades", "error": "This book is not supported - xyz_abc"})
        peer.hold(2)

    venue = ws_venue(refuse)
    with pytest.raises(VenueRejected, match="xyz_abc"):
        write_ndjson([("bitso", "xyz_abc")], count=1, timeout=5, environ={"OBOOK_BITSO_URL": venue.url})


def bitmart_script(peer):
    assert peer.expect_json() == {"op": "subscribe", "args": ["spot/trade:BTC_USDT"]}
    peer.send(raw("bitmart_trade_ack_recorded.json"))
    peer.send(raw("bitmart_trade_recorded_1.json"))  # text, as captured
    peer.send(deflated(raw("bitmart_trade_recorded_2.json")))  # binary raw DEFLATE, as BitMart may send
    peer.hold(2)


def test_bitmart_v3_trades_have_no_taker_side_but_the_venues_label(ws_venue, capsys):
    venue = ws_venue(bitmart_script)
    write_ndjson([("bitmart-v3", "btc/usdt")], count=2, timeout=5, environ={"OBOOK_BITMART_V3_URL": venue.url})
    out = lines(capsys)
    assert [(t["venue"], t["symbol"], t["price"], t["side"], t["venue_side"]) for t in out] == [
        ("bitmart-v3", "BTC_USDT", "77604.55", None, "sell"), ("bitmart-v3", "BTC_USDT", "77576.00", None, "sell")]


def test_bitmart_seed_has_no_tape():
    with pytest.raises(UsageError, match="seed protocol has no trade channel"):
        write_ndjson([("bitmart", "BMX_ETH")], count=1, timeout=1)


def test_revx_overlapping_polls_print_each_trade_once(http_venue, capsys):
    doc = json.loads(raw("revx_trades_doc.json"))
    first, second = doc["data"]
    third = {**second, "id": "9a1c1c5e-0000-4000-8000-000000000003", "price": "120020.00", "timestamp": second["timestamp"] + 900}
    pages = [  # each window overlaps the last: the venue sends earlier trades again
        {"data": [first], "metadata": doc["metadata"]},
        {"data": [second, first], "metadata": doc["metadata"]},
        {"data": [third, second, first], "metadata": {**doc["metadata"], "next_cursor": ""}},
    ]
    http_venue.route("/api/1.0/public/trades/all", *[Reply(200, page) for page in pages])
    write_ndjson([("revx", "BTC/USD")], count=3, timeout=10, environ={"OBOOK_REVX_URL": http_venue.url})
    out = lines(capsys)
    assert [(t["id"], t["price"], t["side"], t["venue_side"]) for t in out] == [
        (first["id"], "119980.00", None, "sell"), (second["id"], "120010.00", None, "buy"), (third["id"], "120020.00", None, "buy")]
    queries = [parse_qs(r.query) for r in http_venue.requests]
    assert all(q["symbol"] == ["BTC-USD"] and q["limit"] == ["1000"] for q in queries)
    # later windows start 2 s before the newest trade seen, never later
    assert int(queries[1]["start_date"][0]) == first["timestamp"] - 2000
    gaps = [b.at - a.at for a, b in zip(http_venue.requests, http_venue.requests[1:])]
    assert min(gaps) >= 0.95  # the public limit: one request a second


def test_revx_rate_limit_is_waited_out(http_venue, capsys):
    doc = json.loads(raw("revx_trades_doc.json"))
    http_venue.route("/api/1.0/public/trades/all",
                     Reply(429, {"message": "Too many requests", "error_id": "x", "timestamp": 0}, headers={"Retry-After": "1500"}),
                     Reply(200, doc))
    write_ndjson([("revx", "BTC-USD")], count=2, timeout=10, environ={"OBOOK_REVX_URL": http_venue.url})
    assert len(lines(capsys)) == 2
    assert http_venue.requests[1].at - http_venue.requests[0].at >= 1.4


def test_several_sources_merge_into_one_tape_tagged_by_venue(ws_venue, http_venue, capsys):
    bitso = ws_venue(bitso_script)
    http_venue.route("/api/1.0/public/trades/all", Reply(200, json.loads(raw("revx_trades_doc.json"))))
    write_ndjson([("bitso", "btc_mxn"), ("revx", "BTC-USD")], count=5, timeout=10,
                 environ={"OBOOK_BITSO_URL": bitso.url, "OBOOK_REVX_URL": http_venue.url})
    out = lines(capsys)
    assert sorted(t["venue"] for t in out) == ["bitso", "bitso", "bitso", "revx", "revx"]


def test_a_venue_that_never_answers_is_a_network_error_by_the_clock(unused_port):
    with pytest.raises(NetworkError, match="within 1s"):
        follow([("bitso", "btc_mxn")], timeout=1, on_trade=lambda t: True, environ={"OBOOK_BITSO_URL": f"ws://127.0.0.1:{unused_port}"})


def test_a_resize_reaches_the_tape_between_trades(ws_venue):
    """`obook trades` on a quiet market: a new terminal size is drawn when it comes, not at the next trade."""
    from orderbook_cli.views.keys import RESIZED

    class ResizedOnce:  # what views.keys.Keys.forward hands the tape on SIGWINCH
        def forward(self, put):
            put(RESIZED)

    bitso = ws_venue(bitso_script)
    heard: list[str] = []
    follow([("bitso", "btc_mxn")], timeout=10, on_trade=lambda trade: bool(heard.append("trade")), keys=ResizedOnce(),
           on_resize=lambda: heard.append("resize"), environ={"OBOOK_BITSO_URL": bitso.url})
    assert heard == ["resize", "trade"], heard


def test_sources_are_parsed_and_bounded():
    assert parse_sources(["bitso", "btc_mxn"]) == [("bitso", "btc_mxn")]
    assert parse_sources(["bitso:btc_mxn", "revx:BTC-USD"]) == [("bitso", "btc_mxn"), ("revx", "BTC-USD")]
    with pytest.raises(UsageError):
        parse_sources(["bitso:btc_mxn", "revx"])
    with pytest.raises(UsageError, match="at most 6"):
        parse_sources([f"bitso:b{n}" for n in range(7)])


def test_obook_trades_json_count_as_users_run_it(obook, ws_venue, http_venue):
    bitso = ws_venue(bitso_script)
    run = obook("trades", "bitso", "btc_mxn", "--json", "--count", "3", env={"OBOOK_BITSO_URL": bitso.url})
    assert run.code == 0, run
    assert [(t["id"], t["side"]) for t in run.lines()] == [("4768575", "buy"), ("77777", "buy"), ("77778", "sell")]
    bitmart = ws_venue(bitmart_script)
    run = obook("trades", "bitmart-v3", "BTC_USDT", "--count", "2", env={"OBOOK_BITMART_V3_URL": bitmart.url})  # not a terminal: NDJSON
    assert [(t["price"], t["side"], t["venue_side"]) for t in run.lines()] == [("77604.55", None, "sell"), ("77576.00", None, "sell")]
    http_venue.route("/api/1.0/public/trades/all", Reply(200, json.loads(raw("revx_trades_doc.json"))))
    run = obook("trades", "revx", "BTC-USD", "--json", "--count", "2", env={"OBOOK_REVX_URL": http_venue.url})
    assert run.code == 0, run
    assert [t["venue_side"] for t in run.lines()] == ["sell", "buy"]


def test_obook_trades_errors_are_one_line_with_the_contracts_code(obook, unused_port):
    from tests.conftest import assert_clean_failure

    assert_clean_failure(obook("trades", "bitmart", "BMX_ETH"), 2, "seed protocol")
    assert_clean_failure(obook("trades", "bitso:btc_mxn", "revx"), 2, "VENUE:SYMBOL")
    assert_clean_failure(obook("trades", "bitso", "btc_mxn", "--timeout", "1", env={"OBOOK_BITSO_URL": f"ws://127.0.0.1:{unused_port}"}), 3, "bitso")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_time_and_sales_in_a_terminal_newest_first_signed_and_q_quits(terminal, ws_venue):
    venue = ws_venue(bitso_script)
    terminal.start(f"OBOOK_BITSO_URL={shlex.quote(venue.url)} {shlex.quote(OBOOK)} trades bitso btc_mxn", width=80, height=24)
    screen = terminal.wait_for(r"sold 0\.0035", stable=True)
    lines = screen.splitlines()
    assert "bitso btc_mxn" in lines[0] and "bought 0.0039824" in lines[0] and "delta +0.0004824" in lines[0]
    rows = [line for line in lines if re.match(r"\d\d:\d\d:\d\d\.\d{3}  [+-?]", line)]
    assert [row.split()[1:4] for row in rows] == [["-", "0.0035000", "7190"], ["+", "0.0035000", "7190"], ["+", "0.0004824", "207300"]]
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def watch_bitso_with_trades(terminal, ws_venue, *trade_frames) -> None:
    """`obook watch bitso --feed top btc_mxn` at 150x45 on a loopback Bitso: the book's
    connection gets one orders message, the tape's own connection `trade_frames`."""
    from tests.test_terminal import orders

    def script(peer):
        if peer.expect_json()["type"] == "trades":  # the tape's own connection
            peer.send(raw("bitso_trades_ack_recorded.json"))
            for frame in trade_frames:
                peer.send(frame)
        else:
            peer.send({"action": "subscribe", "response": "ok", "time": 1, "type": "orders"})
            peer.send(orders(1))
        peer.hold(20)

    venue = ws_venue(script)
    terminal.start(f"OBOOK_BITSO_URL={shlex.quote(venue.url)} {shlex.quote(OBOOK)} watch bitso --feed top btc_mxn", width=150, height=45)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_watch_shows_the_tape_beside_the_ladder_at_150x45_and_t_toggles_it(terminal, ws_venue):
    watch_bitso_with_trades(terminal, ws_venue, raw("bitso_trades_doc.json"), raw("bitso_trades_recorded_btc_mxn.json"))
    screen = terminal.wait_for(r"trades bitso btc_mxn  bought 0\.0039824", stable=True)
    lines = screen.splitlines()
    assert lines[1].rstrip().endswith("+  0.0004824  207300") and lines[2].rstrip().endswith("+  0.0035000    7190")  # newest first
    assert lines[2].startswith("ask      8190")  # the ladder on the left, whole
    terminal.keys("t")
    terminal.wait_for(lambda s: "trades bitso" not in s and "ask      8190" in s)
    terminal.keys("t")
    terminal.wait_for(r"trades bitso btc_mxn")
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_watch_trades_fill_the_header_delta_the_ladders_volume_and_the_heatmap(terminal, ws_venue):
    doc = json.loads(raw("bitso_trades_doc.json"))
    lifted = {**doc["payload"][0], "i": 1, "r": "8000", "a": "0.5", "t": 0, "x": 1700000000001}  # a buy at the best ask
    hit = {**doc["payload"][0], "i": 2, "r": "7001", "a": "0.25", "t": 1, "x": 1700000000001}  # a sell at the best bid
    watch_bitso_with_trades(terminal, ws_venue, {**doc, "payload": [lifted, hit], "sent": 1700000000001})  # the book's time
    screen = terminal.wait_for(r"delta \+0\.25", stable=True)
    lines = screen.splitlines()
    titles = next(line for line in lines if "price" in line and "amount" in line)
    end = titles.index("1m vol BTC") + len("1m vol BTC")
    rows = {line.split()[1]: line for line in lines if re.match(r"(ask|bid) +\d", line)}
    assert rows["8000"][end - 4:end] == "0.50" and rows["7001"][end - 4:end] == "0.25"  # at their levels, whole
    assert rows["8010"][end - 10:end].strip() == ""
    assert "bought 0.5 sold 0.25" in lines[0] or "delta +0.25" in lines[0]
    terminal.keys("vv")  # ladder -> chart -> heatmap
    heat = terminal.wait_for(r"trades by size", stable=True)
    assert "●" in heat or "@" in heat
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def kraken_script(peer):
    assert peer.expect_json() == {"method": "subscribe", "params": {"channel": "trade", "symbol": ["BTC/USD"], "snapshot": False}}
    peer.send('{"method":"subscribe","result":{"channel":"trade","snapshot":false,"symbol":"BTC/USD"},"success":true,'
              '"time_in":"2026-12-05T10:00:00.000001Z","time_out":"2026-12-05T10:00:00.000002Z"}')
    peer.send('{"channel":"heartbeat"}')
    peer.send(raw("kraken_trade_update_btcusd.json"))
    peer.send('{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"up","price":1,"qty":1,"trade_id":7}]}')  # skipped
    bought = json.loads(raw("kraken_trade_update_btcusd.json"))
    bought["data"][0].update(side="buy", trade_id=105994520)
    peer.send(json.dumps(bought).replace('"price": 78568.6', '"price": 78568.60'))  # wire digits kept
    peer.hold(2)


def test_kraken_trades_with_the_documented_taker_side(ws_venue, capsys):
    venue = ws_venue(kraken_script)
    write_ndjson([("kraken", "xbt/usd")], count=2, timeout=5, environ={"OBOOK_KRAKEN_URL": venue.url})  # v1 name: BTC on the wire
    out = lines(capsys)
    assert [(t["venue"], t["symbol"], t["id"], t["side"], t["price"], t["amount"]) for t in out] == [
        ("kraken", "BTC/USD", "105994519", "sell", "78568.6", "0.04244195"),
        ("kraken", "BTC/USD", "105994520", "buy", "78568.60", "0.04244195")]


def test_kraken_refusal_is_the_venues(ws_venue):
    def refuse(peer):
        peer.expect_json()
        peer.send((Path(__file__).resolve().parent / "kraken" / "payloads" / "kraken_subscribe_refused_xbtusd.json").read_text())
        peer.hold(2)

    venue = ws_venue(refuse)
    with pytest.raises(VenueRejected, match="Currency pair not supported"):
        write_ndjson([("kraken", "BTC/USD")], count=1, timeout=5, environ={"OBOOK_KRAKEN_URL": venue.url})


def test_obook_trades_kraken_as_users_run_it(obook, ws_venue):
    venue = ws_venue(kraken_script)
    run = obook("trades", "kraken", "BTC/USD", "--json", "--count", "2", env={"OBOOK_KRAKEN_URL": venue.url})
    assert run.code == 0, run
    assert [(t["id"], t["side"]) for t in run.lines()] == [("105994519", "sell"), ("105994520", "buy")]


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_time_and_sales_says_which_source_is_not_live_and_why(terminal, ws_venue):
    """A venue that takes the connection and is slow to confirm the trade subscription: the list says the
    source is still connecting (not an empty tape that looks like a quiet market); once trades flow the line goes."""
    def slow(peer):
        peer.expect_json()
        peer.pause(3)
        peer.send(raw("bitso_trades_ack_recorded.json"))
        peer.send(raw("bitso_trades_recorded_btc_mxn.json"))
        peer.hold(20)

    venue = ws_venue(slow)
    terminal.start(f"OBOOK_BITSO_URL={shlex.quote(venue.url)} {shlex.quote(OBOOK)} trades bitso btc_mxn", width=80, height=24)
    screen = terminal.wait_for(r"bitso btc_mxn: connecting")
    assert "bought 0 " in screen.splitlines()[0]
    screen = terminal.wait_for(r"bought 0\.0004824", stable=True)
    assert "connecting" not in screen
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")
