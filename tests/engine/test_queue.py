"""Queues as SQS documents them: visibility timeouts, receive counts, DLQs, redrive, FIFO
groups, capacity, delay and retention - with exact timelines on the virtual clock."""

from __future__ import annotations

import json

import pytest
from conftest import topology

from playground.engine import events as ev


def poison_chain(**queue: object) -> dict[str, object]:
    return {
        "client": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 1,
                   "payload": {"kind": "poison"}, "to": "orders"},
        "orders": {"kind": "queue", "visibility_timeout": "10s", "to": "worker", **queue},
        "worker": {"kind": "function", "duration": "1s", "batch_size": 1,
                   "fails_on": {"kind": ["poison"]}},
        "dlq": {"kind": "queue"},
    }


def test_a_poison_message_moves_to_the_dlq_when_its_last_visibility_timeout_ends(sim):
    run = sim(topology(poison_chain(dlq={"queue": "dlq", "max_receives": 3}), duration=100))
    received = run.of(ev.MessageReceived, node="orders")
    assert [(e.t, e.receives) for e in received] == [(0.0, 1), (10.0, 2), (20.0, 3)]
    moved = run.of(ev.MessageDeadLettered)
    # failing at t=21 does not move it: the end of the 3rd receive's timeout (t=30) does
    assert [(e.t, e.node, e.dlq) for e in moved] == [(30.0, "orders", "dlq")]
    assert run.ledger["dead_lettered"] == 1
    assert run.ledger["lost"] == 0
    assert run.node("dlq")["depth"] == 1


def test_without_a_dlq_a_poison_message_is_received_again_forever(sim):
    run = sim(topology(poison_chain(), duration=100), drain=100)
    receives = [e.receives for e in run.of(ev.MessageReceived, node="orders")]
    assert receives == list(range(1, 22))  # at t = 0, 10, ..., 200, and counting
    assert run.ledger["pending"] == 1
    assert run.ledger["dead_lettered"] == 0
    assert run.report["sim_seconds"] == 200.0  # a drain cannot finish it


def test_redrive_brings_a_message_back_as_new_and_it_keeps_its_attempts(sim):
    scenario = [{"at": "40s", "action": "redrive", "from": "dlq", "rate": "1/s",
                 "say": "try again"}]
    run = sim(topology(poison_chain(dlq={"queue": "dlq", "max_receives": 2}), duration=100,
                       scenario=scenario))
    received = run.of(ev.MessageReceived, node="orders")
    assert [(e.t, e.receives) for e in received] == [(0.0, 1), (10.0, 2), (40.0, 1), (50.0, 2)]
    assert [e.t for e in run.of(ev.MessageDeadLettered)] == [20.0, 60.0]
    assert [e.t for e in run.of(ev.MessageRedriven)] == [40.0]
    started = run.of(ev.InvocationStarted, node="worker")
    assert [e.attempt for e in started] == [1, 2, 3, 4]
    fired = run.of(ev.ScenarioStepFired)
    assert [(e.t, e.action, e.say) for e in fired] == [(40.0, "redrive", "try again")]
    assert run.ledger == {**run.ledger, "dead_lettered": 1, "lost": 0}
    # what arrives by a move counts as in: the DLQ took it twice, the queue once more
    assert (run.node("dlq")["in"], run.node("dlq")["out"]) == (2, 1)
    assert run.node("orders")["in"] == 2


def test_a_slow_consumer_with_a_short_visibility_timeout_writes_duplicates(sim):
    nodes = {
        "client": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 5,
                   "to": "jobs"},
        "jobs": {"kind": "queue", "visibility_timeout": "1s", "to": ["plain", "careful"]},
        "plain": {"kind": "function", "duration": "2500ms", "timeout": "5s", "batch_size": 1,
                  "to": "rows"},
        "careful": {"kind": "function", "duration": "2500ms", "timeout": "5s",
                    "batch_size": 1, "to": "deduped"},
        "rows": {"kind": "store", "latency": "10ms"},
        "deduped": {"kind": "store", "latency": "10ms", "idempotent": True},
    }
    run = sim(topology(nodes, duration=5), drain=60)
    plain = run.rows("rows", "id")
    deduped = run.rows("deduped", "id")
    # competing consumers share the queue; every message is redelivered while it runs
    assert len(plain) + len(deduped) > 5
    assert len({r[0] for r in plain} | {r[0] for r in deduped}) == 5
    assert len(deduped) == len({r[0] for r in deduped})
    assert run.ledger["delivered"] == 5
    assert run.ledger["lost"] == 0


def test_a_fifo_queue_keeps_each_groups_order_through_failures_and_retries(sim):
    nodes = {
        "client": {"kind": "producer", "rate": 20, "pattern": "constant", "limit": 300,
                   "payload": {"customer": "{choice:ann,bob,cy}", "n": "{seq}"},
                   "to": "orders"},
        "orders": {"kind": "queue", "type": "fifo", "group_by": "customer",
                   "visibility_timeout": "2s", "to": "worker"},
        "worker": {"kind": "function", "duration": "20ms", "batch_size": 4, "errors": 0.2,
                   "concurrency": 3, "to": "ledger-table"},
        "ledger-table": {"kind": "store", "capacity": 30, "latency": "5ms"},
    }
    run = sim(topology(nodes, duration=15), drain=300)
    assert run.ledger["lost"] == 0
    assert run.ledger["delivered"] == 300
    assert run.node("orders")["redelivered"] > 0  # failures did happen
    rows = [json.loads(payload) for (payload,) in run.rows("ledger-table", "payload")]
    for customer in ("ann", "bob", "cy"):
        seen = [row["n"] for row in rows if row["customer"] == customer]
        first_time = list(dict.fromkeys(seen))
        assert first_time == sorted(first_time), customer
        assert seen == sorted(seen), customer  # duplicates only repeat, never jump back


def test_a_full_queue_rejects_what_does_not_fit(sim):
    nodes = {"client": {"kind": "producer", "rate": 10, "pattern": "constant", "limit": 8,
                        "to": "small"},
             "small": {"kind": "queue", "capacity": 5}}
    run = sim(topology(nodes, duration=5))
    assert run.report["client"]["ok"] == 5
    assert run.report["client"]["statuses"] == {"202": 5, "503": 3}
    assert run.node("small")["depth"] == 5
    assert run.ledger["failed"] == 3 and run.ledger["pending"] == 5 and run.ledger["lost"] == 0


def test_a_blocked_producer_slows_down_to_what_the_consumer_drains(sim):
    nodes = {"client": {"kind": "producer", "rate": 100, "pattern": "constant",
                        "to": "buffer"},
             "buffer": {"kind": "queue", "capacity": 5, "on_full": "block", "to": "slow"},
             "slow": {"kind": "function", "duration": "100ms", "concurrency": 1,
                      "batch_size": 1}}
    run = sim(topology(nodes, duration=20), drain=10)
    made = run.node("client")["created"]
    assert 195 <= made <= 210  # 10/s drained for 20 s (plus what the buffer holds), not 2000
    assert run.node("client")["blocked_seconds"] > 15
    assert run.report["client"]["errors"] == 0
    assert run.ledger["lost"] == 0 and run.ledger["delivered"] == made


def test_delay_holds_each_new_message_back(sim):
    nodes = {"client": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 2,
                        "to": "later"},
             "later": {"kind": "queue", "delay": "5s", "to": "worker"},
             "worker": {"kind": "function", "duration": "100ms"}}
    run = sim(topology(nodes, duration=10))
    assert [e.t for e in run.of(ev.MessageReceived)] == [5.0, 6.0]


def test_retention_drops_old_messages_waiting_or_in_flight(sim):
    nodes = {"client": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 3,
                        "to": "short"},
             "short": {"kind": "queue", "retention": "60s"}}
    run = sim(topology(nodes, duration=100))
    assert [e.t for e in run.of(ev.MessageExpired)] == [60.0, 61.0, 62.0]
    assert run.ledger["expired"] == 3 and run.ledger["lost"] == 0


def test_batch_window_waits_to_fill_a_batch(sim):
    nodes = {"client": {"kind": "producer", "rate": 10, "pattern": "constant", "to": "q"},
             "q": {"kind": "queue", "to": "batcher"},
             "batcher": {"kind": "function", "duration": "10ms", "batch_size": 10,
                         "batch_window": "450ms"}}
    run = sim(topology(nodes, duration=3))
    started = run.of(ev.InvocationStarted, node="batcher")
    assert [len(e.msgs) for e in started][:3] == [5, 5, 5]
    assert [round(e.t, 6) for e in started][:3] == [0.45, 0.95, 1.45]


def test_without_a_window_a_batch_takes_what_is_visible_at_once(sim):
    nodes = {"client": {"kind": "producer", "rate": 10, "pattern": "constant", "to": "q"},
             "q": {"kind": "queue", "to": "batcher"},
             "batcher": {"kind": "function", "duration": "10ms", "batch_size": 10}}
    run = sim(topology(nodes, duration=1))
    assert [len(e.msgs) for e in run.of(ev.InvocationStarted)] == [1] * 10


def test_delayed_messages_are_not_in_the_depth_until_their_delay_ends(sim):
    nodes = {
        "client": {"kind": "producer", "rate": 10, "pattern": "constant", "to": "later"},
        "later": {"kind": "queue", "delay": "5s", "to": "fn"},
        "fn": {"kind": "function", "duration": "50ms", "concurrency": 1, "batch_size": 1},
    }
    early = sim(topology(nodes, duration=1))
    assert early.node("later") == {**early.node("later"), "depth": 0, "max_depth": 0,
                                   "delayed": 10}
    # from t = 5 they come in every 100 ms, and each takes the one instance 50 ms
    late = sim(topology(nodes, duration=1), drain=30)
    assert late.node("later") == {**late.node("later"), "depth": 0, "max_depth": 1,
                                  "delayed": 0}
    assert late.report["sim_seconds"] == 5.95


def test_a_message_moved_to_a_dlq_expires_there_by_its_first_enqueue_time(sim):
    nodes = poison_chain(dlq={"queue": "dlq", "max_receives": 2})
    nodes["dlq"] = {"kind": "queue", "retention": "25s"}
    run = sim(topology(nodes, duration=50))
    # enqueued at 0, received at 0 and 10, moved when the 2nd timeout ends (20); the DLQ
    # keeps its enqueue time: it expires at 0 + 25, not 20 + 25
    assert [e.t for e in run.of(ev.MessageDeadLettered)] == [20.0]
    assert [(e.t, e.node) for e in run.of(ev.MessageExpired)] == [(25.0, "dlq")]
    assert run.ledger == {**run.ledger, "expired": 1, "dead_lettered": 0, "lost": 0}


def test_a_redriven_message_starts_its_retention_again(sim):
    nodes = poison_chain(dlq={"queue": "dlq", "max_receives": 1}, retention="30s")
    scenario = [{"at": "5s", "action": "pause", "node": "worker"},
                {"at": "15s", "action": "redrive", "from": "dlq", "rate": 1}]
    run = sim(topology(nodes, duration=60, scenario=scenario))
    # enqueued at 0, moved at 10, redriven at 15 and left waiting (the worker is paused):
    # it expires at 15 + 30 = 45, not at 0 + 30
    assert [e.t for e in run.of(ev.MessageRedriven)] == [15.0]
    assert [(e.t, e.node) for e in run.of(ev.MessageExpired)] == [(45.0, "orders")]
    assert run.ledger == {**run.ledger, "expired": 1, "lost": 0}


@pytest.mark.parametrize("rate, times", [
    # a bucket of one second of 2/s holds 2: two at once, then one every 1/2 s
    (2, [20.0, 20.0, 20.5, 21.0, 21.5]),
    # one second of 0.5/s is half a message: the bucket holds 1, then one every 2 s
    (0.5, [20.0, 22.0, 24.0, 26.0, 28.0]),
])
def test_a_redrives_bucket_holds_one_second_of_its_rate_and_at_least_one(sim, rate, times):
    nodes = poison_chain(dlq={"queue": "dlq", "max_receives": 1})
    nodes["client"].update(rate=100, limit=5)  # 5 messages, all in the DLQ by t = 10.04
    scenario = [{"at": "15s", "action": "pause", "node": "worker"},
                {"at": "20s", "action": "redrive", "from": "dlq", "rate": rate}]
    run = sim(topology(nodes, duration=30, scenario=scenario))
    assert len(run.of(ev.MessageDeadLettered)) == 5
    assert [round(e.t, 6) for e in run.of(ev.MessageRedriven)] == times
    assert run.node("orders")["depth"] == 5


def test_a_dlq_with_consumers_is_ordinary_work_pending_and_waited_for(sim):
    nodes = poison_chain(dlq={"queue": "dlq", "max_receives": 1})
    nodes["dlq"] = {"kind": "queue", "to": "repair"}
    nodes["repair"] = {"kind": "function", "duration": "1s"}
    # moved at 10 (the end of its one receive's timeout); repair takes it from 10 to 11
    cut = sim(topology(nodes, duration=10.5))
    assert cut.ledger == {**cut.ledger, "pending": 1, "dead_lettered": 0, "lost": 0}
    drained = sim(topology(nodes, duration=10.5), drain=30)
    assert drained.report["sim_seconds"] == 11.0
    assert [(e.t, e.node) for e in drained.of(ev.MessageDelivered)] == [(11.0, "repair")]
    assert drained.ledger == {**drained.ledger, "delivered": 1, "pending": 0,
                              "dead_lettered": 0, "lost": 0}


def test_a_message_the_dlq_refuses_counts_as_redelivered_each_time_it_comes_back(sim):
    # the DLQ is down from 1 s to 6 s: each of the three messages comes back visible after
    # every refused move, as a redelivery; 15 receives, of which 3 were first receives
    run = sim(topology({
        "p": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 3, "to": "q"},
        "q": {"kind": "queue", "to": "f", "visibility_timeout": "1s",
              "dlq": {"queue": "dlq", "max_receives": 2}},
        "dlq": {"kind": "queue"},
        "f": {"kind": "function", "batch_size": 1, "errors": 1},
    }, duration=20, scenario=[{"at": "1s", "action": "outage", "node": "dlq", "for": "5s"}]))
    q = run.report["nodes"]["q"]
    assert (q["received"], q["redelivered"], q["dead_lettered"]) == (15, 12, 3)
    redelivered = [e for e in run.events if isinstance(e, ev.MessageRedelivered)]
    assert len(redelivered) == 12
