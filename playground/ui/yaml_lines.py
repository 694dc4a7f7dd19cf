"""One field of one node set by editing its line of text, for YAML that does not parse.

The inspector writes its edit into the file, and into the YAML pane's unsaved edits too, or
the next save of those would undo it. Edits still being typed often do not parse (a colon
not yet written), so the field's line is found by its indentation alone: under the
top-level ``nodes:``, the node's own key, then the field's key one level deeper. Anything
less plain (a value over several lines, flow-style nodes, tabs) is left alone: ``None``.
"""

from __future__ import annotations

import re


def _indent(line: str) -> int | None:
    """Spaces before the text; ``None`` for a blank or comment-only line."""
    stripped = line.lstrip(" ")
    if not stripped.strip() or stripped.startswith("#"):
        return None
    return len(line) - len(stripped)


def _block(lines: list[str], start: int, parent: int) -> tuple[int, int | None]:
    """Where the block under line ``start - 1`` ends (its lines deeper than ``parent``), and
    the indentation of its first line."""
    first: int | None = None
    end = start
    for index in range(start, len(lines)):
        indent = _indent(lines[index])
        if indent is None:
            continue
        if indent <= parent:
            break
        first = indent if first is None else first
        end = index + 1
    return end, first


def _key(lines: list[str], start: int, end: int, indent: int, key: str) -> int | None:
    pattern = re.compile(rf"^ {{{indent}}}{re.escape(key)}:(\s|$)")
    found = [i for i in range(start, end) if pattern.match(lines[i])]
    return found[0] if len(found) == 1 else None


def set_field_line(text: str, node: str, field: str, raw: str) -> str | None:
    """``text`` with ``nodes.<node>.<field>: <raw>`` written on the field's line (a line
    added at the end of the node when it has none); ``None`` when the line cannot be
    found for certain."""
    if "\t" in text or "\n" in raw:
        return None
    lines = text.splitlines(keepends=True)
    top = _key(lines, 0, len(lines), 0, "nodes")
    if top is None:
        return None
    end, node_indent = _block(lines, top + 1, 0)
    header = _key(lines, top + 1, end, node_indent, node) if node_indent else None
    if header is None or lines[header].split(":", 1)[1].split("#", 1)[0].strip():
        return None  # not there, or written in flow style on one line
    node_end, field_indent = _block(lines, header + 1, node_indent or 0)
    if field_indent is None:
        return None
    value = raw.strip()
    at = _key(lines, header + 1, node_end, field_indent, field)
    if at is None:  # written after the node's last line, as a save of the parsed text would
        ending = "\n" if lines[node_end - 1].endswith("\n") else ""
        if not ending:
            lines[node_end - 1] += "\n"
        lines.insert(node_end, f"{' ' * field_indent}{field}: {value}{ending}")
        return "".join(lines)
    _, deeper = _block(lines, at + 1, field_indent)
    if deeper is not None:
        return None  # the value goes on over the lines below: not one line to replace
    line = lines[at]
    body = line.rstrip("\r\n")
    old = body.split(":", 1)[1]
    comment = re.search(r"\s+#.*$", old) if not re.search("[\"']", old) else None
    lines[at] = (f"{' ' * field_indent}{field}: {value}{comment[0] if comment else ''}"
                 f"{line[len(body):]}")
    return "".join(lines)
