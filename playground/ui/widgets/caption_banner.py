"""The scenario's newest caption, as a banner (large in talk mode)."""

from __future__ import annotations

from textual.reactive import var
from textual.widgets import Static

from playground.ui.frame import Caption


class CaptionBanner(Static):
    DEFAULT_CSS = """
    CaptionBanner { height: auto; max-height: 3; background: $accent 20%; color: $text;
                    padding: 0 1; display: none; }
    CaptionBanner.-shown { display: block; }
    """

    caption: var[Caption | None] = var(None)
    """The caption shown (None hides the banner)."""

    def watch_caption(self, caption: Caption | None) -> None:
        self.set_class(caption is not None, "-shown")
        # kept room (compare mode's other side has a caption) must not show an old one
        self.update(f"[b]{caption.t:g}s[/b]  {caption.text}" if caption is not None else "")
