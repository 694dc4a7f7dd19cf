"""What happens at one instant happens in a stated order: a scenario's steps as the file
lists them, what ends at that instant before what arrives at it, and the run's end after
both."""

from __future__ import annotations

import math

import pytest
from conftest import topology

from playground.engine import events as ev


def test_steps_at_one_instant_fire_in_the_order_the_file_lists_them(sim):
    # the last word at 3 s is errors: 1, so the three messages sent from 3 s to 5 s fail
    run = sim(topology({
        "p": {"kind": "producer", "rate": 1, "pattern": "constant", "to": "q"},
        "q": {"kind": "queue", "to": "f", "visibility_timeout": "100s"},
        "f": {"kind": "function", "batch_size": 1},
    }, scenario=[
        {"at": "6s", "action": "set", "node": "f", "errors": 0},
        {"at": "3s", "action": "set", "node": "f", "errors": 1},
        {"at": "3s", "action": "set", "node": "f", "errors": 0},
        {"at": "3s", "action": "set", "node": "f", "errors": 1},
    ]))
    assert run.report["nodes"]["f"]["failed_invocations"] == 3
    assert run.report["ledger"]["delivered"] == 7


def test_a_redrive_after_the_set_that_made_the_dlq_at_the_same_instant_redrives(sim):
    # `check` reads the steps in file order (the redrive finds parking to be q's DLQ), so
    # must the run: before, the redrive could fire first and fail
    run = sim(topology({
        "p": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 3,
              "to": "parking"},
        "parking": {"kind": "queue"},
        "q": {"kind": "queue", "to": "f"},
        "f": {"kind": "function", "to": "table"},
        "table": {"kind": "store"},
    }, duration=10, scenario=[
        {"at": "5s", "action": "set", "node": "q",
         "dlq": {"queue": "parking", "max_receives": 5}},
        {"at": "5s", "action": "redrive", "from": "parking", "rate": "10/s"},
        {"at": "5s", "action": "set", "node": "f", "errors": 0},
    ]))
    assert run.report["nodes"]["parking"]["redriven"] == 3
    assert run.report["ledger"]["delivered"] == 3


@pytest.mark.parametrize(("rate", "seconds", "concurrency"), [
    (10, 1.0, 10),  # each call lands as the invocation it replaces ends
    (2, 0.5, 1),    # ... and its timer was set before that invocation began
])
def test_a_call_arriving_as_an_instance_frees_is_not_throttled(sim, rate, seconds, concurrency):
    # "An instance is free the moment its invocation ends": never more calls in flight
    # than the concurrency, so no 429
    run = sim(topology({
        "p": {"kind": "producer", "rate": rate, "pattern": "constant", "to": "api"},
        "api": {"kind": "gateway", "to": "f"},
        "f": {"kind": "function", "duration": f"{seconds}s", "concurrency": concurrency,
              "to": "table"},
        "table": {"kind": "store", "latency": "0ms"},
    }, duration=30))
    assert run.report["nodes"]["f"]["throttled"] == 0
    assert run.report["client"]["statuses"] == {"200": run.report["client"]["ok"]}
    # an answer due as the run ends is in the report; those due later are not
    assert run.report["client"]["ok"] == sum(k / rate + seconds <= 30 for k in range(30 * rate))


def test_a_timeout_due_as_the_run_ends_is_in_the_report(sim):
    # sent at 9 s, a 1 s gateway timeout answers 504 at exactly the run's 10 s
    run = sim(topology({
        "p": {"kind": "producer", "rate": 1, "pattern": "constant", "to": "api"},
        "api": {"kind": "gateway", "timeout": "1s", "to": "f"},
        "f": {"kind": "function", "concurrency": 100, "duration": "2s"},
    }, duration=10))
    assert run.report["client"]["errors"] == 10


# --- what ends at an instant comes before a deadline at that instant ---------------------

@pytest.mark.parametrize("rate", [1, 2])
@pytest.mark.parametrize("batch_size", [1, 10])
def test_a_message_deleted_as_its_visibility_timeout_ends_is_not_redelivered(
        sim, rate, batch_size):
    # the invocation takes exactly the visibility timeout: "not deleted by then" is false,
    # whatever else the queue has going on (before, one rate redelivered every message,
    # forever, and the other only the first)
    run = sim(topology({
        "p": {"kind": "producer", "rate": rate, "pattern": "constant", "to": "q"},
        "q": {"kind": "queue", "visibility_timeout": "1s", "to": "f"},
        "f": {"kind": "function", "duration": "1s", "timeout": "5s",
              "batch_size": batch_size, "to": "table"},
        "table": {"kind": "store", "latency": "0ms"},
    }, duration=3), drain=30)
    q = run.report["nodes"]["q"]
    assert (q["redelivered"], run.report["nodes"]["table"]["duplicates"]) == (0, 0)
    assert run.report["ledger"]["delivered"] == 3 * rate


def test_a_message_whose_retention_ends_as_an_instance_frees_expires_unreceived(sim):
    # the last one's retention ends at 4 s, as the instance frees: it is not handed over
    run = sim(topology({
        "p": {"kind": "producer", "rate": 1, "pattern": "constant", "to": "q"},
        "q": {"kind": "queue", "retention": "2s", "to": "f"},
        "f": {"kind": "function", "duration": "2s", "timeout": "5s", "batch_size": 1,
              "concurrency": 1, "to": "table"},
        "table": {"kind": "store", "latency": "0ms"},
    }, duration=3), drain=30)
    received = [e.msg for e in run.events if isinstance(e, ev.MessageReceived)]
    assert received == ["p-1", "p-2"]
    assert [(e.msg, e.t) for e in run.events if isinstance(e, ev.MessageExpired)] == [
        ("p-2", 3.0), ("p-3", 4.0)]  # p-2 in flight, still written: SQS deletes it anyway


@pytest.mark.parametrize("timeouts", [{"api": "1s"}, {"p": "1s", "api": "5s"}])
def test_an_answer_that_comes_as_the_timeout_ends_is_not_a_timeout(sim, timeouts):
    # a gateway's 504 and a client's timeout are for answers "past" the timeout
    nodes = {
        "p": {"kind": "producer", "rate": 1, "pattern": "constant", "to": "api"},
        "api": {"kind": "gateway", "to": "f"},
        "f": {"kind": "function", "duration": "1s", "timeout": "5s"},
    }
    for node, timeout in timeouts.items():
        nodes[node]["timeout"] = timeout
    run = sim(topology(nodes, duration=3), drain=30)
    assert run.report["client"]["statuses"] == {"200": 3}


# --- a call finds the instance that frees at its instant ----------------------------------

@pytest.mark.parametrize("first", ["caller", "direct"])
def test_a_call_from_a_function_finds_the_instance_freed_at_its_instant(sim, first):
    # f1 calls g at 2 s, the instant g's only instance ends the call p2 made at 0 s; the
    # order of the lines in the file decided whether that was a 429
    producers = {
        "caller": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 1,
                   "to": "f1"},
        "direct": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 1,
                   "to": "g"},
    }
    nodes = {first: producers[first], **producers,
             "f1": {"kind": "function", "duration": "2s", "timeout": "10s", "to": "g"},
             "g": {"kind": "function", "duration": "2s", "concurrency": 1}}
    run = sim(topology(nodes, duration=1), drain=30)
    assert run.report["client"]["statuses"] == {"200": 2}
    assert run.report["nodes"]["g"]["throttled"] == 0


def test_a_call_through_a_gateways_latency_finds_the_instance_freed_at_its_instant(sim):
    run = sim(topology({
        "p": {"kind": "producer", "rate": 1, "pattern": "constant", "to": "api"},
        "api": {"kind": "gateway", "latency": "1.5s", "to": "f"},
        "f": {"kind": "function", "duration": "1s", "concurrency": 1},
    }, duration=5), drain=30)
    assert run.report["client"]["statuses"] == {"200": 5}


def test_a_call_that_finds_no_instance_freed_at_its_instant_is_throttled(sim):
    # the instance is busy until 2.5 s: the calls at 1 s and 2 s get 429 at once
    run = sim(topology({
        "p": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 3, "to": "api"},
        "api": {"kind": "gateway", "to": "f"},
        "f": {"kind": "function", "duration": "2.5s", "concurrency": 1},
    }, duration=3), drain=30)
    assert run.report["client"]["statuses"] == {"200": 1, "429": 2}
    assert [e.t for e in run.events if isinstance(e, ev.MessageThrottled)] == [1.0, 2.0]


@pytest.mark.parametrize("rate", [3, 7, 1000])
def test_a_throttle_at_exactly_the_rate_sent_refuses_nothing(sim, rate):
    # 1/3 s is no whole number of microseconds: a gap on the grid can refill a hair under
    # a token, and a third of the requests were refused
    run = sim(topology({
        "p": {"kind": "producer", "rate": rate, "pattern": "constant", "to": "api"},
        "api": {"kind": "gateway", "throttle": {"rate": rate, "burst": 1}, "to": "q"},
        "q": {"kind": "queue"},
    }, duration=30))
    assert run.report["client"]["statuses"] == {"202": 30 * rate}


def test_a_throttle_still_refuses_what_is_sent_above_its_rate(sim):
    # 330 sent in 100 s against 3/s: the bucket's 10, then 3 a second until the last
    # send (at 329 / 3.3 s), get through
    run = sim(topology({
        "p": {"kind": "producer", "rate": 3.3, "pattern": "constant", "to": "api"},
        "api": {"kind": "gateway", "throttle": {"rate": 3, "burst": 10}, "to": "q"},
        "q": {"kind": "queue"},
    }, duration=100))
    accepted = math.floor(10 + 3 * 329 / 3.3)
    assert run.report["client"]["statuses"] == {"202": accepted, "429": 330 - accepted}


def test_an_instance_idle_for_exactly_its_idle_timeout_is_reclaimed_before_a_call(sim):
    # idle from 1 s, reclaimed at 5 s, as the next call comes: a deadline is met before
    # an arrival at its instant, whichever timer was set first
    run = sim(topology({
        "p": {"kind": "producer", "rate": 0.2, "pattern": "constant", "to": "api"},
        "api": {"kind": "gateway", "to": "f"},
        "f": {"kind": "function", "duration": "1s", "idle_timeout": "4s",
              "cold_start": "0s"},
    }, duration=12))
    assert run.report["nodes"]["f"]["cold_starts"] == 3
