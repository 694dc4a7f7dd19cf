"""gateway: the API in front: throttle, integration timeout, cache and circuit breaker.

Its target decides when the client hears back: a function answers after its whole
synchronous chain (request-response); a queue or topic answers as soon as it has stored
the message (202 Accepted, event-driven).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from playground.engine import events as ev
from playground.engine.limits import THROTTLING_SHOWN, Breaker, TokenBucket, tuned_breaker
from playground.engine.message import payload_field
from playground.engine.node import Node
from playground.engine.protocol import (
    BLOCKED,
    CALL,
    FAILED,
    OK,
    SEND,
    THROTTLED,
    TIMED_OUT,
    UNAVAILABLE,
    Reply,
    Request,
)
from playground.engine.sampling import sampler
from playground.spec import model as m

if TYPE_CHECKING:
    from playground.engine.runtime import Engine


class _Forward:
    __slots__ = ("corr", "request", "timer")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.corr = 0
        self.timer: asyncio.TimerHandle | None = None


class GatewayNode(Node):
    kind = "gateway"
    spec: m.GatewaySpec

    def __init__(self, engine: Engine, node_id: str, spec: m.GatewaySpec) -> None:
        super().__init__(engine, node_id, spec)
        self.target = spec.targets[0]
        self.sync = engine.topology.nodes[self.target].kind == "function"
        self.cache: dict[Any, float] = {}
        self.cache_hits = 0
        self.forwarding: dict[int, _Forward] = {}
        self.delaying = 0  # requests inside the gateway's own latency
        self.bucket: TokenBucket | None = None
        self.refused_at = -THROTTLING_SHOWN
        """When the throttle last refused a request (simulated time)."""
        self.breaker: Breaker | None = None
        self._compile(spec)

    def _compile(self, spec: m.GatewaySpec) -> None:
        now = self.clock.loop.now
        self.latency = sampler(spec.latency, self.engine.rng(self.id, "latency"))
        throttle = spec.throttle
        if throttle is None:
            self.bucket = None
        elif self.bucket is None:
            self.bucket = TokenBucket(throttle.rate, throttle.bucket, now)
        else:
            self.bucket.retune(throttle.rate, throttle.bucket, now)
        self.breaker = tuned_breaker(spec.breaker, self.breaker, self._breaker_changed,
                                     self.clock)

    def _breaker_changed(self, state: str, rate: float) -> None:
        self.emit(ev.BreakerChanged.new(self.clock.loop.now, self.id, state, rate))

    def on_request(self, request: Request) -> None:
        if request.op not in (CALL, SEND):
            return
        msg = request.msg
        assert msg is not None
        now = self.clock.loop.now
        # the fault checks' own first tests, inline (no fault is the rule): so below
        if now < self.outage_until:
            self.refuse(request, UNAVAILABLE, "outage")
            return
        if self.bucket is not None and not self.bucket.take(now):
            self.refused_at = now
            self.emit(ev.MessageThrottled.new(now, self.id, msg.id, msg.trace, "throttle"))
            self.reply(request, THROTTLED, "throttled")
            return
        cache = self.spec.cache
        if cache is not None and self.sync:
            key = _cache_key(msg.payload, cache)
            expires = self.cache.get(key)
            if expires is not None and now < expires:
                self.cache_hits += 1
                self.emit(ev.CacheHit.new(now, self.id, msg.id, msg.trace, key))
                if msg.copy.deliver():
                    self.emit(ev.MessageDelivered.new(now, self.id, msg.id, msg.trace,
                                                      now - msg.created))
                self.reply(request, OK, "cached")
                return
        if self.breaker is not None and self.sync and not self.breaker.allow(now):
            self.emit(ev.ShortCircuited.new(now, self.id, msg.id, msg.trace, self.target))
            self.reply(request, UNAVAILABLE, "circuit open")
            return
        latency = self.latency()
        if self.degrade_slow != 1.0:
            latency *= self.slow()
        if latency > 0:
            self.delaying += 1
            self.clock.later(latency, self._after_latency, request)
        else:
            self._forward(request)

    def _after_latency(self, request: Request) -> None:
        self.delaying -= 1
        self._forward(request)

    def _forward(self, request: Request) -> None:
        msg = request.msg
        assert msg is not None
        if self.degrade_errors > 0 and self.degraded_failure():
            self.refuse(request, FAILED, "degraded")
            return
        now = self.clock.loop.now
        forward = _Forward(request)
        self.to.MessageSent(ev.MessageSent.new(now, self.id, msg.id, msg.trace, self.target,
                                               msg.attempt + 1))
        op = CALL if self.sync else SEND
        forward.corr = self.expect(self.target, self._answered, forward)
        self.forwarding[forward.corr] = forward
        self.post(self.target, Request(op, 0, "", "", msg), forward.corr)
        if forward.corr in self.forwarding:  # not answered at once
            forward.timer = self.clock.late_at(now + self.spec.timeout, self._timed_out, forward)

    def _answered(self, reply: Reply, forward: _Forward) -> None:
        if not reply.final:
            if reply.status == BLOCKED:
                self.reply(forward.request, BLOCKED, reply.reason, final=False)
            return
        self.forwarding.pop(forward.corr, None)
        if forward.timer is not None:
            forward.timer.cancel()
        now = self.clock.loop.now
        if self.breaker is not None and self.sync:
            self.breaker.record(reply.ok, now)
        cache = self.spec.cache
        msg = forward.request.msg
        if cache is not None and self.sync and reply.status == OK and msg is not None:
            # keyed by the field in force now: a `set` may have changed it on the way
            self.cache[_cache_key(msg.payload, cache)] = now + cache.ttl
        request = forward.request  # reply, inline (see the queue's _accept)
        self.broker.publish(request.reply_to, Reply(request.corr, reply.status, reply.reason))

    def _timed_out(self, forward: _Forward) -> None:
        if self.forwarding.pop(forward.corr, None) is None:
            return
        self.cancel(forward.corr)
        now = self.clock.loop.now
        if self.breaker is not None and self.sync:
            self.breaker.record(False, now)
        msg = forward.request.msg
        assert msg is not None
        self.emit(ev.MessageRefused.new(now, self.id, msg.id, msg.trace, "integration timeout",
                                        TIMED_OUT))
        self.reply(forward.request, TIMED_OUT, "integration timeout")

    def gauges(self) -> dict[str, Any]:
        bucket = self.bucket
        tokens = None
        now = self.clock.loop.now
        if bucket is not None:
            bucket.wait_time(now)
            tokens = bucket.tokens
        return {"forwarding": len(self.forwarding) + self.delaying, "cache_hits": self.cache_hits,
                "tokens": tokens, "throttling": now - self.refused_at < THROTTLING_SHOWN,
                "breaker": self.breaker.state if self.breaker else None,
                "short_circuited": self.breaker.short_circuited if self.breaker else 0}

    def apply(self, spec: m.NodeSpec) -> None:
        assert isinstance(spec, m.GatewaySpec)
        old = self.spec.cache
        super().apply(spec)
        self._compile(spec)
        if spec.cache != old:
            self._recache(old, spec.cache)

    def _recache(self, old: m.Cache | None, new: m.Cache | None) -> None:
        """Answers cached under another key field answer nothing now: the cache starts
        empty, and calls on their way are cached by the new field when they return. A new
        ttl counts from when each answer was cached."""
        if new is None or old is None or new.key != old.key:
            self.cache.clear()
            return
        now = self.clock.loop.now
        shift = new.ttl - old.ttl
        self.cache = {key: expires + shift for key, expires in self.cache.items()
                      if expires + shift > now}


def _cache_key(payload: Any, cache: m.Cache) -> str:
    return repr(payload_field(payload, cache.key))
