"""Reading YAML safely into plain data while remembering where every key and value was.

We compose the YAML into nodes (ruamel's composer never constructs objects) and build plain
Python data ourselves, so a tag such as ``!!python/object`` can only ever be refused. Every
mapping key and every value gets a position, so later checks can point at what they mean.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, ReusedAnchorWarning, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from playground.spec.missing_colon import missing_colon

# An anchor defined again is valid YAML (later aliases mean the newer one); ruamel would
# print a warning of its own on stderr, without the file's name, for a file that loads.
warnings.filterwarnings("ignore", category=ReusedAnchorWarning)

Path = tuple[Any, ...]

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
MAX_VALUES = 200_000  # after aliases are expanded: refuses "billion laughs" files

_CORE = "tag:yaml.org,2002:"
_INT = re.compile(r"^[-+]?(?:[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_TRUE = frozenset(("true", "yes", "on", "y"))
_FALSE = frozenset(("false", "no", "off", "n"))
_MAX_DIGITS = 100
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")


# The parser's words for the commonest slips, followed by what to do about them.
_SYNTAX_HINTS = (
    ("expected <block end>", " (check this line's indentation against the lines above)"),
    ("mapping values are not allowed here", " (a second ':' on one line: quote the value, or "
                                            "check the indentation)"),
    ("found character '\\t'", " (indent with spaces: YAML does not allow tabs)"),
    ("found unexpected end of stream", " (the quote opened here is never closed)"),
    ("found unexpected document separator", " (the quote opened here is not closed before "
                                            "a '---' or '...' line)"),
    ("expected ',' or ']'", " (the '[' list opened here is not closed, or its items lack "
                            "commas)"),
    ("expected ',' or '}'", " (the '{' mapping opened here is not closed, or its entries lack "
                            "commas)"),
)
# Inside these the parser notices a missing close only where something else starts, often
# lines below (or at the end of the file): the opening is where the user has to look.
_OPENINGS = frozenset(("while parsing a flow mapping", "while parsing a flow sequence",
                       "while scanning a quoted scalar"))


@dataclass(frozen=True, slots=True)
class Position:
    line: int  # from 1
    column: int  # from 1


@dataclass
class SourceMap:
    """Where each path of the data was written: its key (for mapping entries) and its value."""

    keys: dict[Path, Position] = field(default_factory=dict)
    values: dict[Path, Position] = field(default_factory=dict)
    # Keys YAML tells apart that plain data cannot (1 and true, 1 and 1.0): the first is
    # kept; each later one is listed here, as (its parent's path, its position, a message).
    clashes: list[tuple[Path, Position, str]] = field(default_factory=list)

    def key(self, path: Path) -> Position:
        """The position of the key at ``path``, or of its value, or of the closest parent."""
        while True:
            if path in self.keys:
                return self.keys[path]
            if path in self.values:
                return self.values[path]
            if not path:
                return Position(1, 1)
            path = path[:-1]

    def value(self, path: Path) -> Position:
        """The position of the value at ``path``, or of the closest parent that has one."""
        while True:
            if path in self.values:
                return self.values[path]
            if not path:
                return Position(1, 1)
            path = path[:-1]


class SourceProblem(Exception):
    """The text is not YAML we accept; ``problems`` lists (position, message) pairs."""

    def __init__(self, problems: list[tuple[Position, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(m for _, m in problems))


def _position(node: Node) -> Position:
    mark = node.start_mark
    return Position(mark.line + 1, mark.column + 1)


def _value_position(key: Node, value: Node) -> Position:
    """Where a mapping's value is; an empty one (``description:`` with nothing after it) is
    placed at its key (the parser marks it where the next entry starts, lines below)."""
    empty = isinstance(value, ScalarNode) and value.tag == _CORE + "null" and value.value == ""
    return _position(key if empty else value)


def as_written(key: Any) -> str:
    """A key as YAML writes it (null, true, 1.5), for messages and dotted paths."""
    return "null" if key is None else str(key).lower() if isinstance(key, bool) else str(key)


def too_large(size: int) -> SourceProblem:
    return SourceProblem([(Position(1, 1), f"the file is {size / 1e6:.1f} MB; a topology may be "
                                           f"at most {MAX_BYTES // (1024 * 1024)} MB")])


def undecodable(raw: bytes, error: UnicodeDecodeError) -> Position:
    """Where the first byte that is not UTF-8 is."""
    line = raw.count(b"\n", 0, error.start) + 1
    # in characters, as editors count columns: what precedes the bad byte is valid UTF-8
    before = raw[raw.rfind(b"\n", 0, error.start) + 1: error.start]
    return Position(line, len(before.decode("utf-8")) + 1)


def decode(raw: bytes) -> str:
    """UTF-8 text from bytes, refusing what a topology cannot be."""
    if len(raw) > MAX_BYTES:
        raise too_large(len(raw))
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SourceProblem([(undecodable(raw, error),
                              "the file is not UTF-8 text (a YAML topology must be)")]) from None
    if "\x00" in text:
        offset = text.index("\x00")
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        raise SourceProblem([(Position(line, column),
                              "the file holds a NUL byte: it is binary, not YAML text")])
    return text


def read(text: str) -> tuple[Any, SourceMap]:
    """Plain data (dicts, lists, scalars) and its source map, or :class:`SourceProblem`."""
    if len(text) > MAX_BYTES:
        raise too_large(len(text))
    yaml = YAML(typ="safe", pure=True)
    try:
        root = yaml.compose(io.StringIO(text))
    except MarkedYAMLError as error:
        colon = missing_colon(error, text)
        raise SourceProblem([(Position(*colon[:2]), colon[2]) if colon else _syntax(error)]
                            ) from None
    except ReaderError as error:
        # the reader knows only an offset; say where it is, as the other YAML errors do
        offset = min(max(int(error.position), 0), len(text))
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        raise SourceProblem([(Position(line, column),
                              f"YAML syntax: the character U+{error.character:04X} is not "
                              "allowed in YAML text")]) from None
    except YAMLError as error:
        raise SourceProblem([(Position(1, 1), f"YAML syntax: {error}")]) from None
    except RecursionError:
        raise SourceProblem([(Position(1, 1), f"the YAML is nested too deeply (more than "
                                              f"{MAX_DEPTH} levels)")]) from None
    builder = _Builder()
    if root is None:
        return None, builder.source
    data = builder.build(root, (), 0)
    if builder.problems:
        raise SourceProblem(builder.problems)
    return data, builder.source


def _syntax(error: MarkedYAMLError) -> tuple[Position, str]:
    """Where a syntax error is and what it says: at an unclosed opening if that is the
    trouble, naming also where the parser stopped; else where the parser stopped."""
    what = error.problem or error.context or "invalid YAML"
    hint = next((h for start, h in _SYNTAX_HINTS if what.startswith(start)), "")
    mark, stopped = error.problem_mark or error.context_mark, error.problem_mark
    if error.context in _OPENINGS and error.context_mark is not None and stopped is not None:
        what += f" at line {stopped.line + 1}, column {stopped.column + 1}"
        mark = error.context_mark
    where = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
    return where, f"YAML syntax: {what}{hint}"


class _Builder:
    def __init__(self) -> None:
        self.source = SourceMap()
        self.problems: list[tuple[Position, str]] = []
        self.count = 0

    def build(self, node: Node, path: Path, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            if self.count == MAX_VALUES + 1:
                self.problems.append((_position(node), f"the file expands to more than "
                                                       f"{MAX_VALUES} values (aliases?)"))
            return None
        if depth > MAX_DEPTH:
            self.problems.append((_position(node), f"nested too deeply (more than "
                                                   f"{MAX_DEPTH} levels)"))
            return None
        self.source.values.setdefault(path, _position(node))
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, SequenceNode):
            if node.tag not in (_CORE + "seq",):
                return self._bad_tag(node)
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        return self._bad_tag(node)  # pragma: no cover - composer yields only the three kinds

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> dict[Any, Any]:
        if node.tag != _CORE + "map":
            return self._bad_tag(node)
        result: dict[Any, Any] = {}
        explicit: dict[tuple[type, Any], Position] = {}
        seen: dict[Any, tuple[Any, str, Position]] = {}  # by key: as read, as written, where
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag == _CORE + "merge":
                self._merge(value_node, result, path, depth)
                for key in result.keys() - seen.keys():  # merged in: placed by _merge
                    where = self.source.keys.get((*path, key), _position(value_node))
                    seen[key] = (key, as_written(key), where)
                continue
            if not isinstance(key_node, ScalarNode):
                self.problems.append((_position(key_node),
                                      "a mapping key must be a plain value, not a list or mapping"))
                continue
            key = self._scalar(key_node)
            if isinstance(key, float) and math.isnan(key):
                key = str(key_node.value)
            here = (*path, key)
            # by type too: YAML's 1 and true are different keys, though Python's 1 == True
            if (type(key), key) in explicit:
                first = explicit[type(key), key]
                self.problems.append((_position(key_node),
                                      f"duplicate key {key!r} (first at line {first.line}, "
                                      f"column {first.column})"))
                continue
            if key in seen and type(seen[key][0]) is not type(key):
                _, text, first = seen[key]
                self.source.clashes.append((path, _position(key_node), (
                    f"the key {key_node.value} reads as the same key as {text} (line "
                    f"{first.line}, column {first.column}): write keys in quotes to tell them "
                    "apart")))
                continue
            explicit[type(key), key] = self.source.keys[here] = _position(key_node)
            seen[key] = (key, key_node.value, _position(key_node))
            self.source.values[here] = _value_position(key_node, value_node)
            result[key] = self.build(value_node, here, depth + 1)
        return result

    def _merge(self, value: Node, into: dict[Any, Any], path: Path, depth: int) -> None:
        sources = value.value if isinstance(value, SequenceNode) else [value]
        for source in sources:
            if not isinstance(source, MappingNode):
                self.problems.append((_position(source), "<< merges only mappings"))
                continue
            merged = self.build(source, path, depth)
            if isinstance(merged, dict):
                for key, item in merged.items():
                    into.setdefault(key, item)
        # explicit keys written after the merge win, as YAML's merge key says

    def _scalar(self, node: ScalarNode) -> Any:
        tag, text = node.tag, node.value
        if tag in (_CORE + "str", _CORE + "timestamp", _CORE + "binary"):
            return text
        if tag == _CORE + "null":
            return None
        if tag == _CORE + "bool":
            # YAML 1.1 (a %YAML 1.1 file) also spells booleans yes/no, on/off, y/n
            lowered = text.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            self.problems.append((_position(node), f"{text!r} is not a boolean: use true or "
                                                   "false"))
            return None
        if tag == _CORE + "int" and _INT.match(text):
            sign = -1 if text.startswith("-") else 1
            digits = text.lstrip("+-")
            if len(digits) > _MAX_DIGITS:
                # Python refuses to read longer ones, and no field takes a number this big
                self.problems.append((_position(node), f"a number of {len(digits)} digits is "
                                                       f"too long: use at most {_MAX_DIGITS}"))
                return None
            if digits.startswith(("0o", "0x")):
                return sign * int(digits, 0)
            return sign * int(digits)
        if tag == _CORE + "float":
            lowered = text.lower()
            if lowered in (".inf", "+.inf"):
                return math.inf
            if lowered == "-.inf":
                return -math.inf
            if lowered == ".nan":
                return math.nan
            if _FLOAT.match(text):
                return float(text)
            return text
        if tag in (_CORE + "int",):
            return text
        return self._bad_tag(node)

    def _bad_tag(self, node: Node) -> None:
        tag = node.tag or ""
        shown = "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag
        self.problems.append((_position(node), f"the tag {shown} is not allowed: a topology holds "
                                               "only mappings, lists, strings, numbers, booleans "
                                               "and null"))
        return None
