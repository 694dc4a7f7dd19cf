"""topic: SNS/EventBridge-like fan-out: a copy for each subscription whose filter matches."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from playground.engine import events as ev
from playground.engine.message import FAILED, UNMATCHED, Message
from playground.engine.node import Node
from playground.engine.protocol import ACCEPTED, EVENT, SEND, Reply, Request
from playground.spec import model as m
from playground.spec.pattern import compile_pattern

if TYPE_CHECKING:
    from playground.engine.runtime import Engine


class _Delivery:
    """One subscription's delivery. Beyond the first, the topic holds the message it forks
    from, and the subscriber makes the copy when it accepts it (``fork_id``): a copy that
    no subscriber ever took was never made."""

    __slots__ = ("fork_id", "id", "msg", "op", "retries", "target")

    def __init__(self, msg: Message, target: str, op: str, fork_id: str | None = None
                 ) -> None:
        self.msg = msg
        self.target = target
        self.op = op
        self.retries = 0
        self.fork_id = fork_id
        self.id = fork_id or msg.id  # what events name


class TopicNode(Node):
    kind = "topic"
    spec: m.TopicSpec

    def __init__(self, engine: Engine, node_id: str, spec: m.TopicSpec) -> None:
        super().__init__(engine, node_id, spec)
        self.jitter_rng = engine.rng(node_id, "backoff")
        self._compile(spec)
        self.deliveries: dict[Message, _Delivery] = {}
        self.unmatched = 0

    def _compile(self, spec: m.TopicSpec) -> None:
        self.subscriptions: list[tuple[str, str, Callable[[Any], bool] | None]] = []
        for sub in m.subscriptions(spec.to):
            kind = self.engine.topology.nodes[sub.node].kind
            op = EVENT if kind == "function" else SEND
            match = compile_pattern(sub.filter) if sub.filter else None
            self.subscriptions.append((sub.node, op, match))

    def on_request(self, request: Request) -> None:
        if request.op != SEND:
            return
        msg = request.msg
        assert msg is not None
        now = self.clock.loop.now
        if self.refused_by_fault(request):
            return
        if request.fork_id:  # one more target of a fan-out upstream: its copy starts here
            msg = msg.fork(request.fork_id)
            try:
                self._fan_out(request, msg, now)
            finally:
                msg.release()
            return
        self._fan_out(request, msg, now)

    def _fan_out(self, request: Request, msg: Message, now: float) -> None:
        payload = msg.payload
        matching = [(target, op) for target, op, match in self.subscriptions
                    if match is None or match(payload)]
        self.to.MessageAccepted(ev.MessageAccepted.new(now, self.id, msg.id, msg.trace,
                                                       request.sender))
        if not matching:
            self.unmatched += 1
            msg.copy.set_outcome(UNMATCHED)
            self.emit(ev.MessageUnmatched.new(now, self.id, msg.id, msg.trace))
            self.reply(request, ACCEPTED)
            return
        seen: dict[str, int] = {}
        for index, (target, op) in enumerate(matching):
            fork_id = None
            if index > 0:
                # the same message fanned out twice gives the same copy ids
                nth = seen.get(target, 0)
                seen[target] = nth + 1
                fork_id = msg.id + (f">{target}" if nth == 0 else f">{target}#{nth + 1}")
            delivered = msg.clone()
            if request.attempt:
                # published from inside an invocation: the subscribers' invocations count
                # from 1, as a queue's consumers do
                delivered.attempt = 0
            self._deliver(_Delivery(delivered, target, op, fork_id))
        self.reply(request, ACCEPTED)

    def _deliver(self, delivery: _Delivery) -> None:
        msg = delivery.msg
        self.deliveries[msg] = delivery
        self.to.MessageSent(ev.MessageSent.new(self.clock.loop.now, self.id, delivery.id, msg.trace,
                                               delivery.target, delivery.retries + 1))
        self.request(delivery.target,
                     Request(delivery.op, 0, "", "", msg, fork_id=delivery.fork_id),
                     self._answered, delivery)

    def _answered(self, reply: Reply, delivery: _Delivery) -> None:
        if not reply.final:
            return  # a full queue that blocks: the delivery waits
        msg = delivery.msg
        now = self.clock.loop.now
        if reply.ok:
            del self.deliveries[msg]
            msg.release()
            return
        spec = self.spec
        if delivery.retries < spec.retries:
            delivery.retries += 1
            delay = spec.backoff.delay(delivery.retries)
            if spec.backoff.jitter == "full":
                delay = self.jitter_rng.uniform(0, delay)
            self.emit(ev.MessageRetried.new(now, self.id, delivery.id, msg.trace, delivery.retries,
                                            delay, f"{delivery.target}: {reply.reason}"))
            self.clock.later(delay, self._deliver, delivery)
            return
        reason = f"{delivery.target} refused it {delivery.retries + 1} times"
        if spec.dlq is not None:
            delivery.target, delivery.op = spec.dlq, "dlq"
            self.request(spec.dlq, Request(SEND, 0, "", "", msg, fork_id=delivery.fork_id),
                         self._dead_lettered, (delivery, reason))
            return
        del self.deliveries[msg]
        self.emit(ev.MessageFailed.new(now, self.id, delivery.id, msg.trace, reason))
        self._gave_up(delivery)

    def _dead_lettered(self, reply: Reply, context: tuple[_Delivery, str]) -> None:
        if not reply.final:
            return
        delivery, reason = context
        msg = delivery.msg
        del self.deliveries[msg]
        now = self.clock.loop.now
        if reply.ok:
            assert self.spec.dlq is not None
            self.emit(ev.MessageDeadLettered.new(now, self.id, delivery.id, msg.trace,
                                                 self.spec.dlq, reason))
            msg.release()
        else:
            self.emit(ev.MessageFailed.new(now, self.id, delivery.id, msg.trace,
                                           f"{reason}; dlq full"))
            self._gave_up(delivery)

    @staticmethod
    def _gave_up(delivery: _Delivery) -> None:
        """No subscriber took it: the message's own copy failed; a fan-out copy (beyond the
        first subscription) was never made, and the copy it would have forked from ends as
        its other deliveries do."""
        delivery.msg.release(None if delivery.fork_id else FAILED)

    def holdings(self) -> Iterable[Message]:
        return self.deliveries

    def gauges(self) -> dict[str, Any]:
        return {"delivering": len(self.deliveries), "unmatched": self.unmatched}

    def apply(self, spec: m.NodeSpec) -> None:
        super().apply(spec)
        assert isinstance(spec, m.TopicSpec)
        self._compile(spec)
