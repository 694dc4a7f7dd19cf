"""Lint: what AWS refuses but a lesson may want is a warning, and the file still loads."""

from __future__ import annotations

from textwrap import dedent

import pytest
from spec_text import at, load

from playground.spec import Problem, load_text


def warnings_of(text: str) -> list[Problem]:
    loaded = load(text)
    assert loaded.ok, "\n".join(map(str, loaded.problems))
    assert all(p.severity == "warning" for p in loaded.problems)
    assert all(str(p).startswith(f"t.yaml:{p.line}:{p.column}: warning: ")
               for p in loaded.problems)
    return loaded.problems


def test_lint_consumer_timeout_longer_than_the_visibility_timeout() -> None:
    (warning,) = warnings_of("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            visibility_timeout: 10s
            dlq: {queue: d, max_receives: 5}
            to: f
          d:
            kind: queue
          f:
            kind: function
            timeout: 30s
        """)
    assert warning.message.startswith("'f' may run 30s but queue 'q' hides a message for only "
                                      "10s: a slow invocation is delivered again")
    assert at(warning) == (13, 5)


def test_lint_max_receives_below_5_behind_a_function() -> None:
    (warning,) = warnings_of("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            dlq: {queue: d, max_receives: 2}
            to: f
          d:
            kind: queue
          f:
            kind: function
        """)
    assert warning.message.startswith("max_receives 2 behind a function: throttled or briefly "
                                      "failing invocations send good messages to the DLQ")
    assert at(warning) == (6, 21)


def test_lint_max_receives_below_5_without_a_consumer_is_fine() -> None:
    assert warnings_of("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            dlq: {queue: d, max_receives: 2}
          d:
            kind: queue
        """) == []


def test_lint_fifo_queue_with_a_standard_dlq() -> None:
    (warning,) = warnings_of("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            type: fifo
            dlq:
              queue: d
              max_receives: 5
          d:
            kind: queue
        """)
    assert warning.message == ("the fifo queue 'q' has the standard queue 'd' as its dlq "
                               "(AWS requires a fifo dlq)")
    assert at(warning) == (8, 7)


def test_lint_no_dlq_behind_a_function_that_can_fail() -> None:
    (warning,) = warnings_of("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            to: f
          f:
            kind: function
            errors: 0.01
        """)
    assert warning.message == ("queue 'q' has no dlq but its consumer 'f' can fail: a message "
                               "that always fails is received again forever")
    assert at(warning) == (4, 3)


def test_lint_no_dlq_behind_a_function_that_cannot_fail_is_fine() -> None:
    assert warnings_of("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            to: f
          f:
            kind: function
        """) == []


def test_lint_a_producer_faster_than_everything_downstream() -> None:
    (warning,) = warnings_of("""\
        version: 1
        name: orders
        nodes:
          p:
            kind: producer
            rate: 100/s
            to: f
          f:
            kind: function
            concurrency: 2
            duration: 1s
        """)
    assert warning.message == ("'p' sends 100/s but everything downstream can drain at most "
                               "2/s: queues grow without end or requests fail")
    assert at(warning) == (6, 11)


@pytest.mark.parametrize(("retention", "shown"), [("30s", "30s"), ("15d", "15d")])
def test_lint_retention_outside_what_aws_allows(retention: str, shown: str) -> None:
    (warning,) = warnings_of(f"""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            retention: {retention}
        """)
    assert warning.message == f"retention {shown} is outside what AWS allows (60s to 14d)"
    assert at(warning) == (6, 5)


@pytest.mark.parametrize("retention", ["60s", "14d", "4d"])
def test_lint_retention_inside_what_aws_allows_is_fine(retention: str) -> None:
    assert warnings_of(f"""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            retention: {retention}
        """) == []


def test_lint_function_retries_above_2() -> None:
    (warning,) = warnings_of("""\
        version: 1
        name: orders
        nodes:
          f:
            kind: function
            retries: 5
        """)
    assert warning.message == ("Lambda allows at most 2 asynchronous retries; 5 is kept here "
                               "for the lesson")
    assert at(warning) == (6, 5)


def test_lint_can_be_left_out() -> None:
    text = dedent("""\
        version: 1
        name: orders
        nodes:
          f:
            kind: function
            retries: 5
        """)
    assert load_text(text, lint=False).problems == []


_KEYED = """\
    version: 1
    name: orders
    nodes:
      p:
        kind: producer
        rate: 5/s
        payload: {{order_id: "{{seq}}", sku: "{{choice:a,b}}"}}
        to: api
      api:
        kind: gateway
        to: f
        cache: {{ttl: 10s, key: {cache_key}}}
      f:
        kind: function
        to: t
      t:
        kind: store
        idempotent: {{key: {store_key}}}
    """


def test_lint_a_key_field_the_producers_never_send() -> None:
    gateway, store = warnings_of(_KEYED.format(cache_key="skus", store_key="orderid"))
    assert gateway.message == ("'api' keys on the payload field 'skus', which 'p' does not "
                               "send: all its requests share one cached answer")
    assert at(gateway) == (12, 23)
    assert store.message == ("'t' keys on the payload field 'orderid', which 'p' does not "
                             "send: every such write is refused (400)")
    assert at(store) == (18, 18)


def test_lint_key_fields_the_producers_send_are_fine() -> None:
    assert warnings_of(_KEYED.format(cache_key="sku", store_key="order_id")) == []


_CACHED = """\
    version: 1
    name: orders
    nodes:
      api:
        kind: gateway
        to: {target}
        cache: {{ttl: 10s, key: sku}}
      q:
        kind: queue
      t:
        kind: topic
        to: q
      f:
        kind: function
    """


@pytest.mark.parametrize(("target", "kind", "when"),
                         [("q", "queue", "enqueue"), ("t", "topic", "publish")])
def test_lint_a_gateway_cache_in_front_of_an_asynchronous_target(target: str, kind: str,
                                                                  when: str) -> None:
    (warning,) = warnings_of(_CACHED.format(target=target))
    assert warning.message == (f"'api' answers at {when} (202) because {target!r} is a {kind}, "
                               "and only a function's synchronous answer is cached: the cache "
                               "never hits and cache_hits stays 0")
    assert at(warning) == (7, 5)


def test_lint_a_gateway_cache_in_front_of_a_function_is_fine() -> None:
    assert warnings_of(_CACHED.format(target="f")) == []


def test_lint_a_gateway_cache_with_ttl_0_never_hits() -> None:
    (warning,) = warnings_of(_CACHED.format(target="f").replace("ttl: 10s", "ttl: 0s"))
    assert warning.message == ("a cache with ttl 0 keeps no answer: it never hits and "
                               "cache_hits stays 0 (give it a ttl, or remove the cache)")
    assert at(warning) == (7, 13)  # at ttl


def test_lint_a_cache_that_never_hits_has_no_key_field_warning() -> None:
    (warning,) = warnings_of("""\
        version: 1
        name: orders
        nodes:
          p:
            kind: producer
            rate: 5/s
            limit: 10
            to: api
          api:
            kind: gateway
            to: q
            cache: {ttl: 10s, key: sku}
          q:
            kind: queue
        """)
    assert warning.message.startswith("'api' answers at enqueue (202)")


@pytest.mark.parametrize(("timeout", "shown"), [("30s", "30s"), ("1m", "1m")])
def test_lint_gateway_timeout_above_29s(timeout: str, shown: str) -> None:
    (warning,) = warnings_of(f"""\
        version: 1
        name: orders
        nodes:
          api:
            kind: gateway
            timeout: {timeout}
            to: f
          f:
            kind: function
        """)
    assert warning.message == ("API Gateway allows an integration timeout of at most 29s (REST "
                               f"APIs, by default); {shown} is kept here for the lesson")
    assert at(warning) == (6, 5)


@pytest.mark.parametrize(("timeout", "shown"), [("15.5m", "930s"), ("1h", "1h")])
def test_lint_function_timeout_above_15m(timeout: str, shown: str) -> None:
    (warning,) = warnings_of(f"""\
        version: 1
        name: orders
        nodes:
          f:
            kind: function
            timeout: {timeout}
        """)
    assert warning.message == (f"Lambda allows a timeout of at most 15m; {shown} is kept here "
                               "for the lesson")
    assert at(warning) == (6, 5)


def test_lint_timeouts_at_aws_limits_are_fine() -> None:
    assert warnings_of("""\
        version: 1
        name: orders
        nodes:
          api:
            kind: gateway
            timeout: 29s
            to: f
          f:
            kind: function
            timeout: 15m
        """) == []
