"""A node's own code raising: reported, survived, and nothing lost.

Each test makes one method of a node raise (once, or at random with a fixed seed), runs a
small shop on the virtual clock with a drain, and checks what a user would see: a
``NodeFailed`` event naming the node, the node working on afterwards, the messages it held
coming back (a queue's through their visibility timeout), and a ledger that balances with
everything delivered in the end.
"""

from __future__ import annotations

import functools
import inspect
import random
from typing import Any

import pytest

from playground.engine import events as ev
from playground.engine.nodes.function import FunctionNode
from playground.engine.nodes.gateway import GatewayNode
from playground.engine.nodes.producer import ProducerNode
from playground.engine.nodes.queue import QueueNode
from playground.engine.nodes.store import StoreNode
from playground.engine.nodes.topic import TopicNode
from playground.spec.model import Topology

from .checks import Outcome, assert_sound, run_watched

# client -> api -> events -> jobs -> worker -> table, and events -> audit -> table
SHOP = {
    "client": {"kind": "producer", "rate": "10/s", "pattern": "constant", "to": "api",
               "timeout": "2s", "retries": 3},
    "api": {"kind": "gateway", "to": "events"},
    "events": {"kind": "topic", "to": ["jobs", "audit"]},
    "jobs": {"kind": "queue", "to": "worker", "visibility_timeout": "1s",
             "dlq": {"queue": "dlq", "max_receives": 10}},
    "dlq": {"kind": "queue"},
    "worker": {"kind": "function", "concurrency": 2, "batch_size": 2, "duration": "30ms",
               "to": "table"},
    "audit": {"kind": "function", "to": "table", "backoff": {"base": "1s"}},
    "table": {"kind": "store", "latency": "5ms"},
}
MESSAGES = 50  # 5 s at 10/s; the topic makes one more copy of each


class Injected(RuntimeError):
    """The fault these tests put into a node's code."""


def crash(monkeypatch: pytest.MonkeyPatch, cls: type, name: str, *, node: str | None = None,
          calls: set[int] | None = None, chance: float = 0.0) -> list[float]:
    """Makes ``cls.name`` raise on the given calls (1-based, counted for ``node`` only) or at
    random with ``chance``; returns the simulated times at which it raised."""
    original = getattr(cls, name)
    count = [0]
    rng = random.Random(7)
    raised: list[float] = []

    def should(self: Any) -> bool:
        if node is not None and getattr(self, "id", None) != node:
            return False
        count[0] += 1
        if (calls is not None and count[0] in calls) or rng.random() < chance:
            raised.append(self.clock.loop.time())
            return True
        return False

    if inspect.iscoroutinefunction(original):
        @functools.wraps(original)
        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if should(self):
                raise Injected(f"{name} of {self.id}")
            return await original(self, *args, **kwargs)
    else:
        @functools.wraps(original)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            if should(self):
                raise Injected(f"{name} of {self.id}")
            return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, wrapper)
    return raised


def shop(**changes: dict[str, Any]) -> Topology:
    nodes = {node_id: {**spec, **changes.get(node_id, {})} for node_id, spec in SHOP.items()}
    return Topology.model_validate({"version": 1, "name": "shop", "duration": 5,
                                    "nodes": nodes})


def run(topology: Topology) -> Outcome:
    outcome = run_watched(topology, drain=120)
    assert_sound(outcome, topology, failures_expected=True)
    return outcome


def failures(outcome: Outcome) -> list[tuple[float, str]]:
    return [(e.t, e.node) for e in outcome.of(ev.NodeFailed)]


def assert_all_delivered(outcome: Outcome) -> None:
    ledger = outcome.ledger
    assert ledger["lost"] == ledger["pending"] == ledger["dead_lettered"] == 0, ledger
    assert ledger["delivered"] == ledger["created"] == 2 * MESSAGES, ledger


def worked_after(outcome: Outcome, node: str, t: float) -> bool:
    return any(e.ok and e.t > t for e in outcome.of(ev.InvocationFinished, node=node))


# --- a function's own code -------------------------------------------------------------------


def test_a_function_whose_code_raises_is_restarted_and_its_batch_comes_back(monkeypatch):
    raised = crash(monkeypatch, FunctionNode, "_invoke", node="worker", calls={3})
    outcome = run(shop())
    assert failures(outcome) == [(raised[0], "worker")]
    (failed,) = [e for e in outcome.of(ev.InvocationFinished, node="worker") if not e.ok]
    assert failed.reason.startswith("crashed: Injected")
    for msg in failed.msgs:  # hidden for the visibility timeout, then received again
        (back,) = outcome.of(ev.MessageRedelivered, node="jobs", msg=msg)
        assert back.t == pytest.approx(raised[0] + 1.0)
    assert worked_after(outcome, "worker", raised[0])
    assert_all_delivered(outcome)


def test_a_function_whose_code_raises_at_random_loses_nothing(monkeypatch):
    raised = crash(monkeypatch, FunctionNode, "_invoke", node="worker", chance=0.3)
    outcome = run(shop())
    assert len(raised) >= 5
    assert failures(outcome) == [(t, "worker") for t in raised]
    assert len(outcome.of(ev.MessageRedelivered, node="jobs")) >= len(raised)
    assert_all_delivered(outcome)


def test_a_function_whose_bookkeeping_raises_keeps_its_instance(monkeypatch):
    # the answer to the queue is lost with the crash: the batch comes back by its timeout,
    # and the instance (one only) serves on instead of dying idle and swallowing work
    raised = crash(monkeypatch, FunctionNode, "_finish", node="worker", calls={3})
    outcome = run(shop(worker={"concurrency": 1}))
    assert failures(outcome) == [(raised[0], "worker")]
    assert outcome.of(ev.MessageRedelivered, node="jobs")
    assert worked_after(outcome, "worker", raised[0])
    assert outcome.report["nodes"]["worker"]["instances"] == 1
    assert_all_delivered(outcome)


# --- a node crashing on a request: its sender hears of a failure ----------------------------


@pytest.mark.parametrize(("cls", "node"), [
    (GatewayNode, "api"), (TopicNode, "events"), (QueueNode, "jobs"), (FunctionNode, "worker"),
    (StoreNode, "table"),
], ids=["gateway", "topic", "queue", "function", "store"])
def test_a_node_that_crashes_on_a_request_answers_it_with_an_error(monkeypatch, cls, node):
    raised = crash(monkeypatch, cls, "on_request", node=node, calls={5})
    outcome = run(shop())
    assert failures(outcome) == [(raised[0], node)]
    # the sender did not wait for an answer that would never come: the run did not need
    # the client's or the gateway's timeouts, and everything got through in the end
    assert outcome.engine.sim_seconds < 5 + 120
    assert outcome.of(ev.ClientTimedOut) == []
    assert_all_delivered(outcome)


def test_a_queue_that_crashes_handing_over_a_batch_keeps_it(monkeypatch):
    raised = crash(monkeypatch, QueueNode, "_hand_over", node="jobs", calls={2})
    outcome = run(shop())
    assert failures(outcome) == [(raised[0], "jobs")]
    assert worked_after(outcome, "worker", raised[0])
    assert_all_delivered(outcome)


# --- timers and loops ------------------------------------------------------------------------


def test_a_timer_callback_that_raises_is_reported_and_the_write_retried(monkeypatch):
    # the write's completion is a timer: it raised, so the function never heard back,
    # timed out (3 s), and the queue handed the batch over again
    raised = crash(monkeypatch, StoreNode, "_written", node="table", calls={4})
    outcome = run(shop(audit={"to": None}))
    assert failures(outcome) == [(raised[0], "table")]
    (timed_out,) = [e for e in outcome.of(ev.InvocationFinished, node="worker") if not e.ok]
    assert timed_out.reason == "timeout"
    assert outcome.loop_errors == []
    ledger = outcome.ledger
    assert ledger["lost"] == ledger["pending"] == 0, ledger
    assert ledger["delivered"] == ledger["created"], ledger


def test_a_visibility_timer_that_raises_spares_the_other_batches(monkeypatch):
    # two poison messages: every invocation of either fails, so their batches return by the
    # visibility timeout each time; the queue's timer raises on the first return
    raised = crash(monkeypatch, QueueNode, "_visibility_over", node="jobs", calls={1})
    topology = shop(worker={"fails_on": {"id": [3, 4]}, "batch_size": 1},
                    client={"payload": {"id": "{seq}"}},
                    jobs={"dlq": {"queue": "dlq", "max_receives": 3}})
    outcome = run(topology)
    assert failures(outcome) == [(raised[0], "jobs")]
    # the other one still came back, twice, and went to the DLQ at its third timeout
    assert [e.msg for e in outcome.of(ev.MessageRedelivered, node="jobs")] == ["client-4"] * 2
    (dead,) = outcome.of(ev.MessageDeadLettered, node="jobs")
    assert dead.msg == "client-4"
    # the one whose return raised stays in flight: pending, not lost
    ledger = outcome.ledger
    assert (ledger["lost"], ledger["pending"], ledger["dead_lettered"]) == (0, 1, 1), ledger


def test_a_timer_that_raises_does_not_take_the_others_due_with_it(monkeypatch):
    # two clients send one poison message each at t = 0; both batches are due back at 1 s
    raised = crash(monkeypatch, QueueNode, "_visibility_over", node="jobs", calls={1})
    poison = {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 1, "to": "jobs",
              "payload": {"poison": True}}
    topology = Topology.model_validate({"version": 1, "name": "poison", "duration": 1,
                                        "nodes": {
        "one": poison, "two": poison,
        "jobs": {"kind": "queue", "to": "worker", "visibility_timeout": "1s",
                 "dlq": {"queue": "dlq", "max_receives": 2}},
        "dlq": {"kind": "queue"},
        "worker": {"kind": "function", "batch_size": 1, "fails_on": {"poison": [True]}},
    }})
    outcome = run(topology)
    assert failures(outcome) == [(1.0, "jobs")] and raised == [1.0]
    (back,) = outcome.of(ev.MessageRedelivered, node="jobs")
    assert back.t == 1.0  # the other batch came back on time, and went on to the DLQ
    assert [e.msg for e in outcome.of(ev.MessageDeadLettered)] == [back.msg]


def test_a_producer_loop_that_raises_is_restarted(monkeypatch):
    raised = crash(monkeypatch, ProducerNode, "_make", node="client", calls={3})
    outcome = run(shop())
    assert failures(outcome) == [(raised[0], "client")]
    created = [e.t for e in outcome.of(ev.MessageCreated, node="client")]
    assert any(t > raised[0] for t in created)
    assert len(created) >= MESSAGES - 1
    ledger = outcome.ledger
    assert ledger["lost"] == ledger["pending"] == 0 and ledger["delivered"] == ledger["created"]

