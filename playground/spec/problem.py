"""A problem found in a topology file, with where it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from playground.spec.source import as_written

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding. ``line`` and ``column`` count from 1, as editors show them."""

    file: str
    line: int
    column: int
    message: str
    severity: Severity = "error"
    path: str = ""  # dotted path of the offending key, e.g. nodes.orders.visibility_timeout

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        where = f" ({self.path})" if self.path else ""
        return f"{self.file}:{self.line}:{self.column}: {prefix}{self.message}{where}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def dotted(path: tuple[Any, ...]) -> str:
    """A data path as :attr:`Problem.path` shows it; keys that are no string as YAML writes
    them (``nodes.null``, not ``nodes.None``)."""
    return ".".join(as_written(p) for p in path)


def sort_key(problem: Problem) -> tuple[int, int, str]:
    return problem.line, problem.column, problem.message


class TopologyError(Exception):
    """Raised when a file cannot be loaded; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=sort_key)
        super().__init__("\n".join(str(p) for p in self.problems))
