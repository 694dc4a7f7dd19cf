"""Durations, rates and probabilities as the topology format writes them.

Each parser takes what YAML gave us and returns seconds (or per-second) as a float, or raises
``ValueError`` with a message that says what would have been valid. Pydantic turns those into
problems with a position.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

_DURATION_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0,
                   "d": 86400.0}
_RATE_UNITS = {"ms": 1e-3, "s": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0}
_MULTIPLIERS = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6}

_NUMBER = r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+"
_DURATION_RE = re.compile(rf"^\s*(-?(?:{_NUMBER}))\s*(us|ms|s|min|m|h|d)\s*$")
_RATE_RE = re.compile(rf"^\s*(-?(?:{_NUMBER}))\s*([kKM]?)\s*/\s*(ms|s|min|m|h)\s*$")

# the engine's clock counts microseconds: arrivals any closer would share an instant
MAX_RATE = 1e6
MAX_RATE_TEXT = "the clock counts microseconds, so a rate is at most 1M/s"

DURATION_HINT = "a number of seconds or a string such as 250ms, 2s, 1.5m, 1h, 3d"
RATE_HINT = "a number per second or a string such as 200/s, 3000/min, 5k/s, 2/ms"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _float(value: int | float) -> float:
    """A float, or infinity for an integer beyond a float's range (refused as not finite)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def parse_duration(value: Any) -> float:
    """Seconds from ``2s``, ``250ms``, ``1.5m``, ``1h``, ``3d`` or a bare number."""
    if _is_number(value):
        seconds = _float(value)
    elif isinstance(value, str) and (match := _DURATION_RE.match(value)):
        seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    else:
        raise ValueError(f"{value!r} is not a duration: use {DURATION_HINT}")
    if not math.isfinite(seconds):
        raise ValueError(f"{_shown(value)} is not a finite duration: use {DURATION_HINT}")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative (got {value!r})")
    return seconds


def parse_rate(value: Any) -> float:
    """Messages per second from ``200/s``, ``3000/min``, ``5k/s``, ``2/ms`` or a bare number."""
    if _is_number(value):
        rate = _float(value)
    elif isinstance(value, str) and (match := _RATE_RE.match(value)):
        number, multiplier, unit = match.groups()
        rate = float(number) * _MULTIPLIERS[multiplier] / _RATE_UNITS[unit]
    else:
        raise ValueError(f"{value!r} is not a rate: use {RATE_HINT}")
    if not math.isfinite(rate):
        raise ValueError(f"{_shown(value)} is not a finite rate: use {RATE_HINT}")
    if rate <= 0:
        raise ValueError(f"a rate must be positive (got {value!r})")
    if rate > MAX_RATE:
        raise ValueError(f"{_shown(value)} is too fast: {MAX_RATE_TEXT}")
    return rate


def parse_probability(value: Any) -> float:
    if not _is_number(value) or not 0.0 <= _float(value) <= 1.0:  # NaN fails the test too
        raise ValueError(f"{_shown(value)} is not a probability: use a number from 0 to 1")
    return float(value)


def parse_positive_number(value: Any) -> float:
    if not _is_number(value) or not math.isfinite(_float(value)) or value <= 0:
        raise ValueError(f"{_shown(value)} is not a positive number")
    return float(value)


def _shown(value: Any) -> str:
    """``value`` as a message quotes it, cut short if it is long."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def format_duration(seconds: float) -> str:
    """A spelling of ``seconds`` that :func:`parse_duration` reads back exactly: a whole
    number below 1000 in the largest unit that has one (``100ms``, ``15m``), else the
    shortest (``29.5s``, not ``29500ms``)."""
    spellings = []
    for unit, size in _SPELLED_UNITS:
        count = seconds / size
        if count >= 1 and abs(count - round(count)) < 1e-9:
            if round(count) < 1000:
                return f"{round(count)}{unit}"
            spellings.insert(0, f"{round(count)}{unit}")
            break
        if count >= 1:
            spellings.append(f"{count:g}{unit}")
    spellings.append(f"{seconds:.12f}".rstrip("0").rstrip(".") + "s")  # never 1e-07s
    exact = [s for s in spellings if "e" not in s and _reads_back(s, seconds)]
    return min(exact, key=len) if exact else f"{seconds}s"


_SPELLED_UNITS = (("d", 86400.0), ("h", 3600.0), ("m", 60.0), ("s", 1.0), ("ms", 1e-3))


def _reads_back(spelling: str, seconds: float) -> bool:
    return abs(parse_duration(spelling) - seconds) <= 1e-9 * max(seconds, 1e-9)


def format_rate(per_second: float) -> str:
    if per_second >= 1000 and (per_second / 1000).is_integer():
        return f"{int(per_second / 1000)}k/s"
    if per_second.is_integer():
        return f"{int(per_second)}/s"
    return f"{per_second:g}/s"


_DURATION_JSON = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string",
         "pattern": r"^\s*([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*(us|ms|s|min|m|h|d)\s*$"},
    ],
    "description": f"Duration: {DURATION_HINT}.",
}
_RATE_JSON = {
    "anyOf": [
        {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RATE},
        {"type": "string",
         # not negative, and not zero however it is written
         "pattern": r"^\s*(?![0.]+\s*[kKM]?\s*/)([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*[kKM]?\s*/\s*"
                    r"(ms|s|min|m|h)\s*$"},
    ],
    "description": f"Rate: {RATE_HINT}.",
}
_PROBABILITY_JSON = {"type": "number", "minimum": 0, "maximum": 1,
                     "description": "Probability: a number from 0 to 1."}

Duration = Annotated[float, BeforeValidator(parse_duration), WithJsonSchema(_DURATION_JSON)]
Rate = Annotated[float, BeforeValidator(parse_rate), WithJsonSchema(_RATE_JSON)]
Probability = Annotated[float, BeforeValidator(parse_probability),
                        WithJsonSchema(_PROBABILITY_JSON)]
PositiveNumber = Annotated[float, BeforeValidator(parse_positive_number),
                           WithJsonSchema({"type": "number", "exclusiveMinimum": 0})]
