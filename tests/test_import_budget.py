"""Start-up stays lean: each command imports only what it uses.

Counted in modules (stable across machines), not wall time; the timing
comparison lives in bench/run.py.
"""

import gc
import json
import subprocess
import sys
import time

from tests.servers.http_venue import Reply, payload

PROBE = """
import json, sys
from orderbook_cli.main import main
code = main(sys.argv[1:])
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
raise SystemExit(code)
"""

# What `snapshot --json` measured when this budget was set with plain Typer parsing (revx: 297, bitso: 218), plus ~5%;
# the time it costs is bench/run.py's snapshot figure (within its 1.15x budget).
BUDGETS = {"revx": 312, "bitso": 229}
# Typer parses every command line (its vendored click too); what draws, signs or validates is loaded only when used
NEVER_ON_THE_JSON_PATH = ["rich", "orderbook_cli.views", "orderbook_cli.pipeline.live", "pydantic", "cryptography",
                          "orderbook_cli.conditions", "orderbook_cli.impact",  # only --until/--alert, --impact load these
                          "orderbook_cli.liquidity"]  # only the ladder, --liquidity and conditions' bands


def modules_loaded(args, env):
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stderr.rsplit("MODULES ", 1)[1])


def loaded(modules, package):
    return any(m == package or m.startswith(package + ".") for m in modules)


def test_revx_snapshot_json_imports(http_venue, monkeypatch):
    import os

    http_venue.route("/api/1.0/public/order-book/ETH-USD", Reply(body=payload("revx_doc_public_v1.json")))
    modules = modules_loaded(["snapshot", "revx", "ETH-USD", "--json"], {**os.environ, "OBOOK_REVX_URL": http_venue.url})
    for package in NEVER_ON_THE_JSON_PATH + ["nacl", "websocket", "orderbook_cli.transport.reasons"]:  # no credentials: no signing library; no failure to word
        assert not loaded(modules, package), package
    assert len(modules) <= BUDGETS["revx"], len(modules)


def test_bitso_snapshot_json_imports(ws_venue):
    import os

    def script(peer):
        peer.expect_json()
        peer.send(payload("bitso_doc_orders.json").decode())
        peer.hold(5)

    venue = ws_venue(script)
    modules = modules_loaded(["snapshot", "bitso", "--feed", "top", "btc_mxn", "--json"], {**os.environ, "OBOOK_BITSO_URL": venue.url})
    for package in NEVER_ON_THE_JSON_PATH + ["nacl", "httpx"]:
        assert not loaded(modules, package), package
    assert len(modules) <= BUDGETS["bitso"], len(modules)


def test_the_cycle_collector_pauses_for_start_up_only():
    """obook's process pauses the collector while it starts, then freezes what start-up
    made and turns it back on by the clock (a watch runs all day)."""
    from orderbook_cli.main import _pause_cycle_collector

    try:
        _pause_cycle_collector(0.2)
        assert not gc.isenabled()
        deadline = time.monotonic() + 10
        while not gc.isenabled() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()


def test_the_process_freezes_what_is_left_at_exit():
    """The interpreter's shutdown collections would walk every object once more for nothing."""
    probe = ("import atexit, gc, sys\n"
             "atexit.register(lambda: print('frozen', gc.get_freeze_count()))  # runs after obook's: last in, first out\n"
             "from orderbook_cli.main import _pause_cycle_collector\n"
             "_pause_cycle_collector(100)\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.split()[-1]) > 0


def _threads_left_at_exit(lines: str) -> tuple[str, float]:
    """What threading.active_count() says after obook's exit handler (the probe's own handler,
    registered first, runs last), and how long the process took."""
    probe = ("import atexit, threading, time\n"
             "atexit.register(lambda: print('threads', threading.active_count()))  # runs after obook's: last in, first out\n"
             "from orderbook_cli.main import _pause_cycle_collector\n"
             "_pause_cycle_collector(100)\n" + lines)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()[-1], time.monotonic() - started


def test_threads_winding_down_are_waited_for_before_the_interpreter_shuts_down():
    """A thread that ended while the interpreter shut down crashed it: 1 snapshot in 300 that
    ended as the pause timer fired died with "double free or corruption" (exit 134)."""
    left, _ = _threads_left_at_exit("threading.Thread(target=time.sleep, args=(0.2,), daemon=True).start()\n")
    assert left == "1"  # the main thread alone: the timer was cancelled and joined, the sleeper waited for


def test_a_stuck_thread_delays_the_exit_by_a_bounded_time():
    from orderbook_cli.main import EXIT_WAIT_SECONDS

    left, took = _threads_left_at_exit("threading.Thread(target=threading.Event().wait, daemon=True).start()\n")
    assert left == "2"  # the stuck one is left behind
    assert took < EXIT_WAIT_SECONDS + 5  # the process start-up and the wait, not for ever


def test_main_called_with_arguments_leaves_the_collector_alone(capsys):
    from orderbook_cli.main import main

    assert main(["--version"]) == 0
    assert gc.isenabled() and "obook" in capsys.readouterr().out


def test_a_command_line_naming_one_command_builds_that_command_alone_the_same():
    """command_for builds only the command named (start-up); what it builds is what the whole app has."""
    from typer.main import get_command

    from orderbook_cli.cli import app, command_for

    whole = get_command(app)
    for name, full in whole.commands.items():
        alone = command_for([name, "--json"])
        if name in ("help", "config"):  # they walk the whole tree
            assert set(alone.commands) == set(whole.commands), name
            continue
        assert list(alone.commands) == [name], name
        built = alone.commands[name]
        assert [p.opts for p in built.params] == [p.opts for p in full.params], name
        assert built.help == full.help and built.epilog == full.epilog, name
    assert set(command_for(["--debug", "snapshot"]).commands) == set(whole.commands)  # not a command first: the whole app


def test_version_is_answered_before_typer_typing_or_json_load():
    """`obook --version` is the cheapest answer there is (bench/run.py holds it to 2.5x `python -c pass`)."""
    probe = ("import sys\nfrom orderbook_cli.main import main\ncode = main(['--version'])\n"
             "sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)) + '\\n')\nraise SystemExit(code)\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and proc.stdout.startswith("obook "), proc
    modules = proc.stderr.rsplit("MODULES ", 1)[1].split()
    for package in ("typer", "rich", "httpx", "typing", "json"):
        assert not loaded(modules, package), package


def test_help_pages_are_click_plain_text_without_rich():
    """A help page is click's plain text: drawing it with Rich loaded Rich and Typer's Rich
    formatter, a third of every `--help` (bench/run.py holds it to 5x `python -c pass`)."""
    import os

    for args in (["--help"], ["watch", "--help"], ["help", "config", "show"]):
        modules = modules_loaded(args, {**os.environ, "COLUMNS": "80"})
        for package in ("rich", "typer.rich_utils", "orderbook_cli.views"):
            assert not loaded(modules, package), (args, package)
