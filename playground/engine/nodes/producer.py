"""producer: a client that makes messages at a rate and waits for each first hop's answer."""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING, Any

from playground.engine import events as ev
from playground.engine.limits import TokenBucket
from playground.engine.message import FAILED, Copy, Message
from playground.engine.node import Node
from playground.engine.protocol import BLOCKED, CALL, SEND, Reply, Request
from playground.engine.sampling import compile_template
from playground.spec import model as m
from playground.spec.units import MAX_RATE

if TYPE_CHECKING:
    from playground.engine.runtime import Engine

# Client retries back off like the AWS SDKs: full jitter over base x 2^(k-1), capped.
RETRY_BASE, RETRY_CAP = 0.1, 20.0
_RENDER: Any = object()  # _make's payload: render the template


class _Call:
    __slots__ = ("blocked", "corr", "msg", "sent_at", "timer", "try_number")

    def __init__(self, msg: Message, try_number: int, sent_at: float) -> None:
        self.msg = msg
        self.try_number = try_number
        self.sent_at = sent_at
        self.corr = 0
        self.timer: asyncio.TimerHandle | None = None
        self.blocked = False


class ProducerNode(Node):
    kind = "producer"
    spec: m.ProducerSpec

    def __init__(self, engine: Engine, node_id: str, spec: m.ProducerSpec) -> None:
        super().__init__(engine, node_id, spec)
        self.target = spec.targets[0]
        target_kind = engine.topology.nodes[self.target].kind
        self.op = SEND if target_kind in ("queue", "topic") else CALL
        self.arrivals = engine.rng(node_id, "arrivals")
        self.retry_rng = engine.rng(node_id, "retries")
        self.payload_rng = engine.rng(node_id, "payload")
        self.render = compile_template(spec.payload, self.payload_rng)
        self.factor = 1.0
        self.made = 0
        self.stop_at = math.inf
        self.calls: dict[int, _Call] = {}
        self.waiting: dict[Message, None] = {}  # messages between a failure and their retry
        self.blocked = 0
        self.blocked_since = 0.0
        self.blocked_seconds = 0.0
        self._sleep: asyncio.Future[bool] | None = None
        self._sleep_timer: asyncio.TimerHandle | None = None
        self._unblocked: asyncio.Future[None] | None = None
        self.skipped = 0  # source messages refused (see offer)
        self._cap: TokenBucket | None = None

    # --- the arrival loop ----------------------------------------------------------------

    @property
    def rate(self) -> float:
        # live bursts multiply, and a degradation divides: past the clock's resolution
        # every arrival would share one instant, and the clock would never move on
        slow = self.degrade_slow  # slow()'s own first test, inline: asked every message
        if slow != 1.0:
            slow = self.slow()
        return min((self.spec.rate or 0.0) * self.factor / slow, MAX_RATE)

    async def run(self) -> None:
        """Makes messages until the run's duration or ``limit``: the producer's task.

        A constant producer's send times are computed from an anchor (t = anchor + k / rate)
        rather than summed, so a run sends exactly ceil(duration x rate) messages.
        """
        loop = self.clock.loop
        if self.spec.source is not None:
            await loop.create_future()  # its messages come from outside: see offer()
        constant = self.spec.pattern == "constant"
        anchor, k, anchor_rate = loop.now, 0, self.rate
        next_at = anchor if constant else anchor + self.arrivals.expovariate(self.rate)
        while True:
            if not await self._sleep_until(next_at):
                now = loop.now  # the rate changed
                if constant:
                    # the next send keeps the new gap after the last one, never in the past
                    last = anchor + (k - 1) / anchor_rate if k > 0 else -math.inf
                    anchor_rate = self.rate
                    anchor, k = max(now, last + 1 / anchor_rate), 0
                    next_at = anchor
                else:  # memoryless: drawing again from now is exact
                    next_at = now + self.arrivals.expovariate(self.rate)
                continue
            now = loop.now
            if now >= self.stop_at:
                return
            limit = self.spec.limit
            if limit is not None and self.made >= limit:
                # until the run's end: a `set` may raise the limit or lift it (a change
                # wakes the sleep early, as one of the rate does)
                next_at = self.stop_at
                continue
            if self.blocked:
                await self._wait_unblocked()
                now = loop.now
                anchor, k, anchor_rate = now, 0, self.rate
                next_at = now if constant else now + self.arrivals.expovariate(self.rate)
                continue
            if now >= self.outage_until:  # not in an outage
                self._make(now)
            if constant:
                if self.rate != anchor_rate:  # changed while this send was already due
                    anchor, k, anchor_rate = now, 0, self.rate
                k += 1
                next_at = anchor + k / anchor_rate
            else:
                next_at = now + self.arrivals.expovariate(self.rate)

    def _sleep_until(self, when: float) -> asyncio.Future[bool]:
        """Done with True at ``when``, or with False early when the rate changes."""
        loop = self.clock.loop
        future: asyncio.Future[bool] = loop.create_future()
        self._sleep = future
        # an arrival comes after whatever else is due at its instant (an instance freed
        # then is free for it); with no end to the run, only a change wakes the sleep
        self._sleep_timer = None if when == math.inf \
            else self.clock.arrival_at(when, _wake, future, True)
        return future

    def rate_changed(self) -> None:
        if self._sleep is not None and not self._sleep.done():
            if self._sleep_timer is not None:
                self._sleep_timer.cancel()
            self._sleep.set_result(False)

    def _wait_unblocked(self) -> asyncio.Future[None]:
        self._unblocked = self.clock.loop.create_future()
        return self._unblocked

    # --- one message's life at the client ---------------------------------------------------

    def offer(self, payload: Any) -> bool:
        """A message from the producer's ``source`` (outside the engine), sent like one of its
        own; refused (False, counted ``skipped``) past the run's duration or ``limit``, in
        an outage, while its send is blocked, or beyond ``rate``, which caps a source."""
        now = self.clock.loop.now
        limit = self.spec.limit
        if now >= self.stop_at or (limit is not None and self.made >= limit) \
                or self.in_outage() or self.blocked or not self._within_cap(now):
            self.skipped += 1
            return False
        self._make(now, payload)
        return True

    def _within_cap(self, now: float) -> bool:
        if self.spec.rate is None:
            return True
        if self._cap is None or self._cap.rate != self.rate:
            self._cap = TokenBucket(self.rate, max(1.0, self.rate), now)
        return self._cap.take(now)

    def _make(self, now: float, payload: Any = _RENDER) -> None:
        self.made += 1
        seq = self.made
        msg_id = f"{self.id}-{seq}"
        copy = Copy(self.engine.ledger, msg_id, msg_id, now)
        msg = Message(copy, self.render(seq, now) if payload is _RENDER else payload)
        self.to.MessageCreated(ev.MessageCreated.new(now, self.id, msg_id, msg_id))
        self._send(msg, 1)

    def _send(self, msg: Message, try_number: int) -> None:
        now = self.clock.loop.now
        call = _Call(msg, try_number, now)
        self.to.MessageSent(ev.MessageSent.new(now, self.id, msg.id, msg.trace, self.target,
                                               try_number))
        call.corr = self.expect(self.target, self._answered, call)
        self.calls[call.corr] = call
        self.post(self.target, Request(self.op, 0, "", "", msg), call.corr)
        if call.corr in self.calls:  # not answered at once: the client starts waiting
            call.timer = self.clock.late_at(now + self.spec.timeout, self._timed_out, call)

    def _answered(self, reply: Reply, call: _Call) -> None:
        now = self.clock.loop.now
        if not reply.final:
            if reply.status == BLOCKED and not call.blocked:
                call.blocked = True
                self._block(now)
            return
        self.calls.pop(call.corr, None)
        if call.timer is not None:
            call.timer.cancel()
        if call.blocked:
            self._unblock(now)
        msg = call.msg
        self.to.ClientAnswered(ev.ClientAnswered.new(now, self.id, msg.id, msg.trace, reply.status,
                                                     now - call.sent_at, reply.reason))
        if reply.ok:
            msg.release()
        else:
            self._failed(msg, call.try_number, f"{reply.status} {reply.reason}".strip())

    def _timed_out(self, call: _Call) -> None:
        now = self.clock.loop.now
        if self.calls.pop(call.corr, None) is None:
            return
        self.cancel(call.corr)
        if call.blocked:
            self._unblock(now)
        msg = call.msg
        self.emit(ev.ClientTimedOut.new(now, self.id, msg.id, msg.trace, now - call.sent_at))
        self._failed(msg, call.try_number, "timeout")

    def _failed(self, msg: Message, try_number: int, reason: str) -> None:
        if try_number <= self.spec.retries:
            cap = min(RETRY_CAP, RETRY_BASE * 2 ** (try_number - 1))
            delay = self.retry_rng.uniform(0, cap)
            self.waiting[msg] = None
            self.emit(ev.MessageRetried.new(self.clock.loop.now, self.id, msg.id, msg.trace,
                                            try_number, delay, reason))
            self.clock.later(delay, self._retry, msg, try_number + 1)
            return
        self.emit(ev.MessageFailed.new(self.clock.loop.now, self.id, msg.id, msg.trace, reason))
        msg.release(FAILED)

    def _retry(self, msg: Message, try_number: int) -> None:
        if self.waiting.pop(msg, 0) is None:
            self._send(msg, try_number)

    def _block(self, now: float) -> None:
        if self.blocked == 0:
            self.blocked_since = now
        self.blocked += 1

    def _unblock(self, now: float) -> None:
        self.blocked -= 1
        if self.blocked == 0:
            seconds = now - self.blocked_since
            self.blocked_seconds += seconds
            self.emit(ev.ClientBlocked.new(now, self.id, seconds))
            if self._unblocked is not None and not self._unblocked.done():
                self._unblocked.set_result(None)

    # --- the engine's view -------------------------------------------------------------------

    def on_request(self, request: Request) -> None:
        """Producers take no requests (MQTT injection enters at the target node)."""

    def holdings(self) -> list[Message]:
        return [c.msg for c in self.calls.values()] + list(self.waiting)

    def gauges(self) -> dict[str, Any]:
        now = self.clock.loop.now
        blocked = self.blocked_seconds + (now - self.blocked_since if self.blocked else 0.0)
        return {"rate": self.rate, "made": self.made, "waiting_answers": len(self.calls),
                "blocked": self.blocked > 0, "blocked_seconds": blocked, "skipped": self.skipped}

    def apply(self, spec: m.NodeSpec) -> None:
        assert isinstance(spec, m.ProducerSpec)
        if spec.payload != self.spec.payload:
            # the same generator: the random stream goes on rather than starting over
            self.render = compile_template(spec.payload, self.payload_rng)
        super().apply(spec)
        self.rate_changed()


def _wake(future: asyncio.Future[bool], value: bool) -> None:
    if not future.done():
        future.set_result(value)
