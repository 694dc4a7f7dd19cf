"""Whatever it is given, loading answers with problems, never with an exception.

Random text and bytes, random YAML documents, and near-valid mutations of a valid topology:
``load_text`` must not raise, every problem must point inside the text, and no message may
leak a traceback. Hostile files (huge, deeply nested, alias bombs, code-running tags) are
refused quickly and without side effects.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from playground.spec import Loaded, load_file, load_text
from playground.spec.model import ACTIONS, KINDS

# Bounded and derandomized: the same examples every run, and no database in the repository.
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
# Refusing a hostile file must be quick; the bound is generous (the slowest case, 10,000 `[`,
# takes about 1.5 s on one core) so that a machine busy with other tests still passes.
QUICKLY = 10.0

BASE = dedent("""\
    # yaml-language-server: $schema=./schema.json
    version: 1
    name: fuzz-base
    description: |
      Every kind, a filter, distributions and a scenario.
    seed: 7
    duration: 2m
    nodes:
      client:
        kind: producer
        rate: 50/s
        pattern: constant
        payload: {id: "{seq}", amount: "{int:1..500}", region: "{choice:eu-west,us-east}"}
        to: api
      api:
        kind: gateway
        to: orders
        throttle: {rate: 100/s, burst: 20}
        latency: {dist: lognormal, p50: 5ms, p99: 40ms}
      orders:
        kind: topic
        to:
          - node: eu
            filter: {region: [{prefix: eu-}], amount: [{numeric: [">", 100]}]}
          - audit
        dlq: lost
      eu:
        kind: queue
        visibility_timeout: 30s
        dlq: {queue: dead, max_receives: 5}
        to: worker
      dead:
        kind: queue
      lost:
        kind: queue
      worker:
        kind: function
        concurrency: 5
        duration: {dist: exponential, mean: 20ms}
        cold_start: {dist: uniform, min: 100ms, max: 300ms}
        batch_size: 10
        to: table
      audit:
        kind: function
        duration: {dist: normal, mean: 10ms, sd: 2ms}
        on_failure: lost
        to: table
      table:
        kind: store
        capacity: 1000/s
        idempotent: true
    scenario:
      - {at: 10s, action: burst, node: client, factor: 3, for: 5s, say: "a burst"}
      - {at: 20s, action: outage, node: table, for: 2s}
      - {at: 30s, action: redrive, from: dead, rate: 10/s}
      - {at: 40s, action: set, node: worker, concurrency: 20}
    layout: {client: [0, 0], api: [1, 0]}
    """)


def assert_sane(text: str | bytes, loaded: Loaded) -> None:
    """Every problem points inside ``text`` and reads as a message, not a crash."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    # YAML breaks lines on fewer characters than str.splitlines, so this bounds both counts.
    lines = len(text.splitlines()) + 1
    for problem in loaded.problems:
        assert 1 <= problem.line <= lines, problem
        assert 1 <= problem.column <= len(text) + 1, problem
        assert problem.message, problem
        assert "Traceback" not in problem.message, problem
        assert "internal error" not in problem.message.lower(), problem
        assert problem.severity in ("error", "warning")
    if loaded.topology is not None:
        assert loaded.errors == []
    else:
        assert loaded.errors, "refused without saying why"


def test_the_base_topology_is_valid() -> None:
    loaded = load_text(BASE, "base.yaml")
    assert loaded.errors == [], "\n".join(map(str, loaded.problems))
    assert loaded.ok


# --- random input --------------------------------------------------------------------------


@FUZZ
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    assert_sane(text, load_text(text))


@FUZZ
@given(st.text(alphabet=":-[]{}#&*!|>'\"%@`,? \n\tabcdefk0123456789.", max_size=300))
def test_random_yaml_punctuation(text: str) -> None:
    assert_sane(text, load_text(text))


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes(raw: bytes) -> None:
    assert_sane(raw, load_text(raw))


_WORDS = st.sampled_from([
    "version", "name", "nodes", "kind", "to", "rate", "dlq", "queue", "max_receives", "filter",
    "node", "scenario", "at", "action", "from", "for", "duration", "dist", "mean", "timeout",
    "visibility_timeout", "batch_window", "type", "fifo", "on_failure", "layout", "a", "b", "f",
    *KINDS, *ACTIONS,
])
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8), _WORDS,
    st.sampled_from(["10ms", "2s", "-1s", "0/s", "5k/s", "1.5m", "3d", "{seq}", "eu-"]),
)
_KEYS = st.one_of(_WORDS, st.text(max_size=6), st.integers(-3, 3), st.booleans(), st.none())
_DOCS = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(_KEYS, inner, max_size=5)),
    max_leaves=30,
)


def _yaml(data: Any) -> str:
    out = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(data, out)
    return out.getvalue()


@FUZZ
@given(_DOCS, st.booleans())
def test_random_yaml_documents(data: Any, as_json: bool) -> None:
    text = json.dumps(data) if as_json else _yaml(data)
    assert_sane(text, load_text(text))


_IDS = st.sampled_from(["a", "b", "c", "q", "f", "s", "Bad", "nope"])
_TARGET = st.one_of(_IDS, st.fixed_dictionaries({"node": _IDS}, optional={"filter": _DOCS}))
_NODE = st.fixed_dictionaries(
    {"kind": st.sampled_from([*KINDS, "lambda"])},
    optional={
        "to": st.one_of(_IDS, st.lists(_TARGET, max_size=3)),
        "rate": _SCALARS, "dlq": st.one_of(_IDS, st.fixed_dictionaries(
            {"queue": _IDS, "max_receives": st.integers(-1, 9)})),
        "type": st.sampled_from(["standard", "fifo", "lifo"]), "on_failure": _IDS,
        "batch_window": _SCALARS, "timeout": _SCALARS, "retries": st.integers(-1, 5),
        "duration": st.one_of(_SCALARS, st.fixed_dictionaries(
            {"dist": st.sampled_from(["exponential", "uniform", "normal", "lognormal", "x"])},
            optional={"mean": _SCALARS, "min": _SCALARS, "max": _SCALARS, "sd": _SCALARS,
                      "p50": _SCALARS, "p99": _SCALARS})),
        "retention": _SCALARS, "capacity": _SCALARS, "errors": _SCALARS, "fails_on": _DOCS,
    },
)
_STEP = st.fixed_dictionaries(
    {"at": _SCALARS, "action": st.sampled_from([*ACTIONS, "explode"])},
    optional={"node": _IDS, "from": _IDS, "to": _IDS, "rate": _SCALARS, "for": _SCALARS,
              "factor": _SCALARS, "concurrency": _SCALARS, "memory": _SCALARS},
)
_TOPOLOGIES = st.fixed_dictionaries(
    {"version": st.sampled_from([1, 1, 1, 2, "1"]), "name": st.just("fuzz"),
     "nodes": st.dictionaries(st.one_of(_IDS, st.integers(0, 2), st.none()), _NODE,
                              max_size=6)},
    optional={"scenario": st.lists(_STEP, max_size=3),
              "layout": st.dictionaries(st.one_of(_IDS, st.integers(0, 2)),
                                        st.lists(st.integers(0, 3), max_size=3))},
)


@FUZZ
@given(_TOPOLOGIES)
def test_random_topologies(data: dict[str, Any]) -> None:
    text = _yaml(data)
    assert_sane(text, load_text(text))


# --- near-valid: a valid topology, slightly broken -------------------------------------------

_VALUES = ["[1, 2]", "{a: 1}", "''", "-1", "-5s", "0", "true", "null", "3.5", "1e400", ".nan",
           "0x1F", "[", "{", "!!str 5", "&a x", "*a", "!foo x", "'unclosed", "|", "- x"]
_UNITS = ["ms", "s", "m", "min", "h", "d", "/s", "/min", "/ms", "k/s", "parsecs", "", "/", "us"]


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    text = BASE
    for _ in range(draw(st.integers(1, 3))):
        lines = text.splitlines(keepends=True) or [""]
        i = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["delete", "retype", "garbage", "duplicate", "truncate",
                                    "units", "indent"]))
        if how == "delete":
            del lines[i]
        elif how == "retype" and ": " in lines[i]:
            key = lines[i].split(": ", 1)[0]
            lines[i] = f"{key}: {draw(st.sampled_from(_VALUES))}\n"
        elif how == "garbage":
            cut = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:cut] + draw(st.text(max_size=6)) + lines[i][cut:]
        elif how == "duplicate":
            lines.insert(i, lines[i])
        elif how == "indent":
            lines[i] = " " * draw(st.integers(0, 3)) + lines[i].lstrip(" ")
        elif how == "units":
            for unit in sorted(_UNITS, key=len, reverse=True):
                if unit and unit in lines[i]:
                    lines[i] = lines[i].replace(unit, draw(st.sampled_from(_UNITS)), 1)
                    break
        text = "".join(lines)
        if how == "truncate":
            text = text[:draw(st.integers(0, len(text)))]
    return text


@settings(FUZZ, max_examples=300)
@given(_mutated())
def test_near_valid_mutations(text: str) -> None:
    assert_sane(text, load_text(text, "mutated.yaml"))


# --- hostile files -------------------------------------------------------------------------


def _timed(text: str | bytes) -> tuple[Loaded, float]:
    start = time.perf_counter()
    loaded = load_text(text, "hostile.yaml")
    return loaded, time.perf_counter() - start


@pytest.mark.parametrize("as_bytes", [True, False])
def test_a_file_over_2_mb_is_refused_quickly(as_bytes: bool) -> None:
    raw = b"version: 1\n" + b"# padding padding padding\n" * 2_000_000  # about 52 MB
    loaded, seconds = _timed(raw if as_bytes else raw.decode())
    assert seconds < QUICKLY
    (problem,) = loaded.problems
    assert problem.message == "the file is 52.0 MB; a topology may be at most 2 MB"
    assert (problem.line, problem.column) == (1, 1)


def test_a_huge_file_on_disk_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(50_000_000)  # sparse: 50 MB long, next to nothing written
    start = time.perf_counter()
    loaded = load_file(path)
    assert time.perf_counter() - start < QUICKLY
    assert [p.message for p in loaded.problems] == [
        "the file is 50.0 MB; a topology may be at most 2 MB"]


_DEEP = {
    "flow lists": "[" * 10_000,
    "flow mappings": "{a: " * 10_000,
    "block lists": "- " * 10_000 + "x\n",
    "block mappings": "".join(" " * i + "k:\n" for i in range(1_500)),  # about 1.1 MB
    "mixed": "".join(" " * i + "k:\n" for i in range(40)) + " " * 40 + "[{a: " * 2_000,
}


@pytest.mark.parametrize("name", _DEEP)
def test_deep_nesting_is_refused_quickly(name: str) -> None:
    text = _DEEP[name]
    loaded, seconds = _timed(text)
    assert seconds < QUICKLY
    assert_sane(text, loaded)
    assert loaded.topology is None
    assert any("nested too deeply (more than 64 levels)" in p.message for p in loaded.problems)


def test_ten_thousand_levels_of_block_mappings_are_refused_quickly() -> None:
    # indentation grows with depth, so 10,000 levels are far over the size limit
    text = "".join(" " * i + "k:\n" for i in range(10_000))
    loaded, seconds = _timed(text)
    assert seconds < QUICKLY
    assert [p.message for p in loaded.problems] == [
        "the file is 50.0 MB; a topology may be at most 2 MB"]


def test_an_alias_bomb_is_refused_quickly() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]")
    loaded, seconds = _timed("\n".join(lines) + "\n")
    assert seconds < QUICKLY
    assert any("expands to more than 200000 values (aliases?)" in p.message
               for p in loaded.problems)


@pytest.mark.parametrize("form", [
    "name: !!python/object/apply:os.system [\"touch {marker}\"]",
    "name: !!python/object/new:os.system [\"touch {marker}\"]",
    "name: !!python/name:os.system\n",
    "name: !!python/object:os.system {{cmd: \"touch {marker}\"}}",
    "name: !foo \"touch {marker}\"",
    "name: x\nnodes:\n  p:\n    kind: producer\n    rate: 1\n    to: q\n    payload:\n"
    "      cmd: !!python/object/apply:os.system [\"touch {marker}\"]\n  q: {{kind: queue}}",
    "!!python/name:os.system touch: 1",
], ids=["apply", "new", "name", "object", "custom", "in a payload", "as a key"])
def test_code_running_tags_are_refused_and_run_nothing(tmp_path: Path, form: str) -> None:
    marker = tmp_path / f"pwned-{uuid.uuid4().hex}"
    text = "version: 1\n" + form.format(marker=marker) + "\n"
    loaded = load_text(text, "evil.yaml")
    assert not marker.exists()
    assert loaded.topology is None
    assert any("is not allowed: a topology holds only mappings, lists, strings, numbers, "
               "booleans and null" in p.message for p in loaded.problems), loaded.problems
    assert_sane(text, loaded)


def _chain(length: int, last: str) -> str:
    lines = ["version: 1", "name: chain", "nodes:", "  p: {kind: producer, rate: 1/s, to: q}",
             "  q: {kind: queue, to: f0}"]
    lines += [f"  f{i}: {{kind: function, to: f{i + 1}}}" for i in range(length - 1)]
    lines.append(f"  f{length - 1}: {{kind: function, to: {last}}}")
    return "\n".join(lines) + "\n"


def test_a_long_chain_of_calls_closing_a_cycle_is_found() -> None:
    loaded = load_text(_chain(3_000, "f0"))
    (problem,) = loaded.problems
    assert problem.message.startswith("a cycle of synchronous calls: f0 -> f1 -> f2 -> ")
    assert (problem.line, problem.column) == (3_005, 31)


def test_a_long_chain_of_calls_still_loads() -> None:
    loaded = load_text(_chain(3_000, "s") + "  s: {kind: store}\n")
    assert loaded.ok
    assert [(p.line, p.column, p.message) for p in loaded.warnings] == [
        (1, 1, "lint stopped: the chains of nodes are too long for its estimates")]


def test_calls_fanning_out_at_every_level_are_linted_quickly() -> None:
    # every function calls both functions of the next layer: 2^40 paths, 80 nodes
    lines = ["version: 1", "name: fan", "nodes:", "  p: {kind: producer, rate: 1/s, to: q}",
             "  q: {kind: queue, to: a0}"]
    for i in range(40):
        after = f", to: [a{i + 1}, b{i + 1}]" if i < 39 else ""
        lines += [f"  a{i}: {{kind: function{after}}}", f"  b{i}: {{kind: function{after}}}"]
    loaded, seconds = _timed("\n".join(lines) + "\n")
    assert seconds < QUICKLY
    assert loaded.ok
    assert [p.path for p in loaded.warnings] == ["nodes.p.rate"]


# --- valid by construction: no false refusals, and lint copes with anything valid -----------

_DURATIONS = st.sampled_from([0, 0.5, "0s", "250ms", "2s", "1.5m", "1h", "3d"])
_RATES = st.sampled_from([1, 0.5, "200/s", "3000/min", "5k/s", "2/ms"])
_DISTS = st.one_of(
    _DURATIONS,
    st.builds(lambda m: {"dist": "exponential", "mean": m}, _DURATIONS),
    st.builds(lambda a: {"dist": "uniform", "min": a, "max": "4d"}, _DURATIONS),
    st.builds(lambda m, sd: {"dist": "normal", "mean": m, "sd": sd}, _DURATIONS, _DURATIONS),
    st.just({"dist": "lognormal", "p50": "20ms", "p99": "1s"}),
)
_FILTERS = st.sampled_from([
    {"region": ["eu-west", {"prefix": "us-"}]}, {"amount": [{"numeric": [">=", 100, "<", 200]}]},
    {"vip": [{"exists": True}]}, {"status": [{"anything-but": ["test"]}]},
    {"customer": {"tier": ["gold"]}},
])
# the kinds each kind may send to, from the spec's table
_SENDS = {"producer": ("gateway", "queue", "topic", "function"),
          "gateway": ("queue", "topic", "function"), "queue": ("function",),
          "topic": ("queue", "function"), "function": ("queue", "topic", "function", "store"),
          "store": ()}


@st.composite
def _valid_topologies(draw: st.DrawFn) -> dict[str, Any]:
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=9))
    ids = [f"n{i}" for i in range(len(kinds))]
    nodes: dict[str, dict[str, Any]] = {}
    for i, (node_id, kind) in enumerate(zip(ids, kinds, strict=True)):
        # functions call only later functions: no synchronous cycle
        can = [j for j, k in enumerate(kinds) if k in _SENDS[kind] and j != i
               and (kind != "function" or k != "function" or j > i)]
        node: dict[str, Any] = {"kind": kind}
        if kind in ("producer", "gateway"):
            if not can:
                kinds.append("function")
                ids.append(f"n{len(ids)}")
                can = [len(ids) - 1]
            node["to"] = ids[draw(st.sampled_from(can))]
        elif can and kind != "store":
            chosen = draw(st.lists(st.sampled_from(can), unique=True, max_size=3))
            node["to"] = [({"node": ids[j], "filter": draw(_FILTERS)}
                           if kind == "topic" and draw(st.booleans()) else ids[j])
                          for j in chosen]
        nodes[node_id] = node
    for node_id, kind in zip(ids, kinds, strict=True):
        node = nodes.setdefault(node_id, {"kind": kind})
        queues = [i for i, k in zip(ids, kinds, strict=True) if k == "queue" and i != node_id]
        if kind == "producer":
            node.update(rate=draw(_RATES), pattern=draw(st.sampled_from(["constant", "poisson"])),
                        payload={"id": "{seq}", "n": "{int:1..5}"})
        elif kind == "gateway":
            node.update(latency=draw(_DISTS), timeout=draw(_DURATIONS))
            if draw(st.booleans()):
                node["throttle"] = {"rate": draw(_RATES), "burst": draw(st.integers(1, 50))}
        elif kind == "queue":
            node.update(visibility_timeout=draw(_DURATIONS), retention=draw(_DURATIONS),
                        capacity=draw(st.integers(1, 1000)))
            if queues and draw(st.booleans()):
                node["dlq"] = {"queue": draw(st.sampled_from(queues)),
                               "max_receives": draw(st.integers(1, 10))}
        elif kind == "topic":
            node.setdefault("to", [])
            if queues and draw(st.booleans()):
                node["dlq"] = draw(st.sampled_from(queues))
        elif kind == "function":
            node.update(duration=draw(_DISTS), cold_start=draw(_DISTS),
                        errors=draw(st.sampled_from([0, 0.01, 1])),
                        retries=draw(st.integers(0, 4)), timeout=draw(_DURATIONS),
                        batch_size=draw(st.integers(1, 20)))
            if queues and draw(st.booleans()):
                node["on_failure"] = draw(st.sampled_from(queues))
        elif kind == "store":
            node.update(latency=draw(_DISTS), idempotent=draw(st.booleans()))
            if draw(st.booleans()):
                node["capacity"] = draw(_RATES)
    steps = []
    for node_id, kind in zip(ids, kinds, strict=True):
        if kind == "producer":
            steps.append({"at": "1s", "action": "burst", "node": node_id, "factor": 2,
                          "for": "5s"})
        if kind == "function":
            steps.append({"at": "2s", "action": "pause", "node": node_id, "say": "paused"})
            steps.append({"at": "3s", "action": "set", "node": node_id, "concurrency": 50})
        steps.append({"at": "4s", "action": "outage", "node": node_id, "for": "1s"})
    return {"version": 1, "name": "valid", "nodes": nodes, "scenario": steps}


@settings(FUZZ, max_examples=200)
@given(_valid_topologies(), st.booleans())
def test_a_topology_built_by_the_rules_loads(data: dict[str, Any], as_json: bool) -> None:
    text = json.dumps(data) if as_json else _yaml(data)
    loaded = load_text(text)
    assert loaded.errors == [], "\n".join(map(str, loaded.problems)) + "\n" + text
    assert loaded.ok
    assert_sane(text, loaded)
