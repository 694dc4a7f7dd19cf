"""Warnings about what the real services punish, on a topology that is otherwise valid.

A lesson may want exactly these mistakes (that is why they are warnings, not errors), so lint
explains the consequence rather than refusing the file.
"""

from __future__ import annotations

import math
from typing import Any

from playground.spec import model as m
from playground.spec.checks import find_cycles
from playground.spec.distribution import Exponential, Fixed, Lognormal, Normal, Uniform
from playground.spec.template import template_problems
from playground.spec.units import format_duration, format_rate

Finding = tuple[tuple[Any, ...], str, bool]
INF = math.inf
RETENTION_RANGE = (60.0, 14 * 86400.0)
INTEGRATION_TIMEOUT_MAX = 29.0  # API Gateway, REST APIs, unless a quota increase is granted
FUNCTION_TIMEOUT_MAX = 15 * 60.0


def upper(dist: Any) -> float:
    """A duration the distribution exceeds with probability about one in a million."""
    if isinstance(dist, Fixed):
        return dist.value
    if isinstance(dist, Uniform):
        return dist.max
    if isinstance(dist, Exponential):
        return dist.mean * 13.8
    if isinstance(dist, Normal):
        return dist.mean + 4.75 * dist.sd
    if isinstance(dist, Lognormal):
        try:
            return math.exp(dist.mu + 4.75 * dist.sigma)
        except OverflowError:
            return INF
    return INF


class Linter:
    def __init__(self, topology: m.Topology) -> None:
        self.t = topology
        self.findings: list[Finding] = []
        # Memos: a topology's functions form a DAG (a synchronous cycle is an error), and
        # without them a DAG that fans out at every level costs 2^depth walks.
        self._capacity: dict[str, float] = {}
        self._fails: dict[str, bool] = {}
        self._per_message: dict[int, float] = {}

    def warn(self, path: tuple[Any, ...], message: str, at_key: bool = True) -> None:
        self.findings.append((path, message, at_key))

    def run(self, after_sets: bool = True) -> list[Finding]:
        try:
            self._run()
            if after_sets:
                self._after_sets()
        except RecursionError:
            # the estimates walk the graph recursively; a chain of hundreds of nodes is
            # beyond them, and a warning is better than no answer at all
            self.warn((), "lint stopped: the chains of nodes are too long for its estimates",
                      at_key=False)
        return self.findings

    def _after_sets(self) -> None:
        """What the topology becomes after each `set` step (in time order) is linted too;
        a warning that only the change brings is shown at the step."""
        known = {message for _, message, _ in self.findings}
        nodes = dict(self.t.nodes)
        steps = sorted(((s.at, i, s) for i, s in enumerate(self.t.scenario)
                        if isinstance(s, m.SetStep)), key=lambda item: item[:2])
        for _, index, step in steps:
            node = nodes.get(step.node)
            if node is None:
                continue
            try:
                nodes[step.node] = type(node).model_validate(
                    {**node.model_dump(by_alias=True), **step.fields})
            except ValueError:
                continue  # checks reports it
            changed = self.t.model_copy(update={"nodes": dict(nodes)})
            for _, message, _ in Linter(changed).run(after_sets=False):
                if message not in known:
                    known.add(message)
                    self.warn(("scenario", index), f"after this set: {message}")

    def _run(self) -> None:
        for node_id, node in self.t.nodes.items():
            if isinstance(node, m.QueueSpec):
                self._queue(node_id, node)
            elif isinstance(node, m.FunctionSpec):
                self._function(node_id, node)
            elif isinstance(node, m.ProducerSpec):
                self._producer(node_id, node)
            elif isinstance(node, m.GatewaySpec):
                self._gateway(node_id, node)
        self._key_fields()
        self._async_cycles()

    # --- queues --------------------------------------------------------------------------

    def _queue(self, node_id: str, queue: m.QueueSpec) -> None:
        here = ("nodes", node_id)
        consumers = [(c, self.t.nodes[c]) for c in self.t.consumers_of(node_id)]
        for consumer_id, fn in consumers:
            assert isinstance(fn, m.FunctionSpec)
            if fn.timeout > queue.visibility_timeout:
                self.warn(("nodes", consumer_id, "timeout"),
                          f"{consumer_id!r} may run {format_duration(fn.timeout)} but queue "
                          f"{node_id!r} hides a message for only "
                          f"{format_duration(queue.visibility_timeout)}: a slow invocation is "
                          "delivered again while it still runs (AWS refuses this; use a "
                          "visibility_timeout of at least the timeout, ideally 6x)")
        if queue.dlq is not None:
            if consumers and queue.dlq.max_receives < 5:
                self.warn((*here, "dlq", "max_receives"),
                          f"max_receives {queue.dlq.max_receives} behind a function: throttled "
                          "or briefly failing invocations send good messages to the DLQ "
                          "(AWS advises at least 5)")
            dlq = self.t.nodes.get(queue.dlq.queue)
            if queue.type == "fifo" and isinstance(dlq, m.QueueSpec) and dlq.type != "fifo":
                self.warn((*here, "dlq", "queue"),
                          f"the fifo queue {node_id!r} has the standard queue "
                          f"{queue.dlq.queue!r} as its dlq (AWS requires a fifo dlq)")
        elif consumers and any(self._can_fail(c) for c, _ in consumers):
            failing = next(c for c, _ in consumers if self._can_fail(c))
            self.warn(here, f"queue {node_id!r} has no dlq but its consumer {failing!r} can "
                            "fail: a message that always fails is received again forever")
        if not RETENTION_RANGE[0] <= queue.retention <= RETENTION_RANGE[1]:
            self.warn((*here, "retention"),
                      f"retention {format_duration(queue.retention)} is outside what AWS allows "
                      "(60s to 14d)")

    def _can_fail(self, function_id: str, seen: frozenset[str] = frozenset()) -> bool:
        if function_id not in self._fails:
            self._fails[function_id] = self._may_fail(function_id, seen)
        return self._fails[function_id]

    def _may_fail(self, function_id: str, seen: frozenset[str]) -> bool:
        fn = self.t.nodes.get(function_id)
        if not isinstance(fn, m.FunctionSpec) or function_id in seen:
            return False
        if fn.errors > 0 or fn.fails_on is not None:
            return True
        if upper(fn.duration) + upper(fn.cold_start) > fn.timeout:
            return True
        if self._disturbed(function_id):
            return True
        for target in fn.targets:
            node = self.t.nodes.get(target)
            if isinstance(node, m.StoreSpec) and (node.capacity is not None
                                                   or self._disturbed(target)):
                return True
            if isinstance(node, m.QueueSpec) and node.capacity is not None \
                    and node.on_full == "reject":
                return True
            if isinstance(node, m.FunctionSpec) and self._can_fail(target, seen | {function_id}):
                return True
        return False

    def _disturbed(self, node_id: str) -> bool:
        return any(isinstance(s, m.OutageStep | m.DegradeStep) and s.node == node_id
                   for s in self.t.scenario)

    # --- functions -----------------------------------------------------------------------

    def _function(self, node_id: str, fn: m.FunctionSpec) -> None:
        if fn.retries > 2:
            self.warn(("nodes", node_id, "retries"),
                      f"Lambda allows at most 2 asynchronous retries; {fn.retries} is kept here "
                      "for the lesson")
        if fn.timeout > FUNCTION_TIMEOUT_MAX:
            self.warn(("nodes", node_id, "timeout"),
                      "Lambda allows a timeout of at most "
                      f"{format_duration(FUNCTION_TIMEOUT_MAX)}; {format_duration(fn.timeout)} "
                      "is kept here for the lesson")

    # --- gateways ------------------------------------------------------------------------

    def _gateway(self, node_id: str, gateway: m.GatewaySpec) -> None:
        if gateway.timeout > INTEGRATION_TIMEOUT_MAX:
            self.warn(("nodes", node_id, "timeout"),
                      "API Gateway allows an integration timeout of at most "
                      f"{format_duration(INTEGRATION_TIMEOUT_MAX)} (REST APIs, by default); "
                      f"{format_duration(gateway.timeout)} is kept here for the lesson")
        if gateway.cache is not None and not self._caches(gateway):
            target = gateway.targets[0]
            kind = self.t.nodes[target].kind
            when = "enqueue" if kind == "queue" else "publish"
            self.warn(("nodes", node_id, "cache"),
                      f"{node_id!r} answers at {when} (202) because {target!r} is a {kind}, "
                      "and only a function's synchronous answer is cached: the cache never "
                      "hits and cache_hits stays 0")
        elif gateway.cache is not None and gateway.cache.ttl == 0:
            self.warn(("nodes", node_id, "cache", "ttl"),
                      "a cache with ttl 0 keeps no answer: it never hits and cache_hits stays "
                      "0 (give it a ttl, or remove the cache)")

    def _caches(self, gateway: m.GatewaySpec) -> bool:
        """Whether the gateway has synchronous answers to keep: its call of a function is
        always synchronous, a queue or topic is answered for at enqueue or publish."""
        return isinstance(self.t.nodes[gateway.targets[0]], m.FunctionSpec)

    # --- producers and what can drain them -----------------------------------------------

    def _producer(self, node_id: str, producer: m.ProducerSpec) -> None:
        for inner, message, severity in template_problems(producer.payload):
            if severity == "warning":  # errors are the checks'
                self.warn(("nodes", node_id, "payload", *inner), message, at_key=False)
        if not producer.targets or producer.limit is not None or producer.rate is None:
            return  # a producer with a limit (or fed by a source) has no rate to overflow with
        drain = self.capacity(producer.targets[0], frozenset())
        if producer.rate > drain * 1.0001:
            self.warn(("nodes", node_id, "rate"),
                      f"{node_id!r} sends {format_rate(producer.rate)} but everything "
                      f"downstream can drain at most {format_rate(round(drain, 3))}: queues "
                      "grow without end or requests fail", at_key=False)

    def capacity(self, node_id: str, seen: frozenset[str]) -> float:
        """Messages per second ``node_id`` and everything after it can absorb for ever."""
        if node_id in seen:
            return INF
        if node_id in self._capacity:
            return self._capacity[node_id]
        self._capacity[node_id] = self._absorbs(node_id, seen | {node_id})
        return self._capacity[node_id]

    def _absorbs(self, node_id: str, seen: frozenset[str]) -> float:
        node = self.t.nodes.get(node_id)
        after = [self.capacity(t, seen) for t in node.targets] if node else []
        if isinstance(node, m.StoreSpec):
            return node.capacity if node.capacity is not None else INF
        if isinstance(node, m.GatewaySpec):
            own = node.throttle.rate if node.throttle else INF
            return min(own, *after) if after else own
        if isinstance(node, m.TopicSpec):
            # a filtered subscription gets an unknown share of the traffic: only the
            # subscriptions that get every message bound what the topic can absorb
            unfiltered = [self.capacity(sub.node, seen) for sub in m.subscriptions(node.to)
                          if sub.filter is None]
            return min(unfiltered) if unfiltered else INF
        if isinstance(node, m.QueueSpec):
            return sum(self._consumer_rate(t, seen) for t in node.targets) if after else 0.0
        if isinstance(node, m.FunctionSpec):
            own = node.concurrency / max(self._invocation_time(node, 1), 1e-9)
            return min(own, *after) if after else own
        return INF

    def _consumer_rate(self, function_id: str, seen: frozenset[str]) -> float:
        fn = self.t.nodes.get(function_id)
        if not isinstance(fn, m.FunctionSpec):
            return INF
        batch = fn.batch_size
        own = fn.concurrency * batch / max(self._invocation_time(fn, batch), 1e-9)
        after = [self.capacity(t, seen) for t in fn.targets]
        return min(own, *after) if after else own

    def _invocation_time(self, fn: m.FunctionSpec, batch: int) -> float:
        if id(fn) not in self._per_message:
            per_message = 0.0
            for target in fn.targets:
                node = self.t.nodes.get(target)
                if isinstance(node, m.StoreSpec):
                    per_message += node.latency.expected
                elif isinstance(node, m.FunctionSpec):
                    per_message += self._invocation_time(node, 1)
            self._per_message[id(fn)] = per_message
        return fn.duration.expected + batch * self._per_message[id(fn)]

    # --- key fields ----------------------------------------------------------------------

    def _key_fields(self) -> None:
        """A cache or dedupe key read from a payload field that a producer never sends: a
        cache keys every such message as one (missing) key, and a table refuses the write,
        which is seldom what was meant."""
        keyed: dict[str, tuple[tuple[Any, ...], str, str]] = {}
        for node_id, node in self.t.nodes.items():
            if isinstance(node, m.StoreSpec) and isinstance(node.idempotent, m.IdempotencyKey):
                keyed[node_id] = (("nodes", node_id, "idempotent", "key"), node.idempotent.key,
                                  "every such write is refused (400)")
            elif isinstance(node, m.GatewaySpec) and node.cache is not None \
                    and self._caches(node):
                keyed[node_id] = (("nodes", node_id, "cache", "key"), node.cache.key,
                                  "all its requests share one cached answer")
        if not keyed:
            return
        for producer_id, producer in self.t.nodes.items():
            if not isinstance(producer, m.ProducerSpec) or producer.source is not None:
                continue  # what a source publishes is not known here
            for node_id in sorted(self._reached_from(producer_id) & keyed.keys()):
                path, field, consequence = keyed[node_id]
                if field not in producer.payload:
                    self.warn(path, f"{node_id!r} keys on the payload field {field!r}, which "
                                    f"{producer_id!r} does not send: {consequence}")

    def _reached_from(self, node_id: str) -> set[str]:
        reached: set[str] = set()
        pending = [node_id]
        while pending:
            node = self.t.nodes.get(pending.pop())
            if node is None:
                continue
            nexts = list(node.targets)
            if isinstance(node, m.QueueSpec) and node.dlq is not None:
                nexts.append(node.dlq.queue)
            elif isinstance(node, m.TopicSpec) and node.dlq is not None:
                nexts.append(node.dlq)
            elif isinstance(node, m.FunctionSpec) and node.on_failure is not None:
                nexts.append(node.on_failure)
            for target in nexts:
                if target not in reached:
                    reached.add(target)
                    pending.append(target)
        return reached

    # --- cycles --------------------------------------------------------------------------

    def _async_cycles(self) -> None:
        graph = {i: list(n.targets) for i, n in self.t.nodes.items()}
        for cycle in find_cycles(graph):
            kinds = {self.t.nodes[i].kind for i in cycle}
            if kinds & {"queue", "topic"}:
                shown = " -> ".join([*cycle, cycle[0]])
                self.warn(("nodes", cycle[-1], "to"),
                          f"messages can loop: {shown}; make sure something ends the loop")
