"""The checks that need the whole topology: names, edges, cycles and what each kind allows.

Each finding is ``(path, message, at_key)``: the data path it is about, and whether to point
at the key (``True``) or at its value.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from playground.spec import model as m
from playground.spec.errors import describe, locate, mentions, shown_key
from playground.spec.pattern import pattern_problems
from playground.spec.template import template_problems
from playground.spec.units import MAX_RATE, MAX_RATE_TEXT

Finding = tuple[tuple[Any, ...], str, bool]

# from kind -> the kinds its `to` may name (spec table "The edges allowed")
ALLOWED: dict[str, tuple[str, ...]] = {
    "producer": ("gateway", "queue", "topic", "function"),
    "gateway": ("queue", "topic", "function"),
    "queue": ("function",),
    "topic": ("queue", "function"),
    "function": ("queue", "topic", "function", "store"),
    "store": (),
}
SINGLE_TARGET = ("producer", "gateway")
LIVE_FIELDS_EXCLUDED = m.FIXED_AT_START


def _article(kind: str) -> str:
    return "a" if kind[0] not in "aeiou" else "an"


def _listing(kinds: tuple[str, ...]) -> str:
    if len(kinds) == 1:
        return kinds[0]
    return ", ".join(kinds[:-1]) + " or " + kinds[-1]


class Checker:
    """Runs the semantic checks over the raw data and the parts of it that validated."""

    def __init__(self, data: dict[str, Any], nodes: dict[str, m.NodeSpec],
                 steps: dict[int, Any], broken: dict[str, set[str]] | None = None) -> None:
        self.data = data
        raw_nodes = data.get("nodes")
        self.raw_nodes: dict[str, Any] = raw_nodes if isinstance(raw_nodes, dict) else {}
        self.nodes = nodes  # only the nodes that validated
        self.steps = steps  # only the scenario steps that validated, by index
        self.broken = broken or {}  # fields of a node that failed and were left out
        self.findings: list[Finding] = []

    def problem(self, path: tuple[Any, ...], message: str, at_key: bool = False) -> None:
        self.findings.append((path, message, at_key))

    def kind_of(self, node_id: str) -> str | None:
        raw = self.raw_nodes.get(node_id)
        kind = raw.get("kind") if isinstance(raw, dict) else None
        return kind if kind in m.KINDS else None

    def run(self) -> list[Finding]:
        for node_id, node in self.nodes.items():
            self._targets(node_id, node)
            self._kind_rules(node_id, node)
            if isinstance(node, m.ProducerSpec):
                self._template(("nodes", node_id, "payload"), node.payload)
        self._sync_cycles()
        self._scenario()
        self._layout()
        return self.findings

    # --- edges ---------------------------------------------------------------------------

    def _to_path(self, node_id: str, index: int) -> tuple[Any, ...]:
        raw_to = self.raw_nodes[node_id].get("to")
        if isinstance(raw_to, list):
            item = raw_to[index]
            return ("nodes", node_id, "to", index, *(("node",) if isinstance(item, dict) else ()))
        return ("nodes", node_id, "to")

    def _targets(self, node_id: str, node: m.NodeSpec) -> None:
        kind = node.kind
        targets = node.targets
        if "to" in self.broken.get(node_id, ()):
            return
        if kind == "store" and node.to:
            self.problem(("nodes", node_id, "to"), "a store has no `to`: it is where messages "
                                                   "end", at_key=True)
            return
        if kind in SINGLE_TARGET and len(targets) != 1:
            self.problem(("nodes", node_id, "to"),
                         f"{_article(kind)} {kind} sends to exactly one node "
                         f"(got {len(targets)})")
        for index, subscription in enumerate(m.subscriptions(node.to)):
            path = self._to_path(node_id, index)
            target = subscription.node
            if target not in self.raw_nodes:
                self._unknown(path, target)
                continue
            target_kind = self.kind_of(target)
            if target_kind is not None and target_kind not in ALLOWED[kind]:
                allowed = ALLOWED[kind]
                self.problem(path, f"{_article(kind)} {kind} cannot send to {_article(target_kind)}"
                                   f" {target_kind} ({target!r}): {_article(kind)} {kind}'s `to` "
                                   f"takes {_listing(allowed)}")
            if subscription.filter is not None:
                filter_path = ("nodes", node_id, "to", index, "filter")
                if kind != "topic":
                    self.problem(filter_path, "a filter belongs only on a topic's subscription",
                                 at_key=True)
                else:
                    for inner, message in pattern_problems(subscription.filter):
                        self.problem((*filter_path, *inner), message)
            if target == node_id and kind != "function":
                self.problem(path, f"{node_id!r} cannot send to itself")

    def _unknown(self, path: tuple[Any, ...], name: str, at_key: bool = False) -> None:
        known = ", ".join(map(str, self.raw_nodes)) or "none"  # YAML keys may be numbers
        self.problem(path, f"unknown node {name!r} (nodes: {known})", at_key)

    def _must_be_queue(self, path: tuple[Any, ...], name: str, what: str) -> None:
        if name not in self.raw_nodes:
            self._unknown(path, name)
        elif self.kind_of(name) not in (None, "queue"):
            self.problem(path, f"{what} must name a queue; {name!r} is "
                               f"{_article(self.kind_of(name) or 'x')} {self.kind_of(name)}")

    def _kind_rules(self, node_id: str, node: m.NodeSpec) -> None:
        here = ("nodes", node_id)
        if isinstance(node, m.QueueSpec):
            if node.dlq is not None:
                target = node.dlq.queue
                if target == node_id:
                    self.problem((*here, "dlq", "queue"), "a queue cannot be its own dlq")
                else:
                    self._must_be_queue((*here, "dlq", "queue"), target, "a dlq")
            if node.group_by is not None and node.type != "fifo":
                self.problem((*here, "group_by"), "group_by applies only to fifo queues "
                                                  "(add type: fifo)", at_key=True)
            if node.type == "fifo":
                for consumer in node.targets:
                    spec = self.nodes.get(consumer)
                    if isinstance(spec, m.FunctionSpec) and spec.batch_window > 0:
                        self.problem(("nodes", consumer, "batch_window"),
                                     f"batch_window is not allowed behind the fifo queue "
                                     f"{node_id!r}", at_key=True)
        elif isinstance(node, m.TopicSpec) and node.dlq is not None:
            self._must_be_queue((*here, "dlq"), node.dlq, "a topic's dlq")
        elif isinstance(node, m.FunctionSpec):
            if node.on_failure is not None:
                self._must_be_queue((*here, "on_failure"), node.on_failure, "on_failure")
            if node.fails_on is not None:
                for inner, message in pattern_problems(node.fails_on):
                    self.problem((*here, "fails_on", *inner), message)

    # --- cycles --------------------------------------------------------------------------

    def _sync_cycles(self) -> None:
        calls = {i: [t for t in n.targets if isinstance(self.nodes.get(t), m.FunctionSpec)]
                 for i, n in self.nodes.items() if isinstance(n, m.FunctionSpec)}
        for cycle in find_cycles(calls):
            start, closer = cycle[0], cycle[-1]
            shown = " -> ".join([*cycle, start])
            index = self.nodes[closer].targets.index(start)
            self.problem(self._to_path(closer, index),
                         f"a cycle of synchronous calls: {shown} (a function would wait on "
                         "itself); put a queue or topic in between")

    # --- scenario and layout -------------------------------------------------------------

    def _scenario(self) -> None:
        for index, step in self.steps.items():
            here = ("scenario", index)
            if isinstance(step, m.RedriveStep):
                self._redrive(step, here)
                continue
            node_id = step.node
            if node_id not in self.raw_nodes:
                self._unknown((*here, "node"), node_id)
                continue
            kind = self.kind_of(node_id)
            if isinstance(step, m.SetStep) and kind == "producer":
                self._template((*here, "payload"), step.fields.get("payload"))
            if isinstance(step, m.BurstStep) and kind not in (None, "producer"):
                self.problem((*here, "node"), f"burst needs a producer; {node_id!r} is "
                                              f"{_article(kind or 'x')} {kind}")
            producer = self.nodes.get(node_id)
            if isinstance(step, m.BurstStep) and isinstance(producer, m.ProducerSpec) \
                    and producer.rate is not None and producer.rate * step.factor > MAX_RATE:
                self.problem((*here, "factor"), f"a burst of x{step.factor:g} takes "
                                                f"{node_id!r} past 1M/s ({MAX_RATE_TEXT})")
            if isinstance(step, m.PauseStep | m.ResumeStep) and kind not in (None, "function"):
                self.problem((*here, "node"), f"{step.action} needs a function (a consumer); "
                                              f"{node_id!r} is {_article(kind or 'x')} {kind}")
            if isinstance(step, m.SetStep):
                self._set_fields(step, here)

    def _redrive(self, step: m.RedriveStep, here: tuple[Any, ...]) -> None:
        # its `to` is checked whatever is wrong with its `from`: every problem is listed
        if step.to is not None:
            self._must_be_queue((*here, "to"), step.to, "redrive's to")
        source = step.from_
        if source not in self.raw_nodes:
            self._unknown((*here, "from"), source)
            return
        if self.kind_of(source) not in (None, "queue"):
            self.problem((*here, "from"), f"redrive moves messages out of a DLQ queue; {source!r}"
                                          f" is {_article(self.kind_of(source) or 'x')} "
                                          f"{self.kind_of(source)}")
            return
        # from the raw data: a node whose dlq field is broken (max_receives: 0) still names it
        nodes = self._nodes_at(here[1])
        sources = [i for i, n in nodes.items() if self.kind_of(i) == "queue"
                   and isinstance(n.get("dlq"), dict) and n["dlq"].get("queue") == source]
        is_dlq = bool(sources) or any(
            (self.kind_of(i) == "topic" and n.get("dlq") == source)
            or (self.kind_of(i) == "function" and n.get("on_failure") == source)
            for i, n in nodes.items())
        if not is_dlq:
            self.problem((*here, "from"), f"{source!r} is no DLQ: no queue names it as its dlq, "
                                          "and no topic dlq or on_failure uses it")
        elif step.to is None and len(sources) != 1:
            why = (f"several queues use it ({', '.join(sources)})" if sources
                   else "it serves a topic or on_failure, not a queue")
            self.problem(here, f"say where to redrive {source!r} with to: {why}")

    def _nodes_at(self, index: int) -> dict[str, dict[str, Any]]:
        """The nodes' raw fields when step ``index`` fires: the file's, changed by the `set`
        steps before it (a `set` may make a queue a DLQ, and a redrive then empty it)."""
        nodes = {i: dict(n) for i, n in self.raw_nodes.items() if isinstance(n, dict)}
        when = self.steps[index].at
        for other, step in sorted(self.steps.items(), key=lambda item: (item[1].at, item[0])):
            if (step.at, other) >= (when, index):
                break
            if isinstance(step, m.SetStep) and step.node in nodes:
                nodes[step.node].update(step.fields)
        return nodes

    def _set_fields(self, step: m.SetStep, here: tuple[Any, ...]) -> None:
        node_id = step.node
        raw = self.raw_nodes.get(node_id)
        kind = self.kind_of(node_id)
        if not isinstance(raw, dict) or kind is None:
            return
        spec = m.SPEC_BY_KIND[kind]
        # the step as written: a key that is no string (`5:`) is no field a set can change
        raw_step = self.data["scenario"][here[1]]
        fields = {name: value for name, value in raw_step.items()
                  if name in step.fields or not isinstance(name, str)}
        if not fields:
            self.problem(here, f"set names no field to change on {node_id!r}")
            return
        valid = [f.alias or n for n, f in spec.model_fields.items()
                 if n not in LIVE_FIELDS_EXCLUDED]
        for name in fields:
            if name not in valid:
                self.problem((*here, name), f"set cannot change {shown_key(name)} of "
                                            f"{_article(kind)} "
                                            f"{kind}; it can change {', '.join(valid)}",
                             at_key=True)
        fields = {name: value for name, value in fields.items() if name in valid}
        if not fields:
            return
        try:
            changed = spec.model_validate({**raw, **fields})
        except ValidationError as error:
            for item in error.errors(include_url=False):
                field = item["loc"][0] if item["loc"] else None
                if field in fields:
                    # worded and placed as the same mistake in the node itself would be
                    inner, _ = locate(tuple(item["loc"]), fields)
                    message = describe(item, inner, fields)
                    self.problem((*here, *inner), message if mentions(message, field)
                                 else f"{field}: {message}")
                elif not item["loc"] and node_id in self.nodes and not self.broken.get(node_id):
                    # valid alone, invalid together (provisioned above concurrency)
                    message = str(item["msg"]).removeprefix("Value error, ")
                    self.problem(here, f"after this set, {node_id!r} is invalid: {message}")
            return
        self._rules_after_set(node_id, changed, fields, here)

    def _rules_after_set(self, node_id: str, changed: m.NodeSpec, fields: dict[str, Any],
                         here: tuple[Any, ...]) -> None:
        """The rules a node's own fields must follow (dlq, on_failure, filters, fifo) apply
        to what a `set` makes of it too; the findings point at the step's fields."""
        saved_nodes, saved_findings = self.nodes, self.findings
        self.nodes = {**saved_nodes, node_id: changed}
        self.findings = []
        try:
            self._kind_rules(node_id, changed)
            for queue_id, queue in self.nodes.items():
                if isinstance(queue, m.QueueSpec) and node_id in queue.targets:
                    self._kind_rules(queue_id, queue)
            found = self.findings
        finally:
            self.nodes, self.findings = saved_nodes, saved_findings
        for path, message, at_key in found:
            if path[:2] == ("nodes", node_id) and len(path) > 2 and path[2] in fields:
                self.problem((*here, *path[2:]), f"after this set: {message}", at_key)

    def _template(self, path: tuple[Any, ...], payload: Any) -> None:
        for inner, message, severity in template_problems(payload):
            if severity == "error":  # the rest are lint's warnings
                self.problem((*path, *inner), message)

    def _layout(self) -> None:
        layout = self.data.get("layout")
        if not isinstance(layout, dict):
            return
        for node_id in layout:
            if isinstance(node_id, str) and node_id not in self.raw_nodes:
                self._unknown(("layout", node_id), node_id, at_key=True)  # the id is the key


def find_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Cycles found by a depth-first search, each once, from the node where it was entered."""
    cycles: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    # An explicit stack, not recursion: a long chain of nodes must not exhaust Python's.
    for root in graph:
        if root in state:
            continue
        state[root] = 1
        stack = [root]
        pending = [iter(graph.get(root, ()))]
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                state[stack.pop()] = 2
                pending.pop()
            elif state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):]
                key = tuple(sorted(cycle))
                if key not in seen:
                    seen.add(key)
                    cycles.append(cycle)
            elif nxt not in state:
                state[nxt] = 1
                stack.append(nxt)
                pending.append(iter(graph.get(nxt, ())))
    return cycles


_NODE = TypeAdapter(m.Node)
_STEP = TypeAdapter(m.ScenarioStep)
# Stand-ins for required fields that failed, so the rest of a broken node or step is still
# checked (every problem is listed); none of them can bring a problem of its own.
_STAND_INS: dict[str, Any] = {"rate": 1.0, "to": [], "ttl": 1.0, "key": "k", "at": 0.0,
                              "factor": 1.0, "for": 0.0}
# In a node's broken fields: a rule between its fields failed (provisioned > concurrency).
BETWEEN_FIELDS = "*"


def _lenient(adapter: TypeAdapter[Any], raw: Any) -> tuple[Any, set[str]]:
    """``raw`` validated with its broken top-level fields left out (or stood in for) and the
    rules between fields skipped; returns the result (None if even that fails) and the
    names of the fields left out, with BETWEEN_FIELDS if such a rule failed."""
    try:
        return adapter.validate_python(raw), set()
    except ValidationError as error:
        if not isinstance(raw, dict):
            return None, set()
        problems = error.errors()
        broken = {str(e["loc"][1]) for e in problems if len(e["loc"]) >= 2}
        if any(len(e["loc"]) < 2 for e in problems):
            broken.add(BETWEEN_FIELDS)
        if {"kind", "action"} & broken:
            return None, broken
        kept = {k: v for k, v in raw.items() if str(k) not in broken}
        for name in broken:
            if name in _STAND_INS:
                kept[name] = _STAND_INS[name]
        try:
            return adapter.validate_python(kept, context={m.FIELDS_ONLY: True}), broken
        except ValidationError:
            return None, broken


def valid_parts(
    data: dict[str, Any],
) -> tuple[dict[str, m.NodeSpec], dict[int, Any], dict[str, set[str]]]:
    """The nodes and scenario steps that validate, broken fields left out, and per node the
    fields that were left out (checks about those fields are skipped)."""
    nodes: dict[str, m.NodeSpec] = {}
    broken: dict[str, set[str]] = {}
    raw_nodes = data.get("nodes")
    if isinstance(raw_nodes, dict):
        for node_id, raw in raw_nodes.items():
            if isinstance(node_id, str):
                node, left_out = _lenient(_NODE, raw)
                if node is not None:
                    nodes[node_id] = node
                broken[node_id] = left_out
    steps: dict[int, Any] = {}
    raw_steps = data.get("scenario")
    if isinstance(raw_steps, list):
        for index, raw in enumerate(raw_steps):
            step, _ = _lenient(_STEP, raw)
            if step is not None:
                steps[index] = step
    return nodes, steps, broken
