"""`python run.py check` and `schema` as a user runs them, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[2]

GOOD = dedent("""\
    version: 1
    name: good
    nodes:
      p:
        kind: producer
        rate: 10/s
        to: q
      q:
        kind: queue
        dlq: {queue: d, max_receives: 5}
        to: f
      d:
        kind: queue
      f:
        kind: function
    """)
BAD = dedent("""\
    version: 1
    name: bad
    nodes:
      p:
        kind: producer
        rate: 10 per second
        to: nowhere
    """)
WARNED = dedent("""\
    version: 1
    name: warned
    nodes:
      q:
        kind: queue
        retention: 30s
    """)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "run.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_check_a_good_file_exits_0(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", GOOD)
    result = run("check", good)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip() == "1 of 1 file valid"


def test_check_a_bad_file_exits_1_with_file_line_column(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.yaml", BAD)
    result = run("check", bad)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{bad}:6:11: '10 per second' is not a rate: use a number per second or a string such "
        "as 200/s, 3000/min, 5k/s, 2/ms (nodes.p.rate)",
        f"{bad}:7:9: unknown node 'nowhere' (nodes: p) (nodes.p.to)",
    ]
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == "0 of 1 file valid"


def test_check_says_which_line_lacks_its_colon(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.yaml", GOOD.replace("kind: producer", "kind producer", 1))
    line = GOOD.splitlines().index(next(t for t in GOOD.splitlines() if "kind: producer" in t))
    column = GOOD.splitlines()[line].index("kind") + len("kind") + 1
    result = run("check", bad)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{bad}:{line + 1}:{column}: YAML syntax: line {line + 1}: `kind producer` has no ':' "
        "— write `kind: producer`"]


def test_check_several_files_fails_if_one_does(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", GOOD)
    bad = write(tmp_path, "bad.yaml", BAD)
    result = run("check", good, bad)
    assert result.returncode == 1
    assert all(line.startswith(f"{bad}:") for line in result.stdout.splitlines())
    assert result.stderr.strip() == "1 of 2 files valid"


def test_check_prints_warnings_but_passes(tmp_path: Path) -> None:
    warned = write(tmp_path, "warned.yaml", WARNED)
    result = run("check", warned)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        f"{warned}:6:5: warning: retention 30s is outside what AWS allows (60s to 14d) "
        "(nodes.q.retention)",
    ]
    assert run("check", "--no-lint", warned).stdout == ""


@pytest.mark.parametrize(("name", "content", "message"), [
    ("missing.yaml", None, "cannot read the file: No such file or directory"),
    ("binary.yaml", b"\x89PNG\r\n\x1a\n\x00\x00", "the file is not UTF-8 text"),
    ("evil.yaml", b"version: !!python/object/apply:os.system ['true']\n",
     "the tag !!python/object/apply:os.system is not allowed"),
    ("deep.yaml", b"[" * 10_000, "nested too deeply"),
])
def test_check_an_unreadable_file_reports_it_without_a_traceback(
    tmp_path: Path, name: str, content: bytes | None, message: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = run("check", str(path))
    assert result.returncode == 1
    assert result.stdout.startswith(f"{path}:1:")
    assert message in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["run", "sim", "check", "schema", "serve", "test"])
def test_every_command_has_help(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: playground {command} ")
    assert result.stderr == ""


def test_the_program_has_help_and_a_version() -> None:
    helped = run("--help")
    assert helped.returncode == 0
    for command in ("run", "sim", "check", "schema", "serve", "test"):
        assert command in helped.stdout
    versioned = run("--version")
    assert versioned.returncode == 0
    assert versioned.stdout.startswith("playground ")


def test_schema_prints_a_json_schema() -> None:
    result = run("schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["required"]) == {"version", "name", "nodes"}
