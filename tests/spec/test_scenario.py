"""Scenario steps: what they name must exist and be of the right kind; `set` must make a
valid node."""

from __future__ import annotations

import pytest
from spec_text import at, load, only_error

from playground.spec import Problem

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


@pytest.mark.parametrize("source", ["q", "nowhere", "f"])
def test_a_redrive_with_a_wrong_from_still_has_its_to_checked(source: str) -> None:
    text = _WITH_STEPS.format(step=f"{{at: 10s, action: redrive, from: {source}, to: f, "
                                   "rate: 5/s}")
    messages = sorted(p.message for p in load(text).errors)
    assert len(messages) == 2, messages
    assert any("'f' is a function" in m and "redrive's to" in m for m in messages), messages


def test_redrive_from_a_dlq_loads() -> None:
    loaded = load(_WITH_STEPS.format(step="{at: 10s, action: redrive, from: d, rate: 5/s}"))
    assert loaded.errors == []


def test_redrive_from_a_queue_a_set_made_a_dlq_before_it_loads() -> None:
    text = _WITH_STEPS.format(step="{at: 5s, action: set, node: q, dlq: {queue: e, "
                                   "max_receives: 5}}").rstrip(" ") + \
        "      - {at: 10s, action: redrive, from: e, rate: 5/s}\n"
    text = text.replace("      f:\n", "      e:\n        kind: queue\n      f:\n")
    assert load(text).errors == []
    # before that set, e is no DLQ yet
    early = text.replace("{at: 10s, action: redrive", "{at: 1s, action: redrive")
    (problem,) = load(early).errors
    assert problem.message.startswith("'e' is no DLQ")
    # after a set that takes the dlq away, d is no DLQ any more
    gone = _WITH_STEPS.format(step="{at: 5s, action: set, node: q, dlq: null}").rstrip(" ") + \
        "      - {at: 10s, action: redrive, from: d, rate: 5/s}\n"
    (problem,) = load(gone).errors
    assert problem.message.startswith("'d' is no DLQ")


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
                                      "rate, payload, ")
    assert at(problem) == (17, 36)


def test_set_cannot_change_the_kind_or_the_edges() -> None:
    problem = step_error("{at: 1s, action: set, node: q, to: d}")
    assert problem.message.startswith("set cannot change 'to' of a queue")


@pytest.mark.parametrize(("node", "change", "kind"), [
    ("q", "type: fifo", "queue"), ("p", "pattern: constant", "producer"),
    ("f", "provisioned: 2", "function"),
])
def test_set_cannot_change_what_a_run_takes_when_it_starts(node: str, change: str,
                                                           kind: str) -> None:
    problem = step_error(f"{{at: 1s, action: set, node: {node}, {change}}}")
    field = change.split(":")[0]
    assert problem.message.startswith(f"set cannot change '{field}' of a {kind}; it can change ")


@pytest.mark.parametrize(("change", "message", "column"), [
    ("rate: fast", "'fast' is not a rate: use a number per second or a string such as 200/s, "
                   "3000/min, 5k/s, 2/ms", 42),
    ("rate: 0", "a rate must be positive (got 0)", 42),
    ("limit: -1", "limit must be at least 0 (got -1)", 43),
])
def test_set_with_an_invalid_value_is_refused_at_the_value(
    change: str, message: str, column: int,
) -> None:
    problem = step_error(f"{{at: 1s, action: set, node: p, {change}}}")
    assert problem.message == message
    assert at(problem) == (17, column)


def test_set_that_leaves_the_node_invalid_is_refused() -> None:
    text = _WITH_STEPS.format(step="{at: 1s, action: set, node: f, concurrency: 2}")
    warm = "kind: function\n        provisioned: 3\n"
    problem = only_error(text.replace("kind: function\n", warm))
    assert problem.message == ("after this set, 'f' is invalid: provisioned (3) cannot exceed "
                               "concurrency (2)")
    assert at(problem) == (18, 5)


def test_set_naming_no_field() -> None:
    problem = step_error("{at: 1s, action: set, node: f}")
    assert problem.message == "set names no field to change on 'f'"


@pytest.mark.parametrize(("step", "expected"), [
    ("{at: 1s, action: burst, node: q, factor: 0, for: 1s}", [
        ((17, 35), "burst needs a producer; 'q' is a queue"),
        ((17, 46), "factor: 0 is not a positive number"),
    ]),
    ("{at: 1s, action: outage, node: zz, for: x}", [
        ((17, 36), "unknown node 'zz' (nodes: p, q, d, f)"),
        ((17, 45), "for: 'x' is not a duration: use a number of seconds or a string such as "
                   "250ms, 2s, 1.5m, 1h, 3d"),
    ]),
    ("{at: 1s, action: set, node: f, concurrency: 0, bogus: 1}", [
        ((17, 49), "concurrency must be at least 1 (got 0)"),
        ((17, 52), "set cannot change 'bogus' of a function; it can change concurrency, "
                   "cold_start, idle_timeout, duration, errors, fails_on, timeout, batch_size, "
                   "batch_window, partial_batch, retries, backoff, max_event_age, on_failure, "
                   "breaker"),
    ]),
])
def test_a_step_with_a_broken_field_is_still_checked_for_the_rest(
    step: str, expected: list[tuple[tuple[int, int], str]],
) -> None:
    loaded = load(_WITH_STEPS.format(step=step))
    assert [(at(p), p.message) for p in loaded.problems] == expected


@pytest.mark.parametrize(("step", "expected"), [
    ("{at: 1s, action: redrive, node: d, rate: 1}", [
        ((17, 5), "missing required field 'from'"),
        ((17, 31), "unknown field 'node'. Valid fields: at, say, from, to, rate."),
    ]),
    ("{at: 1s, action: pause, node: f, for: 2s}", [
        ((17, 38), "unknown field 'for'. Valid fields: at, say, node."),
    ]),
    ("{at: 1s, action: outage, node: f, for: 2s, 5: 1}", [
        ((17, 48), "unknown field 5. Valid fields: at, say, node, for."),
    ]),
])
def test_an_unknown_field_in_a_step_lists_the_fields_of_its_action(
    step: str, expected: list[tuple[tuple[int, int], str]],
) -> None:
    loaded = load(_WITH_STEPS.format(step=step))
    assert [(at(p), p.message) for p in loaded.problems] == expected


def test_set_with_a_key_that_is_not_a_string_names_what_it_can_change() -> None:
    problem = step_error("{at: 1s, action: set, node: f, 5: 1}")
    assert problem.message.startswith("set cannot change 5 of a function; it can change "
                                      "concurrency, cold_start, ")
    assert at(problem) == (17, 36)


def test_a_step_that_is_not_a_mapping_is_shown_what_a_step_is() -> None:
    problem = step_error("5")
    assert problem.message == ("a scenario step must be a mapping such as "
                               "{at: 10s, action: pause, node: f} (got 5)")
    assert at(problem) == (17, 5)
