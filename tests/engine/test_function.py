"""Functions as Lambda documents them: concurrency and throttling, cold starts and
provisioned instances, idle reclaim, timeouts, batches, async retries and on_failure."""

from __future__ import annotations

from conftest import topology

from playground.engine import events as ev


def sync_chain(fn: dict[str, object], rate: float = 10, limit: int | None = None,
               **producer: object) -> dict[str, object]:
    client = {"kind": "producer", "rate": rate, "pattern": "constant", "to": "fn", **producer}
    if limit is not None:
        client["limit"] = limit
    return {"client": client, "fn": {"kind": "function", **fn}}


def test_synchronous_calls_beyond_concurrency_are_throttled_at_once(sim):
    run = sim(topology(sync_chain({"concurrency": 2, "duration": "1s"}, rate=10, limit=10),
                       duration=2))
    # calls at 0.0 and 0.1 take the two instances; the other eight arrive before 1.0
    statuses = run.report["client"]["statuses"]
    assert statuses == {"200": 2, "429": 8}
    assert run.node("fn")["throttled"] == 8
    assert all(e.latency == 0 for e in run.of(ev.ClientAnswered) if e.status == 429)
    assert run.ledger["failed"] == 8 and run.ledger["delivered"] == 2


def test_a_new_instance_pays_a_cold_start_and_a_warm_one_does_not(sim):
    fn = {"concurrency": 1, "duration": "100ms", "cold_start": "1s"}
    run = sim(topology(sync_chain(fn, rate=0.5, limit=3), duration=6))
    latencies = [round(e.latency, 6) for e in run.of(ev.ClientAnswered)]
    assert latencies == [1.1, 0.1, 0.1]
    assert run.node("fn")["cold_starts"] == 1


def test_provisioned_instances_start_warm(sim):
    fn = {"concurrency": 2, "provisioned": 2, "duration": "100ms", "cold_start": "1s"}
    run = sim(topology(sync_chain(fn, rate=0.5, limit=3), duration=6))
    assert [round(e.latency, 6) for e in run.of(ev.ClientAnswered)] == [0.1, 0.1, 0.1]
    assert run.node("fn")["cold_starts"] == 0


def test_an_idle_instance_is_reclaimed_and_the_next_call_is_cold_again(sim):
    fn = {"concurrency": 1, "duration": "100ms", "cold_start": "500ms", "idle_timeout": "5s"}
    run = sim(topology(sync_chain(fn, rate=0.25, limit=3), duration=12))
    # calls at 0, 4 and 8: idle 3.4 s (warm), then 3.9 s... all under 5 s
    assert [round(e.latency, 6) for e in run.of(ev.ClientAnswered)] == [0.6, 0.1, 0.1]
    run = sim(topology(sync_chain(fn, rate=0.1, limit=2), duration=12))
    # calls at 0 and 10: the instance idled from 0.6 and was reclaimed at 5.6
    assert [round(e.latency, 6) for e in run.of(ev.ClientAnswered)] == [0.6, 0.6]
    assert [round(e.t, 6) for e in run.of(ev.InstanceReclaimed)] == [5.6]


def test_a_timeout_fails_the_invocation_but_calls_already_made_stay_done(sim):
    nodes = {
        "client": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 1,
                   "to": "fn"},
        "fn": {"kind": "function", "duration": "1s", "timeout": "1500ms",
               "to": ["first", "second"]},
        "first": {"kind": "store", "latency": "200ms"},
        "second": {"kind": "store", "latency": "1s"},
    }
    run = sim(topology(nodes, duration=5), drain=10)
    answered = run.of(ev.ClientAnswered)
    assert [(e.t, e.status) for e in answered] == [(1.5, 500)]
    assert len(run.rows("first")) == 1  # done at 1.2 s, before the timeout
    # the second write was on its way when the invocation gave up; it lands at 2.2 s
    assert [row[3] for row in run.rows("second")] == [2.2]
    assert run.ledger["lost"] == 0


def test_a_batch_fails_whole_unless_it_reports_partial_failures(sim):
    def nodes(partial: bool) -> dict[str, object]:
        return {
            "client": {"kind": "producer", "rate": 100, "pattern": "constant", "limit": 4,
                       "payload": {"n": "{seq}"}, "to": "q"},
            "q": {"kind": "queue", "visibility_timeout": "10s", "to": "fn"},
            "fn": {"kind": "function", "duration": "50ms", "batch_size": 4,
                   "batch_window": "1s", "partial_batch": partial,
                   "fails_on": {"n": [2]}, "to": "t"},
            "t": {"kind": "store", "latency": "1ms"},
        }

    whole = sim(topology(nodes(False), duration=5))
    finished = whole.of(ev.InvocationFinished)
    assert finished[0].ok is False and len(finished[0].failed) == 4
    assert [row[0] for row in whole.rows("t")] == ["client-1"]  # written before n=2 failed
    partial = sim(topology(nodes(True), duration=5))
    finished = partial.of(ev.InvocationFinished)
    assert finished[0].failed == ("client-2",)
    assert sorted(row[0] for row in partial.rows("t")) == ["client-1", "client-3", "client-4"]
    assert partial.node("q")["depth"] == 1  # only the failed one stays


def test_async_invocations_retry_with_backoff_then_go_to_on_failure(sim):
    nodes = {
        "client": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 1,
                   "to": "events"},
        "events": {"kind": "topic", "to": "fn"},
        "fn": {"kind": "function", "duration": "1s", "errors": 1.0, "retries": 2,
               "backoff": {"base": "10s", "factor": 3, "max": "1h"},
               "on_failure": "failed-events"},
        "failed-events": {"kind": "queue"},
    }
    run = sim(topology(nodes, duration=100))
    started = [(e.t, e.attempt) for e in run.of(ev.InvocationStarted)]
    # fails at 1; retry 1 after 10 s (11, fails 12); retry 2 after 30 s (42, fails 43)
    assert started == [(0.0, 1), (11.0, 2), (42.0, 3)]
    assert [(e.t, e.dlq) for e in run.of(ev.MessageDeadLettered)] == [(43.0, "failed-events")]
    assert run.ledger["dead_lettered"] == 1 and run.ledger["lost"] == 0


def test_an_event_older_than_max_event_age_is_not_tried_again(sim):
    nodes = {
        "client": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 1,
                   "to": "events"},
        "events": {"kind": "topic", "to": "fn"},
        "fn": {"kind": "function", "duration": "1s", "errors": 1.0, "retries": 2,
               "backoff": {"base": "100s"}, "max_event_age": "60s"},
    }
    run = sim(topology(nodes, duration=300))
    assert len(run.of(ev.InvocationStarted)) == 1
    failed = run.of(ev.MessageFailed)
    assert [(e.t, e.reason) for e in failed] == [(101.0, "max_event_age")]
    assert run.ledger["failed"] == 1 and run.ledger["lost"] == 0


def test_an_event_waiting_for_an_instance_goes_to_on_failure_once_older_than_max_event_age(
        sim):
    nodes = {
        "client": {"kind": "producer", "rate": 100, "pattern": "constant", "limit": 3,
                   "to": "events"},
        "events": {"kind": "topic", "to": "fn"},
        "fn": {"kind": "function", "duration": "10s", "timeout": "20s", "concurrency": 1,
               "max_event_age": "2s", "on_failure": "late"},
        "late": {"kind": "queue"},
    }
    run = sim(topology(nodes, duration=5))
    # the first runs for 10 s; the two behind it wait 2 s, not until it ends
    moved = [(round(e.t, 3), e.msg) for e in run.of(ev.MessageDeadLettered, node="fn")]
    assert moved == [(2.01, "client-2"), (2.02, "client-3")]
    assert run.ledger == {**run.ledger, "dead_lettered": 2, "pending": 1, "lost": 0}


def test_an_event_waiting_again_after_a_retry_gives_up_once_at_max_event_age(sim):
    nodes = {
        "events-in": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 1,
                      "payload": {"n": 1}, "to": "events"},
        "work-in": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 1,
                    "payload": {"n": 2}, "to": "work"},
        "events": {"kind": "topic", "to": "fn"},
        "work": {"kind": "queue", "delay": "50ms", "to": "fn"},
        "fn": {"kind": "function", "duration": "100ms", "concurrency": 1, "batch_size": 1,
               "fails_on": {"n": [1]}, "backoff": {"base": 0}, "max_event_age": "150ms"},
    }
    run = sim(topology(nodes, duration=5))
    # the event fails at 0.1 s; the queue's message takes the instance before the retry,
    # so the event waits again, with the deadline of its first wait still set: at 0.15 s
    # it is too old, and gives up once
    failed = [(round(e.t, 3), e.msg, e.reason) for e in run.of(ev.MessageFailed)]
    assert failed == [(0.15, "events-in-1", "max_event_age")]
    assert run.of(ev.NodeFailed) == []
    assert run.ledger == {**run.ledger, "failed": 1, "delivered": 1, "lost": 0}


def test_events_waiting_for_a_paused_function_fail_at_max_event_age_and_the_drain_ends(sim):
    nodes = {
        "client": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 1,
                   "to": "events"},
        "events": {"kind": "topic", "to": "fn"},
        "fn": {"kind": "function", "max_event_age": "60s"},
    }
    scenario = [{"at": "0s", "action": "pause", "node": "fn"}]
    run = sim(topology(nodes, duration=1, scenario=scenario), drain=3600)
    assert [(round(e.t), e.reason) for e in run.of(ev.MessageFailed)] == [(60, "max_event_age")]
    assert run.ledger == {**run.ledger, "failed": 1, "pending": 0, "lost": 0}
    assert run.report["sim_seconds"] < 61


def test_async_events_wait_for_a_free_instance_instead_of_being_refused(sim):
    nodes = {
        "client": {"kind": "producer", "rate": 10, "pattern": "constant", "limit": 10,
                   "to": "events"},
        "events": {"kind": "topic", "to": "fn"},
        "fn": {"kind": "function", "duration": "1s", "concurrency": 1},
    }
    run = sim(topology(nodes, duration=20))
    assert [e.t for e in run.of(ev.InvocationStarted)] == [float(i) for i in range(10)]
    assert run.node("fn")["throttled"] == 0 and run.ledger["delivered"] == 10


def test_a_circuit_breaker_opens_short_circuits_and_closes_again(sim):
    nodes = {
        "client": {"kind": "producer", "rate": 10, "pattern": "constant", "to": "fn"},
        "fn": {"kind": "function", "duration": "10ms", "to": "db",
               "breaker": {"failure_rate": 0.5, "window": 10, "min_calls": 10,
                           "open_for": "5s", "half_open_calls": 2}},
        "db": {"kind": "store", "latency": "5ms"},
    }
    scenario = [{"at": "2s", "action": "outage", "node": "db", "for": "4s"}]
    run = sim(topology(nodes, duration=20, scenario=scenario))
    states = [(round(e.t, 6), e.state) for e in run.of(ev.BreakerChanged)]
    # the last 10 calls: 5 failures from t=2.0 reach the rate at the 2.4 call (+10 ms);
    # after 5 s it lets 2 calls through (the db is back since t=6) and closes
    assert states[:3] == [(2.41, "open"), (7.41, "half_open"), (7.515, "closed")]
    assert run.node("fn")["short_circuited"] > 0
    assert run.ledger["lost"] == 0


def test_an_open_breaker_turns_half_open_when_open_for_ends_even_without_a_call(sim):
    nodes = {
        "client": {"kind": "producer", "rate": 10, "pattern": "constant", "limit": 10,
                   "to": "fn"},
        "fn": {"kind": "function", "duration": "10ms", "to": "db",
               "breaker": {"min_calls": 5, "window": 10, "open_for": "5s"}},
        "db": {"kind": "store"},
    }
    scenario = [{"at": "0s", "action": "outage", "node": "db", "for": "1h"}]
    run = sim(topology(nodes, duration=20, scenario=scenario))
    states = [(round(e.t, 6), e.state) for e in run.of(ev.BreakerChanged)]
    # the 5th failed call (sent at 0.4 s) opens it; the last call comes at 0.9 s
    assert states == [(0.41, "open"), (5.41, "half_open")]
    assert run.node("fn")["breaker_state"] == "half_open"


def test_a_breaker_left_to_its_defaults_opens_at_half_of_100_calls_once_20_were_made(sim):
    def nodes(rate: float) -> dict[str, object]:
        return {
            "client": {"kind": "producer", "rate": rate, "pattern": "constant", "to": "fn"},
            "fn": {"kind": "function", "duration": "10ms", "to": "db", "breaker": {}},
            "db": {"kind": "store", "latency": "5ms"},
        }

    # calls every 0.16 s (so none falls on the instant open_for ends), each reaching the
    # breaker 10 ms in and failing while the db is out (0-5 s): not open before 20 calls
    # (min_calls), so at the 20th (sent at 3.04: 3.05); open 30 s (to 33.05), then the 5
    # calls sent at 33.12 ... 33.76 go through to the db, back since 5 s, and it closes
    # when the 5th succeeds (33.76 + 10 ms + 5 ms)
    scenario = [{"at": 0, "action": "outage", "node": "db", "for": "5s"}]
    early = sim(topology(nodes(6.25), duration=34, scenario=scenario))
    states = [(round(e.t, 6), e.state) for e in early.of(ev.BreakerChanged)]
    assert states == [(3.05, "open"), (33.05, "half_open"), (33.775, "closed")]
    # of the 213 calls (t < 34), those sent at 3.2 ... 32.96 met it open
    assert early.node("fn")["short_circuited"] == 187
    assert len(early.rows("db")) == 213 - 20 - 187
    # 100 calls succeed (0-9.9 s), then all fail: the last 100 calls are half failures at
    # the 50th failure (sent at 14.9; a window of 20 calls would open at the 10th, one
    # counting every call at the 100th)
    scenario = [{"at": "10s", "action": "outage", "node": "db", "for": "1h"}]
    late = sim(topology(nodes(10), duration=16, scenario=scenario))
    states = [(round(e.t, 6), e.state) for e in late.of(ev.BreakerChanged)]
    assert states == [(14.91, "open")]
