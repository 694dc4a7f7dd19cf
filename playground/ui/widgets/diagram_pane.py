"""The diagram pane: nodes as boxes laid out by flow, edges with moving message glyphs.

Drawn with the Line API from one canvas built per frame (at most), so it costs the same at
5 or 5,000 messages a second.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from playground.spec import model as m
from playground.ui.diagram_geometry import Box, Geometry, geometry
from playground.ui.diagram_layout import GridLayout, grid_layout
from playground.ui.diagram_paint import PaintOptions, paint
from playground.ui.frame import Frame
from playground.ui.widgets.canvas import Canvas
from playground.ui.widgets.palette import STATE_CLASSES, state_rules
from playground.ui.widgets.styled import StyleCache

GLIDE_AHEAD = 0.25  # wall seconds the glyphs may run ahead of the newest frame

PARTS = frozenset({
    "edge", "edge--active", "edge--label", "box", "box--selected", "box--kind", "box--id",
    "box--selected-id", "box--fill", "gauge--empty", "gauge--visible", "gauge--text",
    "gauge--tokens",
})


class DiagramPane(StyleCache, ScrollView, can_focus=True):
    """Boxes and edges of the topology; arrows or a click select a node."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1, 0)", "Select left", show=False),
        Binding("right", "move(1, 0)", "Select right", show=False),
        Binding("up", "move(0, -1)", "Select up", show=False),
        Binding("down", "move(0, 1)", "Select down", show=False),
        Binding("enter", "inspect", "Inspect", show=False),
    ]
    COMPONENT_CLASSES = STATE_CLASSES | PARTS
    DEFAULT_CSS = """
    DiagramPane { background: $surface; overflow: auto auto; }
    DiagramPane > .edge { color: $foreground 35%; }
    DiagramPane > .edge--active { color: $foreground 70%; }
    DiagramPane > .edge--label { color: $text-accent; text-style: bold; }
    DiagramPane > .box { color: $primary; }
    DiagramPane > .box--selected { color: $accent; text-style: bold; }
    DiagramPane > .box--kind { color: $foreground 60%; }
    DiagramPane > .box--id { color: $foreground; text-style: bold; }
    DiagramPane > .box--selected-id { color: $accent; text-style: bold; }
    DiagramPane > .box--fill { background: $surface; }
    DiagramPane > .gauge--empty { color: $foreground 25%; }
    DiagramPane > .gauge--visible { color: $state-busy; }
    DiagramPane > .gauge--text { color: $foreground 80%; }
    DiagramPane > .gauge--tokens { color: $state-delivered; }
    """ + state_rules("DiagramPane")

    class NodeSelected(Message):
        """The user selected a node (click or arrows)."""

        def __init__(self, node: str) -> None:
            super().__init__()
            self.node = node

    class NodeInspected(Message):
        """The user asked to see the selected node's fields (enter)."""

        def __init__(self, node: str) -> None:
            super().__init__()
            self.node = node

    class Passed(Message):
        """The arrows found no node further that way (``dx``, ``dy``): a screen with
        another diagram there may take them on, from ``across`` (the screen column, or row
        for ``dx``, of the node they left; None: no node was selected)."""

        def __init__(self, pane: DiagramPane, dx: int, dy: int, across: int | None) -> None:
            super().__init__()
            self.pane, self.dx, self.dy, self.across = pane, dx, dy, across

    topology: var[m.Topology | None] = var(None, always_update=True)
    """The topology drawn."""
    frame: var[Frame | None] = var(None, always_update=True)
    """The newest frame of the run."""
    selected: var[str | None] = var(None)
    """The selected node's id."""
    speed: var[float] = var(1.0)
    """Simulated seconds per wall second, so glyphs move at a readable pace."""
    glyph_t: var[float | None] = var(None)
    """Where the glyphs are, in simulated time, between two frames (None: the frame's)."""

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._grid: GridLayout | None = None
        self._geo: Geometry | None = None
        self._strips: list[Strip] | None = None
        self._rows: list[tuple[str, tuple[str, ...]]] | None = None

    # --- state coming down -------------------------------------------------------------------

    def watch_topology(self, topology: m.Topology | None) -> None:
        self._grid = grid_layout(topology) if topology is not None else None
        if topology is not None and self.selected not in topology.nodes:
            self.selected = None
        self._relayout()

    def watch_frame(self, frame: Frame | None) -> None:
        glyph_t = self.glyph_t
        if glyph_t is not None and frame is not None and not (
                frame.t < glyph_t <= frame.t + GLIDE_AHEAD * self.speed):
            # the frame caught up with the glyphs (or time went back: a restart)
            self.set_reactive(DiagramPane.glyph_t, None)
        self._update()

    def watch_glyph_t(self) -> None:
        self._update()

    def glide(self, wall_seconds: float, running: bool) -> None:
        """Moves the glyphs on between two frames, as the clock would (when it runs), so
        they move smoothly even when the engine's answer is a frame late."""
        frame = self.frame
        if frame is None or not running:
            return
        start = frame.t if self.glyph_t is None else self.glyph_t
        self.glyph_t = min(frame.t + GLIDE_AHEAD * self.speed,
                           start + wall_seconds * self.speed)

    def watch_selected(self) -> None:
        self._invalidate()

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()

    def styles_changed(self) -> None:
        self._strips = None
        self._rows = None

    def _relayout(self) -> None:
        size = self.size  # not less the scrollbars: fit without them when it can
        if self._grid is None or size.width <= 0:
            self._geo = None
            self.virtual_size = Size(0, 0)
        else:
            self._geo = geometry(self._grid, size.width, size.height)
            bar = self.styles.scrollbar_size_vertical
            if self._geo.height > size.height and self._geo.width > size.width - bar:
                # taller than the pane: the vertical scrollbar comes and takes columns, and
                # a diagram laid out for them would need a horizontal one too, over the last
                # row of boxes
                self._geo = geometry(self._grid, max(1, size.width - bar), size.height)
            self.virtual_size = Size(self._geo.width, self._geo.height)
        self._invalidate()

    def _invalidate(self) -> None:
        self._strips = None
        self._rows = None
        self.refresh()

    def _update(self) -> None:
        """Redraws what changed since the last frame, and refreshes only those lines."""
        if self._strips is None or self._rows is None or not self.display:
            self._invalidate()
            return
        canvas = self._paint()
        if canvas is None:
            self._invalidate()
            return
        rows = canvas.rows()
        if len(rows) != len(self._rows):
            self._invalidate()
            return
        styles, base = self.parts(), self.base
        scroll_y = self.scroll_offset.y
        width, height = self.scrollable_content_region.size
        for y, (new, old) in enumerate(zip(rows, self._rows, strict=True)):
            if new != old:
                self._strips[y] = canvas.strip(y, styles, base)
                if 0 <= y - scroll_y < height:
                    self.refresh(Region(0, y - scroll_y, width, 1))
        self._rows = rows

    @property
    def geo(self) -> Geometry | None:
        return self._geo

    # --- drawing -------------------------------------------------------------------------

    def _paint(self) -> Canvas | None:
        geo, topology = self._geo, self.topology
        if geo is None or topology is None:
            return None
        canvas = Canvas(geo.width, geo.height)
        paint(canvas, geo, topology, self.frame,
              PaintOptions(selected=self.selected, speed=self.speed, t=self.glyph_t))
        return canvas

    def _build(self) -> list[Strip]:
        canvas = self._paint()
        if canvas is None:
            self._rows = None
            return []
        self._rows = canvas.rows()
        return canvas.strips(self.parts(), self.base)

    def render_line(self, y: int) -> Strip:
        if self._strips is None:
            self._strips = self._build()
        scroll_x, scroll_y = self.scroll_offset
        index = y + scroll_y
        width = self.scrollable_content_region.width
        if index >= len(self._strips):
            return Strip.blank(width, self.base)
        return self._strips[index].crop(scroll_x, scroll_x + width)

    def text_lines(self) -> list[str]:
        """What the pane shows, as plain text (for tests and the talk-mode check)."""
        if self._strips is None:
            self._strips = self._build()
        return [strip.text for strip in self._strips]

    # --- selecting -----------------------------------------------------------------------

    def _select(self, node: str | None) -> None:
        if node is not None and node != self.selected:
            self.selected = node
            self.post_message(self.NodeSelected(node))

    def on_click(self, event: events.Click) -> None:
        geo = self._geo
        offset = event.get_content_offset(self)
        if geo is None or offset is None:
            return
        scroll_x, scroll_y = self.scroll_offset
        self._select(geo.node_at(offset.x + scroll_x, offset.y + scroll_y))

    def action_inspect(self) -> None:
        if self.selected is not None:
            self.post_message(self.NodeInspected(self.selected))

    def show_node(self, node: str) -> None:
        """Scrolls ``node``'s box into view, if the diagram is larger than the pane."""
        box = self._geo.boxes.get(node) if self._geo is not None else None
        if box is not None:
            self.scroll_to_region(Region(box.x, box.y, box.w, box.h), animate=False)

    def action_move(self, dx: int, dy: int) -> None:
        geo = self._geo
        if geo is None or not geo.boxes:
            return
        if self.selected not in geo.boxes:
            self._select(min(geo.boxes, key=lambda n: (geo.boxes[n].x, geo.boxes[n].y)))
            return
        here = geo.boxes[self.selected]
        best: tuple[float, str] | None = None
        for node, box in geo.boxes.items():
            if node == self.selected:
                continue
            along = (box.centre - here.centre) * dx + (box.mid - here.mid) * dy
            across = abs((box.centre - here.centre) * dy) + abs((box.mid - here.mid) * dx)
            if along <= 0:
                continue
            cost = along + 3 * across
            if best is None or cost < best[0]:
                best = (cost, node)
        if best is not None:
            self._show_selected(best[1])
            return
        x, y = self._on_screen(here)
        self.post_message(self.Passed(self, dx, dy, x if dy else y))

    def enter(self, dx: int, dy: int, across: int | None) -> None:
        """Takes the arrows on from another diagram: the node nearest the side they come
        in by, and nearest ``across`` (see :class:`Passed`)."""
        geo = self._geo
        if geo is None or not geo.boxes:
            return

        def cost(node: str) -> int:
            box = geo.boxes[node]
            x, y = self._on_screen(box)
            depth = box.centre * dx + box.mid * dy
            return depth + (0 if across is None else 3 * abs((x if dy else y) - across))

        self._show_selected(min(geo.boxes, key=cost))

    def _on_screen(self, box: Box) -> tuple[int, int]:
        scroll_x, scroll_y = self.scroll_offset
        region = self.content_region
        return region.x + box.centre - scroll_x, region.y + box.mid - scroll_y

    def _show_selected(self, node: str) -> None:
        self._select(node)
        if self._geo is not None:
            box = self._geo.boxes[node]
            self.scroll_to_region(Region(box.x, box.y, box.w, box.h), animate=False)
