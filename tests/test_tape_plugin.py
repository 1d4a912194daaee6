"""A venue's trades are declared in its own venue file (Venue.trades): a third-party
venue installed as a plugin (entry point `obook.venues`) offers `obook trades` and
the tape in `watch` with nothing in obook naming it."""

from __future__ import annotations

import json
import shlex
import shutil
import textwrap

import pytest

from tests.conftest import OBOOK, assert_clean_failure
from tests.test_plugin import PLUGIN

TRADES = textwrap.dedent('''

    from orderbook_cli.book import to_decimal
    from orderbook_cli.trades import Trade, entries, side_word, text_id
    from orderbook_cli.venues.base import TradeStream


    def read_trades(frame, symbol, received_at):
        data = json.loads(frame)
        if "prints" not in data:
            return []
        return [Trade("toyx", symbol, text_id(p["id"], "trade id"), to_decimal(p["px"], "price"), to_decimal(p["qty"], "qty"),
                      side_word(p["taker"], "taker side"), None, received_at) for p in entries(data, "prints", "prints")]


    def toyx_trades(self):
        return TradeStream(lambda symbol: [json.dumps({"tape": symbol})], read_trades, idle=30.0)


    ToyExchange.trades = toyx_trades
''')


@pytest.fixture
def toyx_with_trades(tmp_path):
    site = tmp_path / "plugin-site"
    (site / "obook_toyx-1.0.dist-info").mkdir(parents=True)
    (site / "obook_toyx.py").write_text(PLUGIN + TRADES)
    (site / "obook_toyx-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: obook-toyx\nVersion: 1.0\n")
    (site / "obook_toyx-1.0.dist-info" / "entry_points.txt").write_text("[obook.venues]\ntoyx = obook_toyx:ToyExchange\n")
    return {"PYTHONPATH": str(site)}


def toyx_script(peer):
    hello = json.loads(peer.recv())
    if "tape" in hello:  # the trade feed's own connection
        assert hello == {"tape": "BTC-USD"}
        peer.send(json.dumps({"ok": True}))
        peer.send(json.dumps({"prints": [{"id": 1, "px": "100.50", "qty": "0.25", "taker": "buy"},
                                         {"id": 2, "px": "99.5", "qty": "1", "taker": "SELL"}]}))
    else:
        peer.send(json.dumps({"bids": [["99.50", "2"]], "asks": [["100.5", "0.10"]]}))
    peer.hold(20)


def test_a_plugin_venue_offers_trades_from_its_own_file(obook, ws_venue, toyx_with_trades):
    venue = ws_venue(toyx_script)
    run = obook("trades", "toyx", "btc/usd", "--json", "--count", "2", env={**toyx_with_trades, "OBOOK_TOYX_URL": venue.url})
    assert run.code == 0, run
    assert [(t["venue"], t["symbol"], t["id"], t["side"], t["price"], t["amount"]) for t in run.lines()] == [
        ("toyx", "BTC-USD", "1", "buy", "100.50", "0.25"), ("toyx", "BTC-USD", "2", "sell", "99.5", "1")]


def test_a_venue_without_trades_says_so_and_lists_those_with(obook, toyx_with_trades):
    run = obook("trades", "bitmart", "BMX_ETH", "--json", env=toyx_with_trades)
    assert_clean_failure(run, 2, "bitmart has no public trades", "seed protocol has no trade channel")
    assert "toyx" in run.stderr and "bitso" in run.stderr  # the hint: every venue whose file declares trades


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_plugin_venues_tape_is_beside_its_ladder(terminal, ws_venue, toyx_with_trades):
    venue = ws_venue(toyx_script)
    terminal.start(f"PYTHONPATH={shlex.quote(toyx_with_trades['PYTHONPATH'])} OBOOK_TOYX_URL={shlex.quote(venue.url)} "
                   f"{shlex.quote(OBOOK)} watch toyx btc/usd", width=150, height=45)
    screen = terminal.wait_for(r"trades toyx BTC-USD  bought 0\.25  sold 1", stable=True)
    assert "delta -0.75" in screen
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")
