"""obook's entry point: run the command line, and turn whatever happens into
one stderr line and the contract's exit status (errors.ExitStatus).

This is the one place an exception becomes a message: `describe` for obook's
own errors, Typer's text for usage errors, a "this is a bug" line for the
rest (a traceback only with --debug).
"""

from __future__ import annotations

import os
import sys

from orderbook_cli.errors import ExitStatus, ObookError, Terminated, describe, sanitize
from orderbook_cli.stdio import guard_streams, reader_went_away, silence_stdout

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy reads the name)

if TYPE_CHECKING:  # annotations only: `obook --version` never loads typing
    from typing import Any

COMPLETE_VAR = "_OBOOK_COMPLETE"  # set by the shell completion scripts (`obook completions`)
VERSION_FLAGS = {"--version", "-V"}
START_UP_SECONDS = 1.0  # the cycle collector's pause at start (see _pause_cycle_collector)
EXIT_WAIT_SECONDS = 0.5  # the longest obook waits at exit for its threads to end (see _finish_threads)


def main(argv: list[str] | None = None) -> int:
    """Run obook with `argv` (default: the process's arguments); return the exit status."""
    args = sys.argv[1:] if argv is None else list(argv)
    if argv is None:  # this process is obook (not a test calling main)
        _pause_cycle_collector(START_UP_SECONDS)
    debug = "--debug" in args
    _raise_on_termination_signals()
    guard_streams()
    try:
        if args and VERSION_FLAGS & set(args) and set(args) <= VERSION_FLAGS | {"--debug"}:
            from orderbook_cli.about import (
                version_text,  # answered without loading Typer
            )

            print(version_text(with_libraries=debug))
            status = int(ExitStatus.SUCCESS)
        else:
            from orderbook_cli import help_memo  # not on --version's path

            status = _help_page(args) if COMPLETE_VAR not in os.environ and help_memo.is_page_request(args) else _run_typer(args)
        sys.stdout.flush()  # a failing output is reported now, not lost at exit
        return status
    except BrokenPipeError:  # the reader went away (`| head -1`): a normal end
        silence_stdout()
        return ExitStatus.SUCCESS
    except SystemExit:
        if reader_went_away():  # rich and Typer end with exit 1 on a broken pipe
            silence_stdout()
            return ExitStatus.SUCCESS
        raise
    except KeyboardInterrupt:
        return ExitStatus.INTERRUPTED
    except Terminated:
        return ExitStatus.TERMINATED
    except Exception as error:
        return _report(error, args, debug)


def _help_page(args: list[str]) -> int:
    """A help page: the one Typer wrote for this very request before (help_memo), else
    Typer's, kept for next time."""
    from orderbook_cli import help_memo

    page = help_memo.recall(args)
    if page is not None:
        sys.stdout.write(page)
        return ExitStatus.SUCCESS
    import contextlib
    import io

    written = io.StringIO()
    try:
        with contextlib.redirect_stdout(written):
            status = _run_typer(args)
    finally:
        sys.stdout.write(written.getvalue())  # what was written, whatever happened
    if status == ExitStatus.SUCCESS:
        help_memo.keep(args, written.getvalue())
    return status


def _run_typer(args: list[str]) -> int:
    """The command line through Typer; the exit status a command asked for (typer.Exit), else 0."""
    from orderbook_cli.cli import command_for

    if COMPLETE_VAR in os.environ:  # a shell asks for completions: register Typer's shell classes
        from typer.completion import completion_init

        completion_init()
    import typer

    command = command_for(args)
    try:
        result = command.main(args=args or ["--help"], prog_name="obook", standalone_mode=False)
    except typer.TyperException as error:
        if type(error).__name__ != "NoArgsIsHelpError":  # named, not imported, as Typer itself tells it (click's own module is private)
            raise
        print(error.format_message())  # `obook config` alone: its help page is the answer, as for `obook` alone
        return ExitStatus.SUCCESS
    return result if isinstance(result, int) else int(ExitStatus.SUCCESS)


def _report(error: Exception, args: list[str], debug: bool) -> int:
    """The one stderr line for `error`, and its exit status."""
    import typer

    if isinstance(error, ObookError):
        _print_error(describe(error), debug)
        return error.exit_status
    if isinstance(error, typer.Abort):
        return ExitStatus.INTERRUPTED
    if isinstance(error, typer.TyperException):  # click's usage errors, vendored by Typer
        message = " ".join(str(getattr(error, "format_message", lambda: str(error))()).split())  # click lays choices out on lines: one line here
        _print_error(f"obook: usage error: {message} (see '{_help_for(error, args)} --help')", False)
        return ExitStatus.USAGE
    _print_error(f"obook: internal error: {type(error).__name__}: {error} — this is a bug in obook; rerun with --debug and report it", debug)
    return ExitStatus.INTERNAL


def _help_for(error: Any, args: list[str]) -> str:
    """The help page that explains the mistake: the command being parsed, never a mistyped name."""
    from typer.main import get_command

    from orderbook_cli.cli import app

    ctx = getattr(error, "ctx", None)
    path = ctx.command_path if ctx is not None and ctx.command_path else "obook"
    if path == "obook" and args and args[0] in getattr(get_command(app), "commands", {}):
        path = f"obook {args[0]}"
    return str(path)


def _pause_cycle_collector(seconds: float) -> None:
    """Start-up (imports, Typer, the venue, the first request) makes tens of thousands of
    long-lived objects and next to no cyclic garbage, so the cycle collector would walk them
    again and again for nothing: about 4% of a snapshot's work. It is off for the first
    `seconds`; then what start-up made is frozen (never walked again, all day long) and it
    runs as usual. A bounded pause by the clock, whatever the command does meanwhile.
    At exit everything is frozen: the interpreter's shutdown collections would walk every
    object once more to free memory the process gives back anyway (over a tenth of a snapshot's
    CPU); Python never promised to finalize what is left at exit. Before that, the timer is
    stopped and obook's other threads are let finish (_finish_threads)."""
    import atexit
    import gc
    import threading

    def resume() -> None:
        gc.freeze()
        gc.enable()

    def at_exit() -> None:
        timer.cancel()
        _finish_threads(EXIT_WAIT_SECONDS)
        gc.freeze()

    gc.disable()
    timer = threading.Timer(seconds, resume)
    timer.daemon = True
    atexit.register(at_exit)
    timer.start()


def _finish_threads(seconds: float) -> None:
    """Wait, at most `seconds` in all, for every other thread to end. At exit obook's threads
    are winding down (a closed feed's reader, a link's watchdog, the cancelled pause timer),
    and a thread that ends while the interpreter shuts down can crash it: 1 snapshot in 300
    that ended as the pause timer fired died with "double free or corruption" (exit 134).
    A thread stuck in a read is left behind when the time is up."""
    import threading
    import time

    deadline = time.monotonic() + seconds
    for thread in threading.enumerate():
        if thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))


def _raise_on_termination_signals() -> None:
    """SIGTERM/SIGHUP unwind like Ctrl-C (terminal restored by every `with`), exit 143."""
    import signal

    def terminate(signum: int, frame: object) -> None:
        raise Terminated(signum)

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), terminate)


def _print_error(line: str, with_traceback: bool) -> None:
    if with_traceback:  # exception texts carry venue data: sanitized line by line too
        import traceback

        for trace_line in traceback.format_exc().rstrip("\n").split("\n"):  # not splitlines(): it breaks at a venue's U+2028 too
            print(sanitize(trace_line, 2000), file=sys.stderr)
    print(sanitize(line, 1000), file=sys.stderr, flush=True)
