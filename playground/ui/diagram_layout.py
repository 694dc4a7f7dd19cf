"""Where each node sits in the diagram's grid: columns follow the flow from left to right,
DLQs sit below their queues, and the topology's ``layout`` hints win where given."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from playground.spec import model as m

EdgeKind = Literal["flow", "dead-letter", "redrive"]


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    kind: EdgeKind = "flow"


@dataclass(frozen=True)
class GridLayout:
    cells: dict[str, tuple[int, int]]
    """Node id -> (column, row)."""
    edges: tuple[Edge, ...]

    @property
    def columns(self) -> int:
        return 1 + max((c for c, _ in self.cells.values()), default=0)

    @property
    def rows(self) -> int:
        return 1 + max((r for _, r in self.cells.values()), default=0)


def edges_of(topology: m.Topology) -> list[Edge]:
    """Every edge the diagram draws: ``to``, dead-letter routes and the redrives back."""
    edges: list[Edge] = []
    for node_id, node in topology.nodes.items():
        for target in node.targets:
            if target in topology.nodes:
                edges.append(Edge(node_id, target))
        dlq: str | None = None
        if isinstance(node, m.QueueSpec) and node.dlq is not None:
            dlq = node.dlq.queue
            if dlq in topology.nodes:
                edges.append(Edge(node_id, dlq, "dead-letter"))
                edges.append(Edge(dlq, node_id, "redrive"))
            continue
        if isinstance(node, m.TopicSpec):
            dlq = node.dlq
        elif isinstance(node, m.FunctionSpec):
            dlq = node.on_failure
        if dlq is not None and dlq in topology.nodes:
            edges.append(Edge(node_id, dlq, "dead-letter"))
    return edges


def _columns(order: list[str], flow: list[Edge]) -> dict[str, int]:
    """Longest path from the sources, ignoring the edges that close a loop."""
    successors: dict[str, list[str]] = {n: [] for n in order}
    for edge in flow:
        successors[edge.source].append(edge.target)
    forward: list[Edge] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done

    def visit(node: str) -> None:
        state[node] = 1
        for target in successors[node]:
            if state.get(target) == 1:
                continue  # a loop: drawn, but not used for columns
            forward.append(Edge(node, target))
            if target not in state:
                visit(target)
        state[node] = 2

    has_input = {e.target for e in flow}
    for node in order:
        if node not in has_input and node not in state:
            visit(node)
    for node in order:
        if node not in state:
            visit(node)
    column = dict.fromkeys(order, 0)
    for _ in range(len(order)):
        changed = False
        for edge in forward:
            if column[edge.target] < column[edge.source] + 1:
                column[edge.target] = column[edge.source] + 1
                changed = True
        if not changed:
            break
    return column


def grid_layout(topology: m.Topology) -> GridLayout:
    order = list(topology.nodes)
    edges = edges_of(topology)
    flow = [e for e in edges if e.kind == "flow"]
    parked_under: dict[str, str] = {}  # dlq -> its queue, when it only parks messages
    for edge in edges:
        if (edge.kind == "dead-letter" and isinstance(topology.nodes[edge.source], m.QueueSpec)
                and not any(f.target == edge.target for f in flow)):
            parked_under.setdefault(edge.target, edge.source)
    column = _columns(order, [e for e in flow if e.target not in parked_under])
    for dlq, queue in parked_under.items():
        column[dlq] = column[queue]

    predecessors: dict[str, list[str]] = {n: [] for n in order}
    for edge in flow:
        predecessors[edge.target].append(edge.source)

    cells: dict[str, tuple[int, int]] = {}
    taken: set[tuple[int, int]] = set()
    hints = {n: tuple(xy) for n, xy in topology.layout.items() if n in topology.nodes}
    for node, (col, row) in hints.items():
        cells[node] = (col, row)
        taken.add((col, row))

    def place(node: str, col: int, wanted: int) -> None:
        row = max(0, wanted)
        while (col, row) in taken:
            row += 1
        cells[node] = (col, row)
        taken.add((col, row))

    for col in sorted(set(column.values())):
        members = [n for n in order if column[n] == col and n not in parked_under]
        next_row = 0

        def wanted(node: str) -> float:
            rows = [cells[p][1] for p in predecessors[node] if p in cells]
            return sum(rows) / len(rows) if rows else float(order.index(node)) * 0.001

        for node in sorted(members, key=wanted):
            if node not in cells:
                target_row = max(next_row, round(wanted(node)))
                place(node, col, target_row)
            next_row = cells[node][1] + 1
            for dlq, queue in parked_under.items():
                if queue == node and dlq not in cells:
                    place(dlq, cells[node][0], cells[node][1] + 1)
                    next_row = max(next_row, cells[dlq][1] + 1)
    for node in order:  # a dlq whose queue had a hint of its own
        if node not in cells:
            queue = parked_under.get(node)
            if queue is not None:
                place(node, cells[queue][0], cells[queue][1] + 1)
            else:
                place(node, column[node], 0)
    return GridLayout(cells, tuple(edges))
