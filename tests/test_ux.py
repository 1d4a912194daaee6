"""What a new user and a shell-script author meet first: help, usage errors, venues,
symbols, replay input, and failures said in words (issue 15)."""

import gzip
import json
import subprocess
import time

import pytest

from tests.conftest import OBOOK, assert_clean_failure
from tests.servers.http_venue import Reply
from tests.test_replay import recorded_line

RECORDING = "\n".join(recorded_line(i, f"2025-01-01T00:00:00.{i}00Z") for i in range(3)) + "\n"


# -- replay input ---------------------------------------------------------------

def test_gzip_on_stdin_is_replayed():
    run = subprocess.run([OBOOK, "replay", "-", "--speed", "max", "--json"], input=gzip.compress(RECORDING.encode()),
                         capture_output=True, timeout=60)
    assert run.returncode == 0, run
    assert [json.loads(line)["best_bid"] for line in run.stdout.splitlines()] == ["7000", "7001", "7002"]


def test_a_file_that_is_not_a_recording_exits_2(obook, tmp_path):
    text = tmp_path / "notes.md"
    text.write_text("# notes\n\nnot a book\n")
    assert_clean_failure(obook("replay", str(text)), 2, "not an obook recording", "2 lines")
    empty = tmp_path / "empty.ndjson"
    empty.write_text("")
    assert_clean_failure(obook("replay", str(empty)), 2, "empty")
    assert_clean_failure(obook("replay", "-", input="garbage\n"), 2, "replay stdin", "not an obook recording")


def test_skipped_lines_are_reported(obook, tmp_path):
    session = tmp_path / "mixed.ndjson"
    session.write_text(RECORDING + "garbage\n{}\n")
    run = obook("replay", str(session), "--speed", "max")
    assert run.code == 0, run
    assert len(run.lines()) == 3
    assert "skipped 2 of 5 lines" in run.stderr and len(run.stderr.splitlines()) == 1
    clean = obook("replay", "-", "--speed", "max", input=RECORDING)
    assert clean.code == 0 and clean.stderr == "", clean


# -- usage errors and help ----------------------------------------------------------

def test_bare_obook_prints_help_and_exits_0(obook):
    run = obook()
    assert run.code == 0, run
    assert "Usage: obook" in run.stdout and run.stderr == ""


def test_help_command_is_an_alias(obook):
    run = obook("help")
    assert run.code == 0 and "Usage: obook" in run.stdout, run
    watch = obook("help", "watch")
    assert watch.code == 0 and "Usage: obook watch" in watch.stdout, watch


@pytest.mark.parametrize("args, page", [
    (["snapshto", "revx", "BTC-USD"], "'obook --help'"),
    (["--bogus"], "'obook --help'"),
    (["snapshot"], "'obook snapshot --help'"),
    (["watch", "revx", "BTC-USD", "--depth", "x"], "'obook watch --help'"),
    (["replay", "--speed"], "'obook replay --help'"),
])
def test_usage_hint_names_a_real_help_page(obook, args, page):
    run = obook(*args)
    assert_clean_failure(run, 2, page)
    assert ": (" not in run.stderr and "error:  " not in run.stderr  # never an empty message


def test_help_texts_read_right(obook):
    top = obook("--help").stdout
    assert "143" in top and "130" in top
    examples = top[top.index("Examples"):]
    first = next(line for line in examples.splitlines() if "obook " in line)
    assert "bitmart " not in first and "BMX_ETH" not in first  # lead with venues that are live today
    for command in ("venues", "symbols"):
        page = obook(command, "--help").stdout
        assert "JSON book" not in page and "JSON array" in page, page
    assert "first book" not in obook("symbols", "--help").stdout


# -- venues and symbols -----------------------------------------------------------------

@pytest.mark.parametrize("content, mode, needle", [
    ('{"api_key": "k"}', 0o644, "chmod 600"),
    ("not json", 0o600, "not valid JSON"),
])
def test_venues_lists_with_unusable_credentials(obook, isolated_user_state, content, mode, needle):
    directory = isolated_user_state / ".config" / "revolut-x"
    directory.mkdir(parents=True)
    (directory / "config.json").write_text(content)
    (directory / "config.json").chmod(mode)
    table = obook("venues", env={"COLUMNS": "80"})
    assert table.code == 0, table
    assert "unusable" in table.stdout and needle in table.stdout.replace("\n", " ")
    assert all(len(line.rstrip()) <= 80 for line in table.stdout.splitlines())
    rows = obook("venues", "--json")
    assert rows.code == 0, rows
    revx = next(v for v in rows.json() if v["id"] == "revx")
    assert revx["credentials_state"] == "unusable" and needle in revx["credentials"]
    assert revx["default_depth"] == 5  # the public book's


def test_venues_table_fits_80_columns(obook):
    run = obook("venues", env={"COLUMNS": "80"})
    assert run.code == 0, run
    lines = run.stdout.splitlines()
    assert all(len(line) <= 80 and line == line.rstrip() for line in lines)  # no padding left at line ends
    header = lines[0].split()
    assert header[:2] == ["venue", "transport"]
    from orderbook_cli.venues import venue_ids

    ids = venue_ids()  # every registered venue, plugins (kraken) included
    assert [line.split()[0] for line in lines[1:1 + len(ids)]] == ids  # one line each


@pytest.mark.parametrize("width", [10, 20, 30, 40, 50, 60, 70, 79, 120])
def test_a_narrow_venues_table_drops_whole_columns_and_cuts_no_cell(obook, width):
    """Never a partial number ("20 (max …"): a column goes whole, the least needed first."""
    run = obook("venues", env={"COLUMNS": str(width)})
    assert run.code == 0, run
    table = run.stdout.split("\n\n")[0].splitlines()
    assert all(len(line) <= width and "…" not in line for line in table), run.stdout
    header = table[0].split()
    assert header[0] == "venue" and header == [title for title in ("venue", "transport", "auth", "depth", "symbol") if title in header]
    if width >= 30:
        assert "depth" in header
    if width >= 79:
        assert len(header) == 5
    from orderbook_cli.venues import venue_ids

    assert [line.split()[0] for line in table[1:]] == venue_ids()


def test_venue_ids_are_case_insensitive(obook, http_venue):
    from tests.servers.http_venue import Reply, payload

    http_venue.route("/api/1.0/public/order-book/BTC-USD", Reply(body=payload("revx_doc_public_v1.json")))
    run = obook("snapshot", "Revx", "btc/usd", "--json", env={"OBOOK_REVX_URL": http_venue.url})
    assert run.code == 0, run
    assert run.json()["venue"] == "revx"


def test_malformed_symbol_hints_in_the_venues_spelling_and_suggests(obook, isolated_user_state):
    assert_clean_failure(obook("snapshot", "bitso", "btc mxn"), 2, "e.g. btc_mxn")
    assert "BTC-USD" not in obook("snapshot", "bitso", "btc mxn").stderr
    assert_clean_failure(obook("snapshot", "revx", "BTCUSD"), 2, "e.g. BTC-USD", "obook symbols revx")
    cache = isolated_user_state / ".cache" / "obook"
    cache.mkdir(parents=True)
    (cache / "symbols-revx.json").write_text(json.dumps({"fetched_at": time.time(), "symbols": ["BTC-USD", "ETH-USD"]}))
    assert_clean_failure(obook("snapshot", "revx", "BTCUSD"), 2, "did you mean BTC-USD?")
    assert_clean_failure(obook("snapshot", "revx", "ethusd"), 2, "did you mean ETH-USD?")


# -- failures in words ---------------------------------------------------------------

def test_unresolvable_host_is_one_short_line_in_words(obook):
    run = obook("snapshot", "bitso", "--feed", "top", "btc_mxn", "--timeout", "5", env={"OBOOK_BITSO_URL": "wss://ws.bitso.invalid"})
    assert_clean_failure(run, 3, "cannot resolve ws.bitso.invalid", "OBOOK_BITSO_URL")
    assert "Exception" not in run.stderr and "Errno" not in run.stderr and len(run.stderr.strip()) <= 120, run
    watch = obook("watch", "bitso", "btc_mxn", "--json", "--timeout", "2", env={"OBOOK_BITSO_URL": "wss://ws.bitso.invalid"})
    assert_clean_failure(watch, 3, "no order book within 2s: cannot resolve ws.bitso.invalid")
    assert len(watch.stderr.strip()) <= 120, watch  # one line at 120 columns
    http = obook("snapshot", "revx", "BTC-USD", "--timeout", "5", env={"OBOOK_REVX_URL": "https://revx.invalid"})
    assert_clean_failure(http, 3, "cannot resolve revx.invalid")
    assert "Errno" not in http.stderr


def test_refused_connection_in_words(obook, unused_port):
    run = obook("watch", "bitso", "btc_mxn", "--json", "--timeout", "2", env={"OBOOK_BITSO_URL": f"ws://127.0.0.1:{unused_port}"})
    assert_clean_failure(run, 3, "connection refused")
    assert "Error" not in run.stderr.replace("error:", "") and "Errno" not in run.stderr and "last problem" not in run.stderr


def test_a_web_server_instead_of_a_websocket_venue_is_said_in_words(obook, http_venue):
    """An OBOOK_*_URL that names a plain web server: one line that says so, never the page's markup."""
    page = "<!DOCTYPE HTML>\n<html lang=\"en\"><head><title>Directory listing</title></head><body>files</body></html>"
    http_venue.route("/", Reply(200, page, headers={"Content-Type": "text/html; charset=utf-8"}))
    run = obook("snapshot", "bitso", "btc_mxn", "--feed", "top", "--timeout", "3",
                env={"OBOOK_BITSO_URL": http_venue.url.replace("http://", "ws://")})
    assert_clean_failure(run, 3, "refused the WebSocket connection (HTTP 200)", "not a WebSocket endpoint")
    assert "<" not in run.stderr and "DOCTYPE" not in run.stderr
