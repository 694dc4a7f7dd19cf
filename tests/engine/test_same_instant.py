"""What happens at one instant happens in a stated order: a scenario's steps as the file
lists them, what ends at that instant before what arrives at it, and the run's end after
both."""

from __future__ import annotations

import pytest
from conftest import topology


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
