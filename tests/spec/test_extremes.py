"""Values at the edges, as an audit typed them: numbers too long or too big, YAML 1.1
booleans, payload placeholders written wrong, NaN where JSON has no NaN, rates finer than
the clock. Each gets a message at its line and column, never a traceback, and none stops
the clock of a run."""

from __future__ import annotations

from textwrap import dedent, indent

import pytest
from spec_text import at, load, only_error

from playground.spec.units import parse_duration

HEAD = "version: 1\nname: t\nnodes:\n"



def node_lines(text: str) -> str:
    """HEAD and then ``text``'s lines as entries of ``nodes``."""
    return HEAD + indent(dedent(text), "  ")




@pytest.mark.parametrize("field", ["rate: 1{}", "rate: 1{}/s"])
def test_a_number_too_long_to_read_is_refused_where_it_is(field: str) -> None:
    text = HEAD + "  p: {kind: producer, " + field.format("0" * 400) + ", to: f}\n" \
        "  f: {kind: function}\n"
    problem = only_error(text)
    assert at(problem) == (4, 29)
    if field.endswith("/s"):  # a string: read as a float, and refused as beyond one
        assert "is not a finite rate" in problem.message
    else:
        assert problem.message == "a number of 401 digits is too long: use at most 100"


def test_an_integer_beyond_a_float_is_not_a_finite_duration() -> None:
    # a file cannot hold one (at most 100 digits), but a live change from code can
    with pytest.raises(ValueError, match=r"^1000000000000000000000000000000000000\.\.\. is "
                                         "not a finite duration: use a number of seconds"):
        parse_duration(10**400)


def test_yaml_1_1_booleans_read_as_they_are_written() -> None:
    loaded = load("""\
        %YAML 1.1
        ---
        version: 1
        name: t
        nodes:
          f: {kind: function, partial_batch: yes}
          g: {kind: function, partial_batch: off}
        """)
    assert loaded.ok, loaded.problems
    assert loaded.require().nodes["f"].partial_batch is True
    assert loaded.require().nodes["g"].partial_batch is False


def test_a_tagged_boolean_that_is_none_is_refused() -> None:
    problem = only_error(HEAD + "  f: {kind: function, partial_batch: !!bool maybe}\n")
    assert (at(problem), problem.message) == ((4, 38), "'maybe' is not a boolean: use true "
                                                       "or false")


def test_an_extreme_lognormal_is_linted_without_overflowing() -> None:
    loaded = load(node_lines("""\
          p: {kind: producer, rate: 10/s, to: f}
          f: {kind: function, duration: {dist: lognormal, p50: 30ms, p99: 1e300}}
        """))
    assert loaded.ok
    # the mean of such a tail is beyond any float: nothing downstream can keep up
    assert [w.path for w in loaded.warnings] == ["nodes.p.rate"]


@pytest.mark.parametrize(("bound", "read"), [(".nan", "nan"), (".inf", "inf"),
                                            ("-.inf", "-inf")])
def test_a_numeric_filter_compares_with_a_finite_number(bound: str, read: str) -> None:
    problem = only_error(node_lines(f"""\
          t: {{kind: topic, to: [{{node: f, filter: {{x: [{{numeric: [">", {bound}]}}]}}}}]}}
          f: {{kind: function}}
        """))
    assert problem.message == f"numeric compares with a finite number (got {read})"
    assert problem.path == "nodes.t.to.0.filter.x.0.numeric"


# --- payload templates -----------------------------------------------------------------


TEMPLATE = HEAD + """\
  p:
    kind: producer
    rate: 10/s
    to: f
    payload:
      v: "{}"
  f: {{kind: function}}
"""


@pytest.mark.parametrize(("written", "message"), [
    ("{int:a..b}", "{int:a..b} is not a placeholder: use {int:A..B} with whole numbers A and "
                   "B, e.g. {int:1..500}"),
    ("c{int:1..}", "{int:1..} is not a placeholder: use {int:A..B} with whole numbers A and "
                   "B, e.g. {int:1..500}"),
    ("{int:5..1}", "{int:5..1}: the lower bound comes first, {int:1..5}"),
    ("{int:1..1234567890123456789}", "{int:1..1234567890123456789}: bounds of at most 18 "
                                     "digits"),
    ("{choice:}", "{choice:}: name the values to choose from, e.g. {choice:red,green,blue}"),
    ("{choice: , }", "{choice: , }: name the values to choose from, e.g. "
                     "{choice:red,green,blue}"),
    ("{choice}", "{choice} is not a placeholder: use {choice:a,b,c}"),
])
def test_a_placeholder_written_wrong_is_refused_at_its_value(written: str, message: str
                                                              ) -> None:
    problem = only_error(TEMPLATE.format(written))
    assert (at(problem), problem.message, problem.path) == ((9, 10), message,
                                                            "nodes.p.payload.v")


@pytest.mark.parametrize(("written", "meant"), [
    ("x{foo}y", ""), ("{SEQ}", "; did you mean {seq}?"), ("{uuid:4}", "; did you mean {uuid}?"),
])
def test_text_that_only_looks_like_a_placeholder_is_kept_with_a_warning(written: str,
                                                                       meant: str) -> None:
    loaded = load(TEMPLATE.format(written))
    assert loaded.ok
    (warning,) = loaded.warnings
    name = written[written.index("{"):written.index("}") + 1]
    assert warning.message == (f"{name} is not a placeholder and stays as text (placeholders "
                               "are {seq}, {uuid}, {now}, {int:A..B} and {choice:a,b,c})"
                               f"{meant}")


def test_every_placeholder_written_right_passes_without_a_word() -> None:
    loaded = load(TEMPLATE.format("{seq}-{uuid}-{now}-{int:-5..5}-{choice:a, b}"))
    assert loaded.ok and not loaded.problems


def test_nan_in_a_payload_is_refused_as_not_json() -> None:
    problem = only_error(node_lines("""\
          p: {kind: producer, rate: 1, to: f, payload: {a: {b: [1, .nan]}}}
          f: {kind: function}
        """))
    assert problem.path == "nodes.p.payload.a.b.1"
    assert problem.message.startswith("a payload is JSON: NaN and infinity are not numbers")


def test_a_payload_given_by_set_is_checked_too() -> None:
    problem = only_error(HEAD + dedent("""\
          p: {kind: producer, rate: 1, to: f}
          f: {kind: function}
        scenario:
          - {at: 1s, action: set, node: p, payload: {v: "{int:9..1}"}}
        """))
    assert problem.path == "scenario.0.payload.v"
    assert problem.message == "{int:9..1}: the lower bound comes first, {int:1..9}"


# --- rates finer than the clock ----------------------------------------------------------


def test_a_rate_above_a_million_per_second_is_refused() -> None:
    problem = only_error(HEAD + "  p: {kind: producer, rate: 2M/s, to: f}\n"
                                "  f: {kind: function}\n")
    assert problem.message == ("'2M/s' is too fast: the clock counts microseconds, so a rate "
                               "is at most 1M/s")


def test_a_burst_past_a_million_per_second_is_refused_at_its_factor() -> None:
    problem = only_error(HEAD + dedent("""\
          p: {kind: producer, rate: 10, to: f}
          f: {kind: function}
        scenario:
          - {at: 1s, action: burst, node: p, factor: 1e308, for: 1s}
        """))
    assert problem.path == "scenario.0.factor"
    assert problem.message == ("a burst of x1e+308 takes 'p' past 1M/s (the clock counts "
                               "microseconds, so a rate is at most 1M/s)")


def test_a_bug_in_the_checks_is_a_problem_at_the_top_not_a_traceback(monkeypatch) -> None:
    from playground.spec import loader

    def broken(*_: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(loader.Linter, "run", broken)
    problem = only_error(HEAD + "  f: {kind: function}\n")
    assert at(problem) == (1, 1)
    assert problem.message.startswith("playground could not check this file "
                                      "(ZeroDivisionError: division by zero)")


@pytest.mark.parametrize(("field", "message"), [
    ("concurrency: '10'", "concurrency must be a whole number (got '10')"),
    ("retries: 1.5", "retries must be a whole number (got 1.5)"),
    ("partial_batch: 'yes'", "partial_batch must be true or false (got 'yes')"),
    ("partial_batch: 1", "partial_batch must be true or false (got 1)"),
])
def test_a_value_of_the_wrong_type_is_refused_not_converted(field: str, message: str) -> None:
    line = f"  f: {{kind: function, {field}}}"
    problem = only_error(HEAD + line + "\n")
    value = line.index(field.split(": ")[1]) + 1
    assert (at(problem), problem.message) == ((4, value), message)


def test_a_seed_written_as_text_and_idempotent_as_a_word_are_refused() -> None:
    loaded = load(HEAD.replace("name: t\n", "name: t\nseed: '5'\n") +
                  "  s: {kind: store, idempotent: 'yes'}\n")
    assert [p.message for p in loaded.errors] == [
        "seed must be a whole number (got '5')",
        "idempotent must be true, false or {key: FIELD} (got 'yes')"]
