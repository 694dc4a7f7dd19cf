"""Resizing the run screen's panes with the mouse: drag the top border of the lower panes
up or down, or the left border of the side panes left or right."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from textual import events
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.screen import Screen

    _Base = Screen[None]
else:
    _Base = object

Edge = Literal["lower", "side"]

# The lower panes never get shorter than the metrics pane needs for its borders (2), the
# table's header and one row (2) and the ledger and the clients line (3 lines, more when a
# narrow pane wraps them): README calls the last two always visible.
LOWER_FRAME = 4
# Rows the lower panes leave to the rest: the status line, the timeline and the footer (1
# each) and the diagram's least height (6). With 8 the lower panes' last row went under the
# footer, which is docked over them.
LOWER_LEAVES = 9


class PaneDrag(_Base):
    """Mix into a screen (before it) that has ``#lower`` and ``#side`` in it. A plain
    mixin: the screen's CSS comes from its first DOM base."""

    _dragging: Edge | None = None
    ledger_lines = 3
    """The lines the ledger and the clients take in the metrics pane."""

    def _edge_at(self, x: int, y: int) -> Edge | None:
        lower: Widget = self.query_one("#lower")
        side: Widget = self.query_one("#side")
        if not lower.display or self.maximized is not None:
            return None
        region = lower.region
        if y == region.y and region.x <= x < region.right:
            return "lower"
        if side.display and x == side.region.x and side.region.y <= y < side.region.bottom:
            return "side"
        return None

    def on_mouse_down(self, event: events.MouseDown) -> None:
        edge = self._edge_at(event.screen_x, event.screen_y)
        if edge is not None:
            self._dragging = edge
            self.capture_mouse()
            event.stop()

    @property
    def lower_min(self) -> int:
        return LOWER_FRAME + self.ledger_lines

    def lower_height(self, wanted: int) -> int:
        """``wanted`` as a height the lower panes may take: at least ``lower_min``, and at
        most what leaves the diagram room (unless the terminal is too short for both)."""
        return max(self.lower_min, min(self.size.height - LOWER_LEAVES, wanted))

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._dragging is None:
            return
        if self._dragging == "lower":
            lower = self.query_one("#lower")
            bottom = lower.region.bottom
            lower.styles.height = self.lower_height(bottom - event.screen_y)
        else:
            side = self.query_one("#side")
            right = side.region.right
            side.styles.width = max(20, min(self.size.width - 30, right - event.screen_x))
        event.stop()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._dragging is not None:
            self._dragging = None
            self.release_mouse()
            event.stop()
