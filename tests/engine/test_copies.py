"""Fan-out copies as the ledger counts them: a copy for each target beyond the first, whatever
kind the target is, made when that target accepts it; and the attempt a synchronous chain
writes."""

from __future__ import annotations

import pytest
from conftest import topology

from playground.engine import events as ev


def producer(to: str, **fields: object) -> dict[str, object]:
    return {"kind": "producer", "rate": 2, "pattern": "constant", "to": to, **fields}


def test_a_function_sending_to_a_queue_and_a_store_counts_both_copies(sim):
    run = sim(topology({"client": producer("work"),
                        "work": {"kind": "function", "to": ["backlog", "table"]},
                        "backlog": {"kind": "queue"}, "table": {"kind": "store"}},
                       duration=1))
    assert run.node("backlog")["depth"] == 2
    assert [row[0] for row in run.rows("table")] == ["client-1>table", "client-2>table"]
    assert run.ledger == {**run.ledger, "created": 4, "delivered": 2, "pending": 2, "lost": 0}


def test_the_ledger_does_not_depend_on_the_order_of_a_functions_targets(sim):
    ledgers = []
    for targets in (["backlog", "table"], ["table", "backlog"]):
        run = sim(topology({"client": producer("work"),
                            "work": {"kind": "function", "to": targets},
                            "backlog": {"kind": "queue"}, "table": {"kind": "store"}},
                           duration=1))
        ledgers.append(run.ledger)
    assert ledgers[0] == ledgers[1]


def test_two_stores_behind_one_function_get_two_copies_and_no_duplicates(sim):
    run = sim(topology({"client": producer("work"),
                        "work": {"kind": "function", "to": ["first", "second"]},
                        "first": {"kind": "store"}, "second": {"kind": "store"}},
                       duration=1))
    assert [row[0] for row in run.rows("first")] == ["client-1", "client-2"]
    assert [row[0] for row in run.rows("second")] == ["client-1>second", "client-2>second"]
    assert run.node("second")["duplicates"] == 0
    assert run.ledger == {**run.ledger, "created": 4, "delivered": 4, "lost": 0}


def test_a_target_named_twice_gets_a_copy_each_time_with_ids_of_their_own(sim):
    run = sim(topology({"client": producer("work"),
                        "work": {"kind": "function", "to": ["table", "out", "out"]},
                        "table": {"kind": "store"}, "out": {"kind": "queue"}},
                       duration=1))
    accepted = [e.msg for e in run.of(ev.MessageAccepted, node="out")]
    assert accepted == ["client-1>out", "client-1>out#2", "client-2>out", "client-2>out#2"]
    assert run.ledger == {**run.ledger, "created": 6, "delivered": 2, "pending": 4, "lost": 0}


@pytest.mark.parametrize("second", ["topic", "function"])
def test_a_topic_or_a_function_called_beyond_the_first_target_gets_its_own_copy(sim, second):
    nodes: dict[str, object] = {
        "client": producer("work"),
        "work": {"kind": "function", "to": ["table", "next"]},
        "table": {"kind": "store"},
        "later": {"kind": "queue"},
    }
    nodes["next"] = ({"kind": "topic", "to": "later"} if second == "topic"
                     else {"kind": "function", "to": "later"})
    run = sim(topology(nodes, duration=1))
    assert run.node("later")["depth"] == 2
    accepted = [e.msg for e in run.of(ev.MessageAccepted, node="later")]
    assert accepted == ["client-1>next", "client-2>next"]
    assert run.ledger == {**run.ledger, "created": 4, "delivered": 2, "pending": 2, "lost": 0}


def test_a_topics_copy_is_created_only_when_its_subscriber_accepts_it(sim):
    run = sim(topology({
        "client": {"kind": "producer", "rate": 10, "pattern": "constant", "limit": 2,
                   "to": "news"},
        "news": {"kind": "topic", "to": ["one", "two"], "retries": 0},
        "one": {"kind": "queue", "capacity": 1},
        "two": {"kind": "queue", "capacity": 1},
    }, duration=1))
    # the first message reaches both queues; the second finds both full: its own copy
    # fails, and the copy for the second queue is never made
    assert [e.msg for e in run.of(ev.MessageAccepted, node="two")] == ["client-1>two"]
    assert run.ledger == {**run.ledger, "created": 3, "failed": 1, "pending": 2, "lost": 0}


def test_functions_called_in_a_chain_write_the_attempt_of_the_first_invocation(sim):
    run = sim(topology({
        "client": {"kind": "producer", "rate": 10, "pattern": "constant", "limit": 1,
                   "to": "api"},
        "api": {"kind": "gateway", "to": "one"},
        "one": {"kind": "function", "to": "two"},
        "two": {"kind": "function", "to": "three"},
        "three": {"kind": "function", "to": "table"},
        "table": {"kind": "store"},
    }, duration=1))
    assert run.rows("table", "id, attempt") == [("client-1", 1)]
    assert [e.attempt for e in run.of(ev.InvocationStarted)] == [1, 1, 1]


def test_a_redelivered_message_writes_its_attempt_through_a_chain(sim):
    run = sim(topology({
        "client": {"kind": "producer", "rate": 10, "pattern": "constant", "limit": 1,
                   "to": "inbox"},
        "inbox": {"kind": "queue", "visibility_timeout": "1s", "to": "slow"},
        "slow": {"kind": "function", "to": ["audit", "write"], "timeout": "5s",
                 "batch_size": 1},
        "audit": {"kind": "store"},
        "write": {"kind": "function", "to": "table", "duration": "1.5s"},
        "table": {"kind": "store"},
    }, duration=4))
    assert run.rows("table", "id, attempt")[:2] == [("client-1>write", 1),
                                                    ("client-1>write", 2)]


def test_a_message_handed_on_asynchronously_counts_its_attempts_afresh(sim):
    # a function sends on to a queue and publishes to a topic: each next consumer's first
    # invocation is attempt 1, and only its own redelivery counts up
    run = sim(topology({
        "client": {"kind": "producer", "rate": 10, "pattern": "constant", "limit": 1,
                   "to": "orders"},
        "orders": {"kind": "queue", "to": "take"},
        "take": {"kind": "function", "to": ["taken", "shipments", "news"]},
        "taken": {"kind": "store"},
        "shipments": {"kind": "queue", "visibility_timeout": "1s", "to": "ship"},
        "ship": {"kind": "function", "duration": "1.5s", "timeout": "5s", "to": "shipped"},
        "shipped": {"kind": "store"},
        "news": {"kind": "topic", "to": ["tell", "later"]},
        "tell": {"kind": "function", "to": "told"},
        "told": {"kind": "store"},
        "later": {"kind": "queue", "to": "tell-later"},
        "tell-later": {"kind": "function", "to": "told-later"},
        "told-later": {"kind": "store"},
    }, duration=4))
    assert run.rows("taken", "id, attempt") == [("client-1", 1)]
    assert run.rows("shipped", "id, attempt")[:2] == [("client-1>shipments", 1),
                                                      ("client-1>shipments", 2)]
    assert run.rows("told", "id, attempt") == [("client-1>news", 1)]
    assert run.rows("told-later", "id, attempt") == [("client-1>news>later", 1)]


def test_a_topics_copy_that_no_subscriber_takes_is_made_in_its_dlq(sim):
    run = sim(topology({
        "client": {"kind": "producer", "rate": 10, "pattern": "constant", "limit": 2,
                   "to": "news"},
        "news": {"kind": "topic", "to": ["one", "two"], "retries": 0, "dlq": "missed"},
        "one": {"kind": "queue"},
        "two": {"kind": "queue", "capacity": 1},
        "missed": {"kind": "queue"},
    }, duration=1))
    assert [e.msg for e in run.of(ev.MessageAccepted, node="missed")] == ["client-2>two"]
    assert [e.msg for e in run.of(ev.MessageDeadLettered, node="news")] == ["client-2>two"]
    assert run.ledger == {**run.ledger, "created": 4, "dead_lettered": 1, "pending": 3,
                          "lost": 0}


def test_events_about_a_fan_out_copy_name_it_even_when_it_is_refused(sim):
    run = sim(topology({
        "client": {"kind": "producer", "rate": 10, "pattern": "constant", "limit": 2,
                   "to": "work"},
        "work": {"kind": "function", "to": ["table", "tiny"]},
        "table": {"kind": "store"},
        "tiny": {"kind": "queue", "capacity": 1},
    }, duration=1))
    sent = [e.msg for e in run.of(ev.MessageSent, node="work", target="tiny")]
    assert sent == ["client-1>tiny", "client-2>tiny"]
    assert [e.msg for e in run.of(ev.MessageRefused, node="tiny")] == ["client-2>tiny"]
    assert run.ledger == {**run.ledger, "created": 3, "pending": 1, "lost": 0}
