"""Shell completions: committed scripts match the app, and real shells complete with them."""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import OBOOK
from tests.servers.http_venue import Reply, payload

ROOT = Path(__file__).resolve().parent.parent
BIN = str(Path(OBOOK).parent)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_committed_scripts_do_not_drift(obook, shell):
    run = obook("completions", shell)
    assert run.code == 0, run
    committed = (ROOT / "completions" / f"obook.{shell}").read_text()
    assert run.stdout == committed, f"completions/obook.{shell} drifted: run python scripts/gen_completions.py"


def bash_complete(line: str, env: dict) -> list[str]:
    """What `obook ...<TAB>` offers in a real bash with completions/obook.bash sourced."""
    words = line.split(" ")
    script = (
        f"source {ROOT}/completions/obook.bash\n"
        f"COMP_WORDS=({' '.join(repr(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "_obook_completion obook\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True, text=True, timeout=30,
                          env={**env, "PATH": f"{BIN}:{env['PATH']}"})
    assert proc.returncode == 0, proc.stderr
    return [line for line in proc.stdout.splitlines() if line]


def test_bash_completes_commands_venues_and_options():
    env = dict(os.environ)
    assert bash_complete("obook wa", env) == ["watch"]
    assert sorted(bash_complete("obook watch bi", env)) == ["bitmart", "bitmart-v3", "bitso"]
    options = bash_complete("obook snapshot revx BTC-USD --de", env)
    assert "--depth" in options and "--debug" in options
    assert bash_complete("obook completions f", env) == ["fish"]


def test_bash_completes_symbols_from_the_cache_without_network(isolated_user_state):
    cache = isolated_user_state / ".cache" / "obook"
    cache.mkdir(parents=True)
    (cache / "symbols-revx.json").write_text(json.dumps({"fetched_at": time.time(), "symbols": ["BTC-USD", "BTC-EUR", "ETH-USD"]}))
    env = {**os.environ, "OBOOK_REVX_URL": "http://127.0.0.1:9"}  # nothing there: completion must not care
    started = time.monotonic()
    assert sorted(bash_complete("obook snapshot revx BT", env)) == ["BTC-EUR", "BTC-USD"]
    assert sorted(bash_complete("obook snapshot revx bt", env)) == ["btc-eur", "btc-usd"]  # the case being typed
    assert time.monotonic() - started < 10
    assert "tried_at" not in json.loads((cache / "symbols-revx.json").read_text())  # fresh cache: no refresh started


def test_stale_cache_refreshes_in_the_background(isolated_user_state, http_venue):
    http_venue.route("/api/1.0/public/configuration/pairs", Reply(body=payload("revx_doc_pairs.json"), delay=1.0))
    env = {**os.environ, "OBOOK_REVX_URL": http_venue.url}
    started = time.monotonic()
    assert bash_complete("obook watch revx ", env) == []  # nothing cached yet: answers at once anyway
    assert time.monotonic() - started < 5  # did not wait for the (slow) venue
    cache = isolated_user_state / ".cache" / "obook" / "symbols-revx.json"
    deadline = time.monotonic() + 20
    while not (cache.exists() and json.loads(cache.read_text())["symbols"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert json.loads(cache.read_text())["symbols"] == ["BTC-USD", "ETH-EUR"]
    assert sorted(bash_complete("obook watch revx ", env)) == ["BTC-USD", "ETH-EUR"]
    assert len(http_venue.requests) == 1  # the attempt kept in the cache stops a second fetch
    assert sorted(p.name for p in cache.parent.iterdir()) == ["symbols-revx.json"]  # no marker or temporary file left


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_script_loads():
    proc = subprocess.run(["zsh", "-f", "-c", f"autoload -Uz compinit && compinit -u && source {ROOT}/completions/obook.zsh && whence -w _obook_completion"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and "function" in proc.stdout, proc.stderr


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes():
    proc = subprocess.run(["fish", "--no-config", "-c", f"source {ROOT}/completions/obook.fish; complete -C 'obook wa'"],
                          capture_output=True, text=True, timeout=30, env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == "watch"


def test_symbols_command(obook, http_venue):
    http_venue.route("/api/1.0/public/configuration/pairs", Reply(body=payload("revx_doc_pairs.json")))
    run = obook("symbols", "revx", "--refresh", "--json", env={"OBOOK_REVX_URL": http_venue.url})
    assert run.code == 0, run
    assert run.json() == ["BTC-USD", "ETH-EUR"]
    again = obook("symbols", "revx", env={"OBOOK_REVX_URL": "http://127.0.0.1:9"})  # from the cache
    assert again.stdout.split() == ["BTC-USD", "ETH-EUR"]


def test_symbols_for_websocket_venues_use_their_rest_lists(obook, http_venue):
    http_venue.route("/api/v3/available_books/", Reply(body={"success": True, "payload": [{"book": "btc_mxn"}, {"book": "eth_mxn"}]}))
    http_venue.route("/spot/v1/symbols", Reply(body={"code": 1000, "message": "OK", "data": {"symbols": ["BMX_ETH", "BTC_USDT"]}}))
    env = {"OBOOK_BITSO_REST_URL": http_venue.url, "OBOOK_BITMART_REST_URL": http_venue.url}
    assert obook("symbols", "bitso", "--json", env=env).json() == ["btc_mxn", "eth_mxn"]
    assert obook("symbols", "bitmart-v3", "--json", env=env).json() == ["BMX_ETH", "BTC_USDT"]


def readme_install_lines(shell: str) -> list[str]:
    """The README's install commands for one shell, as a user would paste them."""
    text = (ROOT / "README.md").read_text()
    block = text[text.index("## Shell completion"):]
    block = block[block.index("```sh") + 5: block.index("```", block.index("```sh") + 5)]
    lines, current = [], None
    for line in block.splitlines():
        if line.startswith("# "):
            current = line[2:].split()[0].rstrip(":")
        elif line.strip() and current == shell:
            lines.append(line)
    return lines


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_readme_install_lines_work_on_a_fresh_account(shell, tmp_path):
    home = tmp_path / "fresh"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "PATH": f"{BIN}:{os.environ['PATH']}", "XDG_CONFIG_HOME": str(home / ".config")}
    lines = readme_install_lines(shell)
    assert any(line.startswith("mkdir -p") for line in lines), lines
    proc = subprocess.run(["bash", "-e", "-c", "\n".join(lines)], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    installed = {"bash": ".local/share/bash-completion/completions/obook", "zsh": ".zfunc/_obook",
                 "fish": ".config/fish/completions/obook.fish"}[shell]
    assert (home / installed).read_text() == (ROOT / "completions" / f"obook.{shell}").read_text()


def test_bash_completes_board_names_from_the_config(isolated_user_state):
    config = isolated_user_state / ".config" / "obook"
    config.mkdir(parents=True)
    (config / "config.toml").write_text('[boards]\nusd = ["revx:BTC-USD"]\nmxn = ["bitso:btc_mxn"]\n')
    assert bash_complete("obook watch @u", dict(os.environ)) == ["@usd"]
    (config / "config.toml").write_text("[boards\n")  # broken: completion stays quiet
    assert bash_complete("obook watch @u", dict(os.environ)) == []


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completes_on_the_first_tab_when_installed_in_fpath(tmp_path):
    """compinit autoloads the file as _obook: its first call must complete, not only define."""
    (tmp_path / ".zfunc").mkdir()
    (tmp_path / ".zfunc" / "_obook").write_text((ROOT / "completions" / "obook.zsh").read_text())
    script = ("fpath=(~/.zfunc $fpath); autoload -Uz compinit; compinit -u -d ~/.zcompdump; "
              "_arguments() { print -r -- \"$@\" }; words=(obook wa); CURRENT=2; _obook")
    proc = subprocess.run(["zsh", "-f", "-c", script], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "HOME": str(tmp_path), "PATH": f"{BIN}:{os.environ['PATH']}"})
    assert proc.returncode == 0, proc.stderr
    assert '"watch"' in proc.stdout, proc.stdout
