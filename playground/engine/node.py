"""What every node shares: its inbox on the broker, requests and replies, faults, events."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from playground.engine import events as ev
from playground.engine.clock import on_grid
from playground.engine.message import Message
from playground.engine.protocol import CANCEL, FAILED, UNAVAILABLE, Reply, Request
from playground.spec import model as m

if TYPE_CHECKING:
    from playground.engine.runtime import Engine

OnReply = Callable[[Reply, Any], None]


class Node:
    """Base of the six kinds. Subclasses handle requests in :meth:`on_request`."""

    kind = "node"

    def __init__(self, engine: Engine, node_id: str, spec: m.NodeSpec) -> None:
        self.engine = engine
        self.id = node_id
        self.spec = spec
        self.clock = engine.clock
        self.bus = engine.bus
        self.emit = engine.bus.emit  # the hot path: one call less per event
        # the events every message makes go through ``to``: straight to their handlers
        # (see EventBus.to), one frame less each than emit
        self.to = engine.bus.to
        self.broker = engine.broker
        self.inbox = engine.inbox_topic(node_id)
        self.reply_topic = engine.reply_topic(node_id)
        self._pending: dict[int, tuple[OnReply, Any, str]] = {}
        self._inboxes: dict[str, str] = {}  # the inbox topic of each node sent to
        self.outage_until = -math.inf
        self.degrade_until = -math.inf
        self.degrade_errors = 0.0
        self.degrade_slow = 1.0
        self._degrades: list[tuple[float, float, float]] = []  # (until, errors, slow) in force
        self.fault_rng = engine.rng(node_id, "faults")

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Subscribe; start tasks. Called inside the engine's loop."""
        self.broker.subscribe(self.inbox, self._on_inbox)
        self.broker.subscribe(self.reply_topic, self._on_reply)

    def stop(self) -> None:
        """Stop timers and loops of its own (tasks are cancelled by the engine)."""

    def holdings(self) -> Iterable[Message]:
        """The physical messages this node holds right now (for the ledger's final scan)."""
        return ()

    def gauges(self) -> dict[str, Any]:
        """Live figures that are state, not counts of events (depth, instances...)."""
        return {}

    def apply(self, spec: m.NodeSpec) -> None:
        """A live change of fields (``set``)."""
        self.spec = spec

    # --- messaging -----------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.loop.now

    def request(self, target: str, request: Request, on_reply: OnReply, context: Any = None
                ) -> int:
        """Sends ``request``; ``on_reply(reply, context)`` gets the answer. The answer may
        come before this returns (in-process delivery is synchronous): callers that keep
        their own books per request use :meth:`expect` and :meth:`post` instead."""
        # expect and post, inline: two requests a message come this way
        corr = self.engine.next_corr()
        self._pending[corr] = (on_reply, context, target)
        request.corr = corr
        request.reply_to = self.reply_topic
        request.sender = self.id
        self.broker.publish(self._inboxes.get(target) or self._inbox(target), request)
        return corr

    def expect(self, target: str, on_reply: OnReply, context: Any = None) -> int:
        """Registers for the answer of a request about to be posted; returns its id."""
        corr = self.engine.next_corr()
        self._pending[corr] = (on_reply, context, target)
        return corr

    def post(self, target: str, request: Request, corr: int) -> None:
        request.corr = corr
        request.reply_to = self.reply_topic
        request.sender = self.id
        self.broker.publish(self._inboxes.get(target) or self._inbox(target), request)

    def notify(self, target: str, request: Request) -> None:
        """A one-way message (no reply expected)."""
        request.sender = self.id
        self.broker.publish(self._inboxes.get(target) or self._inbox(target), request)

    def _inbox(self, target: str) -> str:
        topic = self._inboxes[target] = self.engine.inbox_topic(target)
        return topic

    def cancel(self, corr: int) -> None:
        """Give up on a request: forget its reply and tell the target (withdraws a block)."""
        pending = self._pending.pop(corr, None)
        if pending is not None:
            self.notify(pending[2], Request(CANCEL, corr, self.reply_topic, self.id))

    def reply(self, request: Request, status: int, reason: str = "", final: bool = True,
              results: list[bool] | None = None) -> None:
        self.broker.publish(request.reply_to,
                            Reply(request.corr, status, reason, final, results))

    def _on_reply(self, topic: str, reply: Reply) -> None:
        if reply.final:
            pending = self._pending.pop(reply.corr, None)
        else:
            pending = self._pending.get(reply.corr)
        if pending is not None:
            pending[0](reply, pending[1])

    def _on_inbox(self, topic: str, request: Request) -> None:
        try:
            self.on_request(request)
        except Exception as error:  # the node's own code crashed: report it, serve on
            self.emit(ev.NodeFailed.new(self.clock.loop.now, self.id, repr(error)))
            if request.reply_to:
                # its sender must not wait for ever: it hears of a failure, and does what it
                # does with one (retries, fails its client, leaves a batch to its timeout)
                results = [False] * len(request.batch) if request.batch is not None else None
                self.reply(request, FAILED, "the node crashed", results=results)

    def on_request(self, request: Request) -> None:
        raise NotImplementedError

    def refuse(self, request: Request, status: int, reason: str) -> None:
        """Turns a request away at once, saying why (an event, and the answer)."""
        msg = request.msg
        if msg is not None:
            # a fan-out copy refused was never made: the event names the copy it would be
            self.emit(ev.MessageRefused.new(self.clock.loop.now, self.id,
                                            request.fork_id or msg.id, msg.trace,
                                            reason, status))
        self.reply(request, status, reason)

    def refused_by_fault(self, request: Request, degraded: bool = True) -> bool:
        """An outage - or, with ``degraded``, a failure drawn from a degradation in force -
        refuses the request at once (503). Returns whether it did."""
        if self.in_outage():
            self.refuse(request, UNAVAILABLE, "outage")
            return True
        if degraded and self.degraded_failure():
            self.refuse(request, UNAVAILABLE, "degraded")
            return True
        return False

    # --- faults --------------------------------------------------------------------------

    def in_outage(self) -> bool:
        return self.clock.loop.now < self.outage_until

    def degrade(self, errors: float, slow: float, seconds: float) -> None:
        """A ``degrade`` step: in force for ``seconds``, together with any other still in
        force (as bursts multiply): their failures are drawn independently and their
        slowdowns multiply, and each ends at its own time."""
        # on the grid its end's timer is set on: compared with the time then
        until = on_grid(self.clock.loop.now + seconds)
        self._degrades.append((until, errors, slow))
        self._combine_degrades()
        self.clock.at(until, self._combine_degrades)

    def _combine_degrades(self) -> None:
        now = self.clock.loop.now
        self._degrades = live = [entry for entry in self._degrades if entry[0] > now]
        survives, slow = 1.0, 1.0
        for _, errors, factor in live:
            survives *= 1.0 - errors
            slow *= factor
        self.degrade_errors = 1.0 - survives
        self.degrade_slow = slow
        self.degrade_until = max((entry[0] for entry in live), default=-math.inf)

    # slow and degraded_failure are asked several times per message, and almost always
    # without a degradation: what they return then needs no look at the clock

    def slow(self) -> float:
        slow = self.degrade_slow
        if slow == 1.0:
            return 1.0
        return slow if self.clock.loop.now < self.degrade_until else 1.0

    def degraded_failure(self) -> bool:
        """An extra failure drawn from a ``degrade`` step in force."""
        if self.degrade_errors <= 0 or self.clock.loop.now >= self.degrade_until:
            return False
        return self.fault_rng.random() < self.degrade_errors
