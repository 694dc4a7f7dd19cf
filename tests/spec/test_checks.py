"""Every check of the format, as a user meets it: the message, its line and its column.

Each test loads a small file written inline; lines and columns count from 1, as editors show
them, and point at what the message is about (the value that is wrong, or the key of what is
missing or unknown).
"""

from __future__ import annotations

import itertools
from textwrap import dedent

import pytest

from playground.spec import Loaded, Problem, load_text
from playground.spec.checks import ALLOWED
from playground.spec.model import KINDS


def load(text: str) -> Loaded:
    return load_text(dedent(text), "t.yaml")


def only_error(text: str) -> Problem:
    """The one problem of ``text``, which must be an error."""
    problems = load(text).problems
    assert len(problems) == 1, "\n".join(map(str, problems))
    assert problems[0].severity == "error"
    return problems[0]


def at(problem: Problem) -> tuple[int, int]:
    return problem.line, problem.column


# --- reading -------------------------------------------------------------------------------


def test_yaml_syntax_error_points_where_the_parser_stopped() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
           to: f
        """)
    assert problem.message == ("YAML syntax: expected <block end>, but found '<block mapping "
                               "start>' (check this line's indentation against the lines above)")
    assert at(problem) == (6, 4)
    assert str(problem).startswith("t.yaml:6:4: YAML syntax: ")


def test_unclosed_flow_list_is_a_syntax_error_where_it_goes_wrong() -> None:
    problem = only_error("""\
        version: 1
        name: [orders
        nodes: {}
        """)
    assert problem.message == ("YAML syntax: expected ',' or ']', but got ':' (a '[' list is "
                               "not closed, or its items lack commas)")
    assert at(problem) == (3, 6)


def test_a_tab_in_the_indentation_is_a_syntax_error_saying_so() -> None:
    problem = only_error("version: 1\nname: orders\nnodes:\n\tq: {kind: queue}\n")
    assert problem.message.endswith("(indent with spaces: YAML does not allow tabs)")
    assert at(problem) == (4, 1)


def test_control_character_is_refused_where_it_is() -> None:
    problem = only_error("version: 1\nname: ord\x07ers\nnodes: {}\n")
    assert problem.message == "YAML syntax: the character U+0007 is not allowed in YAML text"
    assert at(problem) == (2, 10)


def test_bytes_that_are_not_utf8_are_refused_at_the_bad_byte_counting_characters() -> None:
    loaded = load_text("version: 1\nname: café ".encode() + b"\xff\n", "t.yaml")
    (problem,) = loaded.problems
    assert problem.message == "the file is not UTF-8 text (a YAML topology must be)"
    assert at(problem) == (2, 12)


def test_a_nul_byte_is_refused_where_it_is() -> None:
    (problem,) = load_text(b"version: 1\nname: x\x00y\n", "t.yaml").problems
    assert problem.message == "the file holds a NUL byte: it is binary, not YAML text"
    assert at(problem) == (2, 8)


def test_duplicate_key_is_refused_at_the_second_one() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            delay: 1s
            delay: 2s
        """)
    assert problem.message == "duplicate key 'delay' (first at line 6, column 5)"
    assert at(problem) == (7, 5)


def test_duplicate_node_id_is_refused_at_the_second_one() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
          q:
            kind: queue
        """)
    assert problem.message == "duplicate key 'q' (first at line 4, column 3)"
    assert at(problem) == (6, 3)


@pytest.mark.parametrize("tag", ["!!python/object:os.system", "!!python/object/new:os.system",
                                 "!!python/name:os.system", "!custom"])
def test_a_python_or_custom_tag_is_refused(tag: str) -> None:
    problem = only_error(f"""\
        version: 1
        name: {tag} orders
        nodes:
          q:
            kind: queue
        """)
    assert problem.message.startswith(f"the tag {tag} is not allowed: a topology holds only "
                                      "mappings, lists, strings, numbers, booleans and null")
    assert at(problem) == (2, 7)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n...\n"])
def test_an_empty_file_is_refused(text: str) -> None:
    problem = only_error(text)
    assert problem.message == ("the file is empty: a topology needs at least version: 1, "
                               "name and nodes")
    assert at(problem) == (1, 1)


def test_a_file_holding_a_list_is_refused() -> None:
    problem = only_error("""\
        - version: 1
        - name: orders
        """)
    assert problem.message == ("a topology is a mapping with version, name and nodes; this "
                               "file holds a list")
    assert at(problem) == (1, 1)


def test_a_file_holding_a_scalar_is_refused() -> None:
    problem = only_error("orders\n")
    assert problem.message.endswith("this file holds the value 'orders'")


# --- shapes --------------------------------------------------------------------------------


def test_unknown_field_suggests_the_close_one_and_lists_the_valid() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            visiblity_timeout: 30s
        """)
    assert problem.message.startswith("unknown field 'visiblity_timeout'; did you mean "
                                      "'visibility_timeout'? Valid fields: to, type, group_by, ")
    assert at(problem) == (6, 5)
    assert problem.path == "nodes.q.visiblity_timeout"


def test_unknown_top_level_field_suggests_the_close_one() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        descripton: typo
        nodes:
          q:
            kind: queue
        """)
    assert problem.message.startswith("unknown field 'descripton'; did you mean 'description'?")
    assert at(problem) == (3, 1)


def test_unknown_field_with_nothing_close_still_lists_the_valid() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          g:
            kind: gateway
            to: f
            throttle: {rate: 10/s, zzz: 3}
          f:
            kind: function
        """)
    assert problem.message == "unknown field 'zzz'. Valid fields: rate, burst."
    assert at(problem) == (7, 28)


def test_unknown_kind_points_at_the_kind() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          f:
            kind: lambda
        """)
    assert problem.message == ("unknown kind 'lambda': use one of 'producer', 'gateway', "
                               "'queue', 'topic', 'function', 'store'")
    assert at(problem) == (5, 11)


def test_missing_kind_points_at_the_node() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          f:
            concurrency: 2
        """)
    assert problem.message == ("missing 'kind': use one of producer, gateway, queue, topic, "
                               "function, store")
    assert at(problem) == (4, 3)


def test_missing_required_field_points_at_the_node() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          p:
            kind: producer
            to: q
          q:
            kind: queue
        """)
    assert problem.message == "missing required field 'rate' for 'p'"
    assert at(problem) == (4, 3)


def test_provisioned_above_concurrency_points_at_the_node() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          f:
            kind: function
            concurrency: 2
            provisioned: 3
        """)
    assert problem.message == "f: provisioned (3) cannot exceed concurrency (2)"
    assert at(problem) == (4, 3)


def test_invalid_node_id_points_at_the_id() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          Orders:
            kind: queue
        """)
    assert problem.message.startswith("'Orders' is not a valid node id: ids start with a "
                                      "lowercase letter")
    assert at(problem) == (4, 3)


@pytest.mark.parametrize(("line", "message", "column"), [
    ("concurrency: ten", "concurrency must be a whole number (got 'ten')", 18),
    ("partial_batch: maybe", "partial_batch must be true or false (got 'maybe')", 20),
    ("errors: 1.5", "errors: 1.5 is not a probability: use a number from 0 to 1", 13),
    ("concurrency: 0", "concurrency: input should be greater than or equal to 1 (got 0)", 18),
    ("on_failure: [q]", "on_failure must be a string (got ['q'])", 17),
])
def test_wrong_type_points_at_the_value(line: str, message: str, column: int) -> None:
    problem = only_error(f"""\
        version: 1
        name: orders
        nodes:
          f:
            kind: function
            {line}
        """)
    assert problem.message == message
    assert at(problem) == (6, column)


def test_wrong_unit_points_at_the_value_and_names_the_forms() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            visibility_timeout: 30 parsecs
        """)
    assert problem.message == ("visibility_timeout: '30 parsecs' is not a duration: use a "
                               "number of seconds or a string such as 250ms, 2s, 1.5m, 1h, 3d")
    assert at(problem) == (6, 25)


def test_wrong_unit_in_a_distribution_points_at_the_value() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          f:
            kind: function
            duration: {dist: exponential, mean: 20 parsecs}
        """)
    assert problem.message.startswith("mean: '20 parsecs' is not a duration")
    assert at(problem) == (6, 41)


def test_a_scalar_where_a_distribution_goes_points_at_it() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          f:
            kind: function
            duration: slow
        """)
    assert problem.message.startswith("'slow' is not a duration")
    assert at(problem) == (6, 15)


def test_wrong_version_points_at_the_value() -> None:
    problem = only_error("""\
        version: 2
        name: orders
        nodes:
          q:
            kind: queue
        """)
    assert problem.message == "version must be 1 (got 2)"
    assert at(problem) == (1, 10)


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


# --- scenario ------------------------------------------------------------------------------

_WITH_STEPS = """\
    version: 1
    name: orders
    nodes:
      p:
        kind: producer
        rate: 5/s
        to: q
      q:
        kind: queue
        to: f
        dlq: {{queue: d, max_receives: 5}}
      d:
        kind: queue
      f:
        kind: function
    scenario:
      - {step}
    """


def step_error(step: str) -> Problem:
    return only_error(_WITH_STEPS.format(step=step))


def test_redrive_from_a_queue_that_is_no_dlq() -> None:
    problem = step_error("{at: 10s, action: redrive, from: q, rate: 5/s}")
    assert problem.message == ("'q' is no DLQ: no queue names it as its dlq, and no topic dlq "
                               "or on_failure uses it")
    assert at(problem) == (17, 38)


def test_redrive_from_a_dlq_loads() -> None:
    loaded = load(_WITH_STEPS.format(step="{at: 10s, action: redrive, from: d, rate: 5/s}"))
    assert loaded.errors == []


def test_redrive_from_something_that_is_not_a_queue() -> None:
    problem = step_error("{at: 10s, action: redrive, from: f, rate: 5/s}")
    assert problem.message == "redrive moves messages out of a DLQ queue; 'f' is a function"
    assert at(problem) == (17, 38)


def test_redrive_needs_a_to_when_the_dlq_has_no_single_source_queue() -> None:
    loaded = load("""\
        version: 1
        name: orders
        nodes:
          a:
            kind: queue
            dlq: {queue: d, max_receives: 5}
          b:
            kind: queue
            dlq: {queue: d, max_receives: 5}
          d:
            kind: queue
          t:
            kind: topic
            to: []
            dlq: lost
          lost:
            kind: queue
        scenario:
          - at: 1s
            action: redrive
            from: d
            rate: 1/s
          - at: 2s
            action: redrive
            from: lost
            rate: 1/s
          - {at: 3s, action: redrive, from: lost, to: a, rate: 1/s}
        """)
    assert [(at(p), p.message) for p in loaded.problems] == [
        ((19, 5), "say where to redrive 'd' with to: several queues use it (a, b)"),
        ((23, 5), "say where to redrive 'lost' with to: it serves a topic or on_failure, "
                  "not a queue"),
    ]


def test_redrive_to_must_name_a_queue() -> None:
    problem = step_error("{at: 10s, action: redrive, from: d, to: f, rate: 5/s}")
    assert problem.message == "redrive's to must name a queue; 'f' is a function"
    assert at(problem) == (17, 45)


def test_redrive_rate_must_be_positive() -> None:
    problem = step_error("{at: 10s, action: redrive, from: d, rate: 0}")
    assert problem.message == "a rate must be positive (got 0)"
    assert at(problem) == (17, 47)


@pytest.mark.parametrize(("step", "column"), [
    ("{at: 1s, action: outage, node: db, for: 5s}", 36),
    ("{at: 1s, action: burst, node: client, factor: 2, for: 5s}", 35),
    ("{at: 1s, action: pause, node: worker}", 35),
    ("{at: 1s, action: redrive, from: dead, rate: 1/s}", 37),
])
def test_a_step_naming_an_unknown_node(step: str, column: int) -> None:
    problem = step_error(step)
    assert problem.message.startswith("unknown node '")
    assert problem.message.endswith("' (nodes: p, q, d, f)")
    assert at(problem) == (17, column)


def test_burst_needs_a_producer() -> None:
    problem = step_error("{at: 1s, action: burst, node: q, factor: 3, for: 10s}")
    assert problem.message == "burst needs a producer; 'q' is a queue"
    assert at(problem) == (17, 35)


@pytest.mark.parametrize("action", ["pause", "resume"])
def test_pause_and_resume_need_a_function(action: str) -> None:
    problem = step_error(f"{{at: 1s, action: {action}, node: p}}")
    assert problem.message == f"{action} needs a function (a consumer); 'p' is a producer"
    assert at(problem) == (17, 30 + len(action))


def test_unknown_action_points_at_the_action() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          f:
            kind: function
        scenario:
          - at: 1s
            action: explode
        """)
    assert problem.message.startswith("unknown action 'explode': use one of 'burst', ")
    assert at(problem) == (8, 13)


def test_set_with_an_unknown_field_is_refused_at_the_field() -> None:
    problem = step_error("{at: 1s, action: set, node: p, rat: 10/s}")
    assert problem.message.startswith("set cannot change 'rat' of a producer; it can change "
                                      "rate, pattern, payload, ")
    assert at(problem) == (17, 36)


def test_set_cannot_change_the_kind_or_the_edges() -> None:
    problem = step_error("{at: 1s, action: set, node: q, to: d}")
    assert problem.message.startswith("set cannot change 'to' of a queue")


@pytest.mark.parametrize(("change", "message", "column"), [
    ("rate: fast", "'fast' is not a rate: use a number per second or a string such as 200/s, "
                   "3000/min, 5k/s, 2/ms", 42),
    ("rate: 0", "a rate must be positive (got 0)", 42),
    ("limit: -1", "limit: input should be greater than or equal to 0 (got -1)", 43),
    ("pattern: bursty", "pattern must be 'constant' or 'poisson' (got 'bursty')", 45),
])
def test_set_with_an_invalid_value_is_refused_at_the_value(
    change: str, message: str, column: int,
) -> None:
    problem = step_error(f"{{at: 1s, action: set, node: p, {change}}}")
    assert problem.message == message
    assert at(problem) == (17, column)


def test_set_that_leaves_the_node_invalid_is_refused() -> None:
    problem = step_error("{at: 1s, action: set, node: f, provisioned: 20}")
    assert problem.message == ("after this set, 'f' is invalid: provisioned (20) cannot exceed "
                               "concurrency (10)")
    assert at(problem) == (17, 5)


def test_set_naming_no_field() -> None:
    problem = step_error("{at: 1s, action: set, node: f}")
    assert problem.message == "set names no field to change on 'f'"


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
        (15, 18, "concurrency: input should be greater than or equal to 1 (got 0)"),
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


# --- lint: warnings, and the file still loads -----------------------------------------------


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


def test_a_number_as_node_id_is_refused_and_other_problems_still_reported() -> None:
    loaded = load("""\
        version: 1
        name: orders
        nodes:
          1: {kind: queue}
          p: {kind: producer, rate: 1/s, to: nope}
        """)
    assert [(at(p), p.message) for p in loaded.problems] == [
        ((4, 3), "1 is not a valid node id: ids start with a lowercase letter and hold only "
                 "a-z, 0-9, '_' and '-'"),
        ((5, 38), "unknown node 'nope' (nodes: 1, p)"),
    ]


def test_a_number_as_payload_key_is_refused_asking_for_quotes() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          p: {kind: producer, rate: 1/s, to: q, payload: {1: one}}
          q: {kind: queue}
        """)
    assert problem.message == "the key 1 is not a string: write it in quotes"
    assert at(problem) == (4, 51)


def test_yaml_keys_1_and_true_are_not_duplicates() -> None:
    loaded = load("""\
        version: 1
        name: orders
        nodes:
          p: {kind: producer, rate: 1/s, to: q, payload: {1: one, true: yes}}
          q: {kind: queue}
        """)
    assert loaded.errors
    assert not any("duplicate" in p.message for p in loaded.problems)
