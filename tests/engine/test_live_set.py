"""A `set` takes effect the moment it fires, as a user changing a field expects: what is
already there (a breaker's state, waiting messages, armed timers, cached answers, rows
written) follows the new value, not only what comes after."""

from __future__ import annotations

import json

from conftest import topology

from playground.engine import events as ev


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
