"""Inline topology text for the spec tests: load it, take its one error, say where it is."""

from __future__ import annotations

from textwrap import dedent

from playground.spec import Loaded, Problem, load_text


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
