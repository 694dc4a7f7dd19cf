"""queue: an SQS-like queue with visibility timeouts, DLQs, FIFO groups and backpressure.

Consumers tell the queue how many batches they can take right now (credits). A message is
handed over the moment it is visible and a consumer has a free instance - no polling - and
receiving it starts its visibility timeout. The consumer's answer to a batch says which
messages succeeded; those are deleted, the others stay hidden until their timeout ends.
"""

from __future__ import annotations

import asyncio
import math
import operator
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from playground.engine import events as ev
from playground.engine.clock import TICK
from playground.engine.deadlines import Deadlines
from playground.engine.limits import TokenBucket
from playground.engine.message import EXPIRED, Message, payload_field
from playground.engine.node import Node
from playground.engine.protocol import (
    ACCEPTED,
    BATCH,
    BLOCKED,
    CANCEL,
    CREDIT,
    SEND,
    UNAVAILABLE,
    Reply,
    Request,
)
from playground.spec import model as m

if TYPE_CHECKING:
    from playground.engine.runtime import Engine

_receives_of = operator.attrgetter("receives")
# whether a deadline still matters, read in C (Deadlines asks a few times a message): a
# batch while some of its messages are open, a message while it is here (GONE is 0)
_batch_open = operator.attrgetter("open")
_still_here = operator.attrgetter("state")

# message states while in this queue
GONE, VISIBLE, IN_FLIGHT, DELAYED, MOVING = 0, 1, 2, 3, 4


class _Batch:
    __slots__ = ("consumer", "msgs", "open", "receipts")

    def __init__(self, consumer: str, msgs: list[Message]) -> None:
        self.consumer = consumer
        self.msgs = msgs
        self.receipts = list(map(_receives_of, msgs))  # in C: no comprehension's frame
        self.open = len(msgs)


class QueueNode(Node):
    kind = "queue"
    spec: m.QueueSpec

    def __init__(self, engine: Engine, node_id: str, spec: m.QueueSpec) -> None:
        super().__init__(engine, node_id, spec)
        self.fifo = spec.type == "fifo"
        self.consumers = engine.topology.consumers_of(node_id)
        self.credits: dict[str, int] = dict.fromkeys(self.consumers, 0)
        self._next_consumer = 0
        self.visible: deque[Message] = deque()  # standard queues, in the order they became visible
        self.groups: dict[str, deque[Message]] = {}  # fifo: visible messages per group, in order
        self.ready: deque[str] = deque()  # fifo: groups with a visible head and none in flight
        self.locked: dict[str, int] = {}  # fifo: messages in flight per group
        self.n_visible = 0
        self.in_flight: dict[Message, _Batch] = {}
        self.delayed: dict[Message, asyncio.TimerHandle] = {}
        self.moving: dict[Message, None] = {}
        self.blocked: deque[Request] = deque()
        self.max_depth = 0
        self._seq = 0
        self._visibility = Deadlines(self.clock, self._visibility_over, _batch_open,
                                     lambda: len(self.in_flight))
        self._retention = Deadlines(self.clock, self._expire, _still_here, lambda: self.held)
        self._window_timer: asyncio.TimerHandle | None = None
        self.redrives: dict[str, asyncio.Task[None]] = {}

    # --- requests ------------------------------------------------------------------------

    def on_request(self, request: Request) -> None:
        op = request.op
        if op == SEND:
            self._on_send(request)
        elif op == CREDIT:
            self.credits[request.sender] = request.credit
            self._dispatch()
        elif op == CANCEL:
            self._withdraw(request.corr)

    @property
    def held(self) -> int:
        return self.n_visible + len(self.in_flight) + len(self.delayed) + len(self.moving)

    @property
    def depth(self) -> int:
        """Visible + in flight, as the report counts it (a message on its way to the DLQ is
        still hidden from its last receive; a delayed one is not there yet)."""
        return self.n_visible + len(self.in_flight) + len(self.moving)

    def _on_send(self, request: Request) -> None:
        msg = request.msg
        assert msg is not None
        now = self.clock.loop.now
        # the fault checks' own first tests, inline (no fault is the rule)
        if (now < self.outage_until or self.degrade_errors > 0) \
                and self.refused_by_fault(request):
            return
        capacity = self.spec.capacity
        # a delayed message takes room too: were it let in beyond capacity, more than
        # capacity would be visible once its delay ended
        if capacity is not None and self.held >= capacity:
            if self.spec.on_full == "block":
                self.blocked.append(request)
                self.emit(ev.MessageBlocked.new(now, self.id, request.fork_id or msg.id,
                                                msg.trace))
                self.reply(request, BLOCKED, "queue full", final=False)
                return
            self.emit(ev.MessageRefused.new(now, self.id, request.fork_id or msg.id, msg.trace,
                                            "full", UNAVAILABLE))
            self.reply(request, UNAVAILABLE, "queue full")
            return
        self._accept(request, now)

    def _accept(self, request: Request, now: float) -> None:
        sent = request.msg
        assert sent is not None
        msg = sent.fork(request.fork_id) if request.fork_id else sent.clone()
        if request.attempt:
            # sent from inside an invocation: the next stage's invocations count from 1 (a
            # DLQ move or a redrive, sent by no invocation, keeps counting)
            msg.attempt = 0
        msg.enqueued_at = sent.enqueued_at if request.keep_enqueued else now
        self._seq += 1
        msg.seq = self._seq
        if self.fifo:
            group_by = self.spec.group_by
            payload = msg.payload
            value = payload_field(payload, group_by) if group_by else None
            msg.group = "" if value is None else str(value)
        self.to.MessageAccepted(ev.MessageAccepted.new(now, self.id, msg.id, msg.trace,
                                                       request.sender))
        if self.spec.delay > 0:
            msg.state = DELAYED
            self.delayed[msg] = self.clock.later(self.spec.delay, self._delay_over, msg)
        else:
            self._make_visible(msg, now, returning=False)
        self._track_expiry(msg)
        # reply's work, inline: every message is answered here, and a frame less is a
        # frame less (so are the other answers every message gets)
        self.broker.publish(request.reply_to, Reply(request.corr, ACCEPTED))
        depth = self.depth
        if depth > self.max_depth:
            self.max_depth = depth
        self._dispatch()

    def _withdraw(self, corr: int) -> None:
        for request in self.blocked:
            if request.corr == corr:
                self.blocked.remove(request)
                return

    def _room_made(self) -> None:
        """Something left the queue: let a blocked sender in."""
        capacity = self.spec.capacity
        now = self.clock.loop.now
        while self.blocked and (capacity is None or self.held < capacity):
            self._accept(self.blocked.popleft(), now)

    # --- visibility ------------------------------------------------------------------------

    def _delay_over(self, msg: Message) -> None:
        if self.delayed.pop(msg, None) is not None:
            self._make_visible(msg, self.clock.loop.now, returning=False)
            self.max_depth = max(self.max_depth, self.depth)
            self._dispatch()

    def _make_visible(self, msg: Message, now: float, returning: bool) -> None:
        msg.state = VISIBLE
        msg.visible_since = now
        self.n_visible += 1
        if not self.fifo:
            self.visible.append(msg)
            return
        group = msg.group or ""
        members = self.groups.get(group)
        if members is None:
            members = self.groups[group] = deque()
        if returning:
            # it was at the head when received; keep the group's order among those returning
            index = 0
            while index < len(members) and members[index].seq < msg.seq:
                index += 1
            members.insert(index, msg)
        else:
            members.append(msg)
        if not self.locked.get(group) and group not in self.ready:
            self.ready.append(group)

    def _unlock(self, msg: Message) -> None:
        if not self.fifo:
            return
        group = msg.group or ""
        left = self.locked.get(group, 0) - 1
        if left > 0:
            self.locked[group] = left
            return
        self.locked.pop(group, None)
        if self.groups.get(group) and group not in self.ready:
            self.ready.append(group)

    def _visibility_over(self, batch: _Batch) -> None:
        now = self.clock.loop.now
        dlq = self.spec.dlq
        for msg, receipt in zip(batch.msgs, batch.receipts, strict=True):
            if msg.state != IN_FLIGHT or msg.receives != receipt or \
                    self.in_flight.get(msg) is not batch:
                continue
            del self.in_flight[msg]
            if self.fifo:
                self._unlock(msg)
            if dlq is not None and msg.receives >= dlq.max_receives:
                self._move_to_dlq(msg, dlq.queue, now)
            else:
                self.emit(ev.MessageRedelivered.new(now, self.id, msg.id, msg.trace, msg.receives))
                self._make_visible(msg, now, returning=True)
        self._dispatch()

    def _move_to_dlq(self, msg: Message, dlq: str, now: float) -> None:
        msg.state = MOVING
        self.moving[msg] = None
        self.request(dlq, Request(SEND, 0, "", "", msg, keep_enqueued=True), self._moved, msg)

    def _moved(self, reply: Reply, msg: Message) -> None:
        if not reply.final:
            return  # the DLQ is full and blocks: keep waiting
        if self.moving.pop(msg, 0) is not None:
            return  # expired meanwhile
        now = self.clock.loop.now
        if reply.ok:
            msg.state = GONE
            assert self.spec.dlq is not None
            self.emit(ev.MessageDeadLettered.new(now, self.id, msg.id, msg.trace,
                                                 self.spec.dlq.queue,
                                                 f"received {msg.receives} times"))
            msg.release()
            self._room_made()
        else:  # the DLQ refused: it stays here, visible, and moves at its next expiry
            self.emit(ev.MessageRedelivered.new(now, self.id, msg.id, msg.trace, msg.receives))
            self._make_visible(msg, now, returning=True)
            self._dispatch()

    # --- handing batches to consumers --------------------------------------------------------

    def _dispatch(self) -> None:
        if self._retention.due_at <= self.clock.loop.now:
            # a message whose retention ends at this instant expires before any receive
            self._retention.fire_due()
        while self.n_visible > 0:
            consumer = self._pick_consumer()
            if consumer is None:
                return
            spec = self.engine.function_spec(consumer)
            size = spec.batch_size
            if spec.batch_window > 0 and self.n_visible < size:
                oldest = self._oldest_visible()
                due = oldest.visible_since + spec.batch_window if oldest else math.inf
                if not self.clock.reached(due):
                    self._arm_window(due)
                    return
            batch = self._take(size)
            if not batch:
                return
            self.credits[consumer] -= 1
            try:
                self._hand_over(consumer, batch)
            except Exception:
                self._put_back(batch)
                raise

    def _put_back(self, batch: list[Message]) -> None:
        """Messages taken but not yet in flight when handing them over crashed: visible
        again, as if never taken (those already in flight come back by their timeout)."""
        now = self.clock.loop.now
        for msg in batch:
            if msg not in self.in_flight and msg.state != GONE:
                if self.fifo:
                    self._unlock(msg)
                self._make_visible(msg, now, returning=True)

    def _pick_consumer(self) -> str | None:
        consumers = self.consumers
        count = len(consumers)
        for offset in range(count):
            index = (self._next_consumer + offset) % count
            name = consumers[index]
            if self.credits.get(name, 0) > 0:
                self._next_consumer = (index + 1) % count
                return name
        return None

    def _oldest_visible(self) -> Message | None:
        if self.fifo:
            oldest = None
            for group in self.ready:
                head = self.groups[group][0]
                if oldest is None or head.visible_since < oldest.visible_since:
                    oldest = head
            return oldest
        visible = self.visible
        while visible and visible[0].state != VISIBLE:
            visible.popleft()
        return visible[0] if visible else None

    def _arm_window(self, due: float) -> None:
        timer = self._window_timer
        if timer is not None and not timer.cancelled() and timer.when() <= due:
            return
        if timer is not None:
            timer.cancel()
        self._window_timer = self.clock.at(due, self._window_over)

    def _window_over(self) -> None:
        self._window_timer = None
        self._dispatch()

    def _take(self, size: int) -> list[Message]:
        batch: list[Message] = []
        if not self.fifo:
            visible = self.visible
            while visible and len(batch) < size:
                msg = visible.popleft()
                if msg.state == VISIBLE:
                    batch.append(msg)
            self.n_visible -= len(batch)
            return batch
        while self.ready and len(batch) < size:
            group = self.ready.popleft()
            members = self.groups[group]
            taken = 0
            while members and len(batch) < size:
                msg = members.popleft()
                if msg.state == VISIBLE:
                    batch.append(msg)
                    taken += 1
            if not members:
                del self.groups[group]
            if taken:
                self.locked[group] = self.locked.get(group, 0) + taken
            elif members:
                self.ready.append(group)
        self.n_visible -= len(batch)
        return batch

    def _hand_over(self, consumer: str, msgs: list[Message]) -> None:
        now = self.clock.loop.now
        for msg in msgs:
            msg.state = IN_FLIGHT
            msg.receives += 1
        batch = _Batch(consumer, msgs)
        for msg in msgs:
            self.in_flight[msg] = batch
            self.to.MessageReceived(ev.MessageReceived.new(now, self.id, msg.id, msg.trace,
                                                           consumer, msg.receives,
                                                           now - msg.visible_since))
        # a visibility timeout of 0 shows a failed message again at the next instant, not at
        # this one: receiving it again and again at one instant would stop the clock
        self._visibility.add(now + max(self.spec.visibility_timeout, TICK), batch)
        self.request(consumer, Request(BATCH, 0, "", "", batch=msgs,
                                       receipts=list(batch.receipts)), self._batch_done, batch)

    def _batch_done(self, reply: Reply, batch: _Batch) -> None:
        results = reply.results or [False] * len(batch.msgs)
        deleted = 0
        for msg, receipt, ok in zip(batch.msgs, batch.receipts, results, strict=True):
            if ok and self._delete(msg, receipt, batch):
                deleted += 1
        if deleted:
            self._room_made()
            self._dispatch()

    def _delete(self, msg: Message, receipt: int, batch: _Batch) -> bool:
        # a stale receipt (the message was received again since) deletes nothing
        if msg.state != IN_FLIGHT or msg.receives != receipt or self.in_flight.get(msg) is not \
                batch:
            return False
        del self.in_flight[msg]
        batch.open -= 1
        msg.state = GONE
        if self.fifo:
            self._unlock(msg)
        self.to.MessageDeleted(ev.MessageDeleted.new(self.clock.loop.now, self.id, msg.id,
                                                     msg.trace))
        msg.release()
        return True

    # --- retention -------------------------------------------------------------------------

    def _track_expiry(self, msg: Message) -> None:
        self._retention.add(msg.enqueued_at + self.spec.retention, msg)

    def _expire(self, msg: Message) -> None:
        if msg.state == GONE:
            return
        self._drop_expired(msg, self.clock.loop.now)
        self._room_made()
        self._dispatch()

    def _drop_expired(self, msg: Message, now: float) -> None:
        state = msg.state
        msg.state = GONE
        if state == VISIBLE:
            self.n_visible -= 1
            group = msg.group or ""
            members = self.groups.get(group) if self.fifo else None
            if members is not None:
                members.remove(msg)
                if not members:
                    del self.groups[group]
                    if group in self.ready:
                        self.ready.remove(group)
        elif state == IN_FLIGHT:
            batch = self.in_flight.pop(msg)
            batch.open -= 1
            if self.fifo:
                self._unlock(msg)
        elif state == DELAYED:
            self.delayed.pop(msg).cancel()
        elif state == MOVING:
            self.moving.pop(msg, None)
        self.emit(ev.MessageExpired.new(now, self.id, msg.id, msg.trace, "retention"))
        msg.release(EXPIRED)

    # --- redrive ---------------------------------------------------------------------------

    def redrive(self, target: str, rate: float) -> None:
        """Move this DLQ's visible messages into ``target`` at ``rate`` (a token bucket)."""
        running = self.redrives.get(target)
        if running is not None and not running.done():
            running.cancel()
        self.redrives[target] = self.engine.spawn(self._redrive(target, rate),
                                                  f"redrive:{self.id}->{target}")

    async def _redrive(self, target: str, rate: float) -> None:
        loop = self.clock.loop
        bucket = TokenBucket(rate, max(1.0, rate), loop.now)
        while self.n_visible > 0:
            wait = bucket.wait_time(loop.now)
            if wait > 0:
                await self.clock.sleep(wait)
                continue
            head = self._take(1)
            if not head:
                return
            bucket.take(loop.now)
            msg = head[0]
            if self.fifo:
                self._unlock(msg)
            msg.state = MOVING
            self.moving[msg] = None
            done: asyncio.Future[bool] = loop.create_future()
            self.request(target, Request(SEND, 0, "", "", msg), self._redriven, (msg, target,
                                                                                  done))
            if not await done:
                await self.clock.sleep(1.0 / rate)  # the target refused: try again later

    def _redriven(self, reply: Reply, context: tuple[Message, str, asyncio.Future[bool]]
                  ) -> None:
        if not reply.final:
            return
        msg, target, done = context
        still_here = self.moving.pop(msg, 0) is None
        if still_here:
            now = self.clock.loop.now
            if reply.ok:
                msg.state = GONE
                self.emit(ev.MessageRedriven.new(now, self.id, msg.id, msg.trace, target))
                msg.release()
                self._room_made()
            else:
                self._make_visible(msg, now, returning=True)
        if not done.done():
            done.set_result(reply.ok)

    # --- the engine's view -------------------------------------------------------------------

    def holdings(self) -> Iterable[Message]:
        if self.fifo:
            for members in self.groups.values():
                yield from (msg for msg in members if msg.state == VISIBLE)
        else:
            yield from (msg for msg in self.visible if msg.state == VISIBLE)
        yield from self.in_flight
        yield from self.delayed
        yield from self.moving

    def gauges(self) -> dict[str, Any]:
        return {"depth": self.depth, "visible": self.n_visible, "in_flight": len(self.in_flight),
                "delayed": len(self.delayed), "max_depth": self.max_depth,
                "capacity": self.spec.capacity, "blocked_senders": len(self.blocked),
                "redriving": any(not t.done() for t in self.redrives.values()),
                "parked": self.engine.parks(self)}

    def apply(self, spec: m.NodeSpec) -> None:
        assert isinstance(spec, m.QueueSpec)
        retention = self.spec.retention
        super().apply(spec)
        if spec.retention != retention:
            self._retime_retention()
        self._room_made()
        self._dispatch()

    def _retime_retention(self) -> None:
        """Every message held is due at its enqueue time + the new retention (those already
        past it expire now), not at the deadline it was given when it came."""
        self._retention.cancel()
        for msg in list(self.holdings()):
            self._track_expiry(msg)

