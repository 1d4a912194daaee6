"""A third-party venue, installed the way a plugin package is: a module and a
dist-info whose entry_points.txt names it in the `obook.venues` group, on
PYTHONPATH of the installed `obook`. It is listed, its own option shows in
the help and reaches it, and it serves a book from a loopback WebSocket venue."""

from __future__ import annotations

import json
import os
import textwrap

import pytest

from tests.conftest import assert_clean_failure

PLUGIN = textwrap.dedent('''
    """Toy Exchange: one JSON frame per book, {"bids": [[p, q]], "asks": [[p, q]]}."""
    import json

    from orderbook_cli.book import RawLevel, to_decimal
    from orderbook_cli.symbols import SymbolStyle
    from orderbook_cli.venues.base import VenueInfo, VenueOption
    from orderbook_cli.venues.websocket import BookUpdate, Control, WebSocketVenue


    class ToyExchange(WebSocketVenue):
        info = VenueInfo(id="toyx", name="Toy Exchange", transport="WebSocket", auth="none", default_depth=5, max_depth=50,
                         symbols=SymbolStyle("-", upper=True), url_env="OBOOK_TOYX_URL", default_url="wss://toyx.invalid",
                         options=(VenueOption("room", "the venue's book room to join (default main).", "ROOM", choices=("main", "dark")),),
                         summary="a plugin venue")

        def subscribe_messages(self, request):
            return [json.dumps({"join": request.symbol, "room": request.options.get("room", "main")})]

        def parse(self, frame, request):
            data = json.loads(frame)
            if "bids" not in data:
                return Control("ack")
            side = lambda name: [RawLevel(to_decimal(p, "price"), to_decimal(q, "amount")) for p, q in data[name]]
            return BookUpdate(side("bids"), side("asks"), None)
''')


@pytest.fixture
def plugin_env(tmp_path):
    """PYTHONPATH holding the plugin module and its distribution's metadata (what pip would install)."""
    site = tmp_path / "plugin-site"
    (site / "obook_toyx-1.0.dist-info").mkdir(parents=True)
    (site / "obook_toyx.py").write_text(PLUGIN)
    (site / "obook_toyx-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: obook-toyx\nVersion: 1.0\n")
    (site / "obook_toyx-1.0.dist-info" / "entry_points.txt").write_text("[obook.venues]\ntoyx = obook_toyx:ToyExchange\n")
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}


def test_plugin_venue_is_listed_and_its_option_is_in_the_help(obook, plugin_env):
    listed = obook("venues", "--json", env=plugin_env)
    assert listed.code == 0, listed
    toyx = next(v for v in listed.json() if v["id"] == "toyx")
    assert toyx["options"] == ["--room"] and toyx["endpoint_env"] == "OBOOK_TOYX_URL"
    assert {"bitso", "kraken", "revx"} <= {v["id"] for v in listed.json()}  # obook's own, through the same entry point
    helped = obook("watch", "--help", env={**plugin_env, "COLUMNS": "200"})
    assert "--room" in helped.stdout and "toyx: the venue's book room" in helped.stdout
    assert "--room" not in obook("watch", "--help").stdout  # not installed: not there


def test_plugin_venue_serves_a_book_with_its_own_option(obook, ws_venue, plugin_env):
    joined = []

    def script(peer):
        joined.append(json.loads(peer.recv()))
        peer.send(json.dumps({"ok": True}))
        peer.send(json.dumps({"bids": [["99.50", "2"], ["99", "1.25"]], "asks": [["100.5", "0.10"]]}))
        peer.hold()

    venue = ws_venue(script)
    run = obook("snapshot", "toyx", "btc/usd", "--room", "dark", "--json", env={**plugin_env, "OBOOK_TOYX_URL": venue.url})
    assert run.code == 0, run
    book = run.json()
    assert joined == [{"join": "BTC-USD", "room": "dark"}]  # the option reached the venue
    assert (book["venue"], book["best_bid"], book["best_ask"], book["spread"]) == ("toyx", "99.50", "100.5", "1.00")
    assert [level["amount"] for level in book["bids"]] == ["2", "1.25"]


def test_an_option_no_named_venue_takes_is_refused(obook, plugin_env):
    assert_clean_failure(obook("snapshot", "bitso", "btc_mxn", "--room", "dark", env=plugin_env), 2, "--room applies to toyx only, not bitso")
    assert_clean_failure(obook("snapshot", "bitso", "btc_mxn", "--room", "dark"), 2, "no such option")  # no plugin: unknown


def test_a_remembered_help_page_never_hides_a_plugin_installed_or_removed(obook, plugin_env):
    """Help pages are remembered (help_memo), but never while a venue plugin may be installed:
    its options are on the pages, and its files are in no stamp."""
    for _ in range(2):  # rendered, then remembered
        assert "--room" not in obook("watch", "--help").stdout
    for _ in range(2):  # installed: Typer renders it with the plugin's option, every time
        assert "--room" in obook("watch", "--help", env=plugin_env).stdout
    assert "--room" not in obook("watch", "--help").stdout  # removed again: the page without it


def test_the_plugin_scan_sees_what_importlib_metadata_sees(plugin_env, monkeypatch, tmp_path):
    from orderbook_cli.distributions import own_entry_points_file, venue_plugins_may_exist

    assert not venue_plugins_may_exist()  # obook's own venues are no plugins
    assert own_entry_points_file() is not None
    monkeypatch.syspath_prepend(plugin_env["PYTHONPATH"].split(os.pathsep)[0])
    assert venue_plugins_may_exist()
    monkeypatch.syspath_prepend(str(tmp_path / "nowhere"))  # a folder that is not there hides nothing
    (tmp_path / "plugins.zip").write_bytes(b"PK")
    monkeypatch.syspath_prepend(str(tmp_path / "plugins.zip"))
    assert venue_plugins_may_exist()  # a zip cannot be looked into: a plugin may be in it
