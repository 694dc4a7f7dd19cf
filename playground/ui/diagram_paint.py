"""Painting the diagram onto a :class:`Canvas`: edges, moving message glyphs, rate labels
and the node boxes with their gauges. Pure: the pane calls it once a frame.

Glyphs are placed from the simulated time, so a frame is a function of the run's state:
the same instant always looks the same. Each glyph stands for one message while the flow is
slow; when there are more messages than cells they are sampled, and the edge's true rate is
printed on it. A glyph takes the colour of what happens at the edge's target, in the
proportions the tap measured (throttled, failed, dead-lettered, retried, else delivered).
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from typing import Any

from playground.spec import model as m
from playground.ui import figures
from playground.ui.diagram_geometry import Box, Geometry
from playground.ui.diagram_layout import Edge
from playground.ui.frame import Frame
from playground.ui.widgets.canvas import Canvas

N, E, S, W = 1, 2, 4, 8
LINES = {
    E | W: "─", N | S: "│", E: "─", W: "─", N: "│", S: "│",
    S | E: "╭", S | W: "╮", N | E: "╰", N | W: "╯",
    E | W | S: "┬", E | W | N: "┴", N | S | E: "├", N | S | W: "┤", N | E | S | W: "┼",
}
GLYPH_SPEED = 10.0  # cells per wall-clock second
GOLDEN = 0.6180339887498949
OUTCOME_ORDER = ("throttled", "failed", "dead-lettered", "retried")


@dataclass(frozen=True)
class PaintOptions:
    selected: str | None = None
    speed: float = 1.0
    t: float | None = None
    """Simulated time the glyphs are placed at (default: the frame's)."""


def _step(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """Direction bits from a to b, and from b back to a."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    if dx > 0:
        return E, W
    if dx < 0:
        return W, E
    if dy > 0:
        return S, N
    return N, S


def _active(edge: Edge, frame: Frame | None) -> float:
    if frame is None:
        return 0.0
    return frame.edges.get((edge.source, edge.target), 0.0)


def _edge_style(edge: Edge, rate: float) -> str:
    if edge.kind == "dead-letter":
        return "state--dead-lettered"
    if edge.kind == "redrive":
        return "state--redriven"
    return "edge--active" if rate > 0 else "edge"


def paint(canvas: Canvas, geo: Geometry, topology: m.Topology, frame: Frame | None,
          options: PaintOptions) -> None:
    rates = {edge: _active(edge, frame) for edge in geo.paths}
    visible = [e for e in geo.paths if e.kind != "redrive" or rates[e] > 0
               or _redriving(e, frame)]
    bits: dict[tuple[int, int], int] = {}
    style_at: dict[tuple[int, int], str] = {}
    for edge in visible:
        cells = geo.paths[edge]
        style = _edge_style(edge, rates[edge])
        for a, b in itertools.pairwise(cells):
            out, back = _step(a, b)
            bits[a] = bits.get(a, 0) | out
            bits[b] = bits.get(b, 0) | back
        first = cells[0]
        source = geo.boxes[edge.source]
        if first[0] == source.right + 1:
            bits[first] = bits.get(first, 0) | W
        elif first[1] == source.bottom + 1:
            bits[first] = bits.get(first, 0) | N
        elif first[1] == source.y - 1:
            bits[first] = bits.get(first, 0) | S
        for cell in cells:
            if style_at.get(cell) in (None, "edge") or style != "edge":
                style_at[cell] = style
    for (x, y), value in bits.items():
        canvas.put(x, y, LINES.get(value, "·"), style_at.get((x, y), "edge"))
    for edge in visible:
        cells = geo.paths[edge]
        last = cells[-1]
        target = geo.boxes[edge.target]
        arrow = "▶" if last[0] == target.x - 1 else ("▼" if last[1] == target.y - 1 else "▲")
        canvas.put(last[0], last[1], arrow, style_at.get(last, "edge"))
    labelled = _labels(canvas, geo, visible, rates)
    crossings = {cell for cell, value in bits.items() if value not in (E | W, N | S)}
    if frame is not None:
        for edge in visible:
            source = topology.nodes.get(edge.source)
            _glyphs(canvas, geo.paths[edge], rates[edge], frame, edge, options,
                    labelled | crossings, isinstance(source, m.QueueSpec))
    for node_id, box in geo.boxes.items():
        spec = topology.nodes.get(node_id)
        data = frame.node(node_id) if frame is not None else {}
        _box(canvas, box, node_id, spec, data, node_id == options.selected, topology)


def _redriving(edge: Edge, frame: Frame | None) -> bool:
    if frame is None or edge.kind != "redrive":
        return False
    return bool(frame.node(edge.source).get("gauges", {}).get("redriving"))


def _labels(canvas: Canvas, geo: Geometry, edges: list[Edge], rates: dict[Edge, float]
            ) -> set[tuple[int, int]]:
    """The true rate of each busy edge: on its longest straight run if it fits there, else
    just above it where the space is free."""
    used: set[tuple[int, int]] = set()
    for edge in edges:
        rate = rates[edge]
        if rate <= 0:
            continue
        label = figures.rate(rate)
        run = _longest_run(geo.paths[edge])
        if run is None:
            continue
        if len(run) >= len(label) + 2:
            start = (len(run) - len(label)) // 2
            cells = run[start:start + len(label)]
            if not any(c in used for c in cells):
                # a run may go right to left (a loop back): the label still reads forwards
                for (x, y), char in zip(sorted(cells), label, strict=True):
                    canvas.put(x, y, char, "edge--label")
                    used.add((x, y))
                continue
        middle = run[len(run) // 2]
        x0, y = middle[0] - len(label) // 2, middle[1] - 1
        cells = [(x0 + i, y) for i in range(len(label))]
        if all(canvas.char(x, y) == " " and not geo.node_at(x, y) for x, y in cells):
            canvas.text(x0, y, label, "edge--label")
    return used


@functools.lru_cache(maxsize=1024)
def _longest_run(cells: tuple[tuple[int, int], ...]) -> list[tuple[int, int]] | None:
    """The longest horizontal stretch of an edge (its ends left out when long enough);
    the same for every frame until the layout changes, hence the cache."""
    best: list[tuple[int, int]] = []
    run: list[tuple[int, int]] = []
    for cell in cells[:-1]:  # not the arrow
        if run and cell[1] == run[-1][1] and abs(cell[0] - run[-1][0]) == 1:
            run.append(cell)
        else:
            run = [cell]
        if len(run) > len(best):
            best = list(run)
    if len(best) > 4:
        return best[1:-1]
    return best or None


def _glyphs(canvas: Canvas, cells: tuple[tuple[int, int], ...], rate: float, frame: Frame,
            edge: Edge, options: PaintOptions, skip: set[tuple[int, int]],
            source_is_queue: bool) -> None:
    length = len(cells) - 1  # the arrow cell is not a place for a glyph
    if rate <= 0 or length <= 0:
        return
    speed = max(options.speed, 1e-6)
    spacing = max(2.0, GLYPH_SPEED / (rate * speed))
    t = frame.t if options.t is None else options.t
    travelled = GLYPH_SPEED * t / speed
    head = travelled % spacing
    newest = math.floor(travelled / spacing)
    mix = frame.outcomes.get(edge.target, {})
    if source_is_queue:  # what comes back to a queue shows on the way to its consumer
        own = frame.outcomes.get(edge.source, {})
        mix = {**mix, **{k: max(mix.get(k, 0.0), own.get(k, 0.0))
                         for k in ("retried", "dead-lettered")}}
    if edge.kind == "dead-letter":
        mix = {"dead-lettered": 1.0}
    elif edge.kind == "redrive":
        mix = {"redriven": 1.0}
    j = 0
    while True:
        position = head + j * spacing
        if position >= length:
            break
        cell = cells[int(position)]
        if cell not in skip:
            canvas.put(cell[0], cell[1], "●", "state--" + _pick(mix, newest - j))
        j += 1


def _pick(mix: dict[str, float], number: int) -> str:
    u = (number * GOLDEN) % 1.0
    total = 0.0
    for outcome in (*OUTCOME_ORDER, "redriven"):
        total += mix.get(outcome, 0.0)
        if u < total:
            return outcome
    return "delivered"


# --- boxes -----------------------------------------------------------------------------------


def _box(canvas: Canvas, box: Box, node_id: str, spec: Any, data: dict[str, Any],
         selected: bool, topology: m.Topology) -> None:
    kind = data.get("kind") or getattr(spec, "kind", "?")
    border = "box--selected" if selected else "box"
    badge, badge_style = _badge(data)
    if badge_style == "state--failed" and not selected:
        border = "state--failed"
    h = "━" if selected else "─"
    v = "┃" if selected else "│"
    corners = "┏┓┗┛" if selected else "╭╮╰╯"
    x, y, w = box.x, box.y, box.w
    inner = w - 2
    for i in range(w):
        canvas.put(x + i, y, h, border)
        canvas.put(x + i, box.bottom, h, border)
    for row in range(y + 1, box.bottom):
        canvas.put(x, row, v, border)
        canvas.put(box.right, row, v, border)
        canvas.text(x + 1, row, " " * inner, "box--fill")
    canvas.put(x, y, corners[0], border)
    canvas.put(box.right, y, corners[1], border)
    canvas.put(x, box.bottom, corners[2], border)
    canvas.put(box.right, box.bottom, corners[3], border)
    title = badge or kind
    title = figures.first_fitting(inner, title, SHORT_TITLES.get(title, title))
    canvas.text(x + 1, y, title, badge_style if badge else "box--kind")
    label = figures.name(node_id, inner)
    canvas.text(x + 1, y + 1, label, "box--selected-id" if selected else "box--id")
    gauge_row = y + 2 if box.h >= 4 else box.bottom
    _gauge(canvas, x + 1, gauge_row, inner, kind, spec, data, node_id, topology)


# what a narrow box's top border says instead of a word it cannot hold
SHORT_TITLES = {"producer": "prod", "function": "func", "THROTTLING": "THROTTLE",
                "BREAKER OPEN": "OPEN", "BREAKER HALF": "HALF", "DEGRADED": "SLOW",
                "REDRIVING": "REDRIVE"}


def _badge(data: dict[str, Any]) -> tuple[str, str]:
    gauges = data.get("gauges", {})
    if data.get("outage"):
        return "OUTAGE", "state--failed"
    breaker = gauges.get("breaker")
    if breaker == "open":
        return "BREAKER OPEN", "state--failed"
    if breaker == "half_open":
        return "BREAKER HALF", "state--retried"
    if data.get("degraded"):
        return "DEGRADED", "state--retried"
    if gauges.get("paused"):
        return "PAUSED", "state--retried"
    if gauges.get("throttling"):
        return "THROTTLING", "state--throttled"
    if gauges.get("redriving"):
        return "REDRIVING", "state--redriven"
    return "", ""


def _bar(canvas: Canvas, x: int, y: int, width: int, parts: list[tuple[float, str, str]],
         scale: float) -> None:
    """A bar of ``width`` cells: each part is (amount, char, style), the rest dotted."""
    filled = 0
    for amount, char, style in parts:
        cells = 0 if amount <= 0 else max(1, round(amount / scale * width)) if scale else 0
        cells = min(cells, width - filled)
        canvas.text(x + filled, y, char * cells, style)
        filled += cells
    canvas.text(x + filled, y, "·" * (width - filled), "gauge--empty")


def _bar_cells(width: int, label: str) -> int:
    """Cells for a bar before `` label``: none when fewer than two are left, since a bar
    too short to read is not worth a figure cut to ``10/1`` or ``103/``."""
    room = width - len(label) - 1
    return room if room >= 2 else 0


def _label(canvas: Canvas, x: int, y: int, bar_w: int, label: str, style: str,
           width: int) -> None:
    if bar_w:
        canvas.text(x + bar_w, y, " " + label, style, limit=width - bar_w)
    else:  # at the right, where the figure stands when it has a bar
        canvas.text(x + max(0, width - len(label)), y, label, style, limit=width)


def _gauge(canvas: Canvas, x: int, y: int, width: int, kind: str, spec: Any,
           data: dict[str, Any], node_id: str, topology: m.Topology) -> None:
    gauges = data.get("gauges", {})
    if not data:
        return
    if kind == "queue":
        depth = gauges.get("depth", 0)
        visible = gauges.get("visible", depth)
        flying = gauges.get("in_flight", 0)
        capacity = gauges.get("capacity")
        label = figures.count(depth) + (f"/{figures.count(capacity)}" if capacity else "")
        bar_w = _bar_cells(width, label)
        scale = capacity or max(10, gauges.get("max_depth", 0))
        # the engine's word when it has one: a scenario's set can make a queue a DLQ (the
        # file's answer only without it: it looks at every node, for every queue drawn)
        parked = gauges["parked"] if "parked" in gauges else (
            topology.is_dead_letter_queue(node_id) and not topology.consumers_of(node_id))
        style = "state--dead-lettered" if parked else "gauge--visible"
        _bar(canvas, x, y, bar_w, [(visible, "█", style), (flying, "▒", "state--busy")], scale)
        _label(canvas, x, y, bar_w, label, style if depth else "gauge--text", width)
    elif kind == "function":
        busy = gauges.get("busy", 0)
        cold = gauges.get("cold_starting", 0)
        idle = gauges.get("idle", 0)
        slots = gauges.get("concurrency") or getattr(spec, "concurrency", 1)
        label = f"{busy}/{slots}"
        bar_w = _bar_cells(width, label)
        if slots <= bar_w:
            bar_w = slots
            canvas.text(x, y, "■" * (busy - cold), "state--busy")
            canvas.text(x + busy - cold, y, "◐" * cold, "state--cold")
            canvas.text(x + busy, y, "□" * idle, "state--idle")
            canvas.text(x + busy + idle, y, "·" * max(0, slots - busy - idle), "gauge--empty")
        else:
            _bar(canvas, x, y, bar_w, [(busy - cold, "■", "state--busy"),
                                       (cold, "◐", "state--cold"),
                                       (idle, "□", "state--idle")], slots)
        _label(canvas, x, y, bar_w, label, "gauge--text", width)
    elif kind in ("gateway", "store"):
        tokens = gauges.get("tokens")
        bucket = _bucket(spec)
        if tokens is not None and bucket:
            label = "429" if gauges.get("throttling") else figures.rate(data.get("rate_in", 0))
            bar_w = _bar_cells(width, label)
            style = "state--throttled" if gauges.get("throttling") else "gauge--tokens"
            _bar(canvas, x, y, bar_w, [(tokens, "▮", style)], bucket)
            _label(canvas, x, y, bar_w, label, style, width)
        else:
            figure = figures.rate(data.get("rate_in", 0))
            if kind == "store":
                rows = figures.count(gauges.get("rows", 0))
                figure = figures.first_fitting(width, f"{rows} rows", rows)
            canvas.text(x, y, figure, "gauge--text", limit=width)
    elif kind == "producer":
        rate = gauges.get("rate", 0.0)
        base = getattr(spec, "rate", rate) or rate
        text = figures.rate(rate)
        if base and rate > base * 1.01:
            # the colour says the rate is raised when the factor does not fit as well
            factor = f"×{rate / base:g}"
            text = figures.first_fitting(width, f"{text} {factor}", f"{text}{factor}", text)
        canvas.text(x, y, text, "state--retried" if rate > base * 1.01 else "gauge--text",
                    limit=width)
    elif kind == "topic":
        canvas.text(x, y, figures.rate(data.get("rate_in", 0)), "gauge--text", limit=width)


def _bucket(spec: Any) -> float | None:
    if isinstance(spec, m.GatewaySpec) and spec.throttle is not None:
        return spec.throttle.bucket
    if isinstance(spec, m.StoreSpec) and spec.capacity is not None:
        return max(1.0, spec.capacity)
    return None
