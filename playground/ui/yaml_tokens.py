"""A small YAML highlighter: the spans of one line that are keys, strings, numbers...

Good enough for topology files (block and flow style, comments, quoted strings, units like
``250ms`` and ``5k/s``); it needs no parser, so a half-typed line still highlights.
"""

from __future__ import annotations

import re

Span = tuple[int, int, str]

_TOKEN = re.compile(r"""
    (?P<comment>(?:(?<=\s)|^)\#.*$)
  | (?P<string>"(?:[^"\\]|\\.)*"?|'(?:[^']|'')*'?)
  | (?P<key>[A-Za-z_][\w.-]*|\d+)(?=\s*:(?:\s|$))
  | (?P<number>(?<![\w.-])[-+]?\d+(?:\.\d+)?(?:[kKM])?(?:ms|us|µs|min|s|m|h|d)?
        (?:/(?:ms|s|min|m|h))?(?![\w.]))
  | (?P<constant>(?<![\w-])(?:true|false|null|yes|no|~)(?![\w-]))
  | (?P<punct>[{}\[\],:]|^\s*-(?=\s|$)|(?<=\s)-(?=\s))
""", re.VERBOSE)


def spans(line: str) -> list[Span]:
    """(start, end, kind) for each highlighted part of ``line``, left to right."""
    out: list[Span] = []
    stripped = line.lstrip()
    if stripped.startswith("---") or stripped.startswith("..."):
        return [(0, len(line), "punct")]
    for match in _TOKEN.finditer(line):
        kind = match.lastgroup
        if kind is None:
            continue
        out.append((match.start(), match.end(), kind))
    return out
