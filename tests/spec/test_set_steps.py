"""A `set` step must leave its node as valid as the file requires of nodes, and lint looks at
what the topology becomes after each `set`."""

from __future__ import annotations

from textwrap import dedent

from playground.spec import load_text

BASE = """\
    version: 1
    name: later
    nodes:
      p: {kind: producer, rate: 1, to: q}
      q: {kind: queue, type: fifo, to: f, visibility_timeout: 10s}
      f: {kind: function, timeout: 3s}
      s: {kind: store}
    scenario:
"""


def problems(*steps: str) -> list[tuple[int, int, str, str]]:
    text = dedent(BASE) + "".join(f"  - {step}\n" for step in steps)
    return [(p.line, p.column, p.severity, p.message) for p in load_text(text, "t.yaml").problems]


def test_a_set_cannot_put_a_batch_window_behind_a_fifo_queue():
    assert problems("{at: 1, action: set, node: f, batch_window: 1s}") == [
        (9, 35, "error", "after this set: batch_window is not allowed behind the fifo "
                         "queue 'q'")]


def test_a_set_dlq_or_on_failure_must_name_a_queue():
    found = problems("{at: 1, action: set, node: q, dlq: {queue: s, max_receives: 5}}",
                     "{at: 2, action: set, node: f, on_failure: s}")
    assert found == [
        (9, 48, "error", "after this set: a dlq must name a queue; 's' is a store"),
        (10, 47, "error", "after this set: on_failure must name a queue; 's' is a store")]


def test_a_set_filter_pattern_is_checked_where_it_is_written():
    (line, column, severity, message), = problems(
        "{at: 1, action: set, node: f, fails_on: {x: [{sufix: a}]}}")
    assert (line, column, severity) == (9, 50, "error")
    assert "unknown matcher 'sufix'" in message


def test_lint_warns_at_the_step_that_brings_the_mistake():
    found = problems("{at: 1, action: set, node: f, errors: 0.5}",
                     "{at: 2, action: set, node: q, visibility_timeout: 1s}")
    assert [(line, column, severity) for line, column, severity, _ in found] == [
        (9, 5, "warning"), (10, 5, "warning")]
    assert found[0][3].startswith("after this set: queue 'q' has no dlq but its consumer 'f' "
                                  "can fail")
    assert found[1][3].startswith("after this set: 'f' may run 3s but queue 'q' hides a "
                                  "message for only 1s")


def test_a_producer_with_a_limit_or_behind_filters_is_not_called_too_fast():
    text = dedent("""\
        version: 1
        name: fast
        nodes:
          once: {kind: producer, rate: 1000/s, limit: 10, to: q}
          stream: {kind: producer, rate: 100/s, to: t}
          t: {kind: topic, to: [{node: q, filter: {kind: [rare]}}]}
          q: {kind: queue, to: f}
          f: {kind: function, concurrency: 1, duration: 1s}
    """)
    assert [p.message for p in load_text(text, "t.yaml").problems] == []
