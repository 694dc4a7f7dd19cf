"""A grid of characters with named styles, turned into Strips for the Line API."""

from __future__ import annotations

from collections.abc import Mapping

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip


class Canvas:
    __slots__ = ("chars", "height", "styles", "width")

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.chars = [[" "] * width for _ in range(height)]
        self.styles: list[list[str]] = [[""] * width for _ in range(height)]

    def put(self, x: int, y: int, char: str, style: str = "") -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            self.chars[y][x] = char
            self.styles[y][x] = style

    def text(self, x: int, y: int, text: str, style: str = "", limit: int | None = None
             ) -> int:
        """Writes ``text`` (cut at ``limit`` cells); returns the cells written."""
        if limit is not None:
            text = text[:max(0, limit)]
        for i, char in enumerate(text):
            self.put(x + i, y, char, style)
        return len(text)

    def char(self, x: int, y: int) -> str:
        if 0 <= x < self.width and 0 <= y < self.height:
            return self.chars[y][x]
        return ""

    def rows(self) -> list[tuple[str, tuple[str, ...]]]:
        """Each row as (text, style names): equal rows draw the same."""
        return [("".join(chars), tuple(keys))
                for chars, keys in zip(self.chars, self.styles, strict=True)]

    def strip(self, y: int, styles: Mapping[str, Style], base: Style) -> Strip:
        chars, keys = self.chars[y], self.styles[y]
        segments: list[Segment] = []
        start = 0
        for x in range(1, self.width + 1):
            if x == self.width or keys[x] != keys[start]:
                style = styles.get(keys[start], base) if keys[start] else base
                segments.append(Segment("".join(chars[start:x]), style))
                start = x
        return Strip(segments, self.width)

    def strips(self, styles: Mapping[str, Style], base: Style) -> list[Strip]:
        return [self.strip(y, styles, base) for y in range(self.height)]
