"""A producer's payload template: the placeholders its strings may hold, and what is wrong
with one.

A placeholder is one of five fixed forms matched by a regular expression, never code. Text
that only looks like one (``{user}``) stays text, with a warning in case it was meant.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any, Literal

PLACEHOLDER = re.compile(r"\{(seq|uuid|now|int:(-?\d+)\.\.(-?\d+)|choice:([^{}]*))\}")
# anything written like a placeholder: a name in braces, maybe with an argument
_LOOKALIKE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_-]*)(:[^{}]*)?\}")
MAX_INT_DIGITS = 18  # {int:A..B}: bounds a 64-bit integer holds, as JSON readers expect
HINT = "placeholders are {seq}, {uuid}, {now}, {int:A..B} and {choice:a,b,c}"

Severity = Literal["error", "warning"]
TemplateProblem = tuple[tuple[Any, ...], str, Severity]


def template_problems(payload: Any) -> Iterator[TemplateProblem]:
    """What is wrong with ``payload`` (a producer's template): the path below it, a message
    and whether it is an error (a placeholder written wrong) or a warning (text that looks
    like a placeholder but is not one)."""
    if not isinstance(payload, dict):
        return
    for key, value in payload.items():
        if isinstance(value, str):
            yield from _string_problems(key, value)
        else:
            path = _non_finite(value)
            if path is not None:
                yield ((key, *path), "a payload is JSON: NaN and infinity are not numbers "
                                     "there (write a number, or a string)", "error")


def _string_problems(key: Any, text: str) -> Iterator[TemplateProblem]:
    for found in _LOOKALIKE.finditer(text):
        written = found.group(0)
        name = found.group(1)
        exact = PLACEHOLDER.fullmatch(written)
        if exact is not None and name == "int":
            low, high = exact.group(2), exact.group(3)
            if max(len(low.lstrip("-")), len(high.lstrip("-"))) > MAX_INT_DIGITS:
                yield ((key,), f"{written}: bounds of at most {MAX_INT_DIGITS} digits",
                       "error")
            elif int(low) > int(high):
                yield ((key,), f"{written}: the lower bound comes first, "
                               f"{{int:{high}..{low}}}", "error")
        elif exact is not None and name == "choice":
            if not any(choice.strip() for choice in exact.group(4).split(",")):
                yield ((key,), f"{written}: name the values to choose from, e.g. "
                               "{choice:red,green,blue}", "error")
        elif exact is None and name == "int":
            yield ((key,), f"{written} is not a placeholder: use {{int:A..B}} with whole "
                           "numbers A and B, e.g. {int:1..500}", "error")
        elif exact is None and name == "choice":
            yield ((key,), f"{written} is not a placeholder: use {{choice:a,b,c}}", "error")
        elif exact is None:
            near = name.lower()
            meant = f"; did you mean {{{near}}}?" if near in ("seq", "uuid", "now") else ""
            yield ((key,), f"{written} is not a placeholder and stays as text ({HINT})"
                           f"{meant}", "warning")


def _non_finite(value: Any) -> tuple[Any, ...] | None:
    """The path to a NaN or infinity inside ``value``, if there is one."""
    if isinstance(value, float) and not math.isfinite(value):
        return ()
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        inner = _non_finite(item)
        if inner is not None:
            return (key, *inner)
    return None
