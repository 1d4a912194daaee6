"""`obook replay`: play a recording (`obook watch ... --json > session.ndjson`) back.

A recording is a feed like any other: its producer reads books from the file
and hands them over at the recorded pace (received_at gaps, divided by
--speed), so the live ladder, its keys and NDJSON output all work unchanged.
"""

from __future__ import annotations

import gzip
import io
import sys
from pathlib import Path
from typing import IO, Iterator

from orderbook_cli.book import Book, regroup
from orderbook_cli.errors import MalformedData, UsageError
from orderbook_cli.feed import Feed, FeedContext, FeedRequest, State
from orderbook_cli.transport.wire import json_loads

SAMPLE = Path(__file__).resolve().parent / "samples" / "bitso_btc_mxn.ndjson.gz"
MAX_GAP_SECONDS = 60.0  # a long silence in a recording plays as at most a minute


def parse_speed(text: str) -> float | None:
    """--speed: a positive factor, or "max" (None: no waiting at all)."""
    if text.strip().lower() == "max":
        return None
    try:
        speed = float(text)  # float-ok: a playback rate, not money
    except ValueError:
        raise UsageError(f"--speed {text!r} is neither a number nor 'max'") from None
    if not speed > 0:
        raise UsageError("--speed must be positive (or 'max')")
    return speed


def open_recording(source: str | None, sample: bool) -> IO[bytes]:
    if sample:
        return gzip.open(SAMPLE, "rb")
    if source in (None, "-"):
        if sys.stdin.isatty():
            raise UsageError("no recording given", hint="obook replay FILE, obook replay - < FILE, or obook replay --sample")
        return _ungzipped(sys.stdin.buffer)
    try:
        handle = Path(source).open("rb")
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from None
    return _ungzipped(handle)


class _Prefixed(io.RawIOBase):
    """Bytes already read from a pipe, then the rest of the pipe: a pipe cannot seek back."""

    def __init__(self, head: bytes, rest: IO[bytes]):
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n], self._head = self._head[:n], self._head[n:]
            return n
        data = self._rest.read1(len(buffer)) if hasattr(self._rest, "read1") else self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _ungzipped(handle: IO[bytes]) -> IO[bytes]:
    """The recording's bytes, decompressed when they are gzip (recordings compress about tenfold)."""
    head = handle.read(2)
    if handle.seekable():
        handle.seek(0)
    else:
        handle = io.BufferedReader(_Prefixed(head, handle))
    return gzip.GzipFile(fileobj=handle) if head == b"\x1f\x8b" else handle


class Tally:
    """Lines read and skipped, for the summary after a replay."""

    def __init__(self) -> None:
        self.books = 0
        self.skipped = 0

    def summary(self) -> str | None:
        if not self.skipped:
            return None
        return f"skipped {self.skipped} of {self.books + self.skipped} lines that are not obook books (rerun with --debug to see why)"


def read_books(stream: IO[bytes], on_bad_line) -> Iterator[Book]:
    from orderbook_cli.jsonout import book_from_dict

    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            yield book_from_dict(json_loads(line))
        except MalformedData as exc:
            on_bad_line(MalformedData(f"line {number}: {exc.message}"))


def nothing_usable(tally: Tally) -> UsageError:
    what = f"none of its {tally.skipped} lines is an obook book" if tally.skipped else "it is empty"
    return UsageError(f"not an obook recording: {what}",
                      hint="record one with: obook watch VENUE SYMBOL --json > session.ndjson")


def replay_feed(request: FeedRequest, stream: IO[bytes], speed: float | None, tally: Tally) -> Feed:
    """Books from a recording at the recorded pace (streamed: memory stays flat)."""
    from orderbook_cli import recording

    if recording.is_recording(stream):  # raw venue traffic from `watch --record`: re-run through the venue's parsers
        return recording.replay_feed(request, stream, speed)

    def produce(ctx: FeedContext) -> None:
        def skip(error: MalformedData) -> None:
            tally.skipped += 1
            ctx.malformed(error)

        ctx.set_state(State.LIVE)
        previous = None
        for book in read_books(stream, skip):
            if ctx.stopped.is_set():
                return
            tally.books += 1
            if previous is not None and speed is not None:
                gap = (book.received_at - previous).total_seconds()
                if gap > 0 and not ctx.sleep(min(gap, MAX_GAP_SECONDS) / speed):
                    return
            previous = book.received_at
            ctx.emit_book(regroup(book, depth=request.depth, group=request.group))
        if not tally.books:
            ctx.fail(nothing_usable(tally))
            return
        ctx.set_state(State.CLOSED, "end of recording: press q to quit")

    return Feed(request, produce)
