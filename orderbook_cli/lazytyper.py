"""Typer, imported only when it is needed.

cli.py declares its commands through this module exactly as it would through
Typer (``typer.Typer``, ``typer.Option``, ``typer.Argument``, ``@app.command``,
``@app.callback``, ``app.add_typer``). The declarations are recorded, and the
real Typer application is built from them only when something needs it: help,
completion, usage errors, and any command line the fast parse below does not
fully understand. Every other name (``typer.echo``, ``typer.Exit``,
``typer.BadParameter``, ``typer.Context`` ...) is Typer's own, imported on
first use.

Why: importing Typer (and the click it vendors) and building the click command
is about a quarter of a cold ``obook snapshot ... --json``. The fast parse
reads the same recorded declarations Typer is built from, so there is no second
option table: an option added in cli.py is understood here at once, and
anything it does not plainly understand (a new kind of option, ``--help``, a
value Typer would reject or convert differently) goes to Typer unchanged.
tests/test_fast_parse.py holds both parses equal for every declared option.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from typing import Any, Callable, NamedTuple

__all__ = ["Typer", "Option", "Argument", "fast_call", "fast_parse"]


def _typer() -> types.ModuleType:
    import typer

    return typer


def __getattr__(name: str) -> Any:
    if name == "ClickException":
        try:  # typer >= 0.28 vendors click
            from typer._click.exceptions import ClickException
        except ImportError:  # pragma: no cover - older typer
            from click.exceptions import ClickException
        return ClickException
    return getattr(_typer(), name)


class ParamDecl:
    """A recorded ``typer.Option(...)`` or ``typer.Argument(...)``."""

    def __init__(self, kind: str, args: tuple, kwargs: dict):
        self.kind, self.args, self.kwargs = kind, args, kwargs

    def real(self) -> Any:
        return getattr(_typer(), self.kind)(*self.args, **self.kwargs)


def Option(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 - Typer's name
    return ParamDecl("Option", args, kwargs)


def Argument(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 - Typer's name
    return ParamDecl("Argument", args, kwargs)


class Typer:
    """Records what cli.py declares; ``real()`` is the Typer application built from it."""

    def __init__(self, *args: Any, **kwargs: Any):
        self.args, self.kwargs = args, kwargs
        self.steps: list[tuple[str, tuple, dict, Any]] = []  # (method, args, kwargs, function or sub-app)
        self._real: Any = None

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable], Callable]:
        return self._recorder("command", args, kwargs)

    def callback(self, *args: Any, **kwargs: Any) -> Callable[[Callable], Callable]:
        return self._recorder("callback", args, kwargs)

    def add_typer(self, sub: "Typer", *args: Any, **kwargs: Any) -> None:
        self.steps.append(("add_typer", args, kwargs, sub))

    def _recorder(self, method: str, args: tuple, kwargs: dict) -> Callable[[Callable], Callable]:
        def record(function: Callable) -> Callable:
            self.steps.append((method, args, kwargs, function))
            return function

        return record

    def real(self) -> Any:
        if self._real is None:
            app = _typer().Typer(*self.args, **self.kwargs)
            for method, args, kwargs, target in self.steps:
                if method == "add_typer":
                    app.add_typer(target.real(), *args, **kwargs)
                else:
                    getattr(app, method)(*args, **kwargs)(_with_real_params(target))
            self._real = app
        return self._real

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.real()(*args, **kwargs)


def _real(value: Any) -> Any:
    return value.real() if isinstance(value, ParamDecl) else value


def _with_real_params(function: Callable) -> Callable:
    """A copy of ``function`` whose annotations and defaults hold Typer's own
    parameter objects instead of the recorded ones."""
    hints = typing.get_type_hints(function, include_extras=True)
    annotations = {}
    for name, hint in hints.items():
        if typing.get_origin(hint) is typing.Annotated:
            base, *extras = typing.get_args(hint)
            hint = typing.Annotated[(base, *(_real(extra) for extra in extras))]  # type: ignore[valid-type]
        annotations[name] = hint
    copy = types.FunctionType(function.__code__, function.__globals__, function.__name__,
                              tuple(_real(d) for d in function.__defaults__ or ()), function.__closure__)
    copy.__kwdefaults__ = {k: _real(v) for k, v in (function.__kwdefaults__ or {}).items()} or None
    copy.__annotations__ = annotations
    copy.__doc__, copy.__module__, copy.__qualname__ = function.__doc__, function.__module__, function.__qualname__
    copy.__dict__.update(function.__dict__)
    return copy


# ---------------------------------------------------------------- the fast parse

# Keyword arguments of Option/Argument that change nothing about parsing
# (help and completion only), plus the ones the fast parse applies itself.
_HARMLESS = frozenset({"help", "show_default", "metavar", "autocompletion", "shell_complete", "hidden",
                       "rich_help_panel", "show_choices", "show_envvar",
                       "case_sensitive"})  # choices: only exact spellings are taken, which both modes accept
_APPLIED = frozenset({"min", "max", "parser", "callback", "is_eager"})
_COMMAND_HARMLESS = frozenset({"help", "short_help", "epilog", "rich_help_panel", "name", "options_metavar"})
_INT = re.compile(r"[0-9]{1,18}")
_FLOAT = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?")
_MISSING = object()


class _Decline(Exception):
    """The command line needs Typer: something the fast parse does not plainly understand."""


class _Param:
    def __init__(self, name: str, hint: Any, decl: ParamDecl | None, default: Any, annotated: bool):
        self.name = name
        base = hint
        if typing.get_origin(base) is typing.Union:  # Optional[X]
            members = [m for m in typing.get_args(base) if m is not type(None)]
            if len(members) != 1:
                raise _Decline
            base = members[0]
        self.many = typing.get_origin(base) in (list, typing.List)  # a repeatable option, or a variadic argument
        if self.many:
            (base,) = typing.get_args(base) or (str,)
        self.type = base
        kind = decl.kind if decl else ("Option" if default is not _MISSING else "Argument")
        kwargs = decl.kwargs if decl else {}
        if set(kwargs) - _HARMLESS - _APPLIED:
            raise _Decline
        args = decl.args if decl else ()
        if decl is not None and not annotated:  # old style: typer.Option(default, "--name")
            default, args = (args[0] if args else _MISSING), args[1:]
            if default is ...:
                default = _MISSING
        self.default = default
        self.min, self.max = kwargs.get("min"), kwargs.get("max")
        self.parser, self.callback, self.eager = kwargs.get("parser"), kwargs.get("callback"), bool(kwargs.get("is_eager"))
        if self.callback is not None and not _single_value_callback(self.callback):
            raise _Decline
        self.choices = {m.value: m for m in base} if isinstance(base, type) and issubclass(base, enum.Enum) else None
        if self.choices is not None and not all(isinstance(value, str) for value in self.choices):
            raise _Decline
        if (self.parser is None and self.choices is None and base not in (str, int, float, bool)) or (self.many and base is bool):
            raise _Decline  # paths, tuples ...: Typer's job
        self.is_option = kind == "Option"
        self.flag_values: dict[str, bool] = {}
        self.value_names: set[str] = set()
        if not self.is_option:
            if args or base is bool:
                raise _Decline
            return
        if any("/" in a or not a.startswith("-") for a in args):
            raise _Decline
        if base is bool:
            if args:
                self.flag_values = {a: True for a in args}
            else:
                dashed = name.replace("_", "-")
                self.flag_values = {f"--{dashed}": True, f"--no-{dashed}": False}
        else:
            self.value_names = set(args) or {f"--{name.replace('_', '-')}"}

    def convert(self, text: str) -> Any:
        if self.parser is not None:
            try:
                return self.parser(text)
            except Exception:
                raise _Decline from None  # Typer words the usage error
        if self.choices is not None:
            if text not in self.choices:
                raise _Decline  # another spelling, or no such choice: Typer decides
            return self.choices[text]
        if self.type is str:
            return text
        pattern, convert = (_INT, int) if self.type is int else (_FLOAT, float)
        if not pattern.fullmatch(text):
            raise _Decline
        value = convert(text)
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise _Decline
        return value


def _single_value_callback(callback: Callable) -> bool:
    import inspect

    try:
        parameters = list(inspect.signature(callback).parameters.values())
    except (TypeError, ValueError):
        return False
    return len(parameters) == 1 and parameters[0].kind in (parameters[0].POSITIONAL_ONLY, parameters[0].POSITIONAL_OR_KEYWORD)


def _params(function: Callable) -> list[_Param]:
    import inspect

    hints = typing.get_type_hints(function, include_extras=True)
    params = []
    for name, parameter in inspect.signature(function).parameters.items():
        if parameter.kind not in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY) or name not in hints:
            raise _Decline
        hint, decl, annotated = hints[name], None, False
        if typing.get_origin(hint) is typing.Annotated:
            hint, *extras = typing.get_args(hint)
            decls = [e for e in extras if isinstance(e, ParamDecl)]
            if len(decls) > 1:
                raise _Decline
            decl, annotated = (decls[0] if decls else None), bool(decls)
        default = _MISSING if parameter.default is parameter.empty else parameter.default
        if isinstance(default, ParamDecl):
            if decl is not None:
                raise _Decline
            decl = default
        params.append(_Param(name, hint, decl, default, annotated))
    return params


def _parse(params: list[_Param], tokens: list[str]) -> dict[str, Any]:
    by_name = {}
    for param in params:
        for option in (*param.flag_values, *param.value_names):
            by_name[option] = param
    positional = [p for p in params if not p.is_option]
    values: dict[str, Any] = {}
    given: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token == "--" or token in ("-h", "--help"):
            raise _Decline
        if token.startswith("-") and token != "-":
            name, has_inline, inline = token.partition("=") if token.startswith("--") else (token, "", "")
            param = by_name.get(name)
            if param is None:
                raise _Decline
            if name in param.flag_values:
                if has_inline:
                    raise _Decline
                values[param.name] = param.flag_values[name]
                continue
            if not has_inline:
                if i >= len(tokens) or tokens[i].startswith("-"):
                    raise _Decline
                inline, i = tokens[i], i + 1
            if param.many:
                values.setdefault(param.name, []).append(param.convert(inline))
            else:
                values[param.name] = param.convert(inline)  # given twice: the last one counts
        else:
            given.append(token)
    values.update(_arguments(positional, given))
    for param in params:
        if param.name not in values:
            if param.default is _MISSING:
                raise _Decline  # a missing argument: Typer says which
            values[param.name] = float(param.default) if param.type is float and isinstance(param.default, int) else param.default  # float-ok: as click converts a float option's int default (durations)
    for param in sorted(params, key=lambda p: not p.eager):  # click: eager parameters first
        if param.callback is not None:
            try:
                result = param.callback(values[param.name])
            except Exception:
                raise _Decline from None  # Typer runs it again and words what it raised
            if result is not None:
                values[param.name] = result
    return values


def _arguments(positional: list[_Param], given: list[str]) -> dict[str, Any]:
    """Positional tokens to arguments as click assigns them: one each, a variadic
    argument takes what the others leave."""
    variadic = [i for i, p in enumerate(positional) if p.many]
    if not variadic:
        if len(given) > len(positional):
            raise _Decline
        return {p.name: p.convert(token) for p, token in zip(positional, given)}
    if len(variadic) > 1 or any(p.default is not _MISSING for p in positional if not p.many):
        raise _Decline
    before, middle, after = positional[:variadic[0]], positional[variadic[0]], positional[variadic[0] + 1:]
    rest = len(given) - len(before) - len(after)
    if rest < 0 or (rest == 0 and middle.default is _MISSING):
        raise _Decline  # too few: Typer says what is missing
    values = {p.name: p.convert(token) for p, token in zip(before, given)}
    values.update({p.name: p.convert(token) for p, token in zip(after, given[len(given) - len(after):])})
    if rest:
        values[middle.name] = [middle.convert(token) for token in given[len(before):len(before) + rest]]
    return values


class Parsed(NamedTuple):
    root: Callable | None  # the application's callback, run first as Typer would
    root_values: dict[str, Any]
    function: Callable
    values: dict[str, Any]


def fast_parse(app: Typer, args: list[str]) -> Parsed | None:
    """What Typer would call for ``args``, when every token is plainly understood
    the way Typer would understand it; None when Typer must parse."""
    if not args or args[0].startswith("-"):
        return None
    try:
        commands = {}
        root: Callable | None = None
        for method, cargs, ckwargs, target in app.steps:
            if method == "callback":
                if cargs or set(ckwargs) - _COMMAND_HARMLESS:
                    raise _Decline
                root = target
            elif method == "command":
                if cargs[1:] or set(ckwargs) - _COMMAND_HARMLESS:
                    raise _Decline
                name = ckwargs.get("name") or (cargs[0] if cargs else None) or target.__name__.lower().replace("_", "-")
                commands[name] = target
        function = commands.get(args[0])
        if function is None:
            return None
        root_values = _parse(_params(root), []) if root is not None else {}
        return Parsed(root, root_values, function, _parse(_params(function), args[1:]))
    except _Decline:
        return None


def fast_call(app: Typer, args: list[str]) -> Callable[[], Any] | None:
    """The command ``args`` asks for, ready to run, or None when Typer must parse."""
    parsed = fast_parse(app, args)
    if parsed is None:
        return None

    def call() -> Any:
        if parsed.root is not None:
            parsed.root(**parsed.root_values)
        return parsed.function(**parsed.values)

    return call
