"""The footer of every screen, with the keys to get help and to quit always on it.

Textual's footer lists the keys in binding order, from the focused widget up to the app,
and cuts what does not fit: at 80 columns the app's keys (``?`` help, ``^q`` quit) came
last and were cut, so nothing on screen said how to get help or leave. Here they sit at the
right with the command palette's key, where only the screen's own keys give way.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

PINNED = ("help", "quit")


class KeyFooter(Footer):
    DEFAULT_CSS = """
    KeyFooter > #pinned {
        dock: right;
        width: auto;
        height: 1;
        border-left: vkey $foreground 20%;
    }
    KeyFooter > #pinned FooterKey.-command-palette {
        dock: none;
        border-left: none;
    }
    """

    def compose(self) -> ComposeResult:
        pinned: list[FooterKey] = []
        for widget in super().compose():
            if isinstance(widget, FooterKey) and (widget.action in PINNED
                                                  or widget.has_class("-command-palette")):
                pinned.append(widget)
            else:
                yield widget
        if pinned:
            pinned.sort(key=lambda key: PINNED.index(key.action) if key.action in PINNED
                        else len(PINNED))  # then the palette's key, as Textual puts it last
            yield HorizontalGroup(*pinned, id="pinned")
