"""Decoding venue payloads exactly."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_loads(body: str | bytes) -> Any:
    """JSON with exact numbers: fractions become Decimal, never float; NaN/Infinity refused."""
    return json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
