"""A `set` takes effect the moment it fires, as a user changing a field expects: what is
already there (a breaker's state, waiting messages, armed timers, cached answers, rows
written) follows the new value, not only what comes after."""

from __future__ import annotations

import json

import pytest
from conftest import topology

from playground.engine import events as ev
from playground.spec.model import Topology


def _set(at: float, node: str, **fields: object) -> dict[str, object]:
    return {"at": at, "action": "set", "node": node, **fields}


# --- circuit breakers ------------------------------------------------------------------------

def test_a_breaker_given_lower_thresholds_opens_at_once_on_the_calls_it_has_seen(sim):
    run = sim(topology({
        "p": {"kind": "producer", "rate": 10, "pattern": "constant", "to": "gw"},
        "gw": {"kind": "gateway", "to": "f", "breaker": {"min_calls": 1000}},
        "f": {"kind": "function", "duration": "10ms", "errors": 1},
    }, scenario=[_set(5, "gw", breaker={"min_calls": 5, "window": 10}),
                 _set(8, "gw", breaker=None)]))
    changes = [(e.t, e.state) for e in run.of(ev.BreakerChanged, node="gw")]
    assert changes == [(5.0, "open")]  # its last 10 calls all failed: no need to wait
    cut_off = [e.t for e in run.of(ev.ShortCircuited, node="gw")]
    assert cut_off and min(cut_off) >= 5 and max(cut_off) < 8
    # removed: every call reaches the function again, and the report has no breaker
    assert next(e.t for e in run.of(ev.InvocationStarted, node="f") if e.t >= 5) == 8.0
    assert "breaker_state" not in run.node("gw")


def test_a_breaker_removed_while_open_says_nothing_more(sim):
    run = sim(topology({
        "p": {"kind": "producer", "rate": 10, "pattern": "constant", "to": "f"},
        "f": {"kind": "function", "duration": "10ms", "to": "g",
              "breaker": {"min_calls": 5, "window": 10, "open_for": "2s"}},
        "g": {"kind": "function", "duration": "10ms", "errors": 1},
    }, duration=10, scenario=[_set(1, "f", breaker=None)]))
    changes = [(round(e.t, 6), e.state) for e in run.of(ev.BreakerChanged, node="f")]
    assert changes == [(0.42, "open")]  # not half_open at 2.42: it is gone


def test_an_open_breaker_stays_open_but_follows_its_new_cooldown(sim):
    run = sim(topology({
        "p": {"kind": "producer", "rate": 10, "pattern": "constant", "to": "f"},
        "f": {"kind": "function", "duration": "10ms", "to": "g",
              "breaker": {"min_calls": 5, "window": 10, "open_for": "1h"}},
        "g": {"kind": "function", "duration": "10ms", "errors": 1},
    }, scenario=[_set(5, "f", breaker={"min_calls": 5, "window": 10, "open_for": "2s"})]))
    changes = [(e.t, e.state) for e in run.of(ev.BreakerChanged, node="f")]
    opened = changes[0]
    assert opened[1] == "open" and opened[0] < 1
    after = [(t, state) for t, state in changes if t >= 5]
    # opened long over 2 s before: the first call after the set is a trial, and it fails
    assert [state for _, state in after[:2]] == ["half_open", "open"]
    assert after[0][0] < 5.2
    assert "closed" not in [state for _, state in changes]
    trials = [e for e in run.of(ev.InvocationStarted, node="g") if e.t >= 5]
    assert trials


# --- producers -------------------------------------------------------------------------------

def test_a_producer_sends_its_new_payload_from_the_set_on_and_keeps_counting(sim):
    run = sim(topology({
        "p": {"kind": "producer", "rate": 1, "pattern": "constant", "to": "s-writer",
              "payload": {"v": "old-{seq}"}},
        "s-writer": {"kind": "function", "duration": "10ms", "to": "s"},
        "s": {"kind": "store"},
    }, duration=8, scenario=[_set(4.5, "p", payload={"v": "new-{seq}", "n": 1})]))
    payloads = [json.loads(p) for (p,) in run.rows("s", "payload")]
    assert payloads == [{"v": f"old-{k}"} for k in range(1, 6)] + \
        [{"v": f"new-{k}", "n": 1} for k in range(6, 9)]


# --- dead-letter queues added by a set ---------------------------------------------------------

# six messages into a queue whose consumer always fails, and a queue `d` that no file
# names as a DLQ: a set makes it one
FAILING_INTO_D = {
    "p": {"kind": "producer", "rate": 2, "pattern": "constant", "limit": 6, "to": "q"},
    "q": {"kind": "queue", "visibility_timeout": "1s", "to": "f"},
    "f": {"kind": "function", "duration": "10ms", "errors": 1},
    "d": {"kind": "queue"},
}


def _dead_letter_times(run) -> list[float]:
    return [e.t for e in run.events if isinstance(e, ev.MessageDeadLettered)]


def test_a_dlq_given_by_a_set_holds_dead_letters_and_the_drain_ends_with_the_last_move(sim):
    make_dlq = _set(0.5, "q", dlq={"queue": "d", "max_receives": 2})
    run = sim(topology(FAILING_INTO_D, duration=3, scenario=[make_dlq]), drain=30)
    assert run.ledger["dead_lettered"] == 6 and run.ledger["pending"] == 0
    assert run.report["sim_seconds"] == max(_dead_letter_times(run)) == 4.5
    assert run.engine.nodes["d"].gauges()["parked"]  # the app's diagram shows it as a DLQ


def test_an_on_failure_given_by_a_set_holds_dead_letters(sim):
    run = sim(topology({
        "p": {"kind": "producer", "rate": 2, "pattern": "constant", "limit": 4, "to": "t"},
        "t": {"kind": "topic", "to": "f"},
        "f": {"kind": "function", "duration": "10ms", "errors": 1, "retries": 0},
        "d": {"kind": "queue"},
    }, duration=2, scenario=[_set(0.25, "f", on_failure="d")]), drain=30)
    # the first failed before the set
    assert (run.ledger["failed"], run.ledger["dead_lettered"]) == (1, 3)
    assert run.ledger["pending"] == 0
    assert _dead_letter_times(run) == [0.51, 1.01, 1.51]
    assert run.report["sim_seconds"] == 2.0  # nothing left to wait for at the duration


def test_a_topic_dlq_given_by_a_set_holds_dead_letters(sim):
    run = sim(topology({
        "p": {"kind": "producer", "rate": 2, "pattern": "constant", "limit": 4, "to": "t"},
        "t": {"kind": "topic", "to": "q", "retries": 0},
        "q": {"kind": "queue", "capacity": 1, "to": "f"},
        "f": {"kind": "function", "duration": "2s", "concurrency": 1, "batch_size": 1},
        "d": {"kind": "queue"},
    }, duration=2, scenario=[_set(0.75, "t", dlq="d")]), drain=30)
    # the first is consumed; the second is refused before the set, the others after it
    assert (run.ledger["delivered"], run.ledger["failed"], run.ledger["dead_lettered"]) \
        == (1, 1, 2)
    assert run.ledger["pending"] == 0
    assert run.report["sim_seconds"] == 2.0  # the consumer's invocation, not the deadline


def test_a_redrive_finds_the_queue_whose_dlq_a_set_made_it(sim):
    run = sim(topology(FAILING_INTO_D, duration=3, scenario=[
        _set(0.5, "q", dlq={"queue": "d", "max_receives": 2}),
        _set(5, "f", errors=0),
        {"at": 5, "action": "redrive", "from": "d", "rate": 100}]), drain=30)
    assert len(run.of(ev.MessageRedriven, target="q")) == 6
    assert run.ledger["delivered"] == 6 and run.ledger["lost"] == 0


# --- functions -------------------------------------------------------------------------------

def test_a_lower_idle_timeout_reclaims_an_instance_idle_longer_at_once(sim):
    run = sim(topology({
        "p": {"kind": "producer", "rate": 0.2, "pattern": "constant", "to": "f"},
        "f": {"kind": "function", "duration": "10ms", "cold_start": "100ms"},
    }, duration=10, scenario=[_set(2, "f", idle_timeout="1s")]))
    # idle since 0.11 s: past the new timeout when it is set; the next one after 1 s idle
    assert [e.t for e in run.of(ev.InstanceReclaimed, node="f")] == [2.0, 6.11]
    assert run.node("f")["cold_starts"] == 2 and run.node("f")["instances"] == 0



@pytest.mark.parametrize(("age", "failed_at"), [("2s", [5.0, 5.0, 5.0, 5.0, 6.0, 7.0]),
                                                  ("1h", [])])
def test_a_new_max_event_age_applies_to_the_events_already_waiting(sim, age, failed_at):
    run = sim(topology({
        "p": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 6, "to": "t"},
        "t": {"kind": "topic", "to": "f"},
        "f": {"kind": "function", "max_event_age": "10s"},
    }, duration=20, scenario=[{"at": 0, "action": "pause", "node": "f"},
                              _set(5, "f", max_event_age=age)]))
    assert [round(e.t, 3) for e in run.of(ev.MessageFailed, node="f")][:6] == failed_at

# --- queues ----------------------------------------------------------------------------------

def test_a_new_retention_applies_to_the_messages_already_waiting(sim):
    run = sim(topology({
        "p": {"kind": "producer", "rate": 1, "pattern": "constant", "to": "q"},
        "q": {"kind": "queue"},
    }, duration=9.5, scenario=[_set(4.5, "q", retention="2s")]))
    # sent at 0 ... 9: those older than 2 s go at once, the others 2 s after they came
    assert [e.t for e in run.of(ev.MessageExpired, node="q")] == \
        [4.5, 4.5, 4.5, 5.0, 6.0, 7.0, 8.0, 9.0]
    assert (run.ledger["expired"], run.ledger["pending"]) == (8, 2)


@pytest.mark.parametrize("fields", [{"batch_window": 0}, {"batch_window": "1s"},
                                    {"batch_size": 2}], ids=str)
def test_a_batch_already_waiting_goes_as_soon_as_the_consumers_new_settings_allow(sim, fields):
    run = sim(topology({
        "p": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 2, "to": "q"},
        "q": {"kind": "queue", "to": "f"},
        "f": {"kind": "function", "duration": "10ms", "batch_size": 10,
              "batch_window": "10s", "to": "s"},
        "s": {"kind": "store"},
    }, duration=20, scenario=[_set(3, "f", **fields)]))
    # waiting since 0 s: a window of 1 s or a batch of 2 is over already
    assert [e.t for e in run.of(ev.MessageReceived, node="q")] == [3.0, 3.0]
    assert len(run.rows("s")) == 2


# --- gateways --------------------------------------------------------------------------------

def _cached_chain(cache: dict[str, str], then: dict[str, str], duration: str = "10ms",
                  latency: str = "0ms") -> Topology:
    return topology({
        "p": {"kind": "producer", "rate": 10, "pattern": "constant", "to": "gw",
              "payload": {"k": "{int:1..3}", "j": "{int:1..3}"}},
        "gw": {"kind": "gateway", "to": "f", "cache": cache, "latency": latency},
        "f": {"kind": "function", "duration": duration, "to": "s"},
        "s": {"kind": "store"},
    }, scenario=[_set(5, "gw", cache=then)])


def test_a_cache_given_a_new_key_starts_empty(sim):
    run = sim(_cached_chain({"ttl": "1h", "key": "k"}, {"ttl": "1h", "key": "j"}))
    after = [json.loads(p) for p, t in run.rows("s", "payload, written_at") if t >= 5]
    # j's values are k's, but an answer cached for k = 1 is no answer for j = 1
    assert sorted(p["j"] for p in after) == [1, 2, 3]


def test_calls_on_their_way_when_the_key_changes_are_cached_by_the_new_key(sim):
    # answers kept for only 100 ms: calls are on their way at the set
    run = sim(_cached_chain({"ttl": "100ms", "key": "k"}, {"ttl": "1h", "key": "j"}, "600ms"))
    answered = [(t, repr(json.loads(p)["j"])) for p, t in run.rows("s", "payload, written_at")]
    hits = [e for e in run.of(ev.CacheHit, node="gw") if e.t >= 5]
    assert hits
    for hit in hits:  # each answer given from the cache is one the target gave for its j
        assert any(5 <= t <= hit.t and j == hit.key for t, j in answered), hit


def test_calls_inside_the_gateways_own_latency_when_the_key_changes_are_cached_by_it(sim):
    # the set comes while calls are still in the gateway's latency, not yet forwarded
    run = sim(_cached_chain({"ttl": "100ms", "key": "k"}, {"ttl": "1h", "key": "j"},
                            latency="600ms"))
    answered = [(t, repr(json.loads(p)["j"])) for p, t in run.rows("s", "payload, written_at")]
    hits = [e for e in run.of(ev.CacheHit, node="gw") if e.t >= 5]
    assert hits
    for hit in hits:
        assert any(5 <= t <= hit.t and j == hit.key for t, j in answered), hit


def test_a_cache_given_a_shorter_ttl_keeps_no_answer_older_than_it(sim):
    run = sim(_cached_chain({"ttl": "1h", "key": "k"}, {"ttl": "1s", "key": "k"}))
    fetched: dict[str, list[float]] = {}  # when each key's answer was cached
    for payload, t in run.rows("s", "payload, written_at"):
        fetched.setdefault(repr(json.loads(payload)["k"]), []).append(t)
    hits = [e for e in run.of(ev.CacheHit, node="gw") if e.t >= 5]
    assert hits
    for hit in hits:
        cached = max(t for t in fetched[hit.key] if t <= hit.t)
        assert hit.t - cached < 1.0, hit


# --- stores ----------------------------------------------------------------------------------

@pytest.mark.parametrize("idempotent", [True, {"key": "order"}], ids=["trace", "key"])
def test_a_store_turned_idempotent_writes_no_trace_it_has_written_before(sim, idempotent):
    # the rows written before come from the recorder (tests/store/test_recorder.py)
    # every invocation writes, then fails: each message is written at each of its 3
    # receives, one second apart, then goes to the DLQ
    run = sim(topology({
        "p": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 14, "to": "q",
              "payload": {"order": "{seq}"}},
        "q": {"kind": "queue", "visibility_timeout": "1s", "to": "f",
              "dlq": {"queue": "d", "max_receives": 3}},
        "f": {"kind": "function", "duration": "10ms", "batch_size": 1, "to": ["s", "g"]},
        "g": {"kind": "function", "duration": "10ms", "errors": 1},
        "s": {"kind": "store"},
        "d": {"kind": "queue"},
    }, duration=20, scenario=[_set(6.5, "s", idempotent=idempotent)]), drain=30)
    rows = run.rows("s", "trace, written_at")
    before = [trace for trace, t in rows if t < 6.5]
    after = [trace for trace, t in rows if t >= 6.5]
    assert set(before) == {f"p-{k}" for k in range(1, 8)}  # sent at 0 ... 6
    assert len(before) == 3 * 5 + 2 + 1  # p-6 and p-7 were written once or twice by then
    # from the set on, one row for each trace not written yet, and none for the others
    assert sorted(after) == sorted(f"p-{k}" for k in range(8, 15))
    assert run.node("s")["deduplicated"] == 3 * 14 - len(rows)


@pytest.mark.parametrize(("steps", "created"), [
    ([{"at": "5s", "action": "set", "node": "p", "limit": 10}], 10),
    # 5 by 2.5 s; no limit from 8 s: one a second from 8 s to 19 s
    ([{"at": "2.5s", "action": "set", "node": "p", "limit": 5},
      {"at": "8s", "action": "set", "node": "p", "limit": None}], 17),
])
def test_a_producer_that_reached_its_limit_sends_again_when_a_set_raises_or_lifts_it(
        sim, steps, created):
    run = sim(topology({
        "p": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 3, "to": "q"},
        "q": {"kind": "queue"},
    }, duration=20, scenario=steps))
    assert run.report["ledger"]["created"] == created
