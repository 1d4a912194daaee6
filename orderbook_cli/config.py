"""The user's defaults: `$XDG_CONFIG_HOME/obook/config.toml` (default `~/.config/obook/config.toml`).

    [defaults]
    depth = 10              # levels a side when --depth is not given (capped at the venue's maximum)
    stale_after = 3         # seconds (watch/replay --stale-after)
    timeout = 15            # seconds (--timeout)
    theme = "colorblind"    # default (red/green), colorblind (orange/blue) or mono (no colour)
    ask_color = "red"       # override the theme's side colours (a colour name, #rrggbb or color(N))
    bid_color = "green"

    [boards]                # named source lists: `obook watch @majors`
    majors = ["bitso:btc_usd", "revx:BTC-USD", "bitmart-v3:BTC_USDT"]

    [boards.desk]           # a board with its own conditions (see `obook watch --help`)
    sources = ["bitso:btc_usd", "revx:BTC-USD"]
    alert = ["spread>20bps", "crossed"]
    alert_cmd = "notify-send obook"
    until = "stale"

The command line always wins. The file comes from outside, so it is bounded
(64 KiB), and every value is checked: a bad file is a usage error (exit 2)
naming the file and the key, never a silent fallback. `OBOOK_CONFIG` names
another file (an empty value: no config file at all).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from orderbook_cli.errors import UsageError, sanitize
from orderbook_cli.smallfile import Unsuitable, read_small

if TYPE_CHECKING:
    from orderbook_cli import conditions as cond

MAX_BYTES = 64 * 1024
MAX_BOARDS = 50
MAX_SOURCES = 6  # as many as one command line takes
MAX_SECONDS = 86400.0  # the longest duration or timeout, in a config file as on the command line: a day
THEMES = {"default": ("red", "green"), "colorblind": ("#e69f00", "#0072b2"), "mono": ("", "")}
# Patterns, compiled on first use (re's own cache): most runs have no config file.
_BOARD_NAME = r"[A-Za-z0-9_-]{1,32}"
_SOURCE = r"[A-Za-z0-9_.-]{1,40}:[A-Za-z0-9/_-]{1,41}"
_COLOUR = r"#[0-9a-fA-F]{6}|color\(([0-9]{1,3})\)|(bright_)?(black|red|green|yellow|blue|magenta|cyan|white)|([a-z_]{3,24}[0-9]{0,2})"


class ConfigError(UsageError):
    kind = "config error"


class BoardConditions(NamedTuple):
    """A board's own --until / --alert / --alert-cmd (the command line's replace them)."""

    until: cond.Condition | None = None
    alerts: tuple[cond.Condition, ...] = ()
    alert_cmd: str | None = None


class Config(NamedTuple):
    path: Path | None = None  # None: no file (built-in defaults)
    depth: int | None = None
    stale_after: float | None = None
    timeout: float | None = None
    theme: str = "default"
    ask_color: str | None = None
    bid_color: str | None = None
    boards: Mapping[str, tuple[str, ...]] = {}
    conditions: Mapping[str, BoardConditions] = {}  # boards written as tables with conditions

    @property
    def colours(self) -> tuple[str, str]:
        """(ask, bid) styles; empty strings mean no colour."""
        ask, bid = THEMES[self.theme]
        return self.ask_color or ask, self.bid_color or bid


def path(environ: Mapping[str, str] = os.environ) -> Path | None:
    """Where obook reads its config (whether or not the file exists); None when OBOOK_CONFIG is empty."""
    if "OBOOK_CONFIG" in environ:
        return Path(environ["OBOOK_CONFIG"]).expanduser() if environ["OBOOK_CONFIG"] else None
    base = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "obook" / "config.toml"


def load(environ: Mapping[str, str] = os.environ) -> Config:
    """The config, validated; built-in defaults when there is no file."""
    where = path(environ)
    if where is None:
        return Config()
    try:
        data = read_small(where, MAX_BYTES)
    except FileNotFoundError:
        if "OBOOK_CONFIG" in environ:  # named explicitly: it must be there
            raise ConfigError(f"{where}: no such file", hint="fix OBOOK_CONFIG, or set it empty for no config") from None
        return Config()
    except Unsuitable as exc:  # a FIFO, a device, or far too large: never read
        raise ConfigError(f"{where} {exc}", hint="a config file holds a few settings; is this the right file?") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {where}: {exc.strerror}") from None
    return parse(data, where)


def parse(data: bytes, where: Path) -> Config:
    import tomllib

    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{where} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {sanitize(exc, 160)}") from None
    except ValueError:  # tomllib's int(): a number of more than 4,300 digits
        raise ConfigError(f"{where}: {_overlong_number(data)}") from None
    except RecursionError:  # arrays nested thousands deep
        raise ConfigError(f"{where} is not valid TOML: nested too deeply") from None
    _only(document, ("defaults", "boards"), where, "")
    defaults = _table(document, "defaults", where)
    _only(defaults, ("depth", "stale_after", "timeout", "theme", "ask_color", "bid_color"), where, "defaults.")
    theme = _get(defaults, "theme", str, where, "defaults.", "default")
    if theme not in THEMES:
        raise ConfigError(f"{where}: defaults.theme must be one of {', '.join(THEMES)} (got {sanitize(theme, 40)!r})")
    return Config(
        path=where,
        depth=_number(defaults, "depth", int, 1, 1000, where),
        stale_after=_number(defaults, "stale_after", float, 0.1, MAX_SECONDS, where),
        timeout=_number(defaults, "timeout", float, 0.1, MAX_SECONDS, where),
        theme=theme,
        ask_color=_colour(defaults, "ask_color", where),
        bid_color=_colour(defaults, "bid_color", where),
        **_boards(_table(document, "boards", where), where),
    )


def _overlong_number(data: bytes) -> str:
    """Which key holds the number too long to convert (the file is at most MAX_BYTES)."""
    table = ""
    for line in data.decode("utf-8", "replace").splitlines():
        header = re.match(_TABLE_HEADER, line)
        if header:
            table = header.group(1).strip() + "."
        elif re.search(_LONG_DIGITS, line):
            key = sanitize(line.partition("=")[0].strip(), 40)
            return f"{table}{key} is a number of thousands of digits; give a number in range"
    return "a number of thousands of digits; give a number in range"


_TABLE_HEADER = r"\s*\[([^\]]{1,60})\]"
_LONG_DIGITS = r"[0-9_]{1000}"


def _only(table: dict, known: tuple[str, ...], where: Path, prefix: str) -> None:
    for key in table:
        if key not in known:
            raise ConfigError(f"{where}: unknown setting {prefix}{sanitize(key, 40)}", hint=f"known here: {', '.join(prefix + k for k in known)}")


def _table(document: dict, name: str, where: Path) -> dict:
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: {name} must be a table ([{name}])")
    return table


def _get(table: dict, key: str, kind: type, where: Path, prefix: str, default: Any = None) -> Any:
    value = table.get(key, default)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool) and kind is not bool):
        raise ConfigError(f"{where}: {prefix}{key} must be {_KIND_NAMES[kind]} (got {sanitize(repr(value), 40)})")
    return value


_KIND_NAMES = {int: "a whole number", float: "a number", str: "a string", list: "a list"}


def _number(table: dict, key: str, kind: type, low: float, high: float, where: Path) -> Any:
    value = table.get(key)
    if value is None:
        return None
    accepted = (int,) if kind is int else (int, float)
    if isinstance(value, bool) or not isinstance(value, accepted) or not low <= value <= high:
        raise ConfigError(f"{where}: defaults.{key} must be {_KIND_NAMES[kind]} from {low:g} to {high:g} (got {sanitize(repr(value), 40)})")
    return kind(value)


def _colour(table: dict, key: str, where: Path) -> str | None:
    value = _get(table, key, str, where, "defaults.")
    if value is not None and not _is_colour(value):
        raise ConfigError(f"{where}: defaults.{key} {sanitize(value, 40)!r} is not a colour",
                          hint="a name such as red or bright_blue (`python -m rich.color` lists them), #rrggbb, or color(0) to color(255)")
    return value


def _is_colour(value: str) -> bool:
    """A colour the terminal views can draw: the common forms by pattern, other names from Rich's list."""
    match = re.fullmatch(_COLOUR, value)
    if match is None:
        return False
    if match.group(1) is not None:
        return int(match.group(1)) <= 255
    if match.group(4) is not None:  # a rarer name (grey50, dark_orange…): Rich is loaded only for these
        from rich.color import ANSI_COLOR_NAMES

        return value in ANSI_COLOR_NAMES
    return True


def _boards(table: dict, where: Path) -> dict[str, dict]:
    """`boards` and `conditions` for Config: a board is a list of sources, or a table
    with `sources` and its own `until`, `alert` and `alert_cmd`."""
    if len(table) > MAX_BOARDS:
        raise ConfigError(f"{where}: {len(table)} boards; at most {MAX_BOARDS}")
    boards, conditions = {}, {}
    for name, entry in table.items():
        label = f"boards.{sanitize(name, 40)}"
        if not re.fullmatch(_BOARD_NAME, name):
            raise ConfigError(f"{where}: board name {sanitize(name, 40)!r} must be letters, digits, - or _ (at most 32)")
        sources = entry
        if isinstance(entry, dict):
            _only(entry, BOARD_KEYS, where, f"{label}.")
            sources = entry.get("sources")
            conditions[name] = _board_conditions(entry, where, label)
        if not isinstance(sources, list) or not 1 <= len(sources) <= MAX_SOURCES:
            what = f"{label}.sources" if isinstance(entry, dict) else label
            raise ConfigError(f"{where}: {what} must be a list of 1 to {MAX_SOURCES} \"VENUE:SYMBOL\" strings")
        for source in sources:
            if not isinstance(source, str) or not re.fullmatch(_SOURCE, source):
                raise ConfigError(f"{where}: {label}: {sanitize(repr(source), 50)} is not VENUE:SYMBOL", hint="e.g. \"bitso:btc_mxn\"")
        boards[name] = tuple(sources)
    return {"boards": boards, "conditions": conditions}


BOARD_KEYS = ("sources", "until", "alert", "alert_cmd")
MAX_ALERT_CMD = 1000  # characters (as --alert-cmd)


def _board_conditions(entry: dict, where: Path, label: str) -> BoardConditions:
    from orderbook_cli import conditions as cond  # only a board with conditions needs the parser

    try:
        until = entry.get("until")
        alerts = entry.get("alert", [])
        if isinstance(alerts, str):  # one alert needs no list
            alerts = [alerts]
        if not isinstance(alerts, list):
            raise ConfigError(f"{where}: {label}.alert must be a condition or a list of conditions", hint="e.g. alert = [\"spread>20bps\", \"crossed\"]")
        command = _get(entry, "alert_cmd", str, where, f"{label}.")
        if command is not None and not 0 < len(command) <= MAX_ALERT_CMD:
            raise ConfigError(f"{where}: {label}.alert_cmd must be a command of 1 to {MAX_ALERT_CMD} characters")
        return BoardConditions(
            until=None if until is None else cond.parse(until, f"{label}.until"),
            alerts=cond.parse_all(alerts, f"{label}.alert"),
            alert_cmd=command,
        )
    except cond.ConditionError as error:
        raise ConfigError(f"{where}: {error.message}", hint=error.hint) from None


def board_conditions(args: list[str], config: Config | None = None) -> BoardConditions:
    """The conditions of the @boards among `args` (their alerts together; at most one `until`)."""
    names = [arg[1:] for arg in args if arg.startswith("@")]
    if not names:
        return BoardConditions()  # the common case reads no file
    config = config or load()
    found = [config.conditions[name] for name in names if name in config.conditions]
    untils = {c.until for c in found if c.until is not None}
    commands = {c.alert_cmd for c in found if c.alert_cmd is not None}
    if len(untils) > 1 or len(commands) > 1:
        raise UsageError("these boards set different until or alert_cmd settings", hint="give --until / --alert-cmd on the command line")
    alerts = tuple(dict.fromkeys(a for c in found for a in c.alerts))  # one each, in order
    return BoardConditions(next(iter(untils), None), alerts, next(iter(commands), None))


def expand_boards(args: list[str], config: Config | None = None) -> list[str]:
    """Sources with every `@NAME` replaced by that board's VENUE:SYMBOL list."""
    if not any(arg.startswith("@") for arg in args):
        return list(args)  # the common case reads no file
    config = config or load()
    out: list[str] = []
    for arg in args:
        if not arg.startswith("@"):
            out.append(arg)
            continue
        name = arg[1:]
        if name not in config.boards:
            known = ", ".join("@" + n for n in config.boards) or "none defined"
            raise UsageError(f"no board named {sanitize(name, 40)!r} in {config.path or 'the config file'}",
                             hint=f"boards: {known} (see 'obook config path')")
        out.extend(config.boards[name])
    return out
