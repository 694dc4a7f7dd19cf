"""The checks that need the whole topology, as a user meets them: names, the edge table,
synchronous cycles, what each kind allows, and every problem of a file at once.

Each test loads a small file written inline and asserts the message, its line and its column
(from 1, as editors show them). Reading is in test_reading.py, fields and units in
test_shapes.py, scenario steps in test_scenario.py, warnings in test_lint.py.
"""

from __future__ import annotations

import itertools

import pytest
from spec_text import at, load, only_error

from playground.spec import load_text
from playground.spec.checks import ALLOWED
from playground.spec.model import KINDS

# --- names and edges -----------------------------------------------------------------------


def test_to_naming_an_unknown_node_points_at_the_name() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          p:
            kind: producer
            rate: 1/s
            to: qeue
          q:
            kind: queue
        """)
    assert problem.message == "unknown node 'qeue' (nodes: p, q)"
    assert at(problem) == (7, 9)


def test_unknown_node_in_a_list_and_a_subscription_points_at_each() -> None:
    loaded = load("""\
        version: 1
        name: orders
        nodes:
          t:
            kind: topic
            to:
              - nope
              - node: nada
          q:
            kind: queue
        """)
    assert [(at(p), p.message) for p in loaded.problems] == [
        ((7, 9), "unknown node 'nope' (nodes: t, q)"),
        ((8, 15), "unknown node 'nada' (nodes: t, q)"),
    ]


# Minimal nodes of each kind; a `to` they need points at a function `sink`.
_BODY = {
    "producer": "{kind: producer, rate: 1/s, to: sink}",
    "gateway": "{kind: gateway, to: sink}",
    "queue": "{kind: queue}",
    "topic": "{kind: topic, to: sink}",
    "function": "{kind: function}",
    "store": "{kind: store}",
}
_SOURCE = {
    "producer": "kind: producer\n    rate: 1/s",
    "gateway": "kind: gateway",
    "queue": "kind: queue",
    "topic": "kind: topic",
    "function": "kind: function",
}
_DISALLOWED = [(a, b) for a, b in itertools.product(_SOURCE, KINDS) if b not in ALLOWED[a]]
_ALLOWED = [(a, b) for a, b in itertools.product(_SOURCE, KINDS) if b in ALLOWED[a]]


def _edge(source: str, target: str) -> str:
    return (f"version: 1\nname: edges\nnodes:\n  a:\n    {_SOURCE[source]}\n    to: b\n"
            f"  b: {_BODY[target]}\n  sink: {{kind: function}}\n")


def test_the_edge_table_is_the_spec_table() -> None:
    assert set(_DISALLOWED) == {
        ("producer", "producer"), ("producer", "store"),
        ("gateway", "producer"), ("gateway", "gateway"), ("gateway", "store"),
        ("queue", "producer"), ("queue", "gateway"), ("queue", "queue"), ("queue", "topic"),
        ("queue", "store"),
        ("topic", "producer"), ("topic", "gateway"), ("topic", "topic"), ("topic", "store"),
        ("function", "producer"), ("function", "gateway"),
    }


@pytest.mark.parametrize(("source", "target"), _DISALLOWED)
def test_every_disallowed_edge_is_refused_at_the_target(source: str, target: str) -> None:
    text = _edge(source, target)
    problems = load_text(text, "t.yaml").problems
    assert len(problems) == 1, "\n".join(map(str, problems))
    (problem,) = problems
    a, b = ("an" if source[0] in "aeiou" else "a"), ("an" if target[0] in "aeiou" else "a")
    assert problem.message.startswith(f"{a} {source} cannot send to {b} {target} ('b'): "
                                      f"{a} {source}'s `to` takes ")
    assert (problem.line, problem.column) == (text.splitlines().index("    to: b") + 1, 9)


@pytest.mark.parametrize(("source", "target"), _ALLOWED)
def test_every_allowed_edge_loads(source: str, target: str) -> None:
    loaded = load_text(_edge(source, target), "t.yaml")
    assert loaded.errors == []
    assert loaded.topology is not None


def test_the_refusal_names_what_the_kind_takes() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          a:
            kind: queue
            to: [f, b]
          b:
            kind: queue
          f:
            kind: function
        """)
    assert problem.message == ("a queue cannot send to a queue ('b'): a queue's `to` takes "
                               "function")
    assert at(problem) == (6, 13)


def test_a_store_has_no_to() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          s:
            kind: store
            to: f
          f:
            kind: function
        """)
    assert problem.message == "a store has no `to`: it is where messages end"
    assert at(problem) == (6, 5)


@pytest.mark.parametrize("kind", ["producer", "gateway"])
def test_producer_and_gateway_send_to_exactly_one_node(kind: str) -> None:
    rate = "\n            rate: 5/s" if kind == "producer" else ""
    problem = only_error(f"""\
        version: 1
        name: orders
        nodes:
          a:
            kind: {kind}{rate}
            to: [q, r]
          q:
            kind: queue
          r:
            kind: queue
        """)
    assert problem.message == f"a {kind} sends to exactly one node (got 2)"
    assert at(problem) == (7 if kind == "producer" else 6, 9)


def test_a_gateway_with_no_target_is_refused() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          g:
            kind: gateway
            to: []
        """)
    assert problem.message == "a gateway sends to exactly one node (got 0)"
    assert at(problem) == (6, 9)


def test_a_queue_cannot_send_to_itself() -> None:
    loaded = load("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            to: q
        """)
    assert "'q' cannot send to itself" in [p.message for p in loaded.errors]
    assert {at(p) for p in loaded.errors} == {(6, 9)}


# --- cycles --------------------------------------------------------------------------------


def test_a_cycle_of_synchronous_calls_is_refused_where_it_closes() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          a:
            kind: function
            to: b
          b:
            kind: function
            to: [s, c]
          c:
            kind: function
            to: a
          s:
            kind: store
        """)
    assert problem.message == ("a cycle of synchronous calls: a -> b -> c -> a (a function "
                               "would wait on itself); put a queue or topic in between")
    assert at(problem) == (12, 9)


def test_a_function_calling_itself_is_a_cycle() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          a:
            kind: function
            to: a
        """)
    assert problem.message.startswith("a cycle of synchronous calls: a -> a ")
    assert at(problem) == (6, 9)


@pytest.mark.parametrize("kind", ["queue", "topic"])
def test_a_cycle_through_a_queue_or_topic_is_only_a_warning(kind: str) -> None:
    loaded = load(f"""\
        version: 1
        name: orders
        nodes:
          a:
            kind: function
            to: b
          b:
            kind: {kind}
            to: a
        """)
    assert loaded.ok
    assert loaded.errors == []
    loops = [p for p in loaded.warnings if "messages can loop" in p.message]
    assert [(at(p), p.message) for p in loops] == [
        ((9, 5), "messages can loop: a -> b -> a; make sure something ends the loop"),
    ]


# --- what each kind allows -----------------------------------------------------------------


def test_batch_window_behind_a_fifo_queue_is_refused_at_the_key() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            type: fifo
            to: f
          f:
            kind: function
            batch_window: 2s
        """)
    assert problem.message == "batch_window is not allowed behind the fifo queue 'q'"
    assert at(problem) == (10, 5)


def test_group_by_needs_a_fifo_queue() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            group_by: customer
        """)
    assert problem.message == "group_by applies only to fifo queues (add type: fifo)"
    assert at(problem) == (6, 5)


@pytest.mark.parametrize(("value", "shown"), [("0/s", "'0/s'"), ("-5", "-5"), ("0", "0")])
def test_a_rate_that_is_not_positive_is_refused(value: str, shown: str) -> None:
    problem = only_error(f"""\
        version: 1
        name: orders
        nodes:
          p:
            kind: producer
            rate: {value}
            to: q
          q:
            kind: queue
        """)
    assert problem.message == f"a rate must be positive (got {shown})"
    assert at(problem) == (6, 11)


def test_a_throttle_or_store_capacity_that_is_not_positive_is_refused() -> None:
    loaded = load("""\
        version: 1
        name: orders
        nodes:
          g:
            kind: gateway
            to: f
            throttle: {rate: 0/s}
          f:
            kind: function
            to: s
          s:
            kind: store
            capacity: -10/s
        """)
    assert [(at(p), p.message) for p in loaded.problems] == [
        ((7, 22), "a rate must be positive (got '0/s')"),
        ((13, 15), "capacity: a rate must be positive (got '-10/s')"),
    ]


def test_a_negative_duration_is_refused_at_the_value() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            delay: -2s
        """)
    assert problem.message == "delay: a duration cannot be negative (got '-2s')"
    assert at(problem) == (6, 12)


def test_a_negative_step_time_is_refused() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          f:
            kind: function
        scenario:
          - {at: -5s, action: pause, node: f}
        """)
    assert problem.message == "at: a duration cannot be negative (got '-5s')"
    assert at(problem) == (7, 10)


def test_on_failure_must_name_a_queue() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          f:
            kind: function
            on_failure: s
          s:
            kind: store
        """)
    assert problem.message == "on_failure must name a queue; 's' is a store"
    assert at(problem) == (6, 17)


def test_on_failure_naming_an_unknown_node() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          f:
            kind: function
            on_failure: failed
        """)
    assert problem.message == "unknown node 'failed' (nodes: f)"
    assert at(problem) == (6, 17)


def test_a_topic_dlq_must_name_a_queue() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          t:
            kind: topic
            to: f
            dlq: f
          f:
            kind: function
        """)
    assert problem.message == "a topic's dlq must name a queue; 'f' is a function"
    assert at(problem) == (7, 10)


def test_a_dlq_cannot_be_its_own_queue() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            dlq: {queue: q, max_receives: 5}
        """)
    assert problem.message == "a queue cannot be its own dlq"
    assert at(problem) == (6, 18)


def test_a_dlq_must_be_a_queue() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            dlq:
              queue: t
              max_receives: 5
          t:
            kind: topic
            to: []
        """)
    assert problem.message == "a dlq must name a queue; 't' is a topic"
    assert at(problem) == (7, 14)


def test_a_filter_outside_a_topic_subscription_is_refused_at_the_filter() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            to:
              - node: f
                filter: {region: [eu]}
          f:
            kind: function
        """)
    assert problem.message == "a filter belongs only on a topic's subscription"
    assert at(problem) == (8, 9)


_FILTERED = """\
    version: 1
    name: orders
    nodes:
      t:
        kind: topic
        to:
          - node: f
            filter:
              {line}
      f:
        kind: function
    """


@pytest.mark.parametrize(("line", "message", "column"), [
    ("region: [{suffix: eu}]", "unknown matcher 'suffix': use one of prefix, numeric, exists, "
                               "anything-but", 20),
    ("region: [{prefix: 5}]", "prefix takes a string", 29),
    ("amount: [{numeric: ['>>', 100]}]", "numeric takes [op, n] or [op, n, op, n] with op one "
                                         "of = < <= > >=, e.g. [\">=\", 100]", 30),
    ("amount: [{numeric: ['>', '100']}]", "numeric takes [op, n]", 30),
    ("flag: [{exists: yes}]", "exists takes true or false", 27),
    ("region: eu", "'region' needs a list of matchers, such as region: ['eu']", 19),
    ("region: []", "the matchers of 'region' cannot be an empty list", 19),
    ("region: [{prefix: eu, exists: true}]", "a matcher is a value or one of {prefix: s}", 20),
    ("region: [{anything-but: []}]", "anything-but takes a value or a list of values", 35),
])
def test_an_invalid_filter_points_inside_the_filter(line: str, message: str, column: int) -> None:
    problem = only_error(_FILTERED.format(line=line))
    assert message in problem.message
    assert at(problem) == (9, column)
    assert problem.path.startswith("nodes.t.to.0.filter.")


def test_fails_on_is_checked_as_a_filter() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          f:
            kind: function
            fails_on: {sku: [{sufix: x}]}
        """)
    assert problem.message.startswith("unknown matcher 'sufix'")
    assert at(problem) == (6, 22)


def test_layout_naming_an_unknown_node_points_at_the_id() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          f:
            kind: function
        layout:
          g: [1, 2]
        """)
    assert problem.message == "unknown node 'g' (nodes: f)"
    assert at(problem) == (7, 3)


# --- all at once ---------------------------------------------------------------------------


def test_every_problem_of_a_file_is_reported_at_once_in_line_order() -> None:
    loaded = load("""\
        version: 1
        name: orders
        nodes:
          p:
            kind: producer
            rate: fast
            to: nowhere
          q:
            kind: queue
            visiblity_timeout: 30s
            dlq: {queue: q, max_receives: 5}
            to: f
          f:
            kind: function
            concurrency: 0
            on_failure: s
          s:
            kind: store
            to: q
        scenario:
          - {at: 1s, action: burst, node: q, factor: 2, for: 1s}
          - {at: 2s, action: set, node: f, memory: 1024}
        """)
    assert loaded.topology is None
    expected = [
        (6, 11, "'fast' is not a rate"),
        (7, 9, "unknown node 'nowhere'"),
        (10, 5, "unknown field 'visiblity_timeout'; did you mean 'visibility_timeout'?"),
        (11, 18, "a queue cannot be its own dlq"),
        (15, 18, "concurrency must be at least 1 (got 0)"),
        (16, 17, "on_failure must name a queue; 's' is a store"),
        (19, 5, "a store has no `to`"),
        (21, 35, "burst needs a producer; 'q' is a queue"),
        (22, 36, "set cannot change 'memory' of a function"),
    ]
    assert len(loaded.problems) == len(loaded.errors) == len(expected)
    for problem, (line, column, message) in zip(loaded.problems, expected, strict=True):
        assert (problem.line, problem.column) == (line, column)
        assert message in problem.message
    assert loaded.problems == sorted(loaded.problems, key=lambda p: (p.line, p.column))


def test_a_step_with_a_broken_time_is_still_checked_for_its_node() -> None:
    loaded = load("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
        scenario:
          - {at: -5s, action: burst, node: q, factor: 2, for: 1s}
        """)
    assert [(at(p), p.message) for p in loaded.problems] == [
        ((7, 10), "at: a duration cannot be negative (got '-5s')"),
        ((7, 36), "burst needs a producer; 'q' is a queue"),
    ]


def test_a_dlq_named_by_a_broken_dlq_field_is_still_a_dlq() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            dlq: {queue: dead, max_receives: 0}
          dead:
            kind: queue
        scenario:
          - {at: 1s, action: redrive, from: dead, to: q, rate: 1}
        """)
    assert problem.message == "max_receives must be at least 1 (got 0)"


def test_a_node_breaking_a_rule_between_its_fields_is_still_checked_for_the_rest() -> None:
    loaded = load("""\
        version: 1
        name: orders
        nodes:
          p: {kind: producer, rate: 10/s, to: f}
          f: {kind: function, concurrency: 1, provisioned: 2, on_failure: s, to: [nope]}
          s: {kind: store}
        """)
    assert [(at(p), p.message) for p in loaded.problems] == [
        ((5, 3), "f: provisioned (2) cannot exceed concurrency (1)"),
        ((5, 67), "on_failure must name a queue; 's' is a store"),
        ((5, 75), "unknown node 'nope' (nodes: p, f, s)"),
    ]
