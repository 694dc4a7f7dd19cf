"""Fields, kinds, types and units: the message and where it points (the value that is wrong,
or the key of what is missing or unknown)."""

from __future__ import annotations

import pytest
from spec_text import at, load, only_error


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
    ("concurrency: 0", "concurrency must be at least 1 (got 0)", 18),
    ("batch_size: 20000", "batch_size must be at most 10000 (got 20000)", 17),
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


def test_a_topology_without_nodes_is_told_it_needs_one() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes: {}
        """)
    assert problem.message == "nodes is empty: a topology needs at least one node"
    assert at(problem) == (3, 1)


def test_a_layout_position_is_two_whole_numbers() -> None:
    loaded = load("""\
        version: 1
        name: orders
        nodes: {f: {kind: function}, g: {kind: function}}
        layout: {f: [1, 2, 3], g: [1.5, 2]}
        """)
    assert [(at(p), p.message) for p in loaded.problems] == [
        ((4, 13), "the layout of 'f' must be [column, row] as two whole numbers "
                  "(got [1, 2, 3])"),
        ((4, 27), "the layout of 'g' must be [column, row] as two whole numbers (got [1.5, 2])"),
    ]


def test_an_empty_name_and_a_negative_seed_are_told_what_is_valid() -> None:
    loaded = load("""\
        version: 1
        name: ""
        seed: -1
        nodes:
          q:
            kind: queue
        """)
    assert [(at(p), p.message) for p in loaded.problems] == [
        ((2, 7), "name must not be empty"),
        ((3, 7), "seed must be at least 0 (got -1)"),
    ]


def test_a_target_that_is_neither_an_id_nor_a_subscription_is_told_what_a_target_is() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          t: {kind: topic, to: [q, 5]}
          q: {kind: queue}
        """)
    assert problem.message == "a target is a node id or {node: id, filter: PATTERN} (got 5)"
    assert at(problem) == (4, 28)
