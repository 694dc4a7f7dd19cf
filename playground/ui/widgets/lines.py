"""Helpers for panes drawn line by line from Rich Text."""

from __future__ import annotations

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.strip import Strip


def text_strip(text: Text, width: int, console: Console, base: Style) -> Strip:
    """One line of ``text`` cut or padded to ``width`` cells."""
    text = text.copy()
    text.truncate(width)
    return Strip(list(text.render(console)), text.cell_len).adjust_cell_length(width, base)
