"""The transport between engines, without a network: two engines on one virtual clock,
their envelopes passed as JSON a turn later (as the link would, minus the broker). Exact,
fast and hermetic: the ledger of each engine balances, and together they account for every
message, whatever is sent twice or lost on the way."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest

from playground.engine import events as ev
from playground.engine.clock import SimLoop
from playground.engine.runtime import Engine
from playground.mqtt.topics import base_topic, inbox, process_topic
from playground.mqtt.transport import MqttBroker
from playground.spec.model import Topology

Drop = Callable[[str, dict[str, Any]], bool]


class Wire:
    """Transports that reach each other through JSON, a loop turn later."""

    def __init__(self, topology: Topology, *, twice: bool = False,
                 drop: Drop | None = None) -> None:
        self.topology = topology
        self.base = base_topic(topology.name)
        self.twice = twice
        self.drop = drop
        self.ends: dict[str, MqttBroker] = {}  # topic -> the transport that subscribes it
        self.numbers = itertools.count(1)
        self.events: list[ev.Event] = []

    def engine(self, nodes: set[str]) -> Engine:
        origin = f"p{len(self.ends)}"
        transport = MqttBroker(nodes, process_topic(self.base, origin),
                               lambda topic, data: self._send(origin, topic, data),
                               lambda: False)
        engine = Engine(self.topology, broker=transport, only=nodes)
        transport.bind(engine)
        engine.bus.subscribe(self.events.append)
        for topic in [transport.response_topic, *(inbox(self.base, n) for n in nodes)]:
            self.ends[topic] = transport
        return engine

    def _send(self, origin: str, topic: str, data: dict[str, Any]) -> None:
        if self.drop is not None and self.drop(topic, data):
            return
        batch = json.loads(json.dumps({"pg": 1, "o": origin, "b": next(self.numbers),
                                       "e": [data]}))
        loop = asyncio.get_running_loop()
        for _ in range(2 if self.twice else 1):
            loop.call_soon(self.ends[topic].receive_batch, batch, topic)


def run_split(topology: Topology, here: set[str], *, wire: Wire | None = None,
              drain: float = 60.0) -> tuple[dict[str, Any], dict[str, Any], Wire]:
    """Runs ``here`` in one engine and the other nodes in another; the first drains."""
    wire = wire or Wire(topology)
    loop = SimLoop("virtual")

    async def main() -> tuple[dict[str, Any], dict[str, Any]]:
        first = wire.engine(here)
        second = wire.engine(set(topology.nodes) - here)
        duration = topology.duration
        return tuple(await asyncio.gather(first.run(duration, drain),  # type: ignore[return-value]
                                          second.run(duration + drain + 1)))

    try:
        mine, theirs = loop.run_until_complete(main())
    finally:
        loop.close()
    return mine, theirs, wire


def topology(nodes: dict[str, Any], duration: float = 10) -> Topology:
    return Topology.model_validate({"version": 1, "name": "split", "duration": duration,
                                    "nodes": nodes})


CHAIN = {
    "clients": {"kind": "producer", "rate": 20, "pattern": "constant", "to": "api"},
    "api": {"kind": "gateway", "to": "orders"},
    "orders": {"kind": "queue", "to": "save"},
    "save": {"kind": "function", "batch_size": 5, "to": ["db", "news"]},
    "db": {"kind": "store"},
    "news": {"kind": "topic", "to": ["mail", "audit"]},
    "mail": {"kind": "function"},
    "audit": {"kind": "queue"},
}


def balanced(ledger: dict[str, int]) -> bool:
    finals = ("delivered", "failed", "dead_lettered", "expired", "unmatched", "pending",
              "exported")
    return ledger["lost"] == 0 and ledger["created"] == sum(ledger[k] for k in finals)


def test_a_topology_split_in_two_delivers_every_message_and_both_ledgers_balance() -> None:
    mine, theirs, _ = run_split(topology(CHAIN), {"clients", "api"})
    assert mine["ledger"]["created"] == 200 == mine["ledger"]["exported"]
    assert mine["client"]["ok"] == 200
    assert theirs["ledger"]["imported"] == 200
    assert theirs["ledger"]["delivered"] == theirs["ledger"]["created"] - 200  # audit waits
    assert theirs["ledger"]["pending"] == 200  # one copy each in the audit queue
    assert balanced(mine["ledger"]) and balanced(theirs["ledger"])


def test_envelopes_delivered_twice_are_processed_once() -> None:
    here = {"clients", "api", "news", "mail"}  # and back: save -> news, news -> audit
    once, once_theirs, _ = run_split(topology(CHAIN), here)
    wire = Wire(topology(CHAIN), twice=True)
    mine, theirs, wire = run_split(topology(CHAIN), here, wire=wire)
    assert mine["ledger"] == once["ledger"] and theirs["ledger"] == once_theirs["ledger"]
    assert mine["client"]["ok"] == 200 and mine["client"]["errors"] == 0
    assert theirs["nodes"]["db"]["out"] == 200 and theirs["nodes"]["db"]["duplicates"] == 0
    assert theirs["ledger"]["imported"] == 400  # orders, then the copies for audit
    assert mine["ledger"]["imported"] == 200  # save's copies for news
    assert balanced(mine["ledger"]) and balanced(theirs["ledger"])
    assert all(end.duplicates > 0 for end in wire.ends.values())


def test_a_remote_consumer_gets_no_more_batches_than_it_has_free_instances() -> None:
    nodes = {
        "clients": {"kind": "producer", "rate": 200, "pattern": "constant", "to": "jobs"},
        "jobs": {"kind": "queue", "to": "work", "visibility_timeout": "60s"},
        "work": {"kind": "function", "concurrency": 2, "batch_size": 5, "duration": "20ms",
                 "to": "db"},
        "db": {"kind": "store"},
    }
    mine, theirs, _ = run_split(topology(nodes, duration=2), {"clients", "jobs"})
    assert theirs["nodes"]["work"]["throttled"] == 0
    assert mine["nodes"]["jobs"]["redelivered"] == 0
    assert theirs["ledger"]["delivered"] == 400 == mine["ledger"]["exported"]
    assert balanced(mine["ledger"]) and balanced(theirs["ledger"])


def test_redeliveries_across_processes_keep_counting_attempts_and_reach_the_dlq() -> None:
    nodes = {
        "clients": {"kind": "producer", "rate": 1, "limit": 2, "pattern": "constant",
                    "payload": {"n": "{seq}"}, "to": "jobs"},
        "jobs": {"kind": "queue", "to": "work", "visibility_timeout": "2s",
                 "dlq": {"queue": "dead", "max_receives": 3}},
        "dead": {"kind": "queue"},
        "work": {"kind": "function", "batch_size": 1, "fails_on": {"n": [2]}, "to": "db"},
        "db": {"kind": "store"},
    }
    mine, theirs, wire = run_split(topology(nodes, duration=2), {"clients", "jobs", "dead"})
    attempts = [e.attempt for e in wire.events
                if isinstance(e, ev.InvocationStarted) and e.trace == "clients-2"]
    assert attempts == [1, 2, 3]
    assert mine["ledger"]["dead_lettered"] == 1 and mine["ledger"]["exported"] == 1
    assert theirs["ledger"]["delivered"] == 1
    assert theirs["ledger"]["imported"] == 2  # the poison message is one copy, received 3x
    assert balanced(mine["ledger"]) and balanced(theirs["ledger"])


def test_a_synchronous_call_across_processes_answers_after_the_whole_chain() -> None:
    nodes = {
        "clients": {"kind": "producer", "rate": 10, "pattern": "constant", "to": "api"},
        "api": {"kind": "gateway", "to": "pay"},
        "pay": {"kind": "function", "duration": "30ms", "to": "db"},
        "db": {"kind": "store", "latency": "20ms"},
    }
    mine, theirs, _ = run_split(topology(nodes, duration=3), {"clients", "api"})
    assert mine["client"]["ok"] == 30
    assert mine["client"]["latency"]["p50"] == pytest.approx(0.05, abs=1e-3)
    assert theirs["ledger"]["delivered"] == 30
    assert theirs["end_to_end"]["p50"] == pytest.approx(0.05, abs=1e-3)  # ages travel
    assert balanced(mine["ledger"]) and balanced(theirs["ledger"])


def test_lost_answers_end_by_the_senders_timeout_and_nothing_is_lost() -> None:
    nodes = {
        "clients": {"kind": "producer", "rate": 5, "pattern": "constant", "timeout": "2s",
                    "to": "orders"},
        "orders": {"kind": "queue", "to": "save"},
        "save": {"kind": "function", "to": "db"},
        "db": {"kind": "store"},
    }
    answers = Wire(topology(nodes, duration=2),
                   drop=lambda topic, data: data.get("k") == "rp")
    mine, theirs, _ = run_split(topology(nodes, duration=2), {"clients"}, wire=answers)
    assert mine["client"]["timeouts"] == 10 and mine["ledger"]["failed"] == 10
    assert theirs["ledger"]["delivered"] == 10  # it did arrive: the client cannot know
    assert balanced(mine["ledger"]) and balanced(theirs["ledger"])


def test_an_envelope_that_is_no_object_is_dropped_and_counted() -> None:
    wire = Wire(topology(CHAIN))
    loop = SimLoop("virtual")

    async def main() -> int:
        wire.engine({"orders", "save", "db", "news", "mail", "audit"})
        topic = inbox(wire.base, "orders")
        end = wire.ends[topic]
        assert end.receive_batch({"pg": 1, "o": "elsewhere", "b": 1, "e": [5, "x", None]},
                                 topic)
        return end.undecodable

    try:
        assert loop.run_until_complete(main()) == 3  # said and counted, not an AttributeError
    finally:
        loop.close()


def test_messages_injected_in_two_processes_of_a_split_get_different_ids() -> None:
    """JSON sent to api's inbox enters one process, JSON sent to orders' the other: the
    store's rows, written in the second, must not share an id."""
    wire = Wire(topology(CHAIN, duration=3))
    loop = SimLoop("virtual")

    async def main() -> None:
        first = wire.engine({"clients", "api"})
        second = wire.engine(set(CHAIN) - {"clients", "api"})
        first.clock.at(1.0, first.inject, "api", {"from": "A"})
        second.clock.at(1.0, second.inject, "orders", {"from": "B"})
        await asyncio.gather(first.run(3, 10), second.run(14))

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    written = {e.msg for e in wire.events if isinstance(e, ev.MessageWritten)
               and e.node == "db" and e.trace.startswith("external")}
    assert written == {"external:api-1", "external:orders-1"}


@pytest.mark.parametrize(("envelope", "says"), [
    ({"k": "rq", "corr": 1, "reply_to": "r", "sender": "s"},
     "a request that does not decode: it has no 'op' field"),
    ({"k": "rq", "op": "send", "corr": 1, "reply_to": "r", "sender": "s",
      "msg": {"trace": "t", "age": 0}}, "a request that does not decode: its message has no "
                                        "'id' field"),
    ({"k": "rp", "corr": 1, "status": 200}, "a reply that does not decode: it has no 'to' field"),
    ({"k": "rq", "op": "send", "corr": "x", "reply_to": "r", "sender": "s"},
     "a request that does not decode: invalid literal for int() with base 10: 'x'"),
])
def test_a_forged_envelope_is_dropped_with_what_it_lacks(
        caplog: pytest.LogCaptureFixture, envelope: dict[str, Any], says: str) -> None:
    wire = Wire(topology(CHAIN))
    loop = SimLoop("virtual")

    async def main() -> int:
        wire.engine({"orders", "save", "db", "news", "mail", "audit"})
        topic = inbox(wire.base, "orders")
        end = wire.ends[topic]
        end.receive_batch({"pg": 1, "o": "elsewhere", "b": 1, "e": [envelope]}, topic)
        return end.undecodable

    try:
        with caplog.at_level("WARNING", logger="playground.mqtt"):
            assert loop.run_until_complete(main()) == 1
    finally:
        loop.close()
    assert caplog.messages == [
        f"MQTT: an envelope from elsewhere on playground/split/orders/in is dropped: {says}"]
