"""A producer fed by an MQTT topic (`source`): an extension that keeps version 1 files loading."""

from __future__ import annotations

from textwrap import dedent

import pytest

from playground.spec import Loaded, load_text
from playground.spec.endpoint import parse_endpoint

HEAD = """\
version: 1
name: devices
nodes:
  q: {kind: queue}
  sensors:
    kind: producer
"""


def load(fields: str, tail: str = "") -> Loaded:
    """The producer ``sensors`` with ``fields`` (one per line), then ``tail`` at the top."""
    body = "".join(f"    {line}\n" for line in dedent(fields).splitlines())
    return load_text(HEAD + body + dedent(tail), "t.yaml")


def test_a_source_makes_the_rate_optional() -> None:
    loaded = load("""\
        source: mqtt://127.0.0.1:1883/sensors/+/temperature
        to: q
    """)
    assert loaded.ok, loaded.problems
    producer = loaded.require().nodes["sensors"]
    assert producer.source == "mqtt://127.0.0.1:1883/sensors/+/temperature"
    assert producer.rate is None


def test_a_source_with_a_rate_keeps_it_as_a_cap() -> None:
    loaded = load("""\
        source: mqtt://broker.local/readings/#
        rate: 50/s
        to: q
    """)
    assert loaded.ok, loaded.problems
    assert loaded.require().nodes["sensors"].rate == 50.0


def test_without_source_the_rate_is_still_required() -> None:
    (problem,) = load("to: q\n").problems
    assert problem.message == "missing required field 'rate' for 'sensors'"
    assert (problem.line, problem.column) == (5, 3)


@pytest.mark.parametrize(("url", "says"), [
    ("http://host:1883/t", "is not an MQTT address"),
    ("mqtt://host:1883", "names no topic"),
    ("mqtt://host:99999/t", "the port must be a number from 1 to 65535"),
    ("mqtt://:1883/t", "names no host"),
    ("mqtt://host/a/#/b", "'#' must be a whole level, and the last one"),
    ("mqtt://host/a+/b", "'+' must be a whole level"),
])
def test_a_source_that_does_not_parse_is_an_error_at_its_value(url: str, says: str) -> None:
    (problem,) = load(f"source: {url}\nto: q\n").problems
    assert says in problem.message
    assert problem.path == "nodes.sensors.source"
    assert (problem.line, problem.column) == (7, 13)


def test_endpoints_parse_credentials_and_never_show_the_password() -> None:
    endpoint = parse_endpoint("mqtts://ann:s%40cret@[::1]:8884/a/b", topic="required")
    assert (endpoint.host, endpoint.port, endpoint.topic) == ("[::1]", 8884, "a/b")
    assert (endpoint.username, endpoint.password, endpoint.tls) == ("ann", "s@cret", True)
    assert "cret" not in endpoint.url() and "cret" not in repr(endpoint)
    assert parse_endpoint("mqtt://h").port == 1883
    with pytest.raises(ValueError, match="no topic"):
        parse_endpoint("mqtt://h:1/t", topic="forbidden")
    with pytest.raises(ValueError) as refused:
        parse_endpoint("mqtt://ann:s3cret@h:99999/t")
    assert "s3cret" not in str(refused.value) and "ann:***@h" in str(refused.value)


def test_set_cannot_change_a_source_live() -> None:
    loaded = load("source: mqtt://h:1883/t\nto: q", """\
        scenario:
          - {at: 1s, action: set, node: sensors, source: "mqtt://h:1883/u"}
        """)
    (problem,) = loaded.problems
    assert problem.message.startswith("set cannot change 'source' of a producer")


@pytest.mark.parametrize(("text", "topic"), [
    ("h:1", "forbidden"), ("http://h:1/t", "optional"), ("mqtt://:1/t", "optional"),
    ("mqtt://h:1", "required"), ("mqtt://ann:s3cret@/t", "optional"),
])
def test_an_address_error_shows_how_to_write_one_whole(text: str, topic: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_endpoint(text, topic=topic)  # type: ignore[arg-type]
    said = str(refused.value)
    assert "USER:PASSWORD@ before HOST)" in said and "***" not in said.split(": ", 1)[1]
    assert "s3cret" not in said
