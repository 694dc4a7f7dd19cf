"""A key written without its colon (``kind producer``), said at its own line: the parser
notices only a line or more below, in words that do not name the slip."""

from __future__ import annotations

import re

from ruamel.yaml.error import MarkedYAMLError

# What the parser says, and where, when a key lacks its colon: it runs the line on into the
# next as one plain scalar, and stops only at the next line's colon or where the block ends.
_NO_COLON = ("mapping values are not allowed here", "could not find expected ':'")
_PLAIN_LINE = re.compile(r"^( *)([A-Za-z_][\w.-]*)(?: +([^:#'\"]*?))? *$")
_KEY_LINE = re.compile(r"^( *)[^\s#:][^:#]*:(?:\s|$)")


def missing_colon(error: MarkedYAMLError, text: str) -> tuple[int, int, str] | None:
    """Line, column (from 1) and message at the line that lacks the colon, when it is
    one: ``kind producer`` among keys."""
    if error.problem not in _NO_COLON or error.problem_mark is None:
        return None
    lines = text.splitlines()
    stopped = error.problem_mark.line
    if error.problem == _NO_COLON[1] and error.context_mark is not None:
        suspect = error.context_mark.line  # where the key the parser was reading started
    else:
        suspect = next((i for i in range(stopped - 1, -1, -1) if _is_content(lines[i])), -1)
    plain = _PLAIN_LINE.match(lines[suspect]) if 0 <= suspect < len(lines) else None
    if plain is None:
        return None
    indent = len(plain[1])
    # among keys of the same mapping: a neighbouring line at its indentation is a key
    near = (_content(lines, range(suspect - 1, -1, -1)),
            _content(lines, range(suspect + 1, len(lines))))
    neighbours = [line for line in near
                  if (found := _KEY_LINE.match(line)) and len(found[1]) == indent]
    key, value = plain[2], plain[3]
    below = _KEY_LINE.match(near[1])
    opens = not value and below is not None and len(below[1]) > indent  # a block's key
    if not neighbours and not opens:
        return None
    written = f"{key}:" if opens else f"{key}: {value}" if value else f"{key}: <value>"
    shown = lines[suspect].strip()
    return (suspect + 1, indent + len(key) + 1,
            f"YAML syntax: line {suspect + 1}: `{shown}` has no ':' — write `{written}`")


def _is_content(line: str) -> bool:
    return bool(line.strip()) and not line.lstrip().startswith("#")


def _content(lines: list[str], indices: range) -> str:
    """The first line among ``indices`` that is neither blank nor a comment."""
    return next((lines[i] for i in indices if _is_content(lines[i])), "")
