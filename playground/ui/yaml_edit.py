"""Edits of the topology's YAML that keep the user's comments and layout (round-trip).

ruamel.yaml's round-trip mode keeps comments and most formatting; what it would still
re-spell (``[{prefix: x}]`` as ``[prefix: x]``, ``null`` as nothing) is kept as the user wrote
it by taking only the lines the edit really changed.
"""

from __future__ import annotations

import difflib
import io
import json
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError


class EditError(ValueError):
    """The edit cannot be made (the text does not parse, or the node is not there)."""


class ValueUnparsable(EditError):
    """The value typed is not YAML; the message says why in one line."""


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(
        type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null"))
    return yaml


def _dump(yaml: YAML, data: Any) -> str:
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _load(yaml: YAML, text: str) -> Any:
    try:
        return yaml.load(text)
    except YAMLError as error:
        raise EditError(f"the YAML does not parse: {error}") from error


def parse_value(raw: str) -> Any:
    """A value as the user typed it (``200/s``, ``3``, ``{rate: 5/s}``, ``null``)."""
    try:
        data = _yaml().load(f"value: {raw}\n" if raw.strip() else "value: null\n")
    except YAMLError as error:
        raise ValueUnparsable(_why(error)) from error
    if not isinstance(data, dict) or "value" not in data:
        raise EditError(f"not a single value: {raw!r}")
    return data["value"]


_WHY = (
    ("expected ',' or ']'", "the [ is never closed"),
    ("expected ',' or '}'", "the { is never closed"),
    ("found unexpected end of stream", "the quote is never closed"),
    ("mapping values are not allowed here", "a ': ' inside a value needs quotes around it"),
    ("sequence entries are not allowed here", "a '- ' list needs [ ] on one line"),
    ("found undefined alias", "a value cannot start with * (quote it to write it as text)"),
)


def _why(error: YAMLError) -> str:
    """What is wrong with a typed value, in one line (ruamel's text names its own
    wrapper's lines and columns)."""
    problem = str(getattr(error, "problem", "") or "")
    for found, said in _WHY:
        if found in problem:
            return said
    start = re.search(r"found character '(.)' that cannot start any token", problem)
    if start:
        return f"a value cannot start with {start[1]} (quote it to write it as text)"
    return problem.splitlines()[0] if problem else "it is not YAML"


def _node(data: Any, node_id: str) -> CommentedMap:
    nodes = data.get("nodes") if isinstance(data, dict) else None
    node = nodes.get(node_id) if isinstance(nodes, dict) else None
    if not isinstance(node, dict):
        raise EditError(f"no node {node_id!r} in the file")
    return node


def set_node_field(text: str, node_id: str, field: str, raw: str) -> str:
    """``text`` with ``nodes.<node_id>.<field>`` set to the YAML value ``raw``."""
    yaml = _yaml()
    base = _dump(yaml, _load(yaml, text))
    data = _load(yaml, text)
    _node(data, node_id)[field] = parse_value(raw)
    return _keep_untouched(text, base, _dump(yaml, data))


def _keep_untouched(original: str, base: str, edited: str) -> str:
    """Applies the change from ``base`` to ``edited`` onto ``original`` line by line."""
    lines = original.splitlines(keepends=True)
    base_lines = base.splitlines(keepends=True)
    if len(lines) != len(base_lines):
        return edited  # ruamel changed the line structure: its own text is the safe answer
    edited_lines = edited.splitlines(keepends=True)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=base_lines, b=edited_lines, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        out.extend(lines[a0:a1] if op == "equal" else edited_lines[b0:b1])
    result = "".join(out)
    if original.endswith("\n") and not result.endswith("\n"):
        result += "\n"
    return result


def node_values(text: str, node_id: str) -> dict[str, str]:
    """The fields of a node as written in the file, each as one line of YAML."""
    yaml = _yaml()
    try:
        node = _node(_load(yaml, text), node_id)
    except EditError:
        return {}
    return {str(key): inline(value) for key, value in node.items()}


def inline(value: Any) -> str:
    """One value as a line of flow-style YAML, keys in the order written."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value if _PLAIN.match(value) else json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{inline(k)}: {inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(inline(v) for v in value) + "]"
    return json.dumps(str(value))


_PLAIN = re.compile(r"^[A-Za-z0-9_./][A-Za-z0-9_./ -]*$")
