"""`obook replay`: play a recording (`obook watch ... --json > session.ndjson`) back.

A recording is a feed like any other: its producer reads books from the file
and hands them over at the recorded pace (received_at gaps, divided by
--speed), so the live ladder, its keys and NDJSON output all work unchanged.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path
from typing import IO, Iterator

from orderbook_cli.book import Book, regroup
from orderbook_cli.errors import MalformedData, UsageError
from orderbook_cli.feed import Feed, FeedContext, FeedRequest, State
from orderbook_cli.transport.wire import json_loads

SAMPLE = Path(__file__).resolve().parent / "samples" / "bitso_btc_mxn.ndjson.gz"
MAX_GAP_SECONDS = 60.0  # a long silence in a recording plays as at most a minute
MIN_SPEED, MAX_SPEED = 0.01, 10000.0
# A recorded line is one book or one venue frame (frames are capped at 2 MiB);
# longer lines (a file of NULs, /dev/zero, no newline at all) are not a recording.
MAX_LINE_BYTES = 8 * 1024 * 1024


def parse_speed(text: str) -> float | None:
    """--speed: a positive factor, or "max" (None: no waiting at all)."""
    if text.strip().lower() == "max":
        return None
    try:
        speed = float(text) if len(text) <= 40 else float("nan")  # float-ok: a playback rate, not money
    except ValueError:
        raise UsageError(f"--speed {text[:40]!r} is neither a number nor 'max'") from None
    if not MIN_SPEED <= speed <= MAX_SPEED:  # also refuses nan and inf
        raise UsageError(f"--speed must be a positive factor from {MIN_SPEED:g} to {MAX_SPEED:g} (or 'max')")
    return speed


def open_recording(source: str | None, sample: bool) -> IO[bytes]:
    if sample:
        return gzip.open(SAMPLE, "rb")
    if source in (None, "-"):
        if sys.stdin.isatty():
            raise UsageError("no recording given", hint="obook replay FILE, obook replay - < FILE, or obook replay --sample")
        return sys.stdin.buffer
    try:
        handle = Path(source).open("rb")
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from None
    if handle.read(2) == b"\x1f\x8b":  # gzip: recordings compress about tenfold
        handle.seek(0)
        return gzip.GzipFile(fileobj=handle)
    handle.seek(0)
    return handle


def read_books(stream: IO[bytes], on_bad_line) -> Iterator[Book]:
    from orderbook_cli.jsonout import book_from_dict

    for number, line in enumerate(iter(lambda: stream.readline(MAX_LINE_BYTES + 1), b""), 1):
        if len(line) > MAX_LINE_BYTES:
            raise UsageError(f"line {number} is longer than {MAX_LINE_BYTES} bytes: this is not an obook recording",
                             hint="replay reads NDJSON from `obook watch ... --json`, optionally gzipped")
        if not line.strip():
            continue
        try:
            yield book_from_dict(json_loads(line))
        except MalformedData as exc:
            on_bad_line(MalformedData(f"line {number}: {exc.message}"))


def replay_feed(request: FeedRequest, stream: IO[bytes], speed: float | None) -> Feed:
    def produce(ctx: FeedContext) -> None:
        ctx.set_state(State.LIVE)
        previous = None
        for book in read_books(stream, ctx.malformed):
            if ctx.stopped.is_set():
                return
            if previous is not None and speed is not None:
                gap = (book.received_at - previous).total_seconds()
                if gap > 0 and not ctx.sleep(min(gap, MAX_GAP_SECONDS) / speed):
                    return
            previous = book.received_at
            ctx.emit_book(regroup(book, depth=request.depth, group=request.group))
        ctx.set_state(State.CLOSED, "end of recording: press q to quit")

    return Feed(request, produce)
