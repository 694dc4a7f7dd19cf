"""Topics, gateways and stores: filters and fan-out copies, the two kinds of answer,
throttles, caches, integration timeouts, capacity and idempotency."""

from __future__ import annotations

import json

import pytest
from conftest import topology

from playground.engine import events as ev


def signups(payloads: list[dict[str, object]]) -> dict[str, object]:
    """One producer per payload, each sending it once, into a topic with four filters."""
    nodes: dict[str, object] = {
        f"p{i}": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 1,
                  "payload": payload, "to": "signups"}
        for i, payload in enumerate(payloads)
    }
    nodes.update({
        "signups": {"kind": "topic", "to": [
            {"node": "email", "filter": {"plan": ["pro", "team"]}},
            {"node": "profile", "filter": {"region": [{"prefix": "eu-"}]}},
            {"node": "analytics", "filter": {"age": [{"numeric": [">=", 18, "<", 65]}]}},
            {"node": "referrals", "filter": {"referrer": [{"exists": True}]}},
        ]},
        "email": {"kind": "queue"}, "profile": {"kind": "queue"},
        "analytics": {"kind": "queue"}, "referrals": {"kind": "queue"},
    })
    return nodes


def test_filters_route_by_value_prefix_numeric_and_exists(sim):
    payloads = [
        {"plan": "pro", "region": "us-east", "age": 70},  # email only
        {"plan": "free", "region": "eu-west", "age": 30},  # profile, analytics
        {"plan": "team", "region": "eu-north", "age": "30", "referrer": "x"},
        {"plan": "Pro", "region": "EU-west", "age": 17},  # nothing: case and bounds matter
        {"age": 64.5, "referrer": None},  # analytics, referrals (exists, even if null)
    ]
    run = sim(topology(signups(payloads), duration=2))
    depth = {q: run.node(q)["depth"] for q in ("email", "profile", "analytics", "referrals")}
    assert depth == {"email": 2, "profile": 2, "analytics": 2, "referrals": 2}
    assert run.node("signups")["unmatched"] == 1
    assert run.ledger["unmatched"] == 1 and run.ledger["lost"] == 0


def test_each_matching_subscription_gets_its_own_copy_with_a_derived_id(sim):
    payloads = [{"plan": "pro", "region": "eu-west", "age": 30, "referrer": "x"}]
    run = sim(topology(signups(payloads), duration=2))
    accepted = sorted((e.node, e.msg) for e in run.of(ev.MessageAccepted)
                      if e.node != "signups")
    assert accepted == [("analytics", "p0-1>analytics"), ("email", "p0-1"),
                        ("profile", "p0-1>profile"), ("referrals", "p0-1>referrals")]
    assert {e.trace for e in run.of(ev.MessageAccepted)} == {"p0-1"}
    assert run.ledger["created"] == 4 and run.ledger["pending"] == 4


def test_a_topic_retries_a_refusing_queue_then_uses_its_dlq(sim):
    nodes = {
        "client": {"kind": "producer", "rate": 10, "pattern": "constant", "limit": 3,
                   "to": "news"},
        "news": {"kind": "topic", "to": "tiny", "retries": 2, "dlq": "missed",
                 "backoff": {"base": "1s", "factor": 2, "max": "10s"}},
        "tiny": {"kind": "queue", "capacity": 1},
        "missed": {"kind": "queue"},
    }
    run = sim(topology(nodes, duration=10))
    retried = [(round(e.t, 6), e.attempt) for e in run.of(ev.MessageRetried, node="news")]
    assert retried == [(0.1, 1), (0.2, 1), (1.1, 2), (1.2, 2)]
    assert [round(e.t, 6) for e in run.of(ev.MessageDeadLettered)] == [3.1, 3.2]
    assert run.ledger == {**run.ledger, "created": 3, "pending": 1, "dead_lettered": 2,
                          "lost": 0}


def test_a_gateway_answers_after_the_chain_or_at_enqueue(sim):
    def chain(target: str) -> dict[str, object]:
        return {
            "client": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 3,
                       "to": "api"},
            "api": {"kind": "gateway", "to": target, "latency": "5ms"},
            "q": {"kind": "queue", "to": "fn"},
            "fn": {"kind": "function", "duration": "200ms", "to": "db"},
            "db": {"kind": "store", "latency": "50ms"},
        }

    sync = sim(topology(chain("fn"), duration=3))
    assert [round(e.latency, 6) for e in sync.of(ev.ClientAnswered)] == [0.255] * 3
    assert sync.report["client"]["statuses"] == {"200": 3}
    async_ = sim(topology(chain("q"), duration=3))
    assert [round(e.latency, 6) for e in async_.of(ev.ClientAnswered)] == [0.005] * 3
    assert async_.report["client"]["statuses"] == {"202": 3}


def test_a_gateway_throttle_refuses_what_its_bucket_cannot_pay(sim):
    nodes = {"client": {"kind": "producer", "rate": 100, "pattern": "constant", "limit": 100,
                        "to": "api"},
             "api": {"kind": "gateway", "to": "q", "throttle": {"rate": 10, "burst": 5}},
             "q": {"kind": "queue"}}
    run = sim(topology(nodes, duration=1))
    # 5 from the full bucket, then one every 0.1 s for the second the burst lasts
    assert run.report["client"]["statuses"] == {"202": 14, "429": 86}
    assert run.node("api")["throttled"] == 86


def test_a_gateway_cache_answers_repeated_keys_without_calling_the_function(sim):
    nodes = {"client": {"kind": "producer", "rate": 10, "pattern": "constant", "limit": 20,
                        "payload": {"product": "{choice:a,b}"}, "to": "api"},
             "api": {"kind": "gateway", "to": "fn", "cache": {"ttl": "1h", "key": "product"}},
             "fn": {"kind": "function", "duration": "10ms"}}
    run = sim(topology(nodes, duration=3))
    assert run.node("api")["cache_hits"] == 18
    assert run.node("fn")["invocations"] == 2
    assert run.ledger["delivered"] == 20 and run.ledger["lost"] == 0


def test_a_slow_integration_gets_a_504_while_the_work_goes_on(sim):
    nodes = {"client": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 1,
                        "to": "api"},
             "api": {"kind": "gateway", "to": "fn", "timeout": "1s"},
             "fn": {"kind": "function", "duration": "2s", "timeout": "5s", "to": "db"},
             "db": {"kind": "store"}}
    run = sim(topology(nodes, duration=5))
    assert [(e.t, e.status) for e in run.of(ev.ClientAnswered)] == [(1.0, 504)]
    assert len(run.rows("db")) == 1  # the client gave up; the row still got written
    assert run.ledger["delivered"] == 1 and run.ledger["failed"] == 0


def test_store_capacity_is_a_token_bucket_holding_one_second(sim):
    nodes = {"client": {"kind": "producer", "rate": 100, "pattern": "constant", "limit": 200,
                        "to": "fn"},
             "fn": {"kind": "function", "duration": "1ms", "concurrency": 100, "to": "db"},
             "db": {"kind": "store", "capacity": 50, "latency": "1ms"}}
    run = sim(topology(nodes, duration=2))
    # 50 tokens to start, then 50/s: writes at t < 2 succeed for 50 + ~100 of them
    assert run.node("db")["throttled"] == 200 - run.node("db")["out"]
    assert 145 <= run.node("db")["out"] <= 151
    assert run.report["client"]["statuses"]["500"] == run.node("db")["throttled"]


def test_an_idempotent_store_writes_a_key_once(sim):
    nodes = {"client": {"kind": "producer", "rate": 10, "pattern": "constant", "limit": 6,
                        "payload": {"order": "{choice:o1,o2}"}, "to": "fn"},
             "fn": {"kind": "function", "duration": "1ms", "to": ["by-key", "by-trace"]},
             "by-key": {"kind": "store", "idempotent": {"key": "order"}},
             "by-trace": {"kind": "store", "idempotent": True}}
    run = sim(topology(nodes, duration=1))
    orders = sorted(json.loads(p)["order"] for (p,) in run.rows("by-key", "payload"))
    assert orders == ["o1", "o2"]
    assert len(run.rows("by-trace")) == 6
    assert run.node("by-key")["deduplicated"] == 4


def test_a_store_keyed_on_a_field_refuses_a_payload_without_it_as_dynamodb_does(sim):
    # a third of the orders lack the key field: DynamoDB refuses such an item (400, before
    # taking capacity); they must not all be keyed as one "missing" value and deduplicated
    nodes = {"client": {"kind": "producer", "rate": 10, "pattern": "constant", "limit": 9,
                        "payload": {"order": "{choice:o1,o2,none}"}, "to": "api"},
             "api": {"kind": "gateway", "to": "fn"},
             "fn": {"kind": "function", "duration": "1ms", "to": "db"},
             "db": {"kind": "store", "idempotent": {"key": "sku"}, "capacity": 100}}
    skus = {"client": {**nodes["client"], "payload": {"sku": "{choice:a,b,c}",
                                                      "order": "{seq}"}}}
    keyed = sim(topology({**nodes, **skus}, duration=1))
    assert keyed.node("db")["errors"] == 0 and len(keyed.rows("db")) == 3
    missing = sim(topology(nodes, duration=1))
    refused = missing.of(ev.MessageRefused, node="db")
    assert len(refused) == 9 and {(e.reason, e.status) for e in refused} == {
        ("missing key", 400)}
    assert missing.rows("db") == [] and missing.node("db")["errors"] == 9
    assert missing.node("db")["throttled"] == 0
    # the client hears of it through the function's failure
    assert missing.report["client"]["errors"] == 9
    answers = missing.of(ev.ClientAnswered)
    assert {e.reason for e in answers} == {"db: 400 no 'sku' in the payload"}
    assert missing.ledger["lost"] == 0 and missing.ledger["failed"] == 9


def test_a_topic_without_retries_or_backoff_retries_3_times_at_1_2_4_s_then_gives_up(sim):
    def nodes(**topic: object) -> dict[str, object]:
        return {
            "client": {"kind": "producer", "rate": 10, "pattern": "constant", "limit": 2,
                       "to": "news"},
            "news": {"kind": "topic", "to": "tiny", **topic},
            "tiny": {"kind": "queue", "capacity": 1},
            "missed": {"kind": "queue"},
        }

    # the 2nd message (t=0.1) finds the queue full; defaults: retries 3, backoff 1 s x2:
    # attempts at 0.1, 0.1+1 = 1.1, 1.1+2 = 3.1, 3.1+4 = 7.1, and the 4th refusal ends it
    plain = sim(topology(nodes(), duration=10))
    retried = [(round(e.t, 6), e.attempt, e.delay)
               for e in plain.of(ev.MessageRetried, node="news")]
    assert retried == [(0.1, 1, 1.0), (1.1, 2, 2.0), (3.1, 3, 4.0)]
    assert [round(e.t, 6) for e in plain.of(ev.MessageFailed)] == [7.1]
    assert plain.ledger == {**plain.ledger, "created": 2, "pending": 1, "failed": 1,
                            "lost": 0}
    with_dlq = sim(topology(nodes(dlq="missed"), duration=10))
    moved = [(round(e.t, 6), e.dlq) for e in with_dlq.of(ev.MessageDeadLettered)]
    assert moved == [(7.1, "missed")]
    assert with_dlq.ledger == {**with_dlq.ledger, "dead_lettered": 1, "failed": 0}


def test_filters_route_by_anything_but_absence_mixed_lists_and_exclusive_ranges(sim):
    neutral = {"amount": 50, "env": "test", "user": "u1", "region": "ap-south"}
    payloads = [
        {**neutral, "amount": 100},  # range: its lower bound is included
        {**neutral, "amount": 200},  # nothing: the upper bound is excluded
        {**neutral, "amount": "300"},  # nothing: a string is no number
        {**neutral, "amount": 300},  # big
        {**neutral, "env": "prod"},  # not-test
        {k: v for k, v in neutral.items() if k != "user"},  # anonymous
        {**neutral, "region": "us-east"},  # mixed, by its value
        {**neutral, "region": "eu-west"},  # mixed, by its prefix matcher
        {**neutral, "region": "US-EAST"},  # nothing: exact values are case-sensitive
        neutral,  # nothing
        # nothing: anything-but needs the field to be there, as in EventBridge
        {k: v for k, v in neutral.items() if k != "env"},
    ]
    nodes: dict[str, object] = {
        f"p{i}": {"kind": "producer", "rate": 1, "pattern": "constant", "limit": 1,
                  "payload": payload, "to": "orders"}
        for i, payload in enumerate(payloads)
    }
    subscriptions = {
        "range": {"amount": [{"numeric": [">=", 100, "<", 200]}]},
        "big": {"amount": [{"numeric": [">", 250]}]},
        "not-test": {"env": [{"anything-but": ["test", "dev"]}]},
        "anonymous": {"user": [{"exists": False}]},
        "mixed": {"region": ["us-east", {"prefix": "eu-"}]},
    }
    nodes["orders"] = {"kind": "topic",
                       "to": [{"node": q, "filter": f} for q, f in subscriptions.items()]}
    nodes.update({q: {"kind": "queue"} for q in subscriptions})
    run = sim(topology(nodes, duration=1))
    got = {q: sorted(e.trace for e in run.of(ev.MessageAccepted, node=q))
           for q in subscriptions}
    assert got == {"range": ["p0-1"], "big": ["p3-1"], "not-test": ["p4-1"],
                   "anonymous": ["p5-1"], "mixed": ["p6-1", "p7-1"]}
    unmatched = sorted(e.trace for e in run.of(ev.MessageUnmatched))
    assert unmatched == ["p1-1", "p10-1", "p2-1", "p8-1", "p9-1"]
    assert run.node("orders")["unmatched"] == 5
    assert run.ledger == {**run.ledger, "created": 11, "unmatched": 5, "pending": 6,
                          "lost": 0}


def test_a_rows_written_at_is_its_delivered_time_and_end_to_end_ends_there(sim):
    nodes = {"client": {"kind": "producer", "rate": 20, "pattern": "constant", "limit": 10,
                        "to": "fn"},
             "fn": {"kind": "function", "duration": "10ms", "to": "db"},
             "db": {"kind": "store",
                    "latency": {"dist": "uniform", "min": "1ms", "max": "200ms"}}}
    run = sim(topology(nodes, duration=1), drain=5)
    written = dict(run.rows("db", "id, written_at"))
    delivered = {e.msg: e.t for e in run.of(ev.MessageDelivered, node="db")}
    assert len(written) == 10 and written == delivered
    created = {e.msg: e.t for e in run.of(ev.MessageCreated)}
    ages = [written[m] - created[m] for m in written]
    # 10 ms of work plus a write drawn between 1 and 200 ms: the ages differ
    assert len({round(a, 9) for a in ages}) == 10 and min(ages) > 0.011
    assert run.report["end_to_end"]["max"] == pytest.approx(max(ages))
    assert run.report["end_to_end"]["mean"] == pytest.approx(sum(ages) / len(ages))
