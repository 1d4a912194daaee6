"""Decoding venue payloads exactly."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from orderbook_cli.errors import MalformedData, sanitize


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_loads(body: str | bytes) -> Any:
    """JSON with exact numbers: fractions become Decimal, never float; NaN/Infinity refused.

    Anything that is not JSON raises MalformedData, obook's own error.
    """
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, NaN, absurd nesting
        raise MalformedData(f"not valid JSON ({sanitize(exc, 120)})") from exc
