"""Conditions set per board in the config file: `[boards.NAME]` with sources, until, alert, alert_cmd."""

from __future__ import annotations

from pathlib import Path

import pytest

from orderbook_cli import config
from orderbook_cli.conditions import parse
from orderbook_cli.errors import UsageError
from tests.conftest import assert_clean_failure

WHERE = Path("/cfg/config.toml")

DESK = """
[boards]
majors = ["bitso:btc_usd", "revx:BTC-USD"]

[boards.desk]
sources = ["bitso:btc_usd", "revx:BTC-USD"]
alert = ["spread>20bps", "crossed"]
alert_cmd = "notify-send obook"
until = "stale"

[boards.quiet]
sources = ["revx:ETH-USD"]
alert = "imbalance@25bps>30"
"""


def test_a_board_table_carries_its_conditions_and_a_list_board_none():
    cfg = config.parse(DESK.encode(), WHERE)
    assert cfg.boards == {"majors": ("bitso:btc_usd", "revx:BTC-USD"), "desk": ("bitso:btc_usd", "revx:BTC-USD"),
                          "quiet": ("revx:ETH-USD",)}
    desk = cfg.conditions["desk"]
    assert desk.until == parse("stale")
    assert desk.alerts == (parse("spread>20bps"), parse("crossed"))
    assert desk.alert_cmd == "notify-send obook"
    assert cfg.conditions["quiet"].alerts == (parse("imbalance@25bps>30"),)  # one alert needs no list
    assert "majors" not in cfg.conditions


def test_the_conditions_of_the_boards_used():
    cfg = config.parse(DESK.encode(), WHERE)
    assert config.board_conditions(["bitso:btc_usd"], cfg) == config.BoardConditions()
    assert config.board_conditions(["@majors"], cfg) == config.BoardConditions()
    both = config.board_conditions(["@desk", "@quiet", "@desk"], cfg)
    assert both.until == parse("stale") and both.alert_cmd == "notify-send obook"
    assert both.alerts == (parse("spread>20bps"), parse("crossed"), parse("imbalance@25bps>30"))


def test_boards_that_disagree_on_until_need_the_command_line():
    text = DESK + '\n[boards.other]\nsources = ["revx:BTC-USD"]\nuntil = "crossed"\n'
    cfg = config.parse(text.encode(), WHERE)
    with pytest.raises(UsageError, match="different until"):
        config.board_conditions(["@desk", "@other"], cfg)


@pytest.mark.parametrize("board, needles", [
    ('sources = ["revx:BTC-USD"]\nuntil = "spred<1"\n', ["boards.desk.until 'spred<1'", "unknown field"]),
    ('sources = ["revx:BTC-USD"]\nalert = ["spread>20bps", "mid>20bps"]\n', ["boards.desk.alert 'mid>20bps'", "spread only"]),
    ('sources = ["revx:BTC-USD"]\nalert = 5\n', ["boards.desk.alert", "list of conditions"]),
    ('sources = ["revx:BTC-USD"]\nuntil = 5\n', ["boards.desk.until", "must be a string"]),
    ('sources = ["revx:BTC-USD"]\nalert = [' + ", ".join(['"crossed"'] * 17) + "]\n", ["boards.desk.alert", "at most 16"]),
    ('sources = ["revx:BTC-USD"]\nalert_cmd = ""\n', ["boards.desk.alert_cmd", "1 to 1000"]),
    ('sources = ["revx:BTC-USD"]\nalert_cmd = 3\n', ["boards.desk.alert_cmd", "a string"]),
    ('sources = ["revx:BTC-USD"]\nalret = "crossed"\n', ["unknown setting boards.desk.alret"]),
    ('until = "crossed"\n', ["boards.desk.sources", "list of 1 to 6"]),
])
def test_a_bad_board_condition_exits_2_naming_the_file_and_key(obook, config_file, board, needles):
    config_file.write_text("[boards.desk]\n" + board)
    run = obook("config", "show")
    assert_clean_failure(run, 2, str(config_file), *needles)


@pytest.fixture
def config_file(isolated_user_state):
    where = isolated_user_state / ".config" / "obook" / "config.toml"
    where.parent.mkdir(parents=True)
    return where
