"""Decoding venue payloads exactly."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import lru_cache
from typing import Any

from orderbook_cli.errors import MalformedData, sanitize


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# Longer number literals are refused before conversion: no venue number needs
# more, and int() of a long literal costs quadratic time.
MAX_NUMBER_CHARS = 100


@lru_cache(maxsize=1024)  # venues repeat the same small integers (sides, flags) in every frame; the C cache skips a Python call
def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(f"a number of {len(text)} digits")
    return int(text)


def _decimal(text: str) -> Decimal:
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(f"a number of {len(text)} characters")
    return Decimal(text)


# One decoder each, made once: json.loads with any option makes a decoder (and its scanner)
# per call, which costs about as much as decoding a small frame.
_EXACT = json.JSONDecoder(parse_float=_decimal, parse_int=_int, parse_constant=_reject_constant)
_NUMBERS_AS_TEXT = json.JSONDecoder(parse_float=str, parse_int=_int, parse_constant=_reject_constant)


def _decode(decoder: json.JSONDecoder, body: str | bytes) -> Any:
    """json.loads(body) through `decoder`; anything that is not JSON raises MalformedData."""
    try:
        if type(body) is str and not body.startswith("\ufeff"):
            return decoder.decode(body)
        # bytes (UTF-8, -16 or -32, as json.loads detects them), or a BOM json.loads names
        return json.loads(body, parse_float=decoder.parse_float, parse_int=decoder.parse_int, parse_constant=decoder.parse_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, NaN, absurd nesting
        raise MalformedData(f"not valid JSON ({_why(body, exc)})") from exc


def _why(body: str | bytes, exc: Exception) -> str:
    """Why a body is not JSON, in words a user can act on (not the decoder's "Expecting value: line 1 column 1")."""
    start = body[:64].lstrip()
    if not start:
        return "it is empty"
    if start[:1] in ("<", b"<"):
        return "it is a web page, not the venue's API"
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text"
    if isinstance(exc, RecursionError):
        return "it is nested too deeply"
    if isinstance(exc, json.JSONDecodeError):
        return f"it breaks off or goes wrong at character {exc.pos}"
    return sanitize(exc, 120)  # obook's own refusals: NaN, a number too long


def json_loads(body: str | bytes) -> Any:
    """JSON with exact numbers: fractions become Decimal, never float; NaN/Infinity refused;
    number literals bounded by length.

    Anything that is not JSON raises MalformedData, obook's own error.
    """
    return _decode(_EXACT, body)


def json_loads_numbers_as_text(body: str | bytes) -> Any:
    """As json_loads, but a JSON number with a fraction or an exponent stays its text, for
    the venue to convert with book.to_decimal (which bounds, checks and remembers it): a
    venue that writes prices as JSON numbers (Kraken) repeats them as one writing strings
    does, and each is checked and converted once. Text costs nothing to keep, however
    long the literal (to_decimal refuses one over its own bound); integers are as in json_loads."""
    return _decode(_NUMBERS_AS_TEXT, body)


def objects(container: Any, key: str, what: str) -> list[dict]:
    """container[key] as a list of JSON objects, or MalformedData saying what is wrong."""
    items = container.get(key) if isinstance(container, dict) else None
    if not isinstance(items, list):
        raise MalformedData(f"{what} without a {key} list")
    for item in items:
        if not isinstance(item, dict):
            raise MalformedData(f"a {key} entry is {type(item).__name__}, not an object")
    return items
