"""What the property tests found, each kept as the smallest topology that showed it."""

from __future__ import annotations

from playground.engine import events as ev
from playground.spec.model import Topology

from .checks import assert_sound, run_watched


def _topology(nodes: dict, **top: object) -> Topology:
    return Topology.model_validate({"version": 1, "name": "found", "duration": 1,
                                    "nodes": nodes, **top})


def test_a_redrive_whose_bucket_refills_below_the_clock_grid_still_moves_on() -> None:
    # 40 refusals park 39 messages in the topic's DLQ. The redrive's bucket (30 tokens,
    # 30/s) empties, and each refill of 1/30 s on the microsecond grid leaves it 0.00001 of
    # a token short: the wait for that (0.3 us) rounded to no wait at all, and the redrive
    # slept again and again at the same instant, for ever.
    topology = _topology({
        "p": {"kind": "producer", "rate": "100/s", "pattern": "constant", "limit": 40,
              "to": "t"},
        "t": {"kind": "topic", "to": "q", "retries": 0, "dlq": "dlq"},
        "q": {"kind": "queue", "capacity": 1},
        "dlq": {"kind": "queue"},
        "elsewhere": {"kind": "queue"},
    }, scenario=[{"at": "1s", "action": "redrive", "from": "dlq", "to": "elsewhere",
                  "rate": "30/s"}])
    outcome = run_watched(topology, drain=10, wall_limit=20)
    assert_sound(outcome, topology)
    moved = outcome.of(ev.MessageRedriven)
    assert len(moved) == 39
    assert moved[-1].t < 3.0  # 30 at once, then 9 more at 30/s
    assert outcome.ledger["pending"] == 40  # in `q` and `elsewhere`, neither consumed


def test_a_consumer_written_before_its_queue_consumes_it() -> None:
    # A function offers its queue its free instances when it starts. Nodes started in the
    # order of the file, so a queue written after its consumer was not listening yet: the
    # offer was lost and the queue never handed anything over (nothing lost, all pending).
    topology = _topology({
        "worker": {"kind": "function", "to": "table"},
        "client": {"kind": "producer", "rate": "5/s", "pattern": "constant", "to": "jobs"},
        "jobs": {"kind": "queue", "to": "worker"},
        "table": {"kind": "store"},
    })
    outcome = run_watched(topology, drain=5)
    assert_sound(outcome, topology)
    assert outcome.ledger["delivered"] == outcome.ledger["created"] == 5
    assert len(outcome.rows["table"]) == 5


def test_a_consumer_of_two_queues_never_offers_an_instance_it_no_longer_has() -> None:
    # A function with one instance offered it to both its queues in turn. The first queue,
    # with a backlog, took it at once, and the second was still offered the instance
    # (counted before the first took it): its messages were handed over, refused (429) and
    # hidden until their visibility timeout, then dead-lettered without ever running, and
    # the two sides' books disagreed from then on (a queue could wait for ever).
    topology = _topology({
        "busy": {"kind": "producer", "rate": "50/s", "pattern": "constant", "to": "first"},
        "late": {"kind": "producer", "rate": "1/s", "pattern": "constant", "limit": 3,
                 "to": "second"},
        "first": {"kind": "queue", "to": "worker"},
        "second": {"kind": "queue", "to": "worker", "visibility_timeout": "1s",
                   "dlq": {"queue": "dlq", "max_receives": 1}},
        "dlq": {"kind": "queue"},
        "worker": {"kind": "function", "concurrency": 1, "batch_size": 1, "duration": "40ms"},
    }, duration=3)
    outcome = run_watched(topology, drain=30)
    assert_sound(outcome, topology)
    assert outcome.of(ev.MessageThrottled) == []
    assert outcome.ledger["delivered"] == outcome.ledger["created"] == 153


def test_a_fan_out_repeated_by_a_retry_makes_the_same_copies_again() -> None:
    # The client gives up after 100 ms and sends again; the function (200 ms) runs twice for
    # each message and sends it to its queue twice. The queue's copy kept its id (as the
    # spec says: derived from the message's and the target's) but was a new copy to the
    # ledger each time: counted as created twice, and delivered twice.
    topology = _topology({
        "client": {"kind": "producer", "rate": "2/s", "pattern": "constant", "limit": 2,
                   "timeout": "100ms", "retries": 1, "to": "work"},
        "work": {"kind": "function", "duration": "200ms", "to": ["table", "audit"]},
        "table": {"kind": "store"},
        "audit": {"kind": "queue", "to": "read"},
        "read": {"kind": "function"},
    })
    outcome = run_watched(topology, drain=10)
    assert_sound(outcome, topology)
    assert outcome.ledger["created"] == 2 * 2  # each message, and its copy for `audit`
    read = outcome.of(ev.InvocationFinished, node="read")
    assert sorted(e.msgs[0] for e in read) == ["client-1>audit"] * 2 + ["client-2>audit"] * 2
    assert sorted(e.msg for e in outcome.of(ev.MessageDelivered, node="read")) == \
        ["client-1>audit", "client-2>audit"]
