"""Rich styles of a pane and its component classes, worked out once per style change.

``Widget.rich_style`` walks every ancestor each time it is read; a pane drawn line by line
30 times a second must not pay that per line. Textual calls ``notify_style_update`` whenever
the CSS that applies changes (theme switch, focus, classes), and the cache is dropped then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.style import Style

if TYPE_CHECKING:
    from textual.widget import Widget

    _Base = Widget
else:
    _Base = object


class StyleCache(_Base):
    """Mix in before a Widget class: ``self.part(name)``, ``self.base``.

    A plain mixin, not a Widget: Textual takes a widget's CSS (and its CSS type names) from
    the first DOM class among its bases, which must stay the real widget class.
    """

    _style_cache: dict[str, Style] | None = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style_cache = None
        self.styles_changed()

    def styles_changed(self) -> None:
        """Override to drop what was drawn with the old styles."""

    def _cache(self) -> dict[str, Style]:
        cache = self._style_cache
        if cache is None:
            base = self.rich_style
            cache = {"": base}
            for name in self.COMPONENT_CLASSES:
                cache[name] = base + self.get_component_rich_style(name, partial=True)
            self._style_cache = cache
        return cache

    @property
    def base(self) -> Style:
        return self._cache()[""]

    def part(self, name: str) -> Style:
        """The widget's style with component class ``name`` on top (``""``: the widget's)."""
        return self._cache().get(name) or self._cache()[""]

    def parts(self) -> dict[str, Style]:
        return self._cache()
