"""store: a DynamoDB-like table: write capacity, latency, idempotency; rows go to SQLite.

The store decides what a write does; the rows themselves are persisted by whoever listens
to :class:`MessageWritten` (the recorder), so the simulated clock never waits for a disk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from playground.engine import events as ev
from playground.engine.limits import THROTTLING_SHOWN, TokenBucket
from playground.engine.message import payload_field
from playground.engine.node import Node
from playground.engine.protocol import FAILED, INVALID, OK, THROTTLED, WRITE, Reply, Request
from playground.engine.sampling import sampler
from playground.spec import model as m

if TYPE_CHECKING:
    from playground.engine.runtime import Engine


class StoreNode(Node):
    kind = "store"
    spec: m.StoreSpec

    def __init__(self, engine: Engine, node_id: str, spec: m.StoreSpec) -> None:
        super().__init__(engine, node_id, spec)
        self.keys: set[Any] = set()
        self.rows = 0
        self.duplicates = 0
        self.writing = 0
        self.bucket: TokenBucket | None = None
        self.refused_at = -THROTTLING_SHOWN
        """When the write capacity last refused a write (simulated time)."""
        self._compile(spec)

    def _compile(self, spec: m.StoreSpec) -> None:
        self.latency = sampler(spec.latency, self.engine.rng(self.id, "latency"))
        now = self.clock.loop.now
        if spec.capacity is None:
            self.bucket = None
        elif self.bucket is None:
            self.bucket = TokenBucket(spec.capacity, max(1.0, spec.capacity), now)
        else:
            self.bucket.retune(spec.capacity, max(1.0, spec.capacity), now)
        idempotent = spec.idempotent
        self.key_field = idempotent.key if isinstance(idempotent, m.IdempotencyKey) else None
        self.idempotent = bool(idempotent)

    def on_request(self, request: Request) -> None:
        if request.op != WRITE:
            return
        msg = request.msg
        assert msg is not None
        now = self.clock.loop.now
        # the fault checks' own first tests, inline (no fault is the rule): so below
        if now < self.outage_until and self.refused_by_fault(request, degraded=False):
            # (a degradation strikes at the end)
            return
        key_field = self.key_field
        if key_field is not None and payload_field(msg.payload, key_field) is None:
            # DynamoDB refuses an item without its key before it takes any capacity; so
            # does this table, rather than keying every such message as one (one row)
            self.emit(ev.MessageRefused.new(now, self.id, request.fork_id or msg.id, msg.trace,
                                            "missing key", INVALID))
            self.reply(request, INVALID, f"no {key_field!r} in the payload")
            return
        if self.bucket is not None and not self.bucket.take(now):
            self.refused_at = now
            self.emit(ev.MessageThrottled.new(now, self.id, request.fork_id or msg.id, msg.trace,
                                              "capacity"))
            self.reply(request, THROTTLED, "write capacity exceeded")
            return
        self.writing += 1
        latency = self.latency()
        if self.degrade_slow != 1.0:
            latency *= self.slow()
        if latency > 0:
            self.clock.later(latency, self._written, request)
        else:  # an instant write answers at once: no timer, no turn of the loop
            self._written(request)

    def _written(self, request: Request) -> None:
        self.writing -= 1
        msg = request.msg
        assert msg is not None
        now = self.clock.loop.now
        if self.degrade_errors > 0 and self.degraded_failure():
            self.emit(ev.MessageRefused.new(now, self.id, request.fork_id or msg.id, msg.trace,
                                            "degraded", FAILED))
            self.reply(request, FAILED, "degraded")
            return
        fork_id = request.fork_id
        if fork_id:  # one more target of a fan-out: its copy exists once the write is done
            msg = msg.fork(fork_id)
        first = msg.copy.deliver()
        if first:
            self.to.MessageDelivered(ev.MessageDelivered.new(now, self.id, msg.id, msg.trace,
                                                             now - msg.created))
        deduplicated = False
        if self.idempotent:
            payload = msg.payload
            if self.key_field is None:
                key: Any = msg.trace
            else:
                key = repr(payload_field(payload, self.key_field))
            deduplicated = key in self.keys
            self.keys.add(key)
        if deduplicated or not first:
            self.duplicates += 1
        if not deduplicated:
            self.rows += 1
        self.to.MessageWritten(ev.MessageWritten.new(now, self.id, msg.id, msg.trace, msg.payload,
                                                     request.attempt, not first, deduplicated))
        if fork_id:
            msg.release()
        self.broker.publish(request.reply_to, Reply(request.corr, OK))  # reply, inline

    def gauges(self) -> dict[str, Any]:
        bucket = self.bucket
        now = self.clock.loop.now
        tokens = None
        if bucket is not None:
            bucket.wait_time(now)  # refills
            tokens = bucket.tokens
        return {"rows": self.rows, "duplicates": self.duplicates, "writing": self.writing,
                "tokens": tokens, "capacity": self.spec.capacity,
                "throttling": now - self.refused_at < THROTTLING_SHOWN}

    def apply(self, spec: m.NodeSpec) -> None:
        assert isinstance(spec, m.StoreSpec)
        old = self.spec.idempotent
        super().apply(spec)
        self._compile(spec)
        if spec.idempotent != old:
            self._rekey()

    def _rekey(self) -> None:
        """Idempotency turned on, or keyed otherwise: what was written before it counts, so
        a message redelivered after the switch is not written again (the keys come from
        the rows written so far)."""
        if not self.idempotent:
            self.keys = set()
            return
        field = self.key_field
        if field is None:
            self.keys = {trace for trace, _ in self.engine.written_rows(self.id)}
        else:
            # a row without the field was written before the table was keyed on it:
            # no later write has its (missing) key
            values = (payload_field(payload, field)
                      for _, payload in self.engine.written_rows(self.id))
            self.keys = {repr(value) for value in values if value is not None}

