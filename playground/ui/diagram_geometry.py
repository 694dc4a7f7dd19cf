"""From grid cells to characters: box rectangles and the cells each edge runs through.

Edges leave a box on the right, turn once in the gap before their target's column and enter
it on the left; when a box is in the way they run along the gap between rows instead. A DLQ
right below its queue is joined by a short vertical drop (and the redrive goes back up
beside it).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from playground.ui.diagram_layout import Edge, GridLayout

Point = tuple[int, int]
MIN_INNER, MAX_INNER = 7, 18
MIN_GAP, MAX_GAP = 5, 14


@dataclass(frozen=True, slots=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w - 1

    @property
    def bottom(self) -> int:
        return self.y + self.h - 1

    @property
    def mid(self) -> int:
        return self.y + self.h // 2

    @property
    def centre(self) -> int:
        return self.x + self.w // 2

    def contains(self, x: int, y: int) -> bool:
        return self.x <= x <= self.right and self.y <= y <= self.bottom


@dataclass(frozen=True)
class Geometry:
    width: int
    height: int
    boxes: dict[str, Box]
    paths: dict[Edge, tuple[Point, ...]]
    """Each edge's cells, from the first outside its source to the arrow before its target."""
    box_height: int

    def node_at(self, x: int, y: int) -> str | None:
        for node, box in self.boxes.items():
            if box.contains(x, y):
                return node
        return None


def _cells(points: list[Point]) -> tuple[Point, ...]:
    """The cells of a polyline of horizontal and vertical segments, in order."""
    out: list[Point] = [points[0]]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        dx = (x1 > x0) - (x1 < x0)
        dy = (y1 > y0) - (y1 < y0)
        x, y = x0, y0
        while (x, y) != (x1, y1):
            x += dx if x != x1 else 0
            y += dy if y != y1 else 0
            out.append((x, y))
    deduped = [out[0]]
    for point in out[1:]:
        if point != deduped[-1]:
            deduped.append(point)
    return tuple(deduped)


def geometry(grid: GridLayout, width: int, height: int, labels: dict[str, str] | None = None
             ) -> Geometry:
    """Lays ``grid`` out in about ``width`` x ``height`` cells (more if it cannot fit)."""
    labels = labels or {}
    columns, rows = grid.columns, grid.rows
    inner = max([MIN_INNER, *(len(labels.get(n, n)) for n in grid.cells)])
    inner = min(inner, MAX_INNER)
    usable = max(10, width - 2)
    gap = MIN_GAP
    if columns * (inner + 2) + (columns - 1) * gap > usable:
        inner = max(MIN_INNER, (usable - (columns - 1) * gap) // columns - 2)
    box_w = inner + 2
    if columns > 1:
        gap = max(MIN_GAP, min(MAX_GAP, (usable - columns * box_w) // (columns - 1)))
    used_w = columns * box_w + (columns - 1) * gap
    x0 = max(1, (width - used_w) // 2)

    box_h = 4 if rows * 4 + (rows - 1) <= height - 1 else 3
    vgap = 1
    if rows > 1:
        vgap = max(1, min(3, (height - 1 - rows * box_h) // (rows - 1)))
    used_h = rows * box_h + (rows - 1) * vgap
    y0 = 0 if used_h >= height - 1 else min(1, (height - used_h) // 2)

    boxes = {node: Box(x0 + col * (box_w + gap), y0 + row * (box_h + vgap), box_w, box_h)
             for node, (col, row) in grid.cells.items()}
    paths: dict[Edge, tuple[Point, ...]] = {}
    bottom = max((b.bottom for b in boxes.values()), default=0)
    occupied = _occupancy(boxes)
    for edge in grid.edges:
        a, b = boxes[edge.source], boxes[edge.target]
        if edge.kind in ("dead-letter", "redrive") and _stacked(a, b, edge):
            paths[edge] = _drop(a, b, edge)
        else:
            route = _route(a, b, occupied, edge, gap, vgap)
            paths[edge] = route
        bottom = max(bottom, *(y for _, y in paths[edge]))
    total_w = max(width, max((b.right for b in boxes.values()), default=0) + 1)
    total_h = max(height, bottom + 1)
    return Geometry(total_w, total_h, boxes, paths, box_h)


def _stacked(a: Box, b: Box, edge: Edge) -> bool:
    queue, dlq = (a, b) if edge.kind == "dead-letter" else (b, a)
    return queue.x == dlq.x and dlq.y > queue.bottom


def _drop(a: Box, b: Box, edge: Edge) -> tuple[Point, ...]:
    if edge.kind == "dead-letter":
        x = a.centre - 1
        return _cells([(x, a.bottom + 1), (x, b.y - 1)])
    x = b.centre + 1  # the redrive: from the DLQ (a) up into its queue (b)
    return _cells([(x, a.y - 1), (x, b.bottom + 1)])


def _occupancy(boxes: dict[str, Box]) -> dict[Point, Box]:
    """The box on each cell a box covers: a route asks about each of its cells, and asking
    every box instead made a layout of 320 nodes take over a second."""
    return {(x, y): box for box in boxes.values()
            for y in range(box.y, box.bottom + 1) for x in range(box.x, box.right + 1)}


def _blocked(points: list[Point], occupied: dict[Point, Box], skip: tuple[Box, Box]
             ) -> bool:
    for cell in _cells(points):
        box = occupied.get(cell)
        if box is not None and box not in skip:
            return True
    return False


def _route(a: Box, b: Box, occupied: dict[Point, Box], edge: Edge, gap: int, vgap: int
           ) -> tuple[Point, ...]:
    start = (a.right + 1, a.mid)
    end = (b.x - 1, b.mid)
    # the middle of the gap before the target's column, and after the source's: the same
    # cell for neighbouring columns, so edges fanning out or in share one trunk
    near_target = b.x - gap + (gap - 1) // 2
    near_source = a.right + 1 + (gap - 1) // 2
    skip = (a, b)
    if b.x > a.right + 1:
        if a.mid == b.mid:
            direct = [start, end]
            if not _blocked(direct, occupied, skip):
                return _cells(direct)
        first = [start, (near_target, a.mid), (near_target, b.mid), end]
        if not _blocked(first, occupied, skip):
            return _cells(first)
        second = [start, (near_source, a.mid), (near_source, b.mid), end]
        if not _blocked(second, occupied, skip):
            return _cells(second)
        lane = b.y - 1 - (vgap - 1) // 2 if b.y > 0 else b.bottom + 1 + (vgap - 1) // 2
        return _cells([start, (near_source, a.mid), (near_source, lane),
                       (near_target, lane), (near_target, b.mid), end])
    # a loop back to the left (or the same column): under both boxes and back up
    lane = max(a.bottom, b.bottom) + 1 + (vgap - 1) // 2
    near_target = max(0, b.x - 1 - max(1, min(2, gap // 2)))
    return _cells([start, (near_source, a.mid), (near_source, lane), (near_target, lane),
                   (near_target, b.mid), end])
