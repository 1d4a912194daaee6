"""Venue timestamps in, ISO-8601 UTC out."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from orderbook_cli.errors import MalformedData
from orderbook_cli.memo import remember

# Every ISO-8601 form venues send; compiled on first use (re's cache), as most stamps take the
# exact UTC form below. re.ASCII: "²", "①" or Arabic-Indic digits are not digits here.
_ISO = (r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
        r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?")
_MAX_EPOCH = 10**20  # nanoseconds until the year 5138; anything larger is not a time
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now_utc() -> datetime:
    return datetime.now(UTC)


def from_epoch_ms(value: int) -> datetime:
    # Venues say "milliseconds", but guard against seconds/micros/nanos by magnitude.
    if not 0 <= value < _MAX_EPOCH:
        raise MalformedData("timestamp is out of range")
    if value < 10**11:
        value *= 1000
    elif value >= 10**17:
        value //= 10**6
    elif value >= 10**14:
        value //= 1000
    try:
        return _EPOCH + timedelta(milliseconds=value)
    except OverflowError as exc:
        raise MalformedData(f"timestamp {value} is out of range") from exc


# What Revolut X (milliseconds) and Kraken (microseconds) send: datetime parses it in C.
_ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3}|\.\d{6})?Z", re.ASCII)


def parse_venue_time(value: object) -> datetime | None:
    """ISO-8601 (any fraction length, with or without zone: UTC assumed) or epoch ms."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):  # already parsed (e.g. the latest of several)
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return from_epoch_ms(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= 20 and text.isascii() and text.isdigit():
            return from_epoch_ms(int(text))
        if len(text) in (20, 24, 27) and _ISO_UTC.fullmatch(text):  # 2026-12-05T10:00:00Z, .123Z, .123456Z
            try:  # the same datetime the pattern below builds, parsed in C; anything odd goes the long way
                return datetime.fromisoformat(text)
            except ValueError:
                pass
        match = re.fullmatch(_ISO, text, re.ASCII)
        if match:
            year, month, day, hour, minute, second, fraction, zone = match.groups()
            micros = int((fraction or "0")[:6].ljust(6, "0"))
            try:
                offset = UTC
                if zone and zone not in ("Z", "z"):
                    sign = -1 if zone[0] == "-" else 1
                    digits = zone[1:].replace(":", "")
                    offset = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0)))
                stamp = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micros, offset)
                return stamp.astimezone(UTC)
            except (ValueError, OverflowError) as exc:  # +99:00, month 13, year 0, 0001-01-01 at +01:00
                raise MalformedData(f"timestamp {text[:40]!r} is not a valid date") from exc
    shown = "a negative integer" if isinstance(value, int) else repr(str(value)[:40])
    raise MalformedData(f"timestamp {shown} is neither ISO-8601 nor epoch milliseconds")


# "YYYY-MM-DDTHH:MM:SS." of the seconds written lately: books come many a second, each
# with its venue's stamp and its arrival time (replaced whole, never changed in place).
_seconds: dict[tuple[int, int, int, int, int, int], str] = {}
_MAX_SECONDS = 64  # then the oldest are forgotten (memo.remember)


def iso_utc(stamp: datetime) -> str:
    """2025-08-08T21:40:36.124Z"""
    if stamp.tzinfo is not UTC:
        stamp = stamp.astimezone(UTC)
    second = (stamp.second, stamp.minute, stamp.hour, stamp.day, stamp.month, stamp.year)
    text = _seconds.get(second)
    if text is None:
        if stamp.year >= 1000:  # isoformat is cheaper; it pads years to 4 digits where %Y does not
            text = stamp.isoformat(timespec="seconds")[:-6] + "."  # drops "+00:00"
        else:
            text = f"{stamp.year:04d}" + stamp.strftime("-%m-%dT%H:%M:%S.")  # %Y gives "1", not "0001"
        remember(_seconds, second, text, _MAX_SECONDS)
    return text + str(stamp.microsecond // 1000 + 1000)[1:] + "Z"  # the milliseconds, three digits
