"""Record and replay: `watch --json > file` is the recording; `replay` plays it back."""

import gzip
import json
import shlex
import shutil
import time

import pytest

from tests.conftest import OBOOK, assert_clean_failure

ACK = {"action": "subscribe", "response": "ok", "time": 1, "type": "orders"}


def orders(seq):
    return {"type": "orders", "book": "btc_mxn", "sent": 1700000000000 + seq, "payload": {
        "bids": [{"r": str(7000 + seq), "a": "1"}, {"r": "6990", "a": "0.5"}, {"r": "6990", "a": "0.25"}],
        "asks": [{"r": "8000", "a": "2"}]}}


def recorded_line(seq, received_at):
    return json.dumps({"venue": "bitso", "symbol": "btc_mxn", "timestamp": None, "received_at": received_at,
                       "bids": [{"price": str(7000 + seq), "amount": "1", "total": "1", "count": 1}],
                       "asks": [{"price": "8000", "amount": "2", "total": "2", "count": None}],
                       "best_bid": str(7000 + seq), "best_ask": "8000", "spread": "1", "mid": "1"})


def test_record_then_replay_at_max_speed(obook, ws_venue, tmp_path):
    def script(peer):
        peer.expect_json()
        peer.send(ACK)
        for seq in range(60):
            peer.send(orders(seq))
        peer.hold()

    venue = ws_venue(script)
    recording = obook("watch", "bitso", "--feed", "top", "btc_mxn", "--json", "--count", "50", env={"OBOOK_BITSO_URL": venue.url})
    assert recording.code == 0, recording
    session = tmp_path / "s.ndjson"
    session.write_text(recording.stdout)
    replayed = obook("replay", str(session), "--speed", "max")
    assert replayed.code == 0, replayed
    original, again = recording.lines(), replayed.lines()
    assert len(again) == 50
    for before, after in zip(original, again):  # the same books, totals recomputed to the same values
        assert {k: before[k] for k in ("venue", "symbol", "timestamp", "received_at", "bids", "asks", "spread", "mid")} == \
               {k: after[k] for k in ("venue", "symbol", "timestamp", "received_at", "bids", "asks", "spread", "mid")}


def test_recorded_pace_and_speed(obook, tmp_path):
    session = tmp_path / "paced.ndjson"
    session.write_text("\n".join(recorded_line(i, f"2025-01-01T00:00:0{2 * i}.000Z") for i in range(3)) + "\n")  # 2 s apart
    started = time.monotonic()
    assert len(obook("replay", str(session), "--speed", "10").lines()) == 3
    fast = time.monotonic() - started
    started = time.monotonic()
    assert len(obook("replay", str(session), "--speed", "2").lines()) == 3
    slow = time.monotonic() - started
    assert 0.3 <= fast < 1.9 and slow >= 2.0 and slow > fast + 1.2, (fast, slow)


def test_replay_reads_stdin_and_gzip(obook, tmp_path):
    text = "\n".join(recorded_line(i, f"2025-01-01T00:00:00.{i}00Z") for i in range(3)) + "\n"
    assert [b["best_bid"] for b in obook("replay", "-", "--speed", "max", input=text).lines()] == ["7000", "7001", "7002"]
    packed = tmp_path / "s.ndjson.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    assert len(obook("replay", str(packed), "--speed", "max").lines()) == 3


def test_replay_skips_bad_lines_and_applies_depth_and_group(obook, tmp_path):
    session = tmp_path / "mixed.ndjson"
    session.write_text("\n".join([recorded_line(1, "2025-01-01T00:00:00Z"), "garbage", "{}", recorded_line(2, "2025-01-01T00:00:00.5Z")]) + "\n")
    run = obook("replay", str(session), "--speed", "max", "--group", "100", "--debug")
    assert run.code == 0, run
    assert [b["bids"][0]["price"] for b in run.lines()] == ["7000", "7000"]
    assert "line 2" in run.stderr and "line 3" in run.stderr


def test_replay_usage_errors(obook, tmp_path):
    missing = obook("replay", str(tmp_path / "missing.ndjson"))
    assert_clean_failure(missing, 2, "cannot read")
    assert "obook replay --sample" in missing.stderr  # what to do
    assert_clean_failure(obook("replay", "--sample", str(tmp_path / "missing.ndjson")), 2, "--sample", "takes no FILE")
    assert_clean_failure(obook("completions"), 2, "Choose from: bash, zsh, fish")  # click's lines, as one line
    assert_clean_failure(obook("replay", "--sample", "--speed", "fast"), 2, "--speed")
    assert_clean_failure(obook("replay", "--sample", "--speed", "0"), 2, "positive")


def test_sample_ships_with_the_package(obook):
    run = obook("replay", "--sample", "--speed", "max", "--count", "5")
    assert run.code == 0, run
    books = run.lines()
    assert len(books) == 5 and books[0]["venue"] == "bitso"
    assert len({b["best_bid"] + b["best_ask"] for b in obook("replay", "--sample", "--speed", "max").lines()}) > 20  # it moves


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_sample_draws_a_moving_ladder_offline(tmp_path):
    from tests.test_terminal import Terminal

    term = Terminal(tmp_path)
    try:
        term.start(f"{shlex.quote(OBOOK)} replay --sample")
        first = term.wait_for(r"spread")
        time.sleep(1.5)
        assert term.screen() != first  # it moves
        term.keys("q")
        term.wait_for(r"EXIT=0")
    finally:
        term.close()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_no_color_in_a_real_terminal(tmp_path):
    from tests.test_terminal import Terminal

    for env, coloured in (("", True), ("NO_COLOR=1 ", False)):
        term = Terminal(tmp_path / ("c" if coloured else "n"))
        (tmp_path / ("c" if coloured else "n")).mkdir()
        try:
            term.start(f"{env}{shlex.quote(OBOOK)} replay --sample")
            term.wait_for(r"spread")
            screen = term.tmux("capture-pane", "-p", "-e", "-t", "t")
            assert ("\x1b[31m" in screen or "\x1b[1;31m" in screen or "\x1b[38" in screen) is coloured, screen[:500]
            assert "ask" in screen and "bid" in screen  # sides are labelled either way
        finally:
            term.close()


def test_version_with_debug_lists_libraries(obook):
    plain = obook("--version")
    assert plain.stdout.strip().startswith("obook ") and len(plain.stdout.splitlines()) == 1
    detailed = obook("--version", "--debug").stdout
    for package in ("typer", "rich", "httpx", "websocket-client", "pynacl", "Python"):
        assert package in detailed


@pytest.mark.parametrize("command", ["venues", "snapshot", "watch", "replay", "symbols", "completions", "config", "config path", "config show"])
def test_every_command_has_help_with_examples(obook, command):
    run = obook(*command.split(), "--help")
    assert run.code == 0, run
    assert ("Examples" in run.stdout or "Install" in run.stdout) and "obook " in run.stdout


def side_by_side_recording(obook, path) -> list[dict]:
    """What `obook watch bitso:btc_mxn revx:BTC-USD --json > FILE` writes: one source's book a line, interleaved."""
    books = obook("replay", "--sample", "--speed", "max", "--json", "--count", "3").lines()
    other = [{**book, "venue": "revx", "symbol": "BTC-USD"} for book in books]
    lines = [line for pair in zip(books, other) for line in pair]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return lines


def test_a_side_by_side_recording_plays_its_first_source_and_names_the_others(obook, tmp_path):
    recording = tmp_path / "both.ndjson"
    side_by_side_recording(obook, recording)
    run = obook("replay", str(recording), "--speed", "max", "--json")
    assert run.code == 0, run
    assert [(b["venue"], b["symbol"]) for b in run.lines()] == [("bitso", "btc_mxn")] * 3  # never flipping between venues
    assert run.stderr.count("\n") == 1
    assert "played bitso btc_mxn, the file's first source, and left out 3 books of revx BTC-USD" in run.stderr
    assert f"""jq -c 'select(.venue == "revx")' {recording} | obook replay -""" in run.stderr
    revx = "".join(line for line in recording.read_text().splitlines(keepends=True) if '"venue": "revx"' in line)
    run = obook("replay", "-", "--speed", "max", "--json", input=revx)  # what the suggested command does
    assert [(b["venue"], b["symbol"]) for b in run.lines()] == [("revx", "BTC-USD")] * 3 and run.stderr == ""


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_side_by_side_recording_is_one_steady_ladder(obook, terminal, tmp_path):
    recording = tmp_path / "both.ndjson"
    side_by_side_recording(obook, recording)
    terminal.start(f"{shlex.quote(OBOOK)} replay {shlex.quote(str(recording))} --speed 0.01", width=100, height=30)
    screen = terminal.wait_for(r"book 1/3 ", stable=True)  # three books, not six flipping between venues
    assert "revx" not in screen
    terminal.keys(" .")  # pause, step: the next book is the same source's
    screen = terminal.wait_for(r"book 2/3 ", stable=True)
    assert "bitso btc_mxn" in screen and "revx" not in screen
    terminal.keys("q")
    terminal.wait_for(r"EXIT=0")


def test_the_help_lists_every_exit_status_the_contract_has(obook):
    """The list is made from the one enum of exit statuses: a status added there shows here, 124 included."""
    from orderbook_cli.errors import ExitStatus

    text = " ".join(obook("--help", env={"COLUMNS": "200"}).stdout.split())
    for status in ExitStatus:
        assert f"{int(status)} {status.meaning}" in text, status
    assert "124 --until never held" in text


def test_closing_a_replay_ends_its_pacing_wait_at_once():
    """Quitting the ladder closes the feed: the replay's producer, waiting out the recording's
    gap (a minute here), returns now, so obook's exit does not sit out its wait."""
    import io
    import threading

    from orderbook_cli.feed import FeedRequest
    from orderbook_cli.replay import SAMPLE, Player, Tally

    with gzip.open(SAMPLE) as recording:
        first, second = json.loads(recording.readline()), json.loads(recording.readline())
    second["received_at"] = "2030-01-01T00:01:00.000Z"
    first["received_at"] = "2030-01-01T00:00:00.000Z"
    player = Player(io.BytesIO((json.dumps(first) + "\n" + json.dumps(second) + "\n").encode()), 1.0, Tally())
    feed = player.feed(FeedRequest("bitso", "btc_mxn", 20, 10.0))
    shown = threading.Event()
    feed.start(lambda event: (type(event).__name__ != "BookEvent" or shown.set()) or True)
    assert shown.wait(10)  # the first book is out; the second is a minute away
    time.sleep(0.3)  # the producer is in its wait by now
    feed.close()
    feed._thread.join(5)
    assert not feed._thread.is_alive()
