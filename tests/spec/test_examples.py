"""The example topologies load cleanly, name their schema, and agree with it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from playground.spec import load_file, load_text
from playground.spec.schema import json_schema

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "topologies"
SCHEMA_LINE = "# yaml-language-server: $schema=./schema.json"


def _examples() -> list[Path]:
    return sorted([*EXAMPLES.glob("*.yaml"), *EXAMPLES.glob("*.yml")])


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_there_are_examples() -> None:
    # a parametrized test over nothing would be skipped; an empty folder must fail instead
    assert _examples(), "no examples in topologies/"


@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.name)
def test_an_example_loads_without_errors(path: Path) -> None:
    loaded = load_file(path)
    assert loaded.errors == [], "\n".join(map(str, loaded.errors))
    assert loaded.topology is not None


@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.name)
def test_an_example_names_its_schema_on_the_first_line(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == SCHEMA_LINE


@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.name)
def test_an_example_validates_against_the_json_schema(
    path: Path, validator: Draft202012Validator,
) -> None:
    data: Any = load_file(path).data
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(data)]
    assert errors == []


def test_the_examples_schema_is_what_the_cli_prints() -> None:
    saved = EXAMPLES / "schema.json"
    if not saved.exists():
        pytest.skip("topologies/schema.json is optional")
    printed = subprocess.run([sys.executable, "run.py", "schema"], cwd=ROOT, capture_output=True,
                             text=True, check=True, timeout=60).stdout
    assert json.loads(saved.read_text(encoding="utf-8")) == json.loads(printed)
    assert saved.read_text(encoding="utf-8") == printed


@pytest.mark.parametrize("node", [
    {"kind": "queue", "visiblity_timeout": "3s"},
    {"kind": "lambda"},
    {"kind": "producer", "rate": -1, "to": "q"},
    {"kind": "producer", "rate": "5 per s", "to": "q"},
    {"kind": "function", "duration": {"dist": "gamma", "mean": "1s"}},
    {"kind": "function", "errors": 1.5},
    {"kind": "producer", "rate": "-5/s", "to": "q"},
    {"kind": "producer", "rate": "0/s", "to": "q"},
    {"kind": "producer", "rate": "0.0k/min", "to": "q"},
    {"kind": "queue", "delay": "-1s"},
], ids=["unknown field", "unknown kind", "negative rate", "bad rate", "bad dist", "bad p",
        "negative rate text", "zero rate text", "zero rate text with prefix",
        "negative duration text"])
def test_the_schema_refuses_what_the_loader_refuses(
    node: dict[str, Any], validator: Draft202012Validator,
) -> None:
    data = {"version": 1, "name": "x", "nodes": {"q": {"kind": "queue"}, "n": node}}
    assert list(validator.iter_errors(data)), "an editor would not underline it"
    assert load_text(json.dumps(data)).errors
