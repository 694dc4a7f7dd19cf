"""function: a Lambda-like function whose instances are asyncio tasks.

Work comes three ways: synchronous calls (throttled at once beyond ``concurrency``),
asynchronous events from topics (queued here, retried with backoff, then ``on_failure``),
and batches from the queues it consumes (it offers each queue credits: its free instances).
Each instance runs one invocation at a time in a task of its own: cold start, ``duration``,
then its ``to`` calls in order, all bounded by ``timeout``.
"""

from __future__ import annotations

import asyncio
import itertools
import operator
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from playground.engine import events as ev
from playground.engine.clock import TICK
from playground.engine.deadlines import Deadlines
from playground.engine.limits import Breaker, tuned_breaker
from playground.engine.message import FAILED, Message
from playground.engine.node import Node
from playground.engine.protocol import (
    ACCEPTED,
    BATCH,
    CALL,
    CREDIT,
    EVENT,
    OK,
    SEND,
    THROTTLED,
    WRITE,
    Reply,
    Request,
)
from playground.engine.sampling import sampler
from playground.spec import model as m
from playground.spec.pattern import compile_pattern

if TYPE_CHECKING:
    from playground.engine.runtime import Engine

SYNC, QUEUED, ASYNC = "sync", "queue", "async"
# per message of an invocation, read in C: a comprehension is one more frame (two a message)
_id_of, _attempt_of = operator.attrgetter("id"), operator.attrgetter("attempt")
_waiting = operator.attrgetter("waiting")  # an event's age deadline still matters
_OPS = {"store": WRITE, "queue": SEND, "topic": SEND, "function": CALL}


class _Event:
    """An asynchronous invocation waiting, running or between retries."""

    __slots__ = ("msg", "received_at", "source", "tries", "waiting")

    def __init__(self, msg: Message, received_at: float, source: str) -> None:
        self.msg = msg
        self.received_at = received_at
        self.source = source
        self.tries = 0
        self.waiting = False  # for an instance (in ``events``)


class _Work:
    __slots__ = ("event", "kind", "msgs", "owned", "request", "source", "started")

    def __init__(self, kind: str, msgs: list[Message], source: str,
                 request: Request | None = None, event: _Event | None = None,
                 owned: bool = False) -> None:
        self.kind = kind
        self.msgs = msgs
        self.source = source
        self.request = request
        self.event = event
        self.started = 0.0
        self.owned = owned  # its messages are this invocation's to release (a fan-out copy)


class _Instance:
    __slots__ = ("cold", "cold_start", "cold_until", "current", "deadline", "deadline_timer",
                 "idle_since", "number", "provisioned", "timed_out", "waiter")

    def __init__(self, number: int, cold_start: float, provisioned: bool) -> None:
        self.number = number
        self.cold = not provisioned
        self.cold_start = cold_start
        self.cold_until = 0.0
        self.provisioned = provisioned
        self.waiter: asyncio.Future[_Work | None] | None = None
        self.idle_since = 0.0
        self.current: asyncio.Future[Reply | None] | None = None
        self.deadline = 0.0
        self.deadline_timer: asyncio.TimerHandle | None = None
        self.timed_out = False


class FunctionNode(Node):
    kind = "function"
    spec: m.FunctionSpec

    def __init__(self, engine: Engine, node_id: str, spec: m.FunctionSpec) -> None:
        super().__init__(engine, node_id, spec)
        self.sources = [q for q, n in engine.topology.nodes.items()
                        if isinstance(n, m.QueueSpec) and node_id in n.targets]
        self.fifo_sources = {q for q in self.sources
                             if engine.topology.nodes[q].type == "fifo"}  # type: ignore[union-attr]
        self.offered: dict[str, int] = dict.fromkeys(self.sources, -1)
        # what each queue holds for us as far as we can tell: what we offered it, less the
        # batches it has handed us since. An offer of what a queue holds already changes
        # nothing there, and is not sent (see _offer_credits)
        self.credited: dict[str, int] = dict.fromkeys(self.sources, -1)
        self.busy = 0
        self.idle: list[_Instance] = []
        self.instances: dict[int, _Instance] = {}
        self._numbers = itertools.count(1)
        self.events: deque[_Event] = deque()
        # synchronous calls that found every instance busy, until the end of the instant
        # they came at: an instance whose invocation ends at that instant is free for them
        self._held: deque[Request] = deque()
        self.running: dict[Message, _Event] = {}
        self.retrying: dict[Message, _Event] = {}
        # an event waiting for an instance leaves when it grows too old, not when one comes
        # free (with none coming, it would wait for ever); one waiting for a retry is judged
        # when the retry is due, as Lambda judges an event's age when it sends it
        self._ages = Deadlines(self.clock, self._aged, _waiting, lambda: len(self.events))
        self.paused = False
        self._reaper: asyncio.TimerHandle | None = None
        self.breaker: Breaker | None = None
        self.cold_starts = 0
        self.error_rng = engine.rng(node_id, "errors")
        self.jitter_rng = engine.rng(node_id, "backoff")
        self._compile(spec)

    def _compile(self, spec: m.FunctionSpec) -> None:
        engine = self.engine
        self.duration: Callable[[], float] = sampler(spec.duration,
                                                     engine.rng(self.id, "duration"))
        self.cold_start: Callable[[], float] = sampler(spec.cold_start,
                                                       engine.rng(self.id, "cold_start"))
        self.poison = compile_pattern(spec.fails_on) if spec.fails_on else None
        self.targets = spec.targets
        self.ops = [_OPS[engine.topology.nodes[t].kind] for t in self.targets]
        self.forks = _fork_suffixes(self.targets)
        self.breaker = tuned_breaker(spec.breaker, self.breaker, self._breaker_changed,
                                     self.clock)

    def _breaker_changed(self, state: str, rate: float) -> None:
        self.emit(ev.BreakerChanged.new(self.clock.loop.now, self.id, state, rate))

    def start(self) -> None:
        super().start()
        for _ in range(self.spec.provisioned):
            inst = self._new_instance(provisioned=True)
            waiter = self._go_idle(inst)
            self.engine.spawn(self._serve(inst, None, waiter), f"{self.id}#{inst.number}")
        # the first credits go out once every node has started: a queue written after its
        # consumer in the file is not listening yet, and would never hear of them
        self.clock.soon(self._offer_credits)

    # --- taking work -----------------------------------------------------------------------

    @property
    def free(self) -> int:
        return max(0, self.spec.concurrency - self.busy)

    def on_request(self, request: Request) -> None:
        op = request.op
        now = self.clock.loop.now
        if op == CALL:
            msg = request.msg
            assert msg is not None
            if self.refused_by_fault(request, degraded=False):  # degradation: see _invoke
                pass
            elif self.free == 0:
                # refused only if no instance frees at this instant ("free the moment its
                # invocation ends", whichever comes first of the two at that instant)
                if not self._held:
                    self.clock.late_at(now, self._throttle_held)
                self._held.append(request)
            else:
                self._call(request)
        elif op == EVENT:
            sent = request.msg
            assert sent is not None
            msg = sent.fork(request.fork_id) if request.fork_id else sent.clone()
            event = _Event(msg, now, request.sender)
            self._wait(event)
            self.to.MessageAccepted(ev.MessageAccepted.new(now, self.id, msg.id, msg.trace,
                                                           request.sender))
            self.reply(request, ACCEPTED)
            self._pump()
        elif op == BATCH:
            batch = request.batch or []
            if request.sender in self.credited:
                self.credited[request.sender] -= 1
            if self.free == 0 or self.paused:
                for msg in batch:
                    self.emit(ev.MessageThrottled.new(now, self.id, msg.id, msg.trace,
                                                      "concurrency"))
                self.reply(request, THROTTLED, "concurrency limit",
                           results=[False] * len(batch))
                # the queue spent a credit we did not have: tell it again what we have
                if request.sender in self.offered:
                    self.offered[request.sender] = self.credited[request.sender] = -1
                    self._offer_credits()
            else:
                self._start(_Work(QUEUED, batch, request.sender, request=request))

    def _call(self, request: Request) -> None:
        msg = request.msg
        assert msg is not None
        if request.fork_id:  # one more target of a fan-out: its copy starts here
            self._start(_Work(SYNC, [msg.fork(request.fork_id)], request.sender,
                              request=request, owned=True))
        else:
            self._start(_Work(SYNC, [msg], request.sender, request=request))

    def _throttle_held(self) -> None:
        now = self.clock.loop.now
        while self._held:
            request = self._held.popleft()
            msg = request.msg
            assert msg is not None
            self.emit(ev.MessageThrottled.new(now, self.id, request.fork_id or msg.id,
                                              msg.trace, "concurrency"))
            self.reply(request, THROTTLED, "concurrency limit")

    def _pump(self) -> None:
        """Start held synchronous calls, then waiting asynchronous events, while there are
        free instances."""
        while self._held and self.free > 0:
            self._call(self._held.popleft())
        while self.events and self.free > 0 and not self.paused:
            event = self.events.popleft()
            event.waiting = False
            if self._too_old(event):
                continue
            self.running[event.msg] = event
            self._start(_Work(ASYNC, [event.msg], event.source, event=event))
        self._offer_credits()

    def _offer_credits(self) -> None:
        for queue in self.sources:
            # read again for each queue: an offer can be taken at once (in-process delivery
            # is synchronous), and the next queue must not be offered an instance now busy
            free = 0 if self.paused or self.events else max(0, self.spec.concurrency
                                                             - self.busy)
            if self.offered[queue] != free:
                self.offered[queue] = free
                # A queue that holds this many credits for us already is told only when it
                # is not our only queue: the offer makes it hand over at once what it can,
                # before the next queue is offered the instances left. Our only queue does
                # that by itself: it offered the batch that brought us here, and goes on
                # offering until it has no message or credit left (one credit a message less)
                if self.credited[queue] != free or len(self.sources) > 1:
                    self.credited[queue] = free
                    self.notify(queue, Request(CREDIT, 0, "", self.id, credit=free))

    # --- instances -------------------------------------------------------------------------

    def _new_instance(self, provisioned: bool) -> _Instance:
        cold = 0.0 if provisioned else self.cold_start()
        inst = _Instance(next(self._numbers), cold, provisioned)
        self.instances[inst.number] = inst
        if not provisioned:
            self.cold_starts += 1
            self.emit(ev.InstanceStarted.new(self.clock.loop.now, self.id, cold))
        return inst

    def _start(self, work: _Work) -> None:
        self.busy += 1
        if self.idle:
            inst = self.idle.pop()  # the most recently used: the others get reclaimed first
            waiter = inst.waiter
            assert waiter is not None
            inst.waiter = None
            waiter.set_result(work)
        else:
            inst = self._new_instance(provisioned=False)
            self.engine.spawn(self._serve(inst, work, None), f"{self.id}#{inst.number}")
        self._offer_credits()

    def _go_idle(self, inst: _Instance) -> asyncio.Future[_Work | None]:
        waiter: asyncio.Future[_Work | None] = self.clock.loop.create_future()
        inst.waiter = waiter
        inst.idle_since = self.clock.loop.now
        self.idle.append(inst)
        if not inst.provisioned and self._reaper is None:
            self._arm_reaper()
        return waiter

    def _arm_reaper(self) -> None:
        """One timer for the instance idle longest (the idle list is most recent last), not
        one per idle period: reusing a warm instance then costs no timer at all."""
        for inst in self.idle:
            if not inst.provisioned:
                due = inst.idle_since + self.spec.idle_timeout
                self._reaper = self.clock.late_at(due, self._reap)
                return
        self._reaper = None

    def _reap(self) -> None:
        now = self.clock.loop.now
        timeout = self.spec.idle_timeout
        keep: list[_Instance] = []
        for inst in self.idle:
            if not inst.provisioned and self.clock.reached(inst.idle_since + timeout):
                self.instances.pop(inst.number, None)
                self.emit(ev.InstanceReclaimed.new(now, self.id))
                if inst.waiter is not None and not inst.waiter.done():
                    inst.waiter.set_result(None)
            else:
                keep.append(inst)
        self.idle = keep
        self._arm_reaper()

    async def _serve(self, inst: _Instance, work: _Work | None,
                     waiter: asyncio.Future[_Work | None] | None) -> None:
        """An instance's task: invocations one after another, then idle until reclaimed."""
        if work is None:
            assert waiter is not None
            work = await waiter
        while work is not None:
            work.started = self.clock.loop.now
            try:
                results, reason = await self._invoke(inst, work)
            except Exception as error:  # the node's own code crashed: count it as a failure
                self.emit(ev.NodeFailed.new(self.clock.loop.now, self.id, repr(error)))
                results, reason = [False] * len(work.msgs), f"crashed: {error!r}"
            self.busy -= 1
            # idle before answering: an answer can bring new work, and a warm instance
            # must take it rather than a new one
            waiter = self._go_idle(inst)
            try:
                self._finish(work, results, reason)
            except Exception as error:  # its bookkeeping crashed: report it, and the
                # instance serves on (a dead one left idle would swallow the work it is given)
                self.emit(ev.NodeFailed.new(self.clock.loop.now, self.id, repr(error)))
            self._pump()
            work = await waiter

    # --- one invocation --------------------------------------------------------------------

    async def _invoke(self, inst: _Instance, work: _Work) -> tuple[list[bool], str]:
        loop = self.clock.loop
        start = loop.now
        msgs = work.msgs
        count = len(msgs)
        request = work.request
        if work.kind == SYNC and request is not None and request.attempt > 0:
            # called inside another invocation: this is part of that one's attempt
            for msg in msgs:
                msg.attempt = request.attempt
        else:
            for msg in msgs:
                msg.attempt += 1
        attempts = list(map(_attempt_of, msgs))
        cold = inst.cold_start if inst.cold else 0.0
        inst.cold = False
        inst.cold_until = start + cold
        self.to.InvocationStarted(ev.InvocationStarted.new(start, self.id, tuple(map(_id_of, msgs)),
                                                           msgs[0].trace, attempts[0], cold > 0,
                                                           work.source))
        # the fault checks' own first tests, inline (no fault is the rule): so below
        if start < self.outage_until:
            return [False] * count, "outage"
        spec = self.spec
        deadline = start + spec.timeout
        run = self.duration()
        if self.degrade_slow != 1.0:
            run *= self.slow()
        run += cold
        if run > spec.timeout:
            await self.clock.sleep(spec.timeout)
            return [False] * count, "timeout"
        if run > 0:
            await self.clock.sleep(run)
        if (spec.errors > 0 and self.error_rng.random() < spec.errors) \
                or (self.degrade_errors > 0 and self.degraded_failure()):
            return [False] * count, "error"
        poison = self.poison
        results = [True] * count
        if not self.targets:
            if poison is not None:
                results = [not poison(msg.payload) for msg in msgs]
                if not all(results) and not spec.partial_batch:
                    return [False] * count, "poison message"
            return results, "" if all(results) else "poison message"
        inst.timed_out = False
        inst.deadline = deadline
        reason = ""
        try:
            failed_groups: set[str | None] = set()
            fifo = work.kind == QUEUED and work.source in self.fifo_sources
            for index, msg in enumerate(msgs):
                if fifo and msg.group in failed_groups:
                    results[index] = False  # keep the group's order: later ones wait
                    continue
                if poison is not None and poison(msg.payload):
                    ok, why = False, "poison message"
                else:
                    ok, why = await self._chain(inst, msg, attempts[index])
                if inst.timed_out:
                    return [False] * count, "timeout"
                if not ok:
                    results[index] = False
                    reason = why
                    if not spec.partial_batch:
                        return [False] * count, why
                    if fifo:
                        failed_groups.add(msg.group)
        finally:
            if inst.deadline_timer is not None:
                inst.deadline_timer.cancel()
                inst.deadline_timer = None
        return results, reason

    async def _chain(self, inst: _Instance, msg: Message, attempt: int) -> tuple[bool, str]:
        """The ``to`` calls for one message, in order; stops at the first failure."""
        loop = self.clock.loop
        breaker = self.breaker
        forks = self.forks
        for index, target in enumerate(self.targets):
            now = loop.now
            # beyond the first target, the copy that target makes: events name it already
            fork = None if index == 0 else msg.id + forks[index]
            if breaker is not None and not breaker.allow(now):
                self.emit(ev.ShortCircuited.new(now, self.id, fork or msg.id, msg.trace, target))
                return False, "circuit open"
            future: asyncio.Future[Reply | None] = loop.create_future()
            inst.current = future
            self.to.MessageSent(ev.MessageSent.new(now, self.id, fork or msg.id, msg.trace, target,
                                                   attempt))
            corr = self.request(target, Request(self.ops[index], 0, "", "", msg, fork_id=fork,
                                                attempt=attempt), _settle, future)
            if not future.done() and inst.deadline_timer is None:
                # the timeout needs a timer only once the invocation really waits
                inst.deadline_timer = self.clock.late_at(inst.deadline, _deadline, inst)
            reply = await future
            inst.current = None
            if reply is None:  # the invocation's timeout
                self.cancel(corr)
                if breaker is not None:
                    breaker.record(False, loop.now)
                return False, "timeout"
            if breaker is not None:
                breaker.record(reply.ok, loop.now)
            if not reply.ok:
                return False, f"{target}: {reply.status} {reply.reason}".strip()
        return True, ""

    def _finish(self, work: _Work, results: list[bool], reason: str) -> None:
        now = self.clock.loop.now
        msgs = work.msgs
        ok_all = all(results)
        if ok_all and len(results) == len(msgs):
            failed: tuple[str, ...] = ()  # the rule: no generator to find none
        else:
            failed = tuple(msg.id for msg, ok in zip(msgs, results, strict=True) if not ok)
        self.to.InvocationFinished(ev.InvocationFinished.new(now, self.id, tuple(map(_id_of, msgs)),
                                                             msgs[0].trace, ok_all,
                                                             now - work.started, reason, failed))
        if not self.targets:
            for msg, ok in zip(msgs, results, strict=True):
                if ok:
                    self._deliver(msg, now)
        if work.kind == SYNC:
            assert work.request is not None
            self.reply(work.request, OK if ok_all else 500, reason)
            if work.owned:
                for msg in msgs:
                    msg.release(None if ok_all else FAILED)
        elif work.kind == QUEUED:
            request = work.request
            assert request is not None
            self.broker.publish(request.reply_to,  # reply, inline (see the queue's _accept)
                                Reply(request.corr, OK, reason, results=results))
        else:
            event = work.event
            assert event is not None
            event.tries += 1
            self.running.pop(event.msg, None)
            if ok_all:
                event.msg.release()
            else:
                self._event_failed(event, reason, now)

    def _deliver(self, msg: Message, now: float) -> None:
        if msg.copy.deliver():
            self.to.MessageDelivered(ev.MessageDelivered.new(now, self.id, msg.id, msg.trace,
                                                             now - msg.created))

    # --- asynchronous retries ------------------------------------------------------------------

    def _too_old(self, event: _Event) -> bool:
        now = self.clock.loop.now
        if now - event.received_at <= self.spec.max_event_age:
            return False
        self._give_up(event, "max_event_age", now)
        return True

    def _wait(self, event: _Event) -> None:
        event.waiting = True
        self.events.append(event)
        self._ages.add(event.received_at + self.spec.max_event_age + TICK, event)

    def _aged(self, event: _Event) -> None:
        if not event.waiting:
            # its deadline was set twice (it waited, ran, failed and waits again): the
            # other one came at the same instant and it is gone already
            return
        now = self.clock.loop.now
        if now - event.received_at <= self.spec.max_event_age:  # a `set` made it longer
            self._ages.add(max(now, event.received_at + self.spec.max_event_age) + TICK, event)
            return
        event.waiting = False
        self.events.remove(event)  # mostly at the front: the oldest go first
        self._give_up(event, "max_event_age", now)

    def _event_failed(self, event: _Event, reason: str, now: float) -> None:
        spec = self.spec
        if event.tries > spec.retries:
            self._give_up(event, f"{reason} after {event.tries} attempts", now)
            return
        backoff = spec.backoff
        delay = backoff.delay(event.tries)
        if backoff.jitter == "full":
            delay = self.jitter_rng.uniform(0, delay)
        msg = event.msg
        self.retrying[msg] = event
        self.emit(ev.MessageRetried.new(now, self.id, msg.id, msg.trace, event.tries, delay,
                                        reason))
        self.clock.later(delay, self._retry, event)

    def _retry(self, event: _Event) -> None:
        if self.retrying.pop(event.msg, None) is None:
            return
        if not self._too_old(event):
            self._wait(event)
            self._pump()

    def _give_up(self, event: _Event, reason: str, now: float) -> None:
        msg = event.msg
        target = self.spec.on_failure
        if target is None:
            self.emit(ev.MessageFailed.new(now, self.id, msg.id, msg.trace, reason))
            msg.release(FAILED)
            return
        self.running[msg] = event
        self.request(target, Request(SEND, 0, "", "", msg), self._given_up, (event, reason))

    def _given_up(self, reply: Reply, context: tuple[_Event, str]) -> None:
        if not reply.final:
            return
        event, reason = context
        msg = event.msg
        self.running.pop(msg, None)
        now = self.clock.loop.now
        if reply.ok:
            assert self.spec.on_failure is not None
            self.emit(ev.MessageDeadLettered.new(now, self.id, msg.id, msg.trace,
                                                 self.spec.on_failure, reason))
            msg.release()
        else:
            self.emit(ev.MessageFailed.new(now, self.id, msg.id, msg.trace,
                                           f"{reason}; on_failure refused it"))
            msg.release(FAILED)

    # --- controls and the engine's view ----------------------------------------------------------

    def pause(self) -> None:
        self.paused = True
        self._offer_credits()

    def resume(self) -> None:
        self.paused = False
        self._pump()

    def apply(self, spec: m.NodeSpec) -> None:
        assert isinstance(spec, m.FunctionSpec)
        old = self.spec
        super().apply(spec)
        self._compile(spec)
        if spec.idle_timeout != old.idle_timeout:
            self._rearm_reaper()
        if spec.max_event_age < old.max_event_age:
            # the deadlines were set for the old age; a longer one is seen when they come
            for event in self.events:
                self._ages.add(event.received_at + spec.max_event_age + TICK, event)
        if (spec.batch_size, spec.batch_window) != (old.batch_size, old.batch_window):
            # a queue holding a batch back (its window, its size) decides again when it
            # hears from its consumer: offer the credits again, even if unchanged
            self.offered = dict.fromkeys(self.sources, -1)
            self.credited = dict.fromkeys(self.sources, -1)
        self._pump()

    def _rearm_reaper(self) -> None:
        """The reaper's timer was set for the old idle timeout: instances idle longer than
        the new one go now, and the timer is set again for the next."""
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        self._reap()

    def holdings(self) -> Iterable[Message]:
        yield from (event.msg for event in self.events)
        yield from self.running
        yield from self.retrying

    def gauges(self) -> dict[str, Any]:
        now = self.clock.loop.now
        cold = sum(1 for inst in self.instances.values()
                   if inst.cold_until > now and inst not in self.idle)
        return {"busy": self.busy, "idle": len(self.idle), "instances": len(self.instances),
                "cold_starting": cold, "concurrency": self.spec.concurrency,
                "events_waiting": len(self.events), "retrying": len(self.retrying),
                "paused": self.paused, "cold_starts": self.cold_starts,
                "breaker": self.breaker.state if self.breaker else None}


def _fork_suffixes(targets: list[str]) -> list[str]:
    """What each target beyond the first adds to a message's id for its copy: ``>target``,
    then ``>target#2``... for a target named again (as a topic names its copies)."""
    seen: dict[str, int] = {}
    suffixes = [""]
    for target in targets[1:]:
        nth = seen[target] = seen.get(target, 0) + 1
        suffixes.append(f">{target}" if nth == 1 else f">{target}#{nth}")
    return suffixes


def _settle(reply: Reply, future: asyncio.Future[Reply | None]) -> None:
    if reply.final and not future.done():
        future.set_result(reply)


def _deadline(inst: _Instance) -> None:
    inst.timed_out = True
    current = inst.current
    if current is not None and not current.done():
        current.set_result(None)
