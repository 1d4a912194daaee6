"""Raw recordings: `watch --record FILE` keeps every frame and REST seed as it
arrived; `replay FILE` feeds them through the same parsers and sync engine.

One JSON object per line (gzip when the name ends in .gz). The first line
names what was recorded; then one line per event, each with its receive
time `t` (ISO-8601 with microseconds, so replayed books carry the same
`received_at`): `{"connect": true}` when a connection opened, `{"frame":
TEXT}` or `{"binary": BASE64}` for a frame, `{"seed": TEXT}` for a REST seed
at the moment it was applied. The tape's trade feed (a WebSocket of its own,
`watch` on a terminal) is kept in the same file: `{"trades_connect": true}`,
`{"trades": TEXT}`, `{"trades_binary": BASE64}`; replay reads them with the
venue's own trade parser (``Venue.trades``) into the same tape pane. A
recording is outside input: every line is bounded before it is decoded.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import threading
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any

from orderbook_cli import __version__
from orderbook_cli.errors import MalformedData, ObookError, OutputError, UsageError, sanitize
from orderbook_cli.feed import NO_TAP, Feed, FeedContext, FeedRequest, State, Tap
from orderbook_cli.smallfile import open_for_writing, write_failure
from orderbook_cli.transport.ws import MAX_FRAME_BYTES
from orderbook_cli.venues.base import TradeStream

MAGIC = "obook_raw_recording"
FORMAT = 1
MAX_LINE_BYTES = 12 * 1024 * 1024  # a 4 MB seed or a 2 MB binary frame, escaped, fits
MAX_SEED_BYTES = 4 * 1024 * 1024  # as the HTTP transport allows
MAX_GAP_SECONDS = 60.0  # as for book recordings: a long silence plays as at most a minute
GZIP_FLUSH_SECONDS = 1.0


class Recorder(Tap):
    """Writes what the venue sends, as it arrives. A write that fails (disk full, I/O
    error) raises OutputError on the feed's thread, which stops the feed: a recording
    with holes is worse than none."""

    def __init__(self, path: str, request: FeedRequest, feed: str | None):
        self._name = sanitize(path, 80)
        try:
            raw = open_for_writing(path)
        except OSError as exc:
            raise self._failure(exc) from None
        self._file: IO[bytes] | gzip.GzipFile = gzip.GzipFile(fileobj=raw, mode="wb") if path.endswith(".gz") else raw
        self._raw = raw
        self._gzip = path.endswith(".gz")
        self._flushed = time.monotonic()
        self._failed = False
        self._lock = threading.Lock()  # the feed's thread writes; the consumer's closes
        self._write({MAGIC: FORMAT, "venue": request.venue, "symbol": request.symbol, "depth": request.depth,
                     "feed": feed, "obook": __version__})

    def _failure(self, exc: OSError) -> OutputError:
        import errno

        space = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        return OutputError(f"cannot write the recording {self._name}: {write_failure(exc)}",
                           hint="free some space or record somewhere else" if space else "record to a file in a directory you can write")

    def _write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":")).encode() + b"\n"
        with self._lock:
            if self._raw.closed or self._failed:
                return
            try:
                self._file.write(line)
                now = time.monotonic()
                if not self._gzip or now - self._flushed >= GZIP_FLUSH_SECONDS:  # readable even if obook is killed
                    self._file.flush()
                    self._flushed = now
            except OSError as exc:
                self._failed = True
                raise self._failure(exc) from None

    def connected(self) -> None:
        self._write({"t": _stamp(datetime.now(UTC)), "connect": True})

    def frame(self, frame: str | bytes, received_at: datetime) -> None:
        if isinstance(frame, bytes):
            self._write({"t": _stamp(received_at), "binary": base64.b64encode(frame).decode()})
        else:
            self._write({"t": _stamp(received_at), "frame": frame})

    def seed(self, body: bytes, received_at: datetime) -> None:
        self._write({"t": _stamp(received_at), "seed": body.decode("utf-8", "surrogateescape")})

    def trades_tap(self) -> Tap:
        """What the venue's trade feed hands its frames to: the same file, its own records."""
        return _TradesTap(self)

    def close(self) -> None:
        """End the file (the gzip trailer); a failure here after one already reported is not news."""
        with self._lock:
            if self._raw.closed:
                return
            try:
                if self._gzip:
                    self._file.close()
                self._raw.close()
            except OSError as exc:
                if not self._failed:
                    self._failed = True
                    raise self._failure(exc) from None
            finally:
                if not self._raw.closed:
                    try:
                        self._raw.close()
                    except OSError:
                        pass  # reported above, or already


class _TradesTap(Tap):
    """The trade feed's frames, written into the book feed's recording; the book feed's
    recorder closes the file (frames after that are dropped, as the book's are)."""

    def __init__(self, recorder: Recorder):
        self._recorder = recorder

    def connected(self) -> None:
        self._recorder._write({"t": _stamp(datetime.now(UTC)), "trades_connect": True})

    def frame(self, frame: str | bytes, received_at: datetime) -> None:
        if isinstance(frame, bytes):
            self._recorder._write({"t": _stamp(received_at), "trades_binary": base64.b64encode(frame).decode()})
        else:
            self._recorder._write({"t": _stamp(received_at), "trades": frame})


def recorded(open_feed: Callable[[FeedRequest], Feed], path: str,
             feed_kind: Callable[[FeedRequest], str | None]) -> Callable[[FeedRequest], Feed]:
    """``open_feed`` with a recorder on every feed it opens (``watch --record``)."""
    def open_recorded(request: FeedRequest) -> Feed:
        recorder = Recorder(path, request, feed_kind(request))
        feed = open_feed(request)
        feed.tap = recorder
        return feed

    return open_recorded


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class DamagedRecording(UsageError):
    """Something obook's recorder never writes (an edited or corrupted file): the file is refused, exit 2."""


def _time(value: object) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise MalformedData("a record without a time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedData(f"a record time {sanitize(repr(value[:40]), 60)} is not ISO-8601") from None
    try:  # in UTC, as every later subtraction sees it: 9999-12-31 west of UTC, or year 1 east of it, is no time
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise DamagedRecording(f"a record time {sanitize(repr(value[:40]), 60)} is out of range") from None


# ------------------------------------------------------------------ replay

def is_recording(stream: IO[bytes]) -> bool:
    """Whether the stream starts with a raw recording's header (looked at, not consumed)."""
    peek = getattr(stream, "peek", None)
    if peek is None:
        return False
    try:
        head = peek(64)[:64]
    except (OSError, EOFError, zlib.error) as exc:  # a broken gzip stream: the file's fault, as replay says for books
        raise UsageError(f"the recording cannot be read: {sanitize(exc, 120)}", hint="is it a complete NDJSON or gzip file?") from None
    return head.lstrip().startswith(b'{"' + MAGIC.encode() + b'"')


def _header(line: bytes | None) -> dict[str, Any]:
    from orderbook_cli.transport.wire import json_loads

    data = json_loads(line) if line else None
    if not isinstance(data, dict) or data.get(MAGIC) != FORMAT:
        raise UsageError("not an obook raw recording of a format this version reads")
    venue, symbol, depth, feed = data.get("venue"), data.get("symbol"), data.get("depth"), data.get("feed")
    if not (isinstance(venue, str) and isinstance(symbol, str) and len(symbol) <= 60 and isinstance(depth, int)
            and not isinstance(depth, bool) and 1 <= depth <= 10_000 and feed in (None, "top", "full")):
        raise UsageError("the recording's header is damaged (venue, symbol, depth, feed)")
    return data


def replay_feed(request: FeedRequest, stream: IO[bytes], speed: float | None, trades: Any = None) -> Feed:
    """A feed that re-runs a raw recording through the recorded venue's own parsers;
    its trade frames go to `trades` (tape.ReplayedTrades, for the ladder's tape pane; not
    imported: tape reaches up to the plan, which imports this), or are passed over
    (NDJSON: books only)."""
    from orderbook_cli.replay import capped_lines
    from orderbook_cli.venues import get_venue

    lines = capped_lines(stream, MAX_LINE_BYTES, what="an obook raw recording", cut_short_ends=True,
                         hint="record one with: obook watch VENUE SYMBOL --record FILE")
    header = _header(next(lines, (1, None))[1])
    venue = get_venue(header["venue"])
    connections_of = getattr(venue, "connections", None)  # only WebSocket venues are recorded raw
    if connections_of is None:
        raise UsageError(f"the recording names {venue.info.id}, which obook polls over REST and never records raw",
                         hint="record one with: obook watch VENUE SYMBOL --record FILE")
    options = {"feed": header["feed"]} if header["feed"] and venue.takes("feed") else {}
    recorded = FeedRequest(venue=venue.info.id, symbol=header["symbol"], depth=request.options.get("depth") or header["depth"],
                           timeout=request.timeout, options=options)
    source = venue.trades()
    trade_frames = None
    if trades is not None and isinstance(source, TradeStream):
        trades.title = f"{venue.info.id} {sanitize(header['symbol'], 60)}"
        trade_frames = _TradePlayer(source, header["symbol"], trades)

    def produce(ctx: FeedContext) -> None:
        ctx.set_state(State.CONNECTING)
        connections = connections_of(ctx, live=False)
        handler = None
        previous: datetime | None = None
        for number, line in lines:
            if ctx.stopped.is_set():
                return
            try:
                handler, previous = _play(line, handler, connections, previous, ctx, speed, trade_frames)
            except DamagedRecording as exc:
                raise DamagedRecording(f"recording line {number}: {exc.message}", hint="record again with: obook watch VENUE SYMBOL --record FILE") from None
            except MalformedData as exc:
                ctx.malformed(MalformedData(f"recording line {number}: {exc.message}"))
        ctx.set_state(State.CLOSED, "end of recording: press q to quit")

    return Feed(recorded, produce)


class _TradePlayer:
    """Recorded trade frames through the venue's trade parser, to the tape pane."""

    def __init__(self, source: TradeStream, symbol: str, trades: Any):
        self.source, self.symbol, self.trades = source, symbol, trades

    def frame(self, frame: str | bytes, at: datetime, ctx: FeedContext) -> None:
        try:
            parsed = self.source.parse(frame, self.symbol, at)
        except MalformedData:
            raise
        except ObookError as error:  # a refusal recorded: the tape says so, as live, and the book plays on
            self.trades.fail(error, ctx.stopped)
            return
        if parsed:
            self.trades.put(parsed, ctx.stopped)


def _play(line: bytes, handler, connections, previous: datetime | None, ctx: FeedContext, speed: float | None,
          trade_frames: _TradePlayer | None = None):
    from orderbook_cli.transport.wire import json_loads

    if not line.strip():
        return handler, previous
    record = json_loads(line)
    if not isinstance(record, dict):
        raise MalformedData("a record is not a JSON object")
    at = _time(record.get("t"))
    if previous is not None and speed is not None:
        gap = (at - previous).total_seconds()
        if gap > 0 and not ctx.sleep(min(gap, MAX_GAP_SECONDS) / speed):
            return handler, None
    if record.get("connect") is True:
        return connections(_nothing_sent, NO_TAP), at
    if record.get("trades_connect") is True:
        return handler, at
    if isinstance(record.get("trades"), str) or isinstance(record.get("trades_binary"), str):
        if trade_frames is not None:  # else books only (NDJSON, or a venue without a trade stream)
            trade_frames.frame(_recorded_frame(record, "trades", "trades_binary"), at, ctx)
        return handler, at
    if handler is None:
        raise MalformedData("a frame before any connection")
    if isinstance(record.get("frame"), str) or isinstance(record.get("binary"), str):
        handler.frame(_recorded_frame(record, "frame", "binary"), at)
    elif isinstance(record.get("seed"), str) and hasattr(handler, "seed_body"):
        handler.seed_body(_capped(_bytes(record["seed"]), MAX_SEED_BYTES), at)
    else:
        raise MalformedData("a record that is neither a connection, a frame nor a seed")
    handler.tick()
    return handler, at


def _recorded_frame(record: dict, text_key: str, binary_key: str) -> str | bytes:
    """A recorded frame as it arrived: text, or binary from its base64, held to the transport's limit."""
    if isinstance(record.get(text_key), str):
        return _capped(_bytes(record[text_key]), MAX_FRAME_BYTES).decode("utf-8", "surrogateescape")
    try:
        return _capped(base64.b64decode(record[binary_key], validate=True), MAX_FRAME_BYTES)
    except binascii.Error:
        raise MalformedData("a binary frame that is not base64") from None


def _bytes(text: str) -> bytes:
    """A recorded text's bytes as received (undecodable bytes were kept as surrogate escapes);
    a lone surrogate no venue could have sent (an edited file) makes the record unusable."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise DamagedRecording("a record holding a lone surrogate (\\ud800-\\udfff), which obook never writes") from None


def _capped(data: bytes, limit: int) -> bytes:
    """A recorded frame or seed is held to the limits the live transports enforce."""
    if len(data) > limit:
        raise MalformedData(f"a recorded message of {len(data)} bytes (limit {limit})")
    return data


def _nothing_sent(message: str) -> None:
    """A replayed connection sends nothing: the venue's answers are in the recording."""
