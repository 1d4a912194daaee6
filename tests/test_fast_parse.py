"""The fast parse (lazytyper.py) agrees with Typer on every command line it
accepts, for every option cli.py declares, and hands everything else to Typer.

The samples are generated from the declarations themselves, so an option added
to cli.py is covered here without touching this file."""

import itertools
import typing

import pytest

from orderbook_cli import cli, lazytyper

APP = cli.app


def _typer_params(args):
    """What Typer itself hands the command function for args: the function's
    declarations on a spy, run by a Typer application."""
    import functools

    import typer

    function = next(f for m, _, kw, f in APP.steps if m == "command" and (kw.get("name") or f.__name__.replace("_", "-")) == args[0])
    real = lazytyper._with_real_params(function)
    calls = []

    @functools.wraps(real)
    def spy(**kwargs):
        calls.append(kwargs)

    app = typer.Typer()
    app.command()(spy)
    typer.main.get_command(app).main(args=list(args[1:]), prog_name="obook", standalone_mode=False)
    (values,) = calls
    return values


PARSER_SAMPLES = {"_view": "chart"}  # parsers that take words, not numbers


def _sample(param):
    if param.choices is not None:
        return list(param.choices)[-1]
    if param.parser is not None:
        return PARSER_SAMPLES.get(param.parser.__name__, "0.5")
    if param.type is int:
        low = param.min if param.min is not None else 1
        return str(max(low, min(3, param.max if param.max is not None else 3)))
    if param.type is float:
        return "2.5"
    return "abc"


def _commands():
    for method, _, kwargs, function in APP.steps:
        if method != "command":
            continue
        try:
            params = lazytyper._params(function)
        except lazytyper._Decline:
            continue  # Typer parses this command every time (an enum, a list ...)
        yield kwargs.get("name") or function.__name__.replace("_", "-"), params


def _command_lines():
    for name, params in _commands():
        positional = [v for p in params if not p.is_option for v in ([_sample(p)] * (2 if p.many else 1))]
        options = [p for p in params if p.is_option]
        long_form, equals_form, short_form = [], [], []
        for p in options:
            if p.flag_values:
                for flag in p.flag_values:  # each spelling of a flag alone, too
                    yield [name, *positional, flag]
                long_form.append([next(iter(p.flag_values))])
                continue
            names = sorted(p.value_names, key=len, reverse=True)
            long_form.append([names[0], _sample(p)] * (2 if p.many else 1))
            equals_form.append([f"{names[0]}={_sample(p)}"])
            short_form.append([names[-1], _sample(p)])
        yield [name, *positional]
        yield [name, *positional, *itertools.chain(*long_form)]
        yield [name, *itertools.chain(*long_form), *positional]  # options before arguments
        yield [name, *positional, *itertools.chain(*equals_form)]
        yield [name, *itertools.chain(*short_form), *positional]


LINES = list(_command_lines())


def test_the_common_commands_take_the_fast_path():
    names = {line[0] for line in LINES}
    assert {"snapshot", "watch", "venues"} <= names


@pytest.mark.parametrize("args", LINES, ids=[" ".join(line) for line in LINES])
def test_fast_parse_agrees_with_typer(args):
    parsed = lazytyper.fast_parse(APP, args)
    assert parsed is not None, args
    expected = _typer_params(args)
    assert parsed.values == expected
    for name, value in parsed.values.items():
        assert type(value) is type(expected[name]), name


@pytest.mark.parametrize("args", [
    ["snapshot", "revx", "BTC-USD", "--help"],
    ["snapshot", "-h"],
    ["snapshot"],  # a missing argument: Typer says which
    ["snapshot", "revx", "BTC-USD", "--depth", "0"],  # out of range
    ["snapshot", "revx", "BTC-USD", "--depth", "+5"],  # int() would take it; Typer decides
    ["snapshot", "revx", "BTC-USD", "--depth"],
    ["snapshot", "revx", "BTC-USD", "--depth", "-1"],
    ["snapshot", "revx", "BTC-USD", "--bogus"],
    ["snapshot", "revx", "BTC-USD", "--json=1"],
    ["snapshot", "revx", "BTC-USD", "--group", "nan"],  # the parser refuses: Typer words it
    ["snapshot", "revx", "BTC-USD", "--", "x"],
    ["snapshot", "revx", "BTC-USD", "-d5"],
    ["--version"],
    ["nonsense"],
    ["completions", "BASH"],  # a choice spelled otherwise: Typer decides
    ["completions", "tcsh"],
    [],
])
def test_everything_else_goes_to_typer(args):
    assert lazytyper.fast_parse(APP, args) is None


def test_typer_is_built_from_the_same_declarations():
    import typer

    command = typer.main.get_command(APP.real())
    for name, params in _commands():
        declared = {p.name for p in params}
        assert declared == {p.name for p in command.commands[name].params}


def test_annotations_resolve_to_typers_own_objects():
    import typer

    real = APP.real()
    for info in real.registered_commands:
        for hint in typing.get_type_hints(info.callback, include_extras=True).values():
            for extra in typing.get_args(hint)[1:]:
                assert isinstance(extra, typer.models.ParameterInfo)


class Kind(str, __import__("enum").Enum):
    top = "top"
    full = "full"


def _declared_app():
    """Kinds of declarations cli.py may grow, declared the way cli.py declares."""
    from typing import Annotated, List, Optional

    typer = lazytyper
    app = typer.Typer()

    @app.command()
    def go(
        name: Annotated[str, typer.Argument()],
        kind: Annotated[Optional[Kind], typer.Option("--kind", case_sensitive=False)] = None,
        level: Annotated[int, typer.Option("--level", "-l", min=0, max=9)] = 3,
        wait: float = 1.5,
        loud: bool = False,
        tag: Annotated[Optional[List[str]], typer.Option("--tag")] = None,
        old: int = typer.Option(7, "--old"),
    ) -> None:
        pass

    return app, go


@pytest.mark.parametrize("args", [
    ["go", "x"],
    ["go", "x", "--kind", "full", "-l", "9", "--wait", "2.25", "--loud", "--tag", "a", "--tag", "b", "--old", "8"],
    ["go", "--no-loud", "x", "--level=0", "--kind=top"],
])
def test_fast_parse_agrees_with_typer_on_other_kinds_of_declarations(args):
    import functools

    import typer

    app, go = _declared_app()
    parsed = lazytyper.fast_parse(app, args)
    assert parsed is not None
    calls = []
    real = lazytyper._with_real_params(go)
    spy = functools.wraps(real)(lambda **kw: calls.append(kw))
    probe = typer.Typer()
    probe.command()(spy)
    typer.main.get_command(probe).main(args=args[1:], standalone_mode=False)
    assert parsed.values == calls[0]


@pytest.mark.parametrize("args", [["go", "x", "--kind", "FULL"], ["go", "x", "-l", "10"], ["go", "x", "--wait", "1e3"]])
def test_other_spellings_go_to_typer(args):
    assert lazytyper.fast_parse(_declared_app()[0], args) is None
