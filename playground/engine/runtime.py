"""The engine: builds the nodes of a topology, runs them as supervised tasks, and reports.

The engine runs in the :class:`~playground.engine.clock.SimLoop` it is started in: simulated
time (virtual or paced by the wall clock), which its nodes read from the loop's ``now``.
Controls - the scenario's actions - are plain methods; they only change state and timers, so
a UI in another thread calls them through ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import re
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from playground.engine import events as ev
from playground.engine.broker import Broker
from playground.engine.bus import EventBus
from playground.engine.clock import Clock
from playground.engine.message import Ledger
from playground.engine.metrics import Metrics
from playground.engine.node import Node
from playground.engine.nodes.external import EXTERNAL, ExternalNode
from playground.engine.nodes.function import FunctionNode
from playground.engine.nodes.gateway import GatewayNode
from playground.engine.nodes.producer import ProducerNode
from playground.engine.nodes.queue import QueueNode
from playground.engine.nodes.store import StoreNode
from playground.engine.nodes.topic import TopicNode
from playground.engine.sampling import rng_for
from playground.engine.scenario import Scenario
from playground.spec import model as m

NODE_CLASSES: dict[str, type[Node]] = {
    "producer": ProducerNode, "gateway": GatewayNode, "queue": QueueNode,
    "topic": TopicNode, "function": FunctionNode, "store": StoreNode,
}
_TOPIC_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class Engine:
    def __init__(self, topology: m.Topology, *, seed: int | None = None,
                 loop: asyncio.AbstractEventLoop | None = None, broker: Broker | None = None,
                 only: Iterable[str] | None = None) -> None:
        """``broker`` replaces the in-process one (MQTT, for a topology spanning processes);
        ``only`` runs just those nodes here (the others run elsewhere on the same broker)."""
        self.topology = topology
        self.seed = topology.seed if seed is None else seed
        self.loop = loop or asyncio.get_running_loop()
        self.clock = Clock(self.loop)
        self.clock.on_error = self._callback_failed
        self.bus = EventBus()
        self.broker = broker if broker is not None else Broker(on_error=self._delivery_failed)
        self.ledger = Ledger()
        # A topology spread over processes: the ledger also reports copies that went to
        # (``exported``) or came from (``imported``) another process.
        self.spans_processes = broker is not None or only is not None
        # Objects other than nodes that hold messages (an MQTT transport, for requests from
        # other processes): their holdings count as pending, and a drain waits for them.
        self.holders: list[Any] = []
        # Extra sections of snapshot(), by key (an MQTT link's state under "mqtt").
        self.status: dict[str, Callable[[], Any]] = {}
        # The rows a store has written so far, as (trace, payload), from whoever keeps them
        # (the recorder): a store turned idempotent by a set dedupes against them too.
        self.written_rows: Callable[[str], Iterable[tuple[str, Any]]] = _no_rows
        local = set(only) if only is not None else set(topology.nodes)
        unknown = local - set(topology.nodes)
        if unknown:
            raise ValueError(f"no such nodes: {', '.join(sorted(unknown))}")
        kinds = {i: n.kind for i, n in topology.nodes.items() if i in local}
        self.metrics = Metrics({**kinds, EXTERNAL: "external"})
        self.metrics.attach(self.bus)
        self.base_topic = "playground/" + (_TOPIC_UNSAFE.sub("-", topology.name) or "topology")
        # one correlation id per request, four requests a message: counted in C
        self.next_corr: Callable[[], int] = itertools.count(1).__next__
        self._inboxes: dict[str, str] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.started = False
        self.stopped = False
        self.stop_at = math.inf
        self.nodes: dict[str, Node] = {
            node_id: NODE_CLASSES[spec.kind](self, node_id, spec)
            for node_id, spec in topology.nodes.items() if node_id in local
        }
        self.external: ExternalNode | None = None
        self.dead_letter_queues = self._dead_letter_queues()
        self.scenario = Scenario(self)
        self.sim_seconds = 0.0
        self._drained: asyncio.Future[None] | None = None
        self._drain_deadline = math.inf

    # --- plumbing the nodes use ----------------------------------------------------------

    def inbox_topic(self, node_id: str) -> str:
        topic = self._inboxes.get(node_id)
        if topic is None:
            topic = self._inboxes[node_id] = f"{self.base_topic}/{node_id}/in"
        return topic

    def reply_topic(self, node_id: str) -> str:
        return f"{self.base_topic}/{node_id}/reply"

    def rng(self, *names: str) -> Any:
        return rng_for(self.seed, *names)

    def function_spec(self, node_id: str) -> m.FunctionSpec:
        """The function's current spec (after live changes when it runs here)."""
        node = self.nodes.get(node_id)
        spec = node.spec if node is not None else self.topology.nodes[node_id]
        assert isinstance(spec, m.FunctionSpec)
        return spec

    def current_topology(self) -> m.Topology:
        """The file's topology with the live changes made to the nodes that run here."""
        return self.topology.model_copy(update={"nodes": {
            node_id: self.nodes[node_id].spec if node_id in self.nodes else spec
            for node_id, spec in self.topology.nodes.items()}})

    def _dead_letter_queues(self) -> frozenset[str]:
        # a set can add or remove a dlq or on_failure: the report, the ledger and a drain
        # ask about DLQs every instant, so the answer is kept and renewed on each set
        current = self.current_topology()
        return frozenset(node_id for node_id in current.nodes
                         if current.is_dead_letter_queue(node_id))

    def parks(self, node: Node) -> bool:
        """Whether ``node`` is a DLQ without consumers: what it holds is dead-lettered, not
        pending work."""
        return isinstance(node, QueueNode) and not node.consumers \
            and node.id in self.dead_letter_queues

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        if self.stopped:
            coro.close()
            raise RuntimeError("the engine has stopped")
        task = self.loop.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            node = task.get_name().split("#")[0].split(":")[-1]
            self.bus.emit(ev.NodeFailed(self.loop.time(), node, repr(error)))

    def _callback_failed(self, callback: Callable[..., None], error: BaseException) -> None:
        """A node's timer callback raised: the node failed; the loop goes on. The node is the
        innermost one whose code the error went through (a queue's deadlines call it)."""
        owner = getattr(callback, "__self__", None)
        node = owner.id if isinstance(owner, Node) else "engine"
        trace = error.__traceback__
        while trace is not None:
            here = trace.tb_frame.f_locals.get("self")
            if isinstance(here, Node):
                node = here.id
            trace = trace.tb_next
        self.bus.emit(ev.NodeFailed(self.loop.time(), node, repr(error)))

    def _delivery_failed(self, topic: str, error: BaseException) -> None:
        node = topic.removeprefix(self.base_topic + "/").split("/")[0]
        self.bus.emit(ev.NodeFailed(self.loop.time(), node, repr(error)))

    # --- lifecycle -----------------------------------------------------------------------

    def start(self, stop_at: float | None = None) -> None:
        """Starts every node's tasks; producers make messages until ``stop_at``."""
        if self.started:
            return
        self.started = True
        self.stop_at = self.topology.duration if stop_at is None else stop_at
        for node in self.nodes.values():
            node.start()
        for node in self.nodes.values():
            if isinstance(node, ProducerNode):
                node.stop_at = self.stop_at
                self._supervise_producer(node)
        self.scenario.start()

    def _supervise_producer(self, node: ProducerNode) -> None:
        async def guarded() -> None:
            while True:
                try:
                    await node.run()
                    return
                except Exception as error:  # the supervisor restarts a crashed loop
                    self.bus.emit(ev.NodeFailed(self.loop.time(), node.id, repr(error)))

        self.spawn(guarded(), f"producer:{node.id}")

    async def stop(self) -> None:
        """Cancels every task and waits for them: nothing is left running."""
        self.stopped = True
        self.clock.stopped = True
        for node in self.nodes.values():
            node.stop()
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def tasks(self) -> set[asyncio.Task[Any]]:
        return set(self._tasks)

    async def run(self, duration: float | None = None, drain: float | None = None
                  ) -> dict[str, Any]:
        """Runs for ``duration`` (then drains up to ``drain``), stops, and reports."""
        from playground.engine.report import build_report

        duration = self.topology.duration if duration is None else duration
        self.start(stop_at=duration)
        if duration > self.loop.time():
            # after everything else due at that instant: what ends as the run does counts
            ended = self.loop.create_future()
            self.clock.final_at(duration, _settle, ended)
            await ended
        if drain:
            await self.drain(duration + drain)
        self.sim_seconds = self.loop.time()
        self.bus.emit(ev.RunFinished(self.sim_seconds, "", "drained" if drain else "duration"))
        report = build_report(self)
        await self.stop()
        return report

    # --- draining ------------------------------------------------------------------------

    def idle(self) -> bool:
        """Nothing is pending: every node is done with its work (DLQs without consumers
        may hold messages) and no scenario step is due before the drain's end."""
        return not any(_has_work(node) for node in self.nodes.values()) \
            and not any(holder.holdings() for holder in self.holders)

    async def drain(self, deadline: float) -> None:
        """Goes on until nothing is pending and no scenario step is due by ``deadline``,
        or until ``deadline``."""
        loop = self.loop
        self._drain_deadline = deadline
        self._drained = loop.create_future()
        timer = self.clock.final_at(deadline, _settle, self._drained)
        # asked whenever the work of an instant is done, so the drain ends at the instant
        # the last work did, whatever that work was (a release, an instance going idle...)
        previous = getattr(loop, "before_advance", None)
        loop.before_advance = self._check_drained  # type: ignore[attr-defined]
        try:
            await self._drained
        finally:
            timer.cancel()
            loop.before_advance = previous  # type: ignore[attr-defined]

    def _check_drained(self) -> None:
        drained = self._drained
        if drained is None or drained.done():
            return
        if self.idle() and not self.scenario.due_before(self._drain_deadline):
            drained.set_result(None)

    # --- controls ------------------------------------------------------------------------

    def inject(self, node_id: str, payload: Any, asynchronous: bool = False) -> str:
        """A new message from outside (counted as created by ``external``) into a node."""
        if node_id not in self.topology.nodes:
            raise KeyError(f"no node {node_id!r}")
        if self.external is None:
            self.external = ExternalNode(self)
            self.external.start()
            self.nodes[EXTERNAL] = self.external
        return self.external.inject(node_id, payload, asynchronous)

    def node(self, node_id: str) -> Node:
        if node_id not in self.nodes:
            raise KeyError(f"no node {node_id!r}")
        return self.nodes[node_id]

    def burst(self, node_id: str, factor: float, seconds: float) -> None:
        node = self.node(node_id)
        assert isinstance(node, ProducerNode), f"{node_id} is not a producer"
        node.factor *= factor
        node.rate_changed()

        def end() -> None:
            node.factor /= factor
            node.rate_changed()

        self.clock.later(seconds, end)

    def outage(self, node_id: str, seconds: float) -> None:
        node = self.node(node_id)
        node.outage_until = max(node.outage_until, self.loop.time() + seconds)
        if isinstance(node, ProducerNode):
            node.rate_changed()

    def degrade(self, node_id: str, errors: float, slow: float, seconds: float) -> None:
        node = self.node(node_id)
        node.degrade(errors, slow, seconds)
        if isinstance(node, ProducerNode):
            node.rate_changed()
            self.clock.later(seconds, node.rate_changed)

    def pause(self, node_id: str) -> None:
        node = self.node(node_id)
        assert isinstance(node, FunctionNode), f"{node_id} is not a function"
        node.pause()

    def resume(self, node_id: str) -> None:
        node = self.node(node_id)
        assert isinstance(node, FunctionNode), f"{node_id} is not a function"
        node.resume()

    def redrive(self, source: str, target: str | None, rate: float) -> None:
        node = self.node(source)
        assert isinstance(node, QueueNode), f"{source} is not a queue"
        if target is None:
            sources = self.current_topology().dlq_sources(source)
            if len(sources) != 1:
                raise ValueError(f"say where to redrive {source!r} (to:)")
            target = sources[0]
        node.redrive(target, rate)

    def set_fields(self, node_id: str, fields: dict[str, Any]) -> m.NodeSpec:
        """Changes fields of a node live; raises pydantic's ValidationError if invalid."""
        node = self.node(node_id)
        data = node.spec.model_dump(by_alias=True, exclude_unset=False)
        spec = type(node.spec).model_validate({**data, **fields})
        node.apply(spec)
        self.dead_letter_queues = self._dead_letter_queues()
        return spec

    # --- what observers read -------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        from playground.engine.report import snapshot

        return snapshot(self)


def _has_work(node: Node) -> bool:
    if isinstance(node, ProducerNode):
        return bool(node.calls or node.waiting)
    if isinstance(node, GatewayNode):
        return bool(node.forwarding or node.delaying)
    if isinstance(node, QueueNode):
        redriving = any(not task.done() for task in node.redrives.values())
        if node.engine.parks(node):
            return redriving or bool(node.moving)
        return redriving or node.held > 0 or bool(node.blocked)
    if isinstance(node, TopicNode):
        return bool(node.deliveries)
    if isinstance(node, FunctionNode):
        return bool(node.busy or node.events or node.retrying or node.running)
    if isinstance(node, StoreNode):
        return node.writing > 0
    if isinstance(node, ExternalNode):
        return bool(node.waiting)
    return False


def _no_rows(store: str) -> Iterable[tuple[str, Any]]:
    return ()


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)

