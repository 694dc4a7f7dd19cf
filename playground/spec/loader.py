"""Loading a topology file: safe YAML, the schema, the semantic checks and lint, all at once."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from playground.spec import model as m
from playground.spec.checks import Checker, valid_parts
from playground.spec.errors import from_validation_error
from playground.spec.lint import Linter
from playground.spec.problem import Problem, TopologyError, dotted, sort_key
from playground.spec.source import MAX_BYTES, SourceMap, SourceProblem, decode, read, too_large


@dataclass
class Loaded:
    """What loading a file found: the topology (when it has no errors) and every problem."""

    file: str
    topology: m.Topology | None
    problems: list[Problem] = field(default_factory=list)
    source: SourceMap = field(default_factory=SourceMap)
    data: Any = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        return self.topology is not None and not self.errors

    def require(self) -> m.Topology:
        """The topology, or :class:`TopologyError` carrying every error."""
        if self.topology is None or self.errors:
            raise TopologyError(self.errors)
        return self.topology


def load_text(text: str | bytes, file: str = "<text>", *, lint: bool = True) -> Loaded:
    """Reads ``text`` as a topology. Never raises for bad input: problems are in the result."""
    try:
        return _load_text(text, file, lint)
    except Exception as error:  # a bug of ours must not cost the user an edit
        return Loaded(file, None, [Problem(
            file, 1, 1, f"playground could not check this file ({type(error).__name__}: "
                        f"{error}); this is a bug in playground, please report it with the "
                        "file")])


def _load_text(text: str | bytes, file: str, lint: bool) -> Loaded:
    try:
        if isinstance(text, bytes):
            text = decode(text)
        data, source = read(text)
    except SourceProblem as error:
        problems = [Problem(file, where.line, where.column, message)
                    for where, message in error.problems]
        return Loaded(file, None, sorted(problems, key=sort_key))
    loaded = Loaded(file, None, source=source, data=data)
    if data is None:
        loaded.problems.append(Problem(file, 1, 1, "the file is empty: a topology needs at "
                                                   "least version: 1, name and nodes"))
        return loaded
    if not isinstance(data, dict):
        what = "a list" if isinstance(data, list) else f"the value {data!r}"
        loaded.problems.append(Problem(file, 1, 1, f"a topology is a mapping with version, name "
                                                   f"and nodes; this file holds {what}"))
        return loaded

    def add(path: tuple[Any, ...], message: str, at_key: bool, severity: str = "error") -> None:
        where = source.key(path) if at_key else source.value(path)
        loaded.problems.append(Problem(file, where.line, where.column, message,
                                       severity,  # type: ignore[arg-type]
                                       dotted(path)))

    for path, where, message in source.clashes:
        loaded.problems.append(Problem(file, where.line, where.column, message, "error",
                                       dotted(path)))
    topology: m.Topology | None = None
    try:
        topology = m.Topology.model_validate(data)
    except ValidationError as error:
        for path, where, message in from_validation_error(error, data, source):
            loaded.problems.append(Problem(file, where.line, where.column, message, "error",
                                           dotted(path)))
    nodes, steps, broken = valid_parts(data)
    for path, message, at_key in Checker(data, nodes, steps, broken).run():
        add(path, message, at_key)
    if topology is not None and not loaded.errors:
        loaded.topology = topology
        if lint:
            for path, message, at_key in Linter(topology).run():
                add(path, message, at_key, "warning")
    loaded.problems.sort(key=sort_key)
    return loaded


def load_file(path: str | Path, *, lint: bool = True) -> Loaded:
    """Reads a topology file; a file that cannot be read is a problem, not an exception."""
    name = str(path)
    try:
        with Path(path).open("rb") as handle:
            # no more than it takes to refuse it: a huge file must not be read whole
            raw = handle.read(MAX_BYTES + 1)
            size = max(len(raw), os.fstat(handle.fileno()).st_size)
    except OSError as error:
        reason = error.strerror or str(error)
        return Loaded(name, None, [Problem(name, 1, 1, f"cannot read the file: {reason}")])
    if size > MAX_BYTES:
        ((where, message),) = too_large(size).problems
        return Loaded(name, None, [Problem(name, where.line, where.column, message)])
    return load_text(raw, name, lint=lint)


def load(path: str | Path) -> m.Topology:
    """The topology in ``path``, or :class:`TopologyError` with every error in it."""
    return load_file(path, lint=False).require()
