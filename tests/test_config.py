"""The config file (defaults, colours, named boards) and `--public` (issue 15, items 17 and 20)."""

import json
import os

import pytest

from tests.conftest import assert_clean_failure
from tests.servers.http_venue import Reply, payload

V1 = "/api/1.0/public/order-book/BTC-USD"
V2 = "/api/2.0/public/order-book/BTC-USD"


@pytest.fixture
def config_file(isolated_user_state):
    path = isolated_user_state / ".config" / "obook" / "config.toml"
    path.parent.mkdir(parents=True)
    return path


def test_config_path_follows_xdg_and_obook_config(obook, isolated_user_state, tmp_path):
    assert obook("config", "path").stdout.strip() == str(isolated_user_state / ".config" / "obook" / "config.toml")
    assert obook("config", "path", env={"XDG_CONFIG_HOME": str(tmp_path / "x")}).stdout.strip() == str(tmp_path / "x" / "obook" / "config.toml")
    assert obook("config", "path", env={"OBOOK_CONFIG": str(tmp_path / "o.toml")}).stdout.strip() == str(tmp_path / "o.toml")
    bare = obook("config")
    assert bare.code == 0 and "path" in bare.stdout and bare.stderr == "", bare


def test_without_a_file_the_builtin_defaults_apply(obook):
    run = obook("config", "show", "--json")
    assert run.code == 0, run
    assert run.json()["timeout"] == 10.0 and run.json()["depth"] is None and run.json()["boards"] == {}


def test_defaults_from_the_file_and_the_command_line_wins(obook, config_file, http_venue):
    config_file.write_text('[defaults]\ndepth = 7\ntimeout = 3\n')
    http_venue.route(V2, lambda request: Reply(body=payload("revx_doc_public_v2.json")))
    env = {"OBOOK_REVX_URL": http_venue.url}
    assert obook("snapshot", "revx", "BTC-USD", "--json", env=env).code == 0
    assert obook("snapshot", "revx", "BTC-USD", "--json", "--depth", "9", env=env).code == 0
    assert [r.query for r in http_venue.requests] == ["limit=7", "limit=9"]
    shown = obook("config", "show", "--json").json()
    assert shown["depth"] == 7 and shown["timeout"] == 3.0


def test_default_depth_is_capped_at_the_venues_maximum(obook, config_file, tmp_path):
    config_file.write_text("[defaults]\ndepth = 500\n")
    recording = tmp_path / "r.ndjson"
    books = [json.loads(line) for line in obook("replay", "--sample", "--speed", "max", "--count", "1").stdout.splitlines()]
    recording.write_text(json.dumps(books[0]) + "\n")
    assert len(obook("replay", str(recording), "--speed", "max").lines()[0]["bids"]) == 20  # all the recording has
    run = obook("snapshot", "bitso", "--feed", "top", "btc_mxn", "--timeout", "1", env={"OBOOK_BITSO_URL": "ws://127.0.0.1:9"})
    assert run.code == 3, run  # not "--depth 500 is out of range": a default is capped, not refused


def test_timeout_from_the_config(obook, config_file, unused_port):
    import time

    config_file.write_text("[defaults]\ntimeout = 1\n")
    started = time.monotonic()
    run = obook("watch", "bitso", "btc_mxn", "--json", env={"OBOOK_BITSO_URL": f"ws://127.0.0.1:{unused_port}"})
    assert_clean_failure(run, 3, "within 1s")
    assert time.monotonic() - started < 8


@pytest.mark.parametrize("text, needles", [
    ('[defaults]\ndepth = "ten"\n', ["defaults.depth", "whole number"]),
    ("[defaults]\ndepth = 0\n", ["defaults.depth", "1 to 1000"]),
    ("[defaults]\nstale_after = true\n", ["defaults.stale_after"]),
    ("[defaults]\ndepht = 5\n", ["unknown setting", "defaults.depht"]),
    ('[defaults]\ntheme = "neon"\n', ["defaults.theme", "colorblind"]),
    ('[defaults]\nask_color = "\\u001b[31m"\n', ["defaults.ask_color", "not a colour"]),
    ('[defaults]\nask_color = "reddish"\n', ["defaults.ask_color", "'reddish' is not a colour"]),
    ('[defaults]\nbid_color = "color(300)"\n', ["defaults.bid_color", "not a colour"]),
    ("[colours]\n", ["unknown setting", "colours"]),
    ("[defaults\n", ["not valid TOML"]),
    ('[boards]\nx = "bitso:btc_mxn"\n', ["boards.x", "list"]),
    ('[boards]\nx = ["bitso btc_mxn"]\n', ["boards.x", "VENUE:SYMBOL"]),
    ('[boards]\nx = ["a:b", "a:c", "a:d", "a:e", "a:f", "a:g", "a:h"]\n', ["boards.x", "1 to 6"]),
])
def test_bad_config_exits_2_naming_the_file_and_key(obook, config_file, text, needles):
    config_file.write_text(text)
    for args in (("config", "show"), ("replay", "--sample", "--count", "1", "--speed", "max")):
        run = obook(*args)
        assert_clean_failure(run, 2, str(config_file), *needles)
        assert "\x1b" not in run.stderr


def test_config_durations_have_the_command_lines_bounds(obook, config_file):
    """A timeout the command line takes (up to a day) is taken from the config file too, and no more."""
    config_file.write_text("[defaults]\ntimeout = 7200\nstale_after = 86400\n")
    shown = obook("config", "show", "--json").json()
    assert shown["timeout"] == 7200.0 and shown["stale_after"] == 86400.0
    config_file.write_text("[defaults]\ntimeout = 86401\n")
    assert_clean_failure(obook("config", "show"), 2, "defaults.timeout", "0.1 to 86400")
    assert_clean_failure(obook("snapshot", "bitso", "btc_mxn", "--timeout", "86401", env={"OBOOK_CONFIG": ""}), 2, "0.1 to 86400")


def test_config_size_is_bounded(obook, config_file):
    config_file.write_text("# padding\n" * 10000)
    assert_clean_failure(obook("config", "show"), 2, "larger than 64 KiB")
    config_file.write_bytes(b"\xff\xfe[defaults]\n")
    assert_clean_failure(obook("config", "show"), 2, "not UTF-8")


def test_missing_obook_config_file_is_an_error_and_empty_means_none(obook, config_file, tmp_path):
    config_file.write_text("[defaults]\ndepth = 0\n")  # broken, but OBOOK_CONFIG= skips it
    assert obook("config", "show", env={"OBOOK_CONFIG": ""}).code == 0
    assert_clean_failure(obook("config", "show", env={"OBOOK_CONFIG": str(tmp_path / "nope.toml")}), 2, "nope.toml", "no such file")


def test_a_board_expands_to_its_sources(obook, config_file, http_venue):
    config_file.write_text('[boards]\nusd = ["revx:BTC-USD", "revx:ETH-USD"]\none = ["revx:BTC-USD"]\n')
    http_venue.route(V1, Reply(body=payload("revx_doc_public_v1.json")))
    http_venue.route("/api/1.0/public/order-book/ETH-USD", Reply(body=payload("revx_doc_public_v1.json")))
    env = {"OBOOK_REVX_URL": http_venue.url}
    run = obook("snapshot", "@usd", "--json", env=env)
    assert run.code == 0, run
    assert [(b["venue"], b["symbol"]) for b in run.lines()] == [("revx", "BTC-USD"), ("revx", "ETH-USD")]
    single = obook("snapshot", "@one", "--json", env=env)
    assert single.code == 0 and single.json()["symbol"] == "BTC-USD", single
    assert_clean_failure(obook("snapshot", "@nope"), 2, "no board named 'nope'", "@usd")


def test_theme_colours_reach_the_ladder(obook, config_file, http_venue):
    http_venue.route(V1, Reply(body=payload("revx_doc_public_v1.json")))
    env = {"OBOOK_REVX_URL": http_venue.url, "FORCE_COLOR": "1", "COLORTERM": "truecolor", "TERM": "xterm-256color", "COLUMNS": "100"}
    plain = obook("snapshot", "revx", "BTC-USD", env=env).stdout
    config_file.write_text('[defaults]\ntheme = "colorblind"\n')
    themed = obook("snapshot", "revx", "BTC-USD", env=env).stdout
    assert "\x1b[31m" in plain or "\x1b[1;31m" in plain, plain
    assert "38;2;230;159;0" in themed and "\x1b[31m" not in themed, themed  # #e69f00 for asks
    config_file.write_text('[defaults]\ntheme = "mono"\n')
    assert "\x1b[3" not in obook("snapshot", "revx", "BTC-USD", env=env).stdout


def test_public_forces_the_public_book_with_credentials_configured(obook, http_venue, isolated_user_state):
    directory = isolated_user_state / ".config" / "revolut-x"
    directory.mkdir(parents=True)
    (directory / "config.json").write_text(json.dumps({"api_key": "k"}))
    os.chmod(directory / "config.json", 0o600)  # no private key: the authenticated book would fail with 6
    http_venue.route(V1, Reply(body=payload("revx_doc_public_v1.json")))
    env = {"OBOOK_REVX_URL": http_venue.url}
    assert obook("snapshot", "revx", "BTC-USD", "--json", env=env).code == 6
    run = obook("snapshot", "revx", "BTC-USD", "--json", "--public", env=env)
    assert run.code == 0, run
    assert http_venue.paths() == ["/api/1.0/public/order-book/BTC-USD"]  # public, default depth 5
    assert_clean_failure(obook("snapshot", "bitso", "btc_mxn", "--public"), 2, "--public applies to revx only")
