"""Helpers for panes drawn line by line from Rich Text."""

from __future__ import annotations

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from playground.ui.widgets.styled import StyleCache


def text_strip(text: Text, width: int, console: Console, base: Style) -> Strip:
    """One line of ``text`` cut or padded to ``width`` cells."""
    text = text.copy()
    text.truncate(width)
    return Strip(list(text.render(console)), text.cell_len).adjust_cell_length(width, base)


class OneLine(StyleCache):
    """Mix in before a Widget class that is one line of Rich Text: ``line(width)`` says what
    it reads, and it is redrawn only when that would read differently (call ``_changed``
    when what it shows changes)."""

    _shown: tuple[str, tuple[object, ...]] | None = None

    def line(self, width: int) -> Text:
        raise NotImplementedError

    def styles_changed(self) -> None:
        self._shown = None

    def _changed(self) -> None:
        line = self.line(self.size.width)
        shown = (line.plain, tuple(line.spans))
        if shown != self._shown:
            self._shown = shown
            self.refresh()

    def _style(self, name: str) -> Style:
        return self.part(name)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        return text_strip(self.line(width), width, self.app.console, self.base)
