"""One engine's link to MQTT: the transport's traffic, the tap, injection and sources.

The link owns a network thread (plain asyncio, wall-clock time). :meth:`MqttLink.start`
connects before the engine exists, :meth:`attach` hooks the engine in (in its thread),
:meth:`close` lets what is in flight go out and stops. In the network loop one
:class:`~playground.mqtt.connection.Connection` per broker runs, for each session, a
``TaskGroup`` of two named loops (reader, writer), beside the link's own resend and summary
loops.

Topics (``<base>`` is ``playground/<topology>``):

- ``<base>/<node>/in``: a node's inbox. Envelope batches (exactly the shape
  :meth:`MqttLink._next_item` writes, marked ``"pg": 1``) are the transport's; anything else
  that is JSON enters the node as a new message from ``external``; what is not JSON is
  refused (a log line and ``<base>/tap/_errors``).
- ``<base>/_proc/<process>``: one process's answers and acknowledgements (and hellos in
  answer to its own).
- ``<base>/_hello``: a process that has subscribed says so, with the nodes it runs; a
  process that finds another running one of its nodes, and started later, stops.
- ``<base>/tap/...``: see :mod:`~playground.mqtt.tap`.

Delivery between processes is at least once and processed once: envelopes go out in
batches (whatever piled up while the previous publishes were in flight, per topic, QoS 1,
at most ``MAX_PACK`` envelopes and ``codec.MAX_MQTT_BYTES``);
the receiving process acknowledges each batch once its engine has taken it; a batch not
acknowledged is sent again - after a reconnect, or when another process says hello on
``<base>/_hello`` (it has just subscribed), at once; otherwise after 0.5 s, 1 s ... 8 s - and
the receiver ignores a batch it has seen. So a broker restart (which loses what it held)
loses nothing. What waits to be acknowledged is bounded (``max_in_flight`` envelopes):
beyond it, requests carrying messages are refused at once (503) and their senders retry or
fail by their own rules.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiomqtt

from playground.engine.broker import topic_matches
from playground.engine.nodes.producer import ProducerNode
from playground.mqtt import codec
from playground.mqtt.connection import Connection
from playground.mqtt.network import NetworkThread
from playground.mqtt.options import ClaimConflict, MqttOptions
from playground.mqtt.tap import TapFeed, tap_item
from playground.mqtt.topics import base_topic, hello_topic, inbox, process_topic
from playground.mqtt.transport import MqttBroker
from playground.spec import model as m
from playground.spec.endpoint import Endpoint, parse_endpoint

if TYPE_CHECKING:
    from playground.engine.runtime import Engine

log = logging.getLogger("playground.mqtt")
WINDOW = 32  # publishes in flight at once per connection
MAX_PACK = 500  # envelopes per batch
RESEND_FIRST, RESEND_MAX = 0.5, 8.0  # wall seconds without an acknowledgement
INBOUND_HIGH = 5_000  # items waiting for the engine before the reader pauses
LOGGED_REFUSALS = 20
# wall seconds after the first connection: the other processes' hellos (which nodes they
# run) come back within it, so a process that claims a node another runs stops before it
# takes any message; and after MISSING_AFTER, nodes no process has claimed are named
HELLO_GRACE, MISSING_AFTER = 0.5, 5.0
ANSWER_WAIT = 5.0  # wall seconds the run waits for a broker that neither takes nor refuses it
__all__ = ["ClaimConflict", "MqttLink"]


@dataclass(slots=True)
class _Batch:
    topic: str
    data: bytes
    count: int
    sent_at: float | None
    timeout: float = RESEND_FIRST


@dataclass
class _Source:
    endpoint: Endpoint
    topics: dict[str, list[str]] = field(default_factory=dict)  # filter -> producers
    connection: Connection | None = None
    received: int = 0


class MqttLink:
    def __init__(self, options: MqttOptions, topology: m.Topology) -> None:
        self.options = options
        self.topology = topology
        self.base = base_topic(topology.name)
        self.partial = options.nodes is not None
        self.local = set(options.nodes) if options.nodes is not None else set(topology.nodes)
        self.origin = f"{os.getpid():x}{secrets.token_hex(3)}"
        self.response_topic = process_topic(self.base, self.origin)
        self.thread = NetworkThread("mqtt-link")
        self.transport: MqttBroker | None = None
        if options.broker is not None:
            self.transport = MqttBroker(self.local, self.response_topic, self._send,
                                        self._congested)
        self.connection: Connection | None = None
        self.sources = self._plan_sources()
        self.engine: Engine | None = None
        self.feed: TapFeed | None = None
        # engine's thread -> network thread
        self._outgoing: deque[tuple[str, bytes]] = deque()
        self._acks_out: deque[tuple[str, int]] = deque()
        self._sent_envelopes = 0
        self._acked_envelopes = 0
        self._net_woken = False
        # network thread -> engine's thread
        self._inbound: deque[tuple[Any, ...]] = deque()
        self._engine_woken = False
        self._paused = False
        # network thread only
        self._wake: asyncio.Event | None = None
        self._room: asyncio.Event | None = None
        self._control: deque[tuple[str, bytes, int]] = deque()
        self._acks: dict[str, list[int]] = {}
        self._packed: deque[tuple[str, list[bytes]]] = deque()
        self._resend: deque[int] = deque()
        self._unacked: dict[int, _Batch] = {}
        self._number = 0
        self._inboxes = {inbox(self.base, node): node for node in sorted(self.local)}
        self._main: concurrent.futures.Future[None] | None = None
        self._ready = threading.Event()  # every connection subscribed once
        self.since = time.time()  # which of two processes claiming a node came first
        self.peers: dict[str, frozenset[str]] = {}  # process -> the nodes it runs
        self.conflict: str | None = None
        self.conflict_nodes: list[str] = []  # of this process, that another ran first
        self.on_conflict: Callable[[], None] | None = None  # any thread; the run ends
        self._gated = self.transport is not None  # batches wait for the others' hellos
        self._early: list[tuple[Any, ...]] = []
        self.batches_sent = 0
        self.resent = 0
        self.received = 0
        self.injected = 0
        self.refused = 0
        self.tap_published = 0

    # --- lifecycle (the caller's thread) --------------------------------------------------

    def start(self, wait: float = ANSWER_WAIT) -> concurrent.futures.Future[bool]:
        """Starts connecting. The future says whether the link is ready: True once every
        broker took it (and the other processes had time to say hello), False as soon as
        each was tried and one refused, or after ``wait`` seconds without an answer (the
        link keeps trying in the background). Cancelling it leaves the link running."""
        self.thread.start()
        self._main = self.thread.submit(self._run())
        return self.thread.submit(self._first_answer(wait))

    async def _first_answer(self, wait: float) -> bool:
        # polled: the connections come and go inside _run, and a few checks in a few
        # seconds cost nothing beside a connection attempt
        deadline = time.monotonic() + wait
        while not self._ready.is_set() and time.monotonic() < deadline:
            connections = self._connections()
            if connections and all(c.connected.is_set() or c.failures for c in connections) \
                    and not all(c.connected.is_set() for c in connections):
                return False  # said now: a refused connection is refused in milliseconds
            await asyncio.sleep(0.02)
        return self._ready.is_set()

    def _connections(self) -> list[Connection]:
        return [c for c in (self.connection, *(s.connection for s in self.sources))
                if c is not None]

    def not_ready(self) -> list[str]:
        """Which brokers do not take the link yet, and why, a line each (it keeps trying)."""
        return [f"not connected yet to {c.endpoint.url(topic=False)}, retrying in the "
                f"background: {c.last_error or 'no answer yet'}"
                for c in self._connections() if not c.connected.is_set()]

    def attach(self, engine: Engine) -> None:
        """Hooks the engine in: in the engine's thread, before it starts."""
        if engine.base_topic != self.base:
            raise ValueError(f"the engine's topics ({engine.base_topic}) are not the link's")
        self.engine = engine
        if self.transport is not None:
            self.transport.bind(engine)
        engine.status["mqtt"] = self.status
        if self.options.broker is not None and self.options.tap_rate > 0:
            self.feed = TapFeed(self.options.tap_rate, self._wake_network)
            engine.bus.subscribe(self.feed)
        self._wake_engine()  # whatever arrived before

    def close(self, linger: float = 3.0) -> None:
        """Lets what is in flight go out (up to ``linger`` seconds), then disconnects."""
        if self._main is None:
            return
        if self.thread.running:
            with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
                self.thread.submit(self._settle(linger)).result(linger + 2.0)
        self._main.cancel()
        self.thread.stop()
        self._main = None

    # --- the engine's side -------------------------------------------------------------------

    def _send(self, topic: str, data: dict[str, Any]) -> None:
        """Encoded here, so that one too large for any broker is refused to its sender
        (:class:`codec.TooLarge`) before it is counted as gone."""
        self._outgoing.append((topic, codec.dump(data)))
        self._sent_envelopes += 1
        self._wake_network()

    def _congested(self) -> bool:
        return self._sent_envelopes - self._acked_envelopes > self.options.max_in_flight

    def _wake_network(self) -> None:
        if not self._net_woken:
            self._net_woken = True
            self.thread.call(self._kick)

    def _wake_engine(self) -> None:
        engine = self.engine
        if engine is not None and not self._engine_woken:
            self._engine_woken = True
            with contextlib.suppress(RuntimeError):  # the engine's loop closed
                engine.loop.call_soon_threadsafe(self._pump)

    def _pump(self) -> None:
        """Everything that arrived, into the engine (its thread)."""
        self._engine_woken = False
        engine = self.engine
        assert engine is not None
        if not engine.started:  # its nodes subscribe when it starts: until then, wait
            self._engine_woken = True
            engine.loop.call_later(0.01, self._pump)
            return
        inbound = self._inbound
        while inbound:
            item = inbound.popleft()
            if engine.stopped:
                continue  # unacknowledged: the sender's own timeouts decide
            try:
                self._take(engine, item)
            except ValueError as error:  # what the engine refuses says why in words
                self._refuse(str(item[1]), str(error))
            except (KeyError, TypeError) as error:
                self._refuse(str(item[1]), f"{type(error).__name__}: {error}")
        if self._paused:
            self._paused = False
            if self._room is not None:
                self.thread.call(self._room.set)

    def _take(self, engine: Engine, item: tuple[Any, ...]) -> None:
        kind = item[0]
        if kind == "batch":
            _, topic, data = item
            assert self.transport is not None
            self.transport.receive_batch(data, topic)
            self._acks_out.append((str(data["o"]), int(data["b"])))
            self._wake_network()
        elif kind == "inject":
            _, node, payload = item
            engine.inject(node, payload)
            self.injected += 1
        elif kind == "source":
            _, producer_id, payload = item
            producer = engine.nodes.get(producer_id)
            if isinstance(producer, ProducerNode):
                producer.offer(payload)
        elif kind == "refuse":
            self._refuse(item[1], item[2])

    def _refuse(self, where: str, reason: str) -> None:
        self.refused += 1
        if self.refused <= LOGGED_REFUSALS:
            # quoted: a topic such as playground/t//in names the node '' (read: nothing)
            log.warning("MQTT: a message for %r is refused: %s", where, reason)
        engine = self.engine
        t = engine.loop.time() if engine is not None else 0.0
        body = json.dumps({"event": "refused", "t": t, "node": where, "reason": reason},
                          allow_nan=False)
        self._control.append((f"{self.base}/tap/_errors", body.encode(), 0))
        self._wake_network()

    def status(self) -> dict[str, Any]:
        """The link's state for snapshots and reports (safe from any thread)."""
        connection = self.connection
        feed = self.feed
        transport = self.transport
        state: dict[str, Any] = {
            "state": connection.state if connection is not None else "off",
            "url": self.options.broker.url() if self.options.broker else None,
            "process": self.origin,
            "nodes": sorted(self.local) if self.partial else "all",
            "processes": len(self.peers) + 1,
            "in_flight": self._sent_envelopes - self._acked_envelopes,
            "batches_sent": self.batches_sent, "resent": self.resent,
            "received": self.received, "injected": self.injected, "refused": self.refused,
            "tap_published": self.tap_published,
            "tap_left_out": feed.left_out if feed else 0,
            "tap_buffer_dropped": feed.dropped if feed else 0,
            "tap_dropped": (feed.left_out + feed.dropped) if feed else 0,
        }
        if self.partial and transport is not None:
            state["missing"] = self.missing()
        if self.conflict is not None:
            state["conflict"] = self.conflict
            state["conflict_nodes"] = self.conflict_nodes
        if connection is not None:
            state["ever_connected"] = connection.connects > 0
            state["reconnects"] = max(0, connection.connects - 1)
            if connection.last_error:  # since the last connect: why it is not (or was not) up
                state["error"] = connection.last_error
            if (down := connection.down_for()) is not None:
                state["down_for"] = round(down, 1)
        if transport is not None:
            state.update({"duplicates": transport.duplicates,
                          "refused_congested": transport.refused,
                          "too_large": transport.too_large,
                          "undecodable": transport.undecodable})
        if self.sources:
            producers: dict[str, Any] = {}
            for source in self.sources:
                for names in source.topics.values():
                    for name in names:
                        node = self.engine.nodes.get(name) if self.engine else None
                        producers[name] = {
                            "url": source.endpoint.url(),
                            "state": source.connection.state if source.connection else "off",
                            "received": source.received,
                            "skipped": getattr(node, "skipped", 0)}
            state["sources"] = producers
        return state

    # --- the network side ----------------------------------------------------------------------

    def _plan_sources(self) -> list[_Source]:
        by_address: dict[Any, _Source] = {}
        for node_id, spec in self.topology.nodes.items():
            if not isinstance(spec, m.ProducerSpec) or spec.source is None \
                    or node_id not in self.local:
                continue
            endpoint = parse_endpoint(spec.source, topic="required")
            source = by_address.setdefault(endpoint.address, _Source(endpoint))
            source.topics.setdefault(endpoint.topic, []).append(node_id)
        return list(by_address.values())

    async def _run(self) -> None:
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        options = self.options
        async with contextlib.AsyncExitStack() as stack:
            if options.broker is not None:
                # a process that runs every node hears every inbox, so that JSON sent to a
                # node the topology lacks (a typo) is refused with a line, not dropped
                # unheard; in a split, each process's own (all inboxes would reach each one)
                inboxes = list(self._inboxes) if self.partial else [inbox(self.base, "+")]
                subscriptions = [self.response_topic, hello_topic(self.base), *inboxes]
                self.connection = await stack.enter_async_context(Connection(
                    options.broker, client_id=f"pg-{self.origin}", subscriptions=subscriptions,
                    session=self._session, security=options.security))
            for number, source in enumerate(self.sources):
                source.connection = await stack.enter_async_context(Connection(
                    source.endpoint, client_id=f"pg-{self.origin}-source{number}",
                    # only what its own URL says: the --broker's credentials, certificates
                    # and --mqtt-insecure are for that broker, and a source may be another
                    # server
                    subscriptions=list(source.topics), security=None, source=True,
                    session=lambda client, source=source: self._source_session(client,
                                                                               source)))
            async with asyncio.TaskGroup() as group:
                group.create_task(self._until_ready(), name="mqtt:ready")
                group.create_task(self._resend_loop(), name="mqtt:resend")
                group.create_task(self._summary_loop(), name="mqtt:tap-summary")

    async def _until_ready(self) -> None:
        for connection in self._connections():
            await connection.connected.wait()
        if self.transport is not None:
            await asyncio.sleep(HELLO_GRACE)
            self._gated = False
            if self.conflict is None:
                self._inbound.extend(self._early)
                self._wake_engine()
            self._early.clear()
        self._ready.set()
        if self.partial and self.transport is not None:
            await asyncio.sleep(MISSING_AFTER - HELLO_GRACE)
            missing = self.missing()
            if missing and self.conflict is None:
                log.warning("MQTT: no process on %s has said it runs %s (so far): what is sent "
                            "there waits; start one with --nodes %s",
                            self.options.broker, ", ".join(missing), ",".join(missing))

    def missing(self) -> list[str]:
        """The topology's nodes that neither this process nor any other that said hello
        runs (any thread)."""
        claimed = set(self.local)
        for nodes in list(self.peers.values()):
            claimed |= nodes
        return sorted(set(self.topology.nodes) - claimed)

    def _hello(self, back: bool = False) -> bytes:
        body: dict[str, Any] = {codec.MARK: 1, "hello": self.origin,
                                "nodes": sorted(self.local), "since": self.since}
        if back:
            body["back"] = True
        return json.dumps(body).encode()

    def _greeted(self, data: dict[str, Any]) -> None:
        """Another process said hello (``back``: in answer to ours)."""
        origin = data["hello"]
        if origin == self.origin:
            return
        if not data.get("back"):
            self._resend_all()  # what it missed before it subscribed
        nodes = data.get("nodes")
        claims = frozenset(n for n in nodes if isinstance(n, str)) \
            if isinstance(nodes, list) else frozenset()
        new = origin not in self.peers
        self.peers[origin] = claims
        if not new:
            return
        if not data.get("back"):  # so that it knows of us too
            self._control.append((process_topic(self.base, origin), self._hello(back=True), 1))
        both = sorted(self.local & claims)
        if both:
            since = data.get("since")
            self._claimed_twice(origin, since if isinstance(since, int | float) else 0.0,
                                both)

    def _claimed_twice(self, origin: str, since: float, nodes: list[str]) -> None:
        said = ", ".join(nodes)
        if (self.since, self.origin) < (since, origin):
            log.error("MQTT: process %s on %s also runs %s, which this process (%s) runs: "
                      "it started later and stops", origin, self.options.broker, said,
                      self.origin)
            return
        self.conflict_nodes = nodes
        self.conflict = (f"MQTT: process {origin} on {self.options.broker} runs {said} "
                         f"already, and so would this process ({self.origin}): every message "
                         f"for them would be processed twice. This process stops: give each "
                         f"process --nodes of its own")
        log.error("%s", self.conflict)
        self._early.clear()
        if self.on_conflict is not None:
            self.on_conflict()

    def _kick(self) -> None:
        self._net_woken = False
        if self._wake is not None:
            self._wake.set()

    def _resend_all(self) -> None:
        for batch in self._unacked.values():
            batch.sent_at = None
        self._resend = deque(self._unacked)
        if self._wake is not None:
            self._wake.set()

    async def _session(self, client: aiomqtt.Client) -> None:
        """One connected session: everything unacknowledged goes out again first."""
        self._resend_all()
        self._control.append((hello_topic(self.base), self._hello(), 1))
        assert self._wake is not None
        self._wake.set()
        async with asyncio.TaskGroup() as group:
            group.create_task(self._reader(client), name="mqtt:reader")
            group.create_task(self._writer(client, group), name="mqtt:writer")

    async def _reader(self, client: aiomqtt.Client) -> None:
        assert self._room is not None
        async for message in client.messages:
            self._received(message.topic.value, message.payload)
            if len(self._inbound) > INBOUND_HIGH:
                self._room.clear()
                self._paused = True
                self._engine_woken = False
                self._wake_engine()  # its pump says when there is room again
                await self._room.wait()

    def _received(self, topic: str, payload: Any) -> None:
        self.received += 1
        node = self._inboxes.get(topic)
        if node is None and (stranger := self._unknown_inbox(topic)) is not None:
            self._inbound.append(("refuse", stranger, "the topology has no such node (nodes: "
                                                      f"{', '.join(self.topology.nodes)})"))
            self._wake_engine()
            return
        try:
            data = codec.loads(payload)
        except (ValueError, TypeError):
            if node is not None:
                self._inbound.append(("refuse", node, "the payload is not JSON"))
                self._wake_engine()
            return
        kind = _envelope_kind(data) if node is None else \
            ("batch" if _is_batch(data) else None)  # on an inbox, anything else is a payload
        if kind is not None:
            if kind == "ack":
                self._acknowledged(data["ack"])
                return
            if kind == "hello":
                self._greeted(data)
                return
            if self.transport is None or self.conflict is not None:
                return  # after a conflict, unacknowledged: the process that runs it takes it
            if self._gated:
                self._early.append(("batch", topic, data))
                return
            self._inbound.append(("batch", topic, data))
        elif node is not None:
            self._inbound.append(("inject", node, data))
        else:
            return
        self._wake_engine()

    def _unknown_inbox(self, topic: str) -> str | None:
        """The node named by an inbox topic of this topology that it does not have."""
        prefix = self.base + "/"
        if not (topic.startswith(prefix) and topic.endswith("/in")):
            return None
        node = topic[len(prefix):-len("/in")]
        if "/" in node or node in self.topology.nodes:
            return None
        return node

    def _acknowledged(self, numbers: Any) -> None:
        if not isinstance(numbers, list):
            return
        for number in numbers:
            batch = self._unacked.pop(number, None) if isinstance(number, int) else None
            if batch is not None:
                self._acked_envelopes += batch.count

    async def _writer(self, client: aiomqtt.Client, group: asyncio.TaskGroup) -> None:
        """Publishes while a window of in-flight publishes has room; what to publish is
        decided (and packed) only when there is room, so a backlog packs into big batches."""
        assert self._wake is not None
        window = asyncio.Semaphore(WINDOW)
        while True:
            await self._wake.wait()
            self._wake.clear()
            while True:
                await window.acquire()
                item = self._next_item()
                if item is None:
                    window.release()
                    break
                group.create_task(self._publish(client, window, *item), name="mqtt:publish")

    @staticmethod
    async def _publish(client: aiomqtt.Client, window: asyncio.Semaphore, topic: str,
                       data: bytes, qos: int) -> None:
        try:
            await client.publish(topic, data, qos=qos)
        finally:
            window.release()

    def _next_item(self) -> tuple[str, bytes, int] | None:
        """The next thing to publish: acknowledgements and control messages first, then
        batches to resend, new batches, and last the tap."""
        while self._acks_out:
            origin, number = self._acks_out.popleft()
            self._acks.setdefault(origin, []).append(number)
        if self._acks:
            origin, numbers = self._acks.popitem()
            body = {codec.MARK: 1, "o": self.origin, "ack": numbers}
            return process_topic(self.base, origin), json.dumps(body).encode(), 0
        if self._control:
            return self._control.popleft()
        while self._resend:
            batch = self._unacked.get(self._resend.popleft())
            if batch is not None:
                batch.sent_at = time.monotonic()
                return batch.topic, batch.data, 1
        if not self._packed:
            self._pack()
        if self._packed:
            topic, envelopes = self._packed.popleft()
            self._number += 1
            # the envelopes are JSON already (encoded in the engine's thread)
            data = b"".join((b'{"%s":1,"o":"%s","b":%d,"e":[' % (
                codec.MARK.encode(), self.origin.encode(), self._number),
                b",".join(envelopes), b"]}"))
            self._unacked[self._number] = _Batch(topic, data, len(envelopes), time.monotonic())
            self.batches_sent += 1
            return topic, data, 1
        feed = self.feed
        if feed is not None:
            event = feed.take()
            if event is not None:
                self.tap_published += 1
                return (*tap_item(self.base, event), 0)
        return None

    def _pack(self) -> None:
        """What piled up, in batches per topic of at most MAX_PACK envelopes and
        ``codec.MAX_ENVELOPE_BYTES`` (a batch the broker finds too large would drop the
        connection, and come back after the reconnect to drop it again)."""
        by_topic: dict[str, list[bytes]] = {}
        outgoing = self._outgoing
        while outgoing:
            topic, data = outgoing.popleft()
            envelopes = by_topic.get(topic)
            if envelopes is None:
                envelopes = by_topic[topic] = []
            envelopes.append(data)
        room = codec.MAX_ENVELOPE_BYTES
        for topic, envelopes in by_topic.items():
            batch: list[bytes] = []
            size = 0
            for data in envelopes:
                if batch and (len(batch) >= MAX_PACK or size + len(data) + 1 > room):
                    self._packed.append((topic, batch))
                    batch, size = [], 0
                batch.append(data)
                size += len(data) + 1
            if batch:
                self._packed.append((topic, batch))

    async def _resend_loop(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            connection = self.connection
            if connection is None or connection.state != "connected":
                continue
            now = time.monotonic()
            due = [number for number, batch in self._unacked.items()
                   if batch.sent_at is not None and now - batch.sent_at > batch.timeout]
            for number in due:
                batch = self._unacked[number]
                batch.sent_at = None
                batch.timeout = min(RESEND_MAX, batch.timeout * 2)
                self._resend.append(number)
            if due and self._wake is not None:
                self.resent += len(due)
                self._wake.set()

    async def _summary_loop(self) -> None:
        """Once a second: what the tap published and left out; also wakes the writer, so
        nothing kept waits longer than that."""
        last = (0, 0, 0)
        while True:
            await asyncio.sleep(1.0)
            feed = self.feed
            if feed is not None:
                now = (self.tap_published, feed.left_out, feed.dropped)
                body = {"event": "tap_summary", "rate": feed.rate,
                        "published": now[0], "left_out": now[1], "dropped": now[2],
                        "last_second": {"published": now[0] - last[0],
                                        "left_out": now[1] - last[1],
                                        "dropped": now[2] - last[2]}}
                last = now
                self._control.append((f"{self.base}/tap/_summary",
                                      json.dumps(body, allow_nan=False).encode(), 0))
            if self._wake is not None:
                self._wake.set()

    async def _source_session(self, client: aiomqtt.Client, source: _Source) -> None:
        async for message in client.messages:
            topic = message.topic.value
            source.received += 1
            try:
                payload = codec.loads(message.payload)  # type: ignore[arg-type]
            except (ValueError, TypeError):
                payload, refused = None, f"not JSON on the source topic {topic}"
            else:
                refused = ""
            for pattern, producers in source.topics.items():
                if topic_matches(pattern, topic):
                    for producer in producers:
                        self._inbound.append(("refuse", producer, refused) if refused
                                             else ("source", producer, payload))
            self._wake_engine()

    async def _settle(self, linger: float) -> None:
        """Waits until everything sent was acknowledged and our acknowledgements went out."""
        deadline = time.monotonic() + linger
        while time.monotonic() < deadline:
            if not (self._outgoing or self._packed or self._unacked or self._acks_out
                    or self._acks or self._control):
                return
            if self._wake is not None:
                self._wake.set()
            await asyncio.sleep(0.02)


_ACK = frozenset((codec.MARK, "o", "ack"))
_BATCH = frozenset((codec.MARK, "o", "b", "e"))
_HELLO = frozenset((codec.MARK, "hello", "nodes", "since", "back"))


def _marked(data: Any) -> bool:
    return isinstance(data, dict) and type(data.get(codec.MARK)) is int \
        and data[codec.MARK] == 1


def _is_batch(data: Any) -> bool:
    """Exactly what :meth:`MqttLink._next_item` writes: JSON from outside that happens to
    hold a ``"pg"`` of its own is a payload like any other."""
    return _marked(data) and data.keys() == _BATCH and isinstance(data["o"], str) \
        and type(data["b"]) is int and isinstance(data["e"], list)


def _envelope_kind(data: Any) -> str | None:
    """``batch``, ``ack`` or ``hello`` for what another process of ours sent, else None."""
    if not _marked(data):
        return None
    if _is_batch(data):
        return "batch"
    if data.keys() == _ACK and isinstance(data["o"], str) and isinstance(data["ack"], list):
        return "ack"
    if "hello" in data and data.keys() <= _HELLO and isinstance(data["hello"], str):
        return "hello"
    return None
