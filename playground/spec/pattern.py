"""EventBridge-like filter patterns over a payload: checking them and compiling them.

A pattern maps a field to a list of matchers (any may match) or to a nested pattern; every
field must match. Matchers are plain values (exact, type-sensitive: ``1`` is not ``true`` and
``"300"`` is not ``300``), ``{prefix: s}``, ``{numeric: [op, n, ...]}``, ``{exists: bool}`` and
``{anything-but: [...]}``. A payload field holding a list matches if any element does.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

Path = tuple[str | int, ...]
Match = Callable[[Any, bool], bool]  # (value, present) -> matched

_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
MATCHERS = ("prefix", "numeric", "exists", "anything-but")
_MISSING = object()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def pattern_problems(pattern: Any, path: Path = ()) -> list[tuple[Path, str]]:
    """Everything wrong with ``pattern``, each with the path inside it where it is."""
    if not isinstance(pattern, dict):
        return [(path, "a filter is a mapping of payload fields to lists of matchers, "
                       "such as {region: [{prefix: eu-}]}")]
    if not pattern:
        return [(path, "a filter needs at least one field")]
    problems: list[tuple[Path, str]] = []
    for field, rule in pattern.items():
        here = (*path, field)
        if isinstance(rule, dict):
            problems += pattern_problems(rule, here)
        elif isinstance(rule, list):
            if not rule:
                problems.append((here, f"the matchers of {field!r} cannot be an empty list"))
            for i, matcher in enumerate(rule):
                problems += _matcher_problems(matcher, (*here, i))
        else:
            problems.append((here, f"{field!r} needs a list of matchers, such as "
                                   f"{field}: [{rule!r}]" if _scalar(rule) else
                             f"{field!r} needs a list of matchers or a nested pattern"))
    return problems


def _matcher_problems(matcher: Any, path: Path) -> list[tuple[Path, str]]:
    if _scalar(matcher):
        return []
    if not isinstance(matcher, dict) or len(matcher) != 1:
        return [(path, "a matcher is a value or one of {prefix: s}, {numeric: [op, n]}, "
                       "{exists: true|false}, {anything-but: [values]}")]
    (name, arg), = matcher.items()
    here = (*path, name)
    if name == "prefix":
        return [] if isinstance(arg, str) else [(here, "prefix takes a string")]
    if name == "exists":
        return [] if isinstance(arg, bool) else [(here, "exists takes true or false")]
    if name == "anything-but":
        values = arg if isinstance(arg, list) else [arg]
        if all(_scalar(v) for v in values) and values:
            return []
        return [(here, "anything-but takes a value or a list of values")]
    if name == "numeric":
        return _numeric_problems(arg, here)
    return [(path, f"unknown matcher {name!r}: use one of {', '.join(MATCHERS)}")]


def _numeric_problems(arg: Any, path: Path) -> list[tuple[Path, str]]:
    hint = 'numeric takes [op, n] or [op, n, op, n] with op one of = < <= > >=, e.g. [">=", 100]'
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        return [(path, hint)]
    for i in range(0, len(arg), 2):
        if arg[i] not in _OPS or not _is_number(arg[i + 1]):
            return [(path, hint)]
        if not _finite(arg[i + 1]):  # NaN would match nothing, infinity everything or nothing
            return [(path, f"numeric compares with a finite number (got {arg[i + 1]!r})")]
    return []


def _finite(number: float) -> bool:
    try:
        return math.isfinite(number)
    except OverflowError:  # an integer beyond a float's range
        return False


def compile_pattern(pattern: dict[str, Any]) -> Callable[[Any], bool]:
    """A predicate over payloads; ``pattern`` must already be free of problems."""
    fields = [(name, _compile_rule(rule)) for name, rule in pattern.items()]

    def matches(payload: Any) -> bool:
        if not isinstance(payload, dict):
            payload = {}
        for name, rule in fields:
            value = payload.get(name, _MISSING)
            if not rule(value):
                return False
        return True

    return matches


def _compile_rule(rule: Any) -> Callable[[Any], bool]:
    if isinstance(rule, dict):
        nested = compile_pattern(rule)
        return lambda value: value is not _MISSING and isinstance(value, dict) and nested(value)
    matchers = [_compile_matcher(m) for m in rule]

    def any_matches(value: Any) -> bool:
        present = value is not _MISSING
        candidates = value if present and isinstance(value, list) and value else [value]
        for candidate in candidates:
            for matcher in matchers:
                if matcher(candidate, present):
                    return True
        return False

    return any_matches


def _same(a: Any, b: Any) -> bool:
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _compile_matcher(matcher: Any) -> Match:
    if _scalar(matcher):
        return lambda value, present: present and _same(value, matcher)
    (name, arg), = matcher.items()
    if name == "prefix":
        return lambda value, present: isinstance(value, str) and value.startswith(arg)
    if name == "exists":
        return lambda value, present: present == arg
    if name == "anything-but":
        values = arg if isinstance(arg, list) else [arg]
        return lambda value, present: present and not any(_same(value, v) for v in values)
    checks = [(_OPS[arg[i]], float(arg[i + 1])) for i in range(0, len(arg), 2)]
    return lambda value, present: _is_number(value) and all(op(value, n) for op, n in checks)
