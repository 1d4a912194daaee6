"""Axis arithmetic shared by the depth chart and the heatmap: round steps, labels
that never overlap or get cut, exact decimals throughout."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext

from orderbook_cli.book import EXACT, plain

AMOUNT_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5))
PRICE_STEPS = (Decimal(1), Decimal(2), Decimal(5))  # price labels stay short: 90 92 94, not 90.0 92.5


def nice_step(at_least: Decimal, mantissas: tuple[Decimal, ...] = AMOUNT_STEPS) -> Decimal:
    """The smallest round step (a mantissa times a power of ten) that is >= at_least (> 0)."""
    if at_least <= 0:
        return Decimal(1)
    with localcontext(EXACT):
        power = Decimal(1).scaleb(at_least.adjusted())
        for scale in (power, power * 10):
            for mantissa in mantissas:
                step = mantissa * scale
                if step >= at_least:
                    return step.normalize()
    return (power * 10).normalize()  # unreachable: 10**(adjusted+1) > at_least


def steps_in(value: Decimal, step: Decimal, rounding: str) -> int:
    """How many whole steps fit in value, rounded as asked (floor for bids, ceiling for asks)."""
    with localcontext(EXACT):
        return int((value / step).to_integral_value(rounding=rounding))


def floor_steps(value: Decimal, step: Decimal) -> int:
    return steps_in(value, step, ROUND_FLOOR)


def ceil_steps(value: Decimal, step: Decimal) -> int:
    return steps_in(value, step, ROUND_CEILING)


def label(value: Decimal, step: Decimal) -> str:
    """A tick value in plain notation with exactly the step's decimals (2.5 steps: 102.5, 105.0)."""
    exponent = step.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    with localcontext(EXACT):
        return plain(value.quantize(Decimal(1).scaleb(-places)))


def significant(value: Decimal, digits: int = 2) -> str:
    """A size for a legend, rounded to a few significant digits, plain notation."""
    if not value:
        return "0"
    with localcontext(EXACT):
        quantum = Decimal(1).scaleb(value.adjusted() - digits + 1)
        rounded = value.quantize(quantum, rounding=ROUND_CEILING)
    return plain(rounded.normalize() if rounded == rounded.to_integral_value() else rounded)


def place(labels: list[tuple[int, str]], width: int, gap: int = 1) -> list[tuple[int, str]]:
    """Centre each (column, text) on its column; drop any that would be cut by the edges
    or touch a neighbour, so every label shown is whole."""
    placed, end = [], -gap
    for column, text in sorted(labels):
        start = min(max(column - len(text) // 2, 0), width - len(text))
        if start < 0 or start < end + gap or abs(start + len(text) // 2 - column) > len(text) // 2:
            continue
        placed.append((start, text))
        end = start + len(text)
    return placed


def overlay(line: list[str], placed: list[tuple[int, str]]) -> None:
    """Write placed labels into a line of single characters."""
    for start, text in placed:
        line[start:start + len(text)] = list(text)
