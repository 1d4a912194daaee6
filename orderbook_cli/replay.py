"""`obook replay`: play a recording (`obook watch ... --json > session.ndjson`) back.

A recording is a feed like any other: its producer reads books from the file
and hands them over at the recorded pace (received_at gaps, divided by
--speed), so the live ladder, its keys and NDJSON output all work unchanged.
"""

from __future__ import annotations

import gzip
import io
import sys
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

from orderbook_cli.book import Book
from orderbook_cli.errors import MalformedData, ObookError, ReadError, UsageError, sanitize
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
        if source is not None:
            raise UsageError(f"--sample plays the recording shipped with obook: it takes no FILE ({sanitize(source, 60)!r} given)",
                             hint="obook replay FILE, or obook replay --sample")
        return cast(IO[bytes], gzip.open(SAMPLE, "rb"))
    if source in (None, "-"):
        if sys.stdin is None:  # started with stdin closed (<&-)
            raise UsageError("standard input is closed: there is no recording to read", hint="obook replay FILE, obook replay - < FILE, or obook replay --sample")
        if sys.stdin.isatty():
            raise UsageError("no recording given", hint="obook replay FILE, obook replay - < FILE, or obook replay --sample")
        return _ungzipped(sys.stdin.buffer)
    try:
        handle = Path(source).open("rb")
    except OSError as exc:
        raise UsageError(f"cannot read {sanitize(source, 200)}: {exc.strerror}",
                         hint="check the path, or play the recording shipped with obook: obook replay --sample") from None
    return _ungzipped(handle)


class _Prefixed(io.RawIOBase):
    """Bytes already read from a pipe, then the rest of the pipe: a pipe cannot seek back."""

    def __init__(self, head: bytes, rest: IO[bytes]):
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), len(self._head))
        buffer[:n], self._head = self._head[:n], self._head[n:]
        if n < len(buffer):  # the head and the pipe's next chunk in one read, so a peek sees a raw recording's header
            wanted = len(buffer) - n
            data = self._rest.read1(wanted) if hasattr(self._rest, "read1") else self._rest.read(wanted)
            buffer[n: n + len(data)] = data
            n += len(data)
        return n


def _ungzipped(handle: IO[bytes]) -> IO[bytes]:
    """The recording's bytes, decompressed when they are gzip (recordings compress about tenfold)."""
    try:
        head = handle.read(2)
    except OSError as exc:
        raise _unreadable(exc) from None
    if handle.seekable():
        handle.seek(0)
    else:
        handle = io.BufferedReader(_Prefixed(head, handle))
    return cast(IO[bytes], gzip.GzipFile(fileobj=handle)) if head == b"\x1f\x8b" else handle


MAX_NAMED_SOURCES = 4  # other sources a summary names; the rest are counted


class Tally:
    """Lines read and skipped, and the books of sources other than the one played, for the summary after a replay."""

    def __init__(self) -> None:
        self.books = 0
        self.skipped = 0
        self.source: tuple[str, str] | None = None  # (venue, symbol) of the first book: the source played
        self.others: dict[tuple[str, str], int] = {}  # books of other sources, by source (at most MAX_NAMED_SOURCES named)
        self.other_books = 0

    def summary(self, file: str = "FILE") -> str | None:
        parts = []
        if self.skipped:
            parts.append(f"skipped {self.skipped} of {self.books + self.skipped + self.other_books} lines that are not obook books "
                         "(rerun with --debug to see why)")
        if self.other_books and self.source is not None:
            named = ", ".join(sanitize(f"{venue} {symbol}", 60) for venue, symbol in self.others)  # names from a file
            more = " and more" if sum(self.others.values()) < self.other_books else ""
            venue = sanitize(next(iter(self.others))[0], 40)
            played = sanitize(f"{self.source[0]} {self.source[1]}", 60)
            parts.append(f"played {played}, the file's first source, and left out {self.other_books} books "
                         f"of {named}{more} — to play another: jq -c 'select(.venue == \"{venue}\")' {file} | obook replay -")
        return "; ".join(parts) or None

    def one_source(self, lines: Iterator[tuple[bytes, Book]]) -> Iterator[tuple[bytes, Book]]:
        """The books of the recording's first source. A side-by-side recording holds several sources, one
        book a line: played as one ladder it would flip between venues, so the others are counted instead."""
        for line, book in lines:
            key = (book.venue, book.symbol)
            if self.source is None:
                self.source = key
            elif key != self.source:
                self.other_books += 1
                if key in self.others or len(self.others) < MAX_NAMED_SOURCES:
                    self.others[key] = self.others.get(key, 0) + 1
                continue
            yield line, book


NDJSON_HINT = "replay reads NDJSON from `obook watch ... --json`, optionally gzipped"


def capped_lines(stream: IO[bytes], limit: int = MAX_LINE_BYTES, *, what: str = "an obook recording",
                 hint: str = NDJSON_HINT, cut_short_ends: bool = False) -> Iterator[tuple[int, bytes]]:
    """(number, line) for each line of at most `limit` bytes. A longer line is exit 2 naming it: skipping
    to its end could take for ever (/dev/zero has none). `cut_short_ends`: a gzip stream cut short
    (obook killed while recording) ends the lines; otherwise a broken stream is the file's fault, not obook's."""
    number = 0
    while True:
        try:
            line = stream.readline(limit + 1)
        except EOFError as exc:  # a truncated gzip stream
            if cut_short_ends:
                return
            raise _unreadable(exc) from None
        except (OSError, zlib.error) as exc:  # BadGzipFile, corrupt deflate data
            raise _unreadable(exc) from None
        if not line:
            return
        number += 1
        if len(line) > limit:
            raise UsageError(f"line {number} is longer than {limit} bytes: this is not {what}", hint=hint)
        yield number, line


def _unreadable(exc: BaseException) -> ObookError:
    """A device failing (EIO) is an I/O error; a broken gzip or deflate stream is the file's fault."""
    if isinstance(exc, OSError) and not isinstance(exc, gzip.BadGzipFile) and exc.errno is not None:
        return ReadError(f"cannot read the recording: {sanitize(exc.strerror or exc, 80)}", hint="check the disk or device it is on")
    return UsageError(f"the recording cannot be read to its end: {sanitize(exc, 120)}", hint="is it a complete NDJSON or gzip file?")


def read_lines(stream: IO[bytes], on_bad_line) -> Iterator[tuple[bytes, Book]]:
    """(line, book) for every line that is a book; the others go to on_bad_line."""
    from orderbook_cli.jsonout import book_from_dict

    for number, line in capped_lines(stream):
        if not line.strip():
            continue
        try:
            book = book_from_dict(json_loads(line))
        except MalformedData as exc:
            on_bad_line(MalformedData(f"line {number}: {exc.message}"))
            continue
        yield line, book


def nothing_usable(tally: Tally) -> UsageError:
    what = f"none of its {tally.skipped} lines is an obook book" if tally.skipped else "it is empty"
    return UsageError(f"not an obook recording: {what}",
                      hint="record one with: obook watch VENUE SYMBOL --json > session.ndjson")


def replay_feed(request: FeedRequest, stream: IO[bytes], speed: float | None, tally: Tally) -> Feed:
    """Books from a recording at the recorded pace (streamed: memory stays flat)."""

    def produce(ctx: FeedContext) -> None:
        def skip(error: MalformedData) -> None:
            tally.skipped += 1
            ctx.malformed(error)

        ctx.set_state(State.LIVE)
        previous = None
        for _, book in tally.one_source(read_lines(stream, skip)):
            if ctx.stopped.is_set():
                return
            tally.books += 1
            if previous is not None and speed is not None:
                gap = (book.received_at - previous).total_seconds()
                if gap > 0 and not ctx.sleep(min(gap, MAX_GAP_SECONDS) / speed):
                    return
            previous = book.received_at
            ctx.emit_book(book)
        if not tally.books:
            ctx.fail(nothing_usable(tally))
            return
        ctx.set_state(State.CLOSED, "end of recording: press q to quit")  # the streamed (NDJSON) replay has no keys

    return Feed(request, produce)


MAX_HELD_BYTES = 256 * 1024 * 1024  # the ladder keeps a recording's lines to step back; beyond this it stops reading
SPEEDS = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, None)  # [ and ] move along these; None: no waiting


class Player:
    """A recording held in memory for the ladder, with the replay keys: pause, step
    back/forward, slower/faster, jump to start/end, loop.

    Lines are kept as bytes (a parsed book is several times larger) and parsed again
    when shown; a loader thread reads ahead while playback starts at once.
    """

    def __init__(self, stream: IO[bytes], speed: float | None, tally: Tally):
        self.stream, self.speed, self.tally = stream, speed, tally
        self.lines: list[bytes] = []
        self.times: list = []  # received_at of each line, for the recorded pace
        self.loaded = False  # the whole recording is in memory
        self.truncated = False  # it was larger than MAX_HELD_BYTES
        self.position = -1  # the line on screen
        self.paused = False
        self.loop = False
        self._target: int | None = None  # a step or jump waiting to be shown
        self.error: UsageError | None = None  # why reading stopped early, for the feed to report
        self._wake = threading.Event()

    # -- keys (called from the ladder's thread) ---------------------------
    def toggle_pause(self) -> None:
        self.paused = not self.paused
        self._wake.set()

    def step(self, offset: int) -> None:
        self.paused = True
        self._go((self.position if self._target is None else self._target) + offset)  # keys may come faster than books

    def jump(self, to_end: bool) -> None:
        self._go(len(self.lines) - 1 if to_end else 0)

    def change_speed(self, faster: bool) -> None:
        index = SPEEDS.index(self.speed) if self.speed in SPEEDS else SPEEDS.index(1.0)
        self.speed = SPEEDS[max(0, min(len(SPEEDS) - 1, index + (1 if faster else -1)))]
        self._wake.set()

    def toggle_loop(self) -> None:
        self.loop = not self.loop
        self._wake.set()

    def _go(self, index: int) -> None:
        if self.lines:
            self._target = max(0, min(len(self.lines) - 1, index))
            self._wake.set()

    def status(self) -> str:
        """For the header: where playback is, how fast, looping."""
        total = f"{len(self.lines)}{'' if self.loaded else '…'}"
        speed = "max" if self.speed is None else f"{self.speed:g}×"
        return f"book {self.position + 1}/{total} {speed}{' loop' if self.loop else ''}"

    # -- the feed's thread ------------------------------------------------
    def _load(self) -> None:
        from orderbook_cli.debuglog import log

        def skip(error: MalformedData) -> None:
            self.tally.skipped += 1
            log.debug("skipped %s", error.message)

        held = 0
        try:
            for line, book in self.tally.one_source(read_lines(self.stream, skip)):
                held += len(line)
                if held > MAX_HELD_BYTES:
                    self.truncated = True
                    return
                self.times.append(book.received_at)
                self.lines.append(line)
                self.tally.books += 1
                self._wake.set()
        except UsageError as error:  # not a recording after all (a huge line, a broken gzip stream)
            self.error = error
        finally:
            self.loaded = True
            self._wake.set()

    def feed(self, request: FeedRequest) -> Feed:
        from orderbook_cli.jsonout import book_from_dict

        def show(ctx: FeedContext, index: int) -> None:
            self.position = index
            book = book_from_dict(json_loads(self.lines[index]))
            ctx.emit_book(book)

        def produce(ctx: FeedContext) -> None:
            threading.Thread(target=self._load, name="obook-replay-load", daemon=True).start()
            ctx.set_state(State.LIVE)
            ended = False
            while not ctx.stopped.is_set():
                self._wake.clear()
                if self.error is not None:
                    ctx.fail(self.error)
                    return
                if self._target is not None:
                    target, self._target = self._target, None
                    show(ctx, target)
                    continue
                following = self.position + 1
                if following >= len(self.lines):
                    if self.loaded and not self.lines:
                        ctx.fail(nothing_usable(self.tally))
                        return
                    if self.loaded and self.loop:
                        following = 0
                    else:
                        if self.loaded and not ended:
                            ended = True
                            ctx.set_state(State.CLOSED, END_NOTICE + (" (only the first 256 MiB were read)" if self.truncated else ""))
                        self._wake.wait(0.5)
                        continue
                if ended:
                    ended = False
                    ctx.set_state(State.LIVE)
                if self.paused:
                    self._wake.wait(0.5)
                    continue
                if self.position >= 0 and following > 0 and self.speed is not None:
                    gap = (self.times[following] - self.times[self.position]).total_seconds()
                    if gap > 0 and self._wake.wait(min(gap, MAX_GAP_SECONDS) / self.speed):
                        continue  # a key changed something: decide again
                show(ctx, following)

        return Feed(request, produce, wake=self._wake.set)


END_NOTICE = "end of recording: q quits, ← steps back, Home restarts, l loops"
