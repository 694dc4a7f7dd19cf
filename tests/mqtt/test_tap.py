"""The tap keeps at most its rate, counts what it leaves out and what its buffer drops, and
names events so a watcher can subscribe to what it wants."""

from __future__ import annotations

import json

from playground.engine import events as ev
from playground.mqtt.tap import TapFeed, event_name, tap_item


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def sent(n: int) -> ev.MessageSent:
    return ev.MessageSent(float(n), "api", f"m-{n}", f"m-{n}", "q", 1)


def test_above_the_rate_the_tap_samples_and_counts_what_it_left_out() -> None:
    clock, wakes = FakeClock(), []
    feed = TapFeed(1000.0, lambda: wakes.append(1), clock=clock)
    for n in range(5000):  # all at once: only the burst (a tenth of a second's worth)
        feed(sent(n))
    assert (feed.kept, feed.left_out, feed.dropped) == (100, 4900, 0)
    clock.now += 1.0  # a second later the bucket is full again, never fuller
    for n in range(500):
        feed(sent(n))
    assert (feed.kept, feed.left_out) == (200, 5300)
    assert len(wakes) == 1  # one wake until the network side has drained it


def test_spread_over_time_nothing_is_left_out_below_the_rate() -> None:
    clock = FakeClock()
    feed = TapFeed(1000.0, lambda: None, clock=clock)
    for n in range(3000):
        clock.now += 0.0011  # 909 a second
        feed(sent(n))
    assert (feed.kept, feed.left_out) == (3000, 0)


def test_a_full_buffer_drops_and_counts_never_blocks() -> None:
    clock = FakeClock()
    feed = TapFeed(1e9, lambda: None, size=10, clock=clock)
    for n in range(25):
        clock.now += 1.0
        feed(sent(n))
    assert (feed.kept, feed.dropped, len(feed.buffer)) == (10, 15, 10)
    taken = [feed.take() for _ in range(11)]
    assert [e.msg for e in taken[:10] if e] == [f"m-{n}" for n in range(10)]
    assert taken[10] is None and not feed.woken


def test_every_event_becomes_json_on_its_nodes_topic() -> None:
    event = ev.MessageWritten(2.5, "db", "m-1", "m-1", {"order": 7}, 1, False, False)
    topic, body = tap_item("playground/shop", event)
    assert topic == "playground/shop/tap/db/message_written"
    assert json.loads(body) == {"event": "message_written", "t": 2.5, "node": "db",
                                "msg": "m-1", "trace": "m-1", "payload": {"order": 7},
                                "attempt": 1, "duplicate": False, "deduplicated": False}
    assert event_name(ev.InvocationFinished) == "invocation_finished"
    topic, body = tap_item("playground/shop", ev.InvocationFinished(
        1.0, "fn", ("a", "b"), "a", False, 0.5, "timeout", ("b",)))
    assert json.loads(body)["failed"] == ["b"]


def test_an_event_about_the_whole_run_has_a_level_of_its_own() -> None:
    from playground.mqtt.topics import tap_topic

    assert tap_topic("playground/shop", "", "run_finished") == \
        "playground/shop/tap/_run/run_finished"
    assert tap_topic("playground/shop", "db", "message_written") == \
        "playground/shop/tap/db/message_written"
