"""The engine's broker when a topology spans processes: local delivery, or MQTT.

:class:`MqttBroker` is what the engine's nodes publish on (in the engine's thread). What is
addressed to a node of this process is delivered at once, as the in-process broker does;
a request for a node elsewhere is encoded (:mod:`~playground.mqtt.codec`) and handed to the
link, which sends it to that node's inbox topic. Requests carry the sending process's
response topic and a correlation id (amqtt speaks MQTT 3.1.1, so both travel in the
envelope); the answer comes back there and is delivered to the node that asked.

The ledger stays honest in each process:

- a copy that leaves for another process gets the outcome ``exported``: when its holders
  here let go of it (the remote node took it), that is how it ended *here*;
- a copy that arrives is a copy of this process's ledger, counted as created and as
  ``imported`` (one arriving again - a redelivery, or a fan-out's copy made again from a
  message handled twice - is the same copy, not a new one). The
  transport holds the physical message for the remote sender until it answers, then lets it
  go as ``exported`` (its fate is the sender's business) unless it was delivered here;
- a request whose answer never comes ends by the sender's own timeouts (producer, gateway,
  function), as it would in one process.

Each batch of envelopes is processed once however often it arrives (the link resends what
was not acknowledged). A queue's consumer in another process offers credits (its free
instances) as in one process, but they arrive late: a credit also says how many batches the
consumer had received when it was given, and the queue's side subtracts the batches still on
the way (a sliding window), so a queue never hands a busy consumer more than it can take. A
credit older than one already applied is ignored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from playground.engine import events as ev
from playground.engine.broker import Broker
from playground.engine.message import EXPORTED, Copy, Message
from playground.engine.nodes.external import EXTERNAL
from playground.engine.protocol import (
    BATCH,
    CALL,
    CANCEL,
    CREDIT,
    FAILED,
    UNAVAILABLE,
    Reply,
    Request,
)
from playground.mqtt import codec

if TYPE_CHECKING:
    from playground.engine.runtime import Engine

log = logging.getLogger("playground.mqtt")
MAX_COPIES = 200_000  # copies remembered by id, so one that comes back is the same copy
MAX_SEEN = 100_000  # batch numbers remembered per sending process beyond the contiguous run
_LOCAL = ""
LOGGED_TOO_LARGE = 20


@dataclass(slots=True)
class _Incoming:
    """A request from another process, answered here."""

    origin: str
    corr: int
    response_topic: str
    reply_to: str
    op: str
    held: list[Message]


@dataclass(slots=True)
class _Seen:
    floor: int = 0
    above: set[int] = field(default_factory=set)

    def add(self, number: int) -> bool:
        """Records ``number``; False if it was seen before."""
        if number <= self.floor or number in self.above:
            return False
        self.above.add(number)
        while self.floor + 1 in self.above:
            self.floor += 1
            self.above.discard(self.floor)
        if len(self.above) > MAX_SEEN:  # a sender's batches to others leave gaps: forget
            ordered = sorted(self.above)
            self.floor = ordered[len(ordered) // 2]
            self.above = {n for n in ordered if n > self.floor}
        return True


class MqttBroker(Broker):
    """See the module docstring. ``send(topic, data)`` hands an envelope to the network
    side; ``congested()`` says it holds too much unacknowledged already."""

    def __init__(self, local: set[str], response_topic: str,
                 send: Callable[[str, dict[str, Any]], None],
                 congested: Callable[[], bool]) -> None:
        super().__init__(on_error=self._failed)
        self.local = local
        self.response_topic = response_topic
        self._send = send
        self._congested = congested
        self.engine: Engine | None = None
        self.base = ""
        self._places: dict[str, str] = {}
        self._incoming: dict[int, _Incoming] = {}
        self._by_remote: dict[tuple[str, int], int] = {}
        self._waiting: dict[int, list[Message]] = {}  # our calls and batches: attempts
        self._copies: dict[tuple[str, str], Copy] = {}
        self._seen: dict[str, _Seen] = {}
        self._credits: dict[tuple[str, str, str], tuple[int, int]] = {}
        self._batches_out: dict[tuple[str, str], int] = {}  # (queue, consumer): sent
        self._batches_in: dict[tuple[str, str], int] = {}  # (queue, consumer): received
        self.exported = 0
        self.refused = 0
        self.too_large = 0
        self.duplicates = 0
        self.undecodable = 0

    def bind(self, engine: Engine) -> None:
        """Once the engine exists (its topics, ledger and clock): in the engine's thread."""
        self.engine = engine
        self.base = engine.base_topic
        engine.holders.append(self)

    # --- what the nodes publish ------------------------------------------------------------

    def publish(self, topic: str, envelope: Any) -> None:
        if self._incoming and type(envelope) is Reply:
            entry = self._incoming.get(envelope.corr)
            if entry is not None:
                self._answer(envelope, entry)
                return
        place = self._places.get(topic)
        if place is None:
            place = self._places[topic] = self._place(topic)
        if place is _LOCAL:
            super().publish(topic, envelope)
        elif isinstance(envelope, Request):
            self._export(topic, envelope)
        # else: an answer for a remote node that asked nothing of us (already answered)

    def _place(self, topic: str) -> str:
        """``_LOCAL``, or the remote node a topic is the inbox of."""
        prefix = self.base + "/"
        if not topic.startswith(prefix):
            return _LOCAL
        node, _, rest = topic[len(prefix):].partition("/")
        if node in self.local or node == EXTERNAL or rest != "in":
            return _LOCAL
        return node

    def _node_of(self, topic: str) -> str:
        return topic.removeprefix(self.base + "/").partition("/")[0]

    def _failed(self, topic: str, error: BaseException) -> None:
        engine = self.engine
        if engine is not None:
            node = topic.removeprefix(self.base + "/").split("/")[0]
            engine.bus.emit(ev.NodeFailed(engine.loop.time(), node, repr(error)))

    def _export(self, topic: str, request: Request) -> None:
        assert self.engine is not None
        msgs = [request.msg] if request.msg is not None else request.batch
        if request.op == CANCEL:
            self._waiting.pop(request.corr, None)
        if msgs is not None and self._congested():
            # the network side holds too much already: the sender hears it at once
            self.refused += 1
            super().publish(request.reply_to, Reply(request.corr, UNAVAILABLE,
                                                    "MQTT link congested"))
            return
        data = codec.encode_request(request, self.engine.loop.time())
        data["rt"] = self.response_topic
        if request.op == CREDIT:
            data["seen"] = self._batches_in.get((self._places[topic], request.sender), 0)
        data["w"] = time.time()
        try:
            self._send(topic, data)
        except codec.TooLarge as error:
            # no broker would pass it on: the sender hears why at once, instead of a
            # connection that drops and comes back for ever
            self.too_large += 1
            if self.too_large <= LOGGED_TOO_LARGE:
                log.warning("MQTT: a request from %s to %s is refused: %s", request.sender,
                            self._places[topic], error)
            if msgs is not None:
                super().publish(request.reply_to, Reply(request.corr, FAILED,
                                                        f"too large for MQTT: {error}"))
            return
        if request.op == BATCH:
            key = (request.sender, self._places[topic])
            self._batches_out[key] = self._batches_out.get(key, 0) + 1
        if msgs is not None:
            for msg in msgs:
                copy = msg.copy
                if request.fork_id is None and copy.outcome is None:
                    copy.set_outcome(EXPORTED)
                self._remember("", copy)
            if request.op in (CALL, BATCH):
                self._waiting[request.corr] = msgs
        self.exported += 1

    def _answer(self, reply: Reply, entry: _Incoming) -> None:
        held = entry.held
        attempts = [msg.attempt for msg in held] if entry.op in (CALL, BATCH) else None
        if reply.final:
            del self._incoming[reply.corr]
            self._by_remote.pop((entry.origin, entry.corr), None)
            for msg in held:
                msg.release(EXPORTED)  # delivered here stays delivered
        answer = Reply(entry.corr, reply.status, reply.reason, reply.final, reply.results)
        try:
            self._send(entry.response_topic, codec.encode_reply(answer, entry.reply_to,
                                                                attempts))
        except codec.TooLarge as error:  # an answer carries no payload: never seen
            log.warning("MQTT: an answer to %s is dropped: %s", entry.origin, error)
            return
        self.exported += 1

    # --- what arrives from other processes (engine's thread) ------------------------------------

    def receive_batch(self, data: dict[str, Any], topic: str) -> bool:
        """One batch of envelopes from the network; False if it came before (a resend)."""
        engine = self.engine
        assert engine is not None
        origin = str(data["o"])
        number = int(data["b"])
        seen = self._seen.get(origin)
        if seen is None:
            seen = self._seen[origin] = _Seen()
        if not seen.add(number):
            self.duplicates += 1
            return False
        now = engine.loop.time()
        speed = float(getattr(engine.loop, "speed", 1.0))
        wall = time.time()
        for index, item in enumerate(data.get("e") or ()):
            try:
                if not isinstance(item, dict):
                    raise codec.EnvelopeError(f"an envelope that is no object: {item!r:.40}")
                transit = max(0.0, wall - float(item.get("w", wall))) * speed
                if item.get("k") == codec.REPLY:
                    self._receive_reply(item)
                else:
                    self._receive_request(item, topic, origin, (number, index), now, transit)
            except codec.EnvelopeError as error:
                self.undecodable += 1
                log.warning("MQTT: an envelope from %s on %s is dropped: %s", origin, topic,
                            error)
        return True

    def _receive_request(self, data: dict[str, Any], topic: str, origin: str,
                         position: tuple[int, int], now: float, transit: float) -> None:
        engine = self.engine
        assert engine is not None
        op = data.get("op")
        if op == CANCEL:
            local = self._by_remote.get((origin, int(data.get("corr", 0))))
            if local is not None:
                super().publish(topic, Request(CANCEL, local, "", str(data.get("sender"))))
            return
        if op == CREDIT:
            key = (origin, str(data.get("sender")), topic)
            if self._credits.get(key, (-1, -1)) > position:
                return  # overtaken by a newer credit
            self._credits[key] = position
            sender = str(data.get("sender"))
            on_the_way = self._batches_out.get((self._node_of(topic), sender), 0) \
                - int(data.get("seen", 0))
            data = {**data, "credit": max(0, int(data.get("credit", 0)) - on_the_way)}
        elif op == BATCH:
            key = (str(data.get("sender")), self._node_of(topic))
            self._batches_in[key] = self._batches_in.get(key, 0) + 1
        fork = data.get("fork")

        def materialise(fields: dict[str, Any]) -> Message:
            return self._materialise(fields, origin, str(fork) if fork else None, now,
                                     transit)

        request = codec.decode_request(data, materialise)
        msgs = [request.msg] if request.msg is not None else request.batch
        if msgs is not None:
            local = engine.next_corr()
            self._incoming[local] = _Incoming(origin, request.corr, str(data.get("rt", "")),
                                              request.reply_to, request.op, msgs)
            self._by_remote[(origin, request.corr)] = local
            request.corr = local
            request.fork_id = None  # made here already: the fork is the copy that arrived
        super().publish(topic, request)

    def _receive_reply(self, data: dict[str, Any]) -> None:
        reply, to, attempts = codec.decode_reply(data)
        msgs = self._waiting.pop(reply.corr, None) if reply.final else \
            self._waiting.get(reply.corr)
        if msgs is not None and attempts:
            for msg, attempt in zip(msgs, attempts, strict=False):
                msg.attempt = max(msg.attempt, attempt)
        super().publish(to, reply)

    def _materialise(self, fields: dict[str, Any], origin: str, fork: str | None, now: float,
                     transit: float) -> Message:
        engine = self.engine
        assert engine is not None
        copy_id = fork or fields["id"]
        # the same copy again from that process (a redelivery, or the same fork made again
        # by a message handled twice), or one of ours coming back
        copy = self._copies.get((origin, copy_id)) or self._copies.get(("", copy_id))
        if copy is None:
            created = now - fields["age"] - transit
            copy = Copy(engine.ledger, copy_id, fields["trace"], created)
            engine.ledger.imported += 1
            self._remember(origin, copy)
        msg = Message(copy, fields["payload"])
        return codec.apply_fields(msg, fields, now, transit)

    def _remember(self, origin: str, copy: Copy) -> None:
        """Copies by (the process they came from, or "" for ours, and id): ids are unique
        in a process (``clients-1`` may exist in two: a producer's process started again)."""
        copies = self._copies
        key = (origin, copy.id)
        if key not in copies and len(copies) >= MAX_COPIES:
            del copies[next(iter(copies))]
        copies[key] = copy

    # --- the engine's view -------------------------------------------------------------------

    def holdings(self) -> list[Message]:
        """Messages held for remote senders until their requests are answered."""
        return [msg for entry in self._incoming.values() for msg in entry.held]
