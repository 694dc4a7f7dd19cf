"""Durations, rates, probabilities and distributions: the values they mean and how bad ones
are refused, both by the parsers and as a user sees it in a loaded file."""

from __future__ import annotations

import math
import re
from textwrap import dedent

import pytest
from pydantic import TypeAdapter, ValidationError

from playground.spec import load_text
from playground.spec.distribution import (
    Distribution,
    Exponential,
    Fixed,
    Lognormal,
    Normal,
    Uniform,
)
from playground.spec.units import (
    format_duration,
    format_rate,
    parse_duration,
    parse_probability,
    parse_rate,
)

DURATION_FORMS = "250ms, 2s, 1.5m, 1h, 3d"
RATE_FORMS = "200/s, 3000/min, 5k/s, 2/ms"
DIST = TypeAdapter(Distribution)


@pytest.mark.parametrize(("written", "seconds"), [
    ("250ms", 0.25), ("2s", 2.0), ("1.5m", 90.0), ("1h", 3600.0), ("3d", 259_200.0),
    ("10min", 600.0), ("500us", 0.0005), (".5s", 0.5), ("0s", 0.0), (" 2 s ", 2.0),
    (0, 0.0), (2, 2.0), (0.75, 0.75),
])
def test_durations_read_as_seconds(written: object, seconds: float) -> None:
    assert parse_duration(written) == pytest.approx(seconds)


@pytest.mark.parametrize("written", [
    "2", "fast", "", "s", "2 parsecs", "2ss", "1e3s", "2s s", "1,5m", True, None, [2], {"s": 2},
])
def test_a_duration_in_no_known_form_is_refused_naming_the_forms(written: object) -> None:
    with pytest.raises(ValueError, match="is not a duration") as refused:
        parse_duration(written)
    assert DURATION_FORMS in str(refused.value)


@pytest.mark.parametrize("written", [-1, -0.5, "-2s", "-250ms"])
def test_a_negative_duration_is_refused(written: object) -> None:
    with pytest.raises(ValueError, match="a duration cannot be negative"):
        parse_duration(written)


@pytest.mark.parametrize("written", [math.inf, -math.inf, math.nan])
def test_a_duration_that_is_not_finite_is_refused(written: float) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(written)


@pytest.mark.parametrize(("written", "per_second"), [
    ("200/s", 200.0), ("3000/min", 50.0), ("5k/s", 5000.0), ("2/ms", 2000.0),
    ("60/m", 1.0), ("3600/h", 1.0), ("1.5M/min", 25_000.0), (" 7 / s ", 7.0),
    (10, 10.0), (0.5, 0.5),
])
def test_rates_read_as_per_second(written: object, per_second: float) -> None:
    assert parse_rate(written) == pytest.approx(per_second)


@pytest.mark.parametrize("written", [
    "200", "fast", "", "/s", "5x/s", "200/sec", "200 per s", "2s", True, None, [200],
])
def test_a_rate_in_no_known_form_is_refused_naming_the_forms(written: object) -> None:
    with pytest.raises(ValueError, match="is not a rate") as refused:
        parse_rate(written)
    assert RATE_FORMS in str(refused.value)


@pytest.mark.parametrize("written", [0, 0.0, -1, "0/s", "-5/s", "0k/min"])
def test_a_rate_that_is_not_positive_is_refused(written: object) -> None:
    with pytest.raises(ValueError, match="a rate must be positive"):
        parse_rate(written)


@pytest.mark.parametrize("written", [0, 1, 0.5, 1.0, 0.0])
def test_probabilities_from_0_to_1(written: float) -> None:
    assert parse_probability(written) == float(written)


@pytest.mark.parametrize("written", [1.5, -0.1, "0.5", "50%", True, None, math.nan])
def test_a_probability_outside_0_to_1_is_refused(written: object) -> None:
    with pytest.raises(ValueError, match="use a number from 0 to 1"):
        parse_probability(written)


@pytest.mark.parametrize("seconds", [0.001, 0.25, 1.0, 2.5, 90.0, 3600.0, 86400.0, 4 * 86400.0])
def test_a_formatted_duration_reads_back_the_same(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)


@pytest.mark.parametrize(("seconds", "shown"), [
    (0.1, "100ms"), (0.25, "250ms"), (900.0, "15m"), (90.0, "90s"), (930.0, "930s"),
    (1.5, "1.5s"), (29.5, "29.5s"), (0.0015, "1.5ms"), (1e-7, "0.0000001s")])
def test_a_duration_is_shown_as_a_user_would_write_it(seconds: float, shown: str) -> None:
    # a lint warning once read "29500ms is kept here" for a timeout of 29.5s
    assert format_duration(seconds) == shown


@pytest.mark.parametrize("per_second", [0.5, 1.0, 200.0, 5000.0, 1234.5])
def test_a_formatted_rate_reads_back_the_same(per_second: float) -> None:
    assert parse_rate(format_rate(per_second)) == pytest.approx(per_second)


# --- distributions -------------------------------------------------------------------------


def test_a_bare_duration_is_a_fixed_distribution() -> None:
    assert DIST.validate_python("20ms") == Fixed(value=0.02)
    assert DIST.validate_python(3) == Fixed(value=3.0)
    assert DIST.validate_python("1.5m").expected == 90.0


def test_exponential_reads_its_mean() -> None:
    dist = DIST.validate_python({"dist": "exponential", "mean": "200ms"})
    assert dist == Exponential(dist="exponential", mean=0.2)
    assert dist.expected == pytest.approx(0.2)


def test_uniform_reads_its_bounds_and_averages_them() -> None:
    dist = DIST.validate_python({"dist": "uniform", "min": "10ms", "max": 0.03})
    assert dist == Uniform(dist="uniform", min=0.01, max=0.03)
    assert dist.expected == pytest.approx(0.02)


def test_normal_reads_mean_and_sd_and_its_expectation_is_truncated_at_zero() -> None:
    dist = DIST.validate_python({"dist": "normal", "mean": "1s", "sd": "100ms"})
    assert dist == Normal(dist="normal", mean=1.0, sd=0.1)
    assert dist.expected == pytest.approx(1.0)
    # mean 0: half a normal folded at zero has mean sd * sqrt(2 / pi)
    folded = DIST.validate_python({"dist": "normal", "mean": 0, "sd": 1})
    assert folded.expected == pytest.approx(math.sqrt(2 / math.pi))


def test_lognormal_is_given_by_its_median_and_99th_percentile() -> None:
    dist = DIST.validate_python({"dist": "lognormal", "p50": "20ms", "p99": "200ms"})
    assert isinstance(dist, Lognormal)
    assert (dist.p50, dist.p99) == (pytest.approx(0.02), pytest.approx(0.2))
    assert dist.mu == pytest.approx(math.log(0.02))
    # the 99th percentile of the lognormal is exp(mu + z99 * sigma)
    assert math.exp(dist.mu + 2.3263478740408408 * dist.sigma) == pytest.approx(0.2)


@pytest.mark.parametrize(("written", "message"), [
    ({"dist": "uniform", "min": "2s", "max": "1s"}, "max (1s) is below min (2s)"),
    ({"dist": "lognormal", "p50": "2s", "p99": "1s"}, "p99 (1s) is below p50 (2s)"),
    ({"dist": "lognormal", "p50": 0, "p99": "1s"}, "p50 must be above 0"),
    ({"dist": "normal", "mean": "1s", "sd": "-1s"}, "a duration cannot be negative"),
])
def test_a_distribution_that_cannot_be_is_refused(written: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        DIST.validate_python(written)


def _function_with(duration: str) -> str:
    return dedent(f"""\
        version: 1
        name: units
        nodes:
          f:
            kind: function
            duration: {duration}
        """)


@pytest.mark.parametrize(("written", "message"), [
    ("{dist: gamma, mean: 1s}", "duration: not a distribution: use a duration (such as 20ms) "
                                "or {dist: exponential|uniform|normal|lognormal, ...}"),
    ("[1, 2]", f"[1, 2] is not a duration: use a number of seconds or a string such as "
               f"{DURATION_FORMS}"),
    ("fast", "'fast' is not a duration: use a number of seconds or a string such as "
             + DURATION_FORMS),
    ("{dist: uniform, min: 1s}", "missing required field 'max'"),
    ("{dist: exponential, mean: 1s, sd: 1s}", "unknown field 'sd'. Valid fields: dist, mean."),
    ("{dist: normal, mean: 1s, sdd: 1s}", "unknown field 'sdd'; did you mean 'sd'?"),
])
def test_a_bad_distribution_in_a_file_names_what_is_valid(written: str, message: str) -> None:
    loaded = load_text(_function_with(written), "units.yaml")
    assert not loaded.ok
    assert any(message in p.message for p in loaded.errors), loaded.errors
    assert all(p.line == 6 for p in loaded.errors)


@pytest.mark.parametrize(("field", "written", "message"), [
    ("visibility_timeout", "30 secs", f"'30 secs' is not a duration: use a number of seconds or "
                                      f"a string such as {DURATION_FORMS}"),
    ("visibility_timeout", "-1s", "visibility_timeout: a duration cannot be negative"),
    ("capacity", "lots", "capacity must be a whole number (got 'lots')"),
])
def test_a_bad_unit_in_a_file_points_at_the_value(field: str, written: str, message: str) -> None:
    text = dedent(f"""\
        version: 1
        name: units
        nodes:
          q:
            kind: queue
            {field}: {written}
        """)
    (problem,) = load_text(text, "units.yaml").problems
    assert message in problem.message
    assert (problem.line, problem.column) == (6, 7 + len(field))
    assert problem.path == f"nodes.q.{field}"
    assert str(problem).startswith(f"units.yaml:6:{7 + len(field)}: ")


def test_a_bad_rate_in_a_file_names_the_forms() -> None:
    text = dedent("""\
        version: 1
        name: units
        nodes:
          p:
            kind: producer
            rate: 200 per second
            to: q
          q:
            kind: queue
        """)
    (problem,) = load_text(text, "units.yaml").problems
    assert problem.message == ("'200 per second' is not a rate: use a number per second or "
                               f"a string such as {RATE_FORMS}")
    assert (problem.line, problem.column) == (6, 11)
