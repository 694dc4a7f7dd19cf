"""Producers: arrival patterns, limits, payload templates, client timeouts and retries."""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction

import pytest
from conftest import topology

from playground.engine import events as ev


def to_queue(**producer: object) -> dict[str, object]:
    return {"client": {"kind": "producer", "to": "q", **producer}, "q": {"kind": "queue"}}


def test_a_constant_producer_sends_duration_times_rate_rounded_up_from_t0(sim):
    run = sim(topology(to_queue(rate=3, pattern="constant"), duration=10))
    times = [e.t for e in run.of(ev.MessageCreated)]
    assert len(times) == 30
    assert times[0] == 0.0 and times[-1] < 10
    run = sim(topology(to_queue(rate="7/s", pattern="constant"), duration="1.5s"))
    assert run.ledger["created"] == math.ceil(1.5 * 7)


def test_a_poisson_producer_averages_its_rate_and_starts_after_a_gap(sim):
    run = sim(topology(to_queue(rate=200), duration=100))
    times = [e.t for e in run.of(ev.MessageCreated)]
    assert times[0] > 0
    # 20,000 expected; the standard deviation of a Poisson count is its square root
    assert abs(len(times) - 20_000) < 4 * math.sqrt(20_000)


def test_limit_stops_a_producer(sim):
    run = sim(topology(to_queue(rate=100, limit=7), duration=10))
    assert run.ledger["created"] == 7


def test_payload_templates_fill_numbers_strings_and_keep_other_values(sim):
    payload = {"n": "{seq}", "roll": "{int:1..6}", "pick": "{choice:a,b}", "id": "{uuid}",
               "at": "{now}", "label": "order {seq} of {choice:x,y}", "fixed": 42,
               "tags": ["t1"], "nested": {"k": "{seq}"}, "flag": True}
    run = sim(topology(to_queue(rate=10, pattern="constant", limit=20, payload=payload),
                       duration=5))
    rows = [e for e in run.of(ev.MessageCreated)]
    assert len(rows) == 20
    payloads = [m.payload for m in run.engine.nodes["q"].holdings()]
    assert [p["n"] for p in payloads] == list(range(1, 21))
    assert all(isinstance(p["roll"], int) and 1 <= p["roll"] <= 6 for p in payloads)
    assert {p["roll"] for p in payloads} == set(range(1, 7))
    assert {p["pick"] for p in payloads} == {"a", "b"}
    assert all(re.fullmatch(r"[0-9a-f-]{36}", p["id"]) for p in payloads)
    assert [p["at"] for p in payloads][:3] == [0.0, 0.1, 0.2]
    assert payloads[2]["label"] in ("order 3 of x", "order 3 of y")
    assert payloads[0]["fixed"] == 42 and payloads[0]["tags"] == ["t1"]
    assert payloads[0]["nested"] == {"k": "{seq}"} and payloads[0]["flag"] is True
    json.dumps(payloads)  # every payload is JSON


def test_a_client_timeout_counts_and_retries_with_backoff(sim):
    nodes = {"client": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 1,
                        "timeout": "1s", "retries": 2, "to": "fn"},
             "fn": {"kind": "function", "duration": "3s", "timeout": "10s"}}
    run = sim(topology(nodes, duration=5), drain=30)
    assert run.report["client"]["timeouts"] == 3
    assert run.report["client"]["sent"] == 3
    assert len(run.of(ev.MessageRetried, node="client")) == 2
    # the function finished each attempt after the client had gone: delivered, once
    assert run.ledger["delivered"] == 1 and run.ledger["failed"] == 0
    assert run.ledger["lost"] == 0


def test_client_retries_turn_errors_into_successes_when_the_outage_ends(sim):
    nodes = {"client": {"kind": "producer", "rate": 10, "pattern": "constant", "limit": 10,
                        "retries": 6, "to": "q"},
             "q": {"kind": "queue"}}
    scenario = [{"at": 0, "action": "outage", "node": "q", "for": "2s"}]
    run = sim(topology(nodes, duration=5, scenario=scenario), drain=60)
    assert run.report["client"]["statuses"]["503"] > 0
    assert run.report["client"]["ok"] == 10
    assert run.ledger["pending"] == 10 and run.ledger["failed"] == 0


@pytest.mark.parametrize("rate, duration", [
    ("0.3", "10"),  # 3 exactly: sends at 0, 3.33 and 6.67, and 10 is not before 10
    ("0.7", "10"),  # 7 exactly
    ("2.5", "1"),  # 2.5: 3
    ("33.3", "0.1"),  # 3.33: 4
    ("1.1", "2.2"),  # 2.42: 3
    ("3", "3.3"),  # 9.9: 10
    ("13", "1.1"),  # 14.3: 15
])
def test_a_constant_producer_sends_the_product_rounded_up_for_fractions(sim, rate, duration):
    run = sim(topology(to_queue(rate=float(rate), pattern="constant"),
                       duration=float(duration)))
    # duration x rate, rounded up, with the numbers as written (not as binary floats)
    expected = math.ceil(Fraction(rate) * Fraction(duration))
    times = [e.t for e in run.of(ev.MessageCreated)]
    assert len(times) == run.ledger["created"] == expected
    assert times == pytest.approx([i / float(rate) for i in range(expected)], abs=1e-6)
    assert times[0] == 0.0 and times[-1] < float(duration)
