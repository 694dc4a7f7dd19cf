"""How compare mode shares the screen's height between its two sides, one above the other."""

from __future__ import annotations

from textual.screen import Screen
from textual.widget import Widget

from playground.ui.widgets.diagram_pane import DiagramPane


def _rows_besides_diagram(side: Widget) -> int:
    return sum(child.outer_size.height for child in side.children
               if child.display and not isinstance(child, DiagramPane))


def share_height(screen: Screen[object]) -> None:
    """Gives both diagrams the same rows, the sides' other lines (title, ledger, clients)
    their own: with a side each half of the screen, a side whose ledger or clients line
    wrapped had its diagram cut to the tops of its boxes while the other's stayed whole."""
    sides = list(screen.query(".compare-side"))
    if screen.has_class("-wide") or screen.has_class("-tall") or len(sides) != 2:
        for side in sides:  # side by side, or with room to spare: the stylesheet's shares
            side.styles.height = None
        return
    room = screen.query_one("#compare").size.height - screen.query_one(
        "#difference").outer_size.height
    fixed = [_rows_besides_diagram(side) for side in sides]
    diagram = max(0, room - sum(fixed)) // 2
    spare = max(0, room - sum(fixed)) - 2 * diagram
    heights = [fixed[0] + diagram + spare, fixed[1] + diagram]
    for side, height in zip(sides, heights, strict=True):
        if side.styles.height is None or side.styles.height.value != height:
            side.styles.height = height
