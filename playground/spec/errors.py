"""Pydantic's validation errors turned into messages a person can act on, with positions."""

from __future__ import annotations

import difflib
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from playground.spec import model as m
from playground.spec.source import Path, Position, SourceMap, as_written

# Which model a mapping under a field of this name is, for naming its valid fields.
_NESTED: dict[str, type[BaseModel]] = {
    "throttle": m.Throttle, "cache": m.Cache, "breaker": m.Breaker, "dlq": m.DeadLetter,
    "backoff": m.Backoff, "idempotent": m.IdempotencyKey,
}


def locate(loc: tuple[Any, ...], data: Any) -> tuple[Path, bool]:
    """The data path a pydantic ``loc`` names, skipping the segments pydantic invents.

    Returns the path and whether the error is about a mapping key itself (``[key]``). For a
    missing key the path stops at its parent.
    """
    path: list[Any] = []
    current = data
    is_key = False
    for segment in loc:
        if segment == "[key]":
            is_key = True
            continue
        if isinstance(current, dict) and isinstance(segment, str) and segment not in current:
            # pydantic writes a key that is neither a string nor a number as text ("None")
            segment = next((k for k in current if not isinstance(k, str | int)
                            and str(k) == segment), segment)
        in_dict = isinstance(current, dict) and segment in current
        in_list = (isinstance(current, list) and isinstance(segment, int)
                   and 0 <= segment < len(current))
        if in_dict or in_list:
            path.append(segment)
            current = current[segment]
        # anything else is a union tag or a branch name that the data does not hold
    return tuple(path), is_key


def _valid_fields(path: Path, data: Any) -> list[str]:
    parent = data
    for segment in path[:-1]:
        parent = parent[segment]
    if not isinstance(parent, dict):
        return []
    spec: type[BaseModel] | None = None
    if len(path) == 1:
        spec = m.Topology
    elif len(path) == 3 and path[0] == "nodes":
        spec = m.SPEC_BY_KIND.get(parent.get("kind"))  # type: ignore[arg-type]
    elif len(path) == 3 and path[0] == "scenario":
        spec = m.STEP_BY_ACTION.get(parent.get("action"))  # type: ignore[arg-type]
    elif "dist" in parent:
        return {"exponential": ["dist", "mean"], "uniform": ["dist", "min", "max"],
                "normal": ["dist", "mean", "sd"], "lognormal": ["dist", "p50", "p99"]}.get(
            parent["dist"], [])
    elif len(path) >= 2 and path[-2] in _NESTED:
        spec = _NESTED[path[-2]]
    elif ("node" in parent and "filter" in parent) or (len(path) >= 3 and "to" in path):
        spec = m.Subscription
    if spec is None:
        return []
    return [f.alias or name for name, f in spec.model_fields.items()]


def _plain(value: Any) -> str:
    """A value as a message shows it: YAML's words for nothing and for booleans."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def shown_key(key: Any) -> str:
    """A mapping key as a message shows it: a name in quotes, others as YAML writes them."""
    return _plain(key) if isinstance(key, str) else as_written(key)


def mentions(message: str, name: str) -> bool:
    """Whether ``message`` already names the field (as a word: "at" is not in "duration")."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", message) is not None


def describe(error: dict[str, Any], path: Path, data: Any) -> str:
    """One pydantic error as a sentence that says what would be valid."""
    kind = error["type"]
    loc = [s for s in error["loc"] if s != "[key]"]
    name = str(loc[-1]) if loc else "value"
    if kind not in ("missing", "extra_forbidden") and loc and path and loc[-1] != path[-1]:
        name = str(path[-1])  # the last loc segment is a tag pydantic invented ("fixed")
    given = error.get("input")
    context = error.get("ctx") or {}
    if kind in ("extra_forbidden", "invalid_key"):  # invalid_key: not a string (`5:`, `~:`)
        valid = [f for f in _valid_fields(path, data) if f not in ("kind", "action")]
        guess = difflib.get_close_matches(name, valid, n=1) if kind == "extra_forbidden" else []
        hint = f"; did you mean {guess[0]!r}?" if guess else "."
        listed = f" Valid fields: {', '.join(valid)}." if valid else ""
        field = repr(name) if kind == "extra_forbidden" else shown_key(given)
        return f"unknown field {field}{hint}{listed}"
    if kind == "missing":
        return f"missing required field {name!r}"
    if kind == "union_tag_invalid":
        tag = context.get("discriminator", "").strip("'")
        expected = context.get("expected_tags", "")
        what = "kind" if tag == "kind" else "action" if tag == "action" else tag
        return f"unknown {what} {context.get('tag')!r}: use one of {expected}"
    if kind == "union_tag_not_found":
        tag = context.get("discriminator", "").strip("'")
        if tag == "kind":
            return f"missing 'kind': use one of {', '.join(m.KINDS)}"
        if tag == "action":
            return f"missing 'action': use one of {', '.join(m.ACTIONS)}"
        return f"missing {tag!r}"
    node_id = context.get("pattern") == m.NODE_ID_PATTERN
    if len(error["loc"]) == 3 and error["loc"][0] in ("nodes", "layout"):
        node_id = error["loc"][2] == "[key]"  # `1:` is no id; "must be a string" hides why
    if node_id and kind in ("string_pattern_mismatch", "string_type"):
        return (f"{shown_key(given)} is not a valid node id: ids start with a lowercase letter "
                "and hold only a-z, 0-9, '_' and '-'")
    mapping = kind in ("dict_type", "model_type", "model_attributes_type")
    if mapping and len(path) == 2 and path[0] == "nodes":
        return (f"node {path[1]!r} must be a mapping with a kind: use one of "
                f"{', '.join(m.KINDS)} (got {_plain(given)})")
    if mapping and len(path) == 2 and path[0] == "scenario":
        return ("a scenario step must be a mapping such as {at: 10s, action: pause, node: f} "
                f"(got {_plain(given)})")
    if path == ("nodes",) and kind == "too_short":
        return "nodes is empty: a topology needs at least one node"
    if len(path) == 2 and path[0] == "layout" and "[key]" not in error["loc"]:
        return (f"the layout of {path[1]!r} must be [column, row] as two whole numbers "
                f"(got {_plain(_at(data, path))})")
    if kind == "literal_error":
        return f"{name} must be {context.get('expected')} (got {_plain(given)})"
    if kind in ("value_error", "assertion_error"):
        message = str(error["msg"])
        for prefix in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(prefix)
        return message if mentions(message, name) else f"{name}: {message}"
    if kind == "distribution":
        return f"{name}: {error['msg']}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{name} must be a whole number (got {_plain(given)})"
    if kind in ("float_type", "float_parsing"):
        return f"{name} must be a number (got {_plain(given)})"
    if kind in ("bool_type", "bool_parsing"):
        valid = "true, false or {key: FIELD}" if name == "idempotent" else "true or false"
        return f"{name} must be {valid} (got {_plain(given)})"
    if kind == "string_type" and "[key]" in error["loc"]:
        return f"the key {shown_key(given)} is not a string: write it in quotes"
    if kind == "string_type":
        return f"{name} must be a string (got {_plain(given)})"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"{name} must be a mapping (got {_plain(given)})"
    if kind in ("list_type", "tuple_type"):
        return f"{name} must be a list (got {_plain(given)})"
    if kind in ("too_short", "too_long"):
        return f"{name}: {error['msg']}"
    bounds = {"greater_than_equal": ("at least", "ge"), "greater_than": ("more than", "gt"),
              "less_than_equal": ("at most", "le"), "less_than": ("less than", "lt")}
    if kind in bounds:
        words, limit = bounds[kind]
        return f"{name} must be {words} {context.get(limit)} (got {_plain(given)})"
    if kind == "string_too_short" and context.get("min_length") == 1:
        return f"{name} must not be empty"
    if kind == "target":  # the item of a `to` list is pointed at; its index says nothing
        return f"{error['msg']} (got {_plain(given)})"
    return f"{name}: {error['msg']}"


def _at(data: Any, path: Path) -> Any:
    for segment in path:
        data = data[segment]
    return data


def from_validation_error(
    error: ValidationError, data: Any, source: SourceMap
) -> list[tuple[Path, Position, str]]:
    """Every error as (path, position, message), one per position and path."""
    found: dict[tuple[Path, Position], str] = {}
    for item in error.errors(include_url=False):
        path, is_key = locate(tuple(item["loc"]), data)
        if path[:1] == ("scenario",) and len(path) == 3 and item["type"] == "invalid_key" \
                and _at(data, path[:2]).get("action") == "set":
            continue  # what a `set` may change is checked in checks.py, by the node's kind
        if path[:1] == ("layout",) and len(path) > 2:
            path = path[:2]  # a position is wrong as a whole: [column, row]
        message = describe(item, path, data)
        value = _at(data, path)
        tag = str((item.get("ctx") or {}).get("discriminator", "")).strip("'")
        if item["type"] == "union_tag_invalid" and isinstance(value, dict) and tag in value:
            path, value = (*path, tag), value[tag]  # point at the unknown kind or action
        # A whole mapping is named by its key (its value's position is its first key); a
        # scalar or list that is wrong is pointed at itself, as an editor underlines it.
        if item["type"] in ("extra_forbidden", "invalid_key", "missing", "union_tag_not_found") \
                or is_key or isinstance(value, dict):
            where = source.key(path)
        else:
            where = source.value(path)
        if item["type"] == "missing" and path and path[0] == "nodes" and len(path) == 2:
            message += f" for {path[1]!r}"
        found.setdefault((path, where), message)
    return [(path, where, message) for (path, where), message in found.items()]
