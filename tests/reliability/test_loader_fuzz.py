"""Every example, broken at random: the loader answers with problems, never a traceback.

``tests/spec/test_fuzz.py`` covers random bytes, random text and YAML, near-valid mutations
of one base topology and hostile files. Here each file in ``topologies/`` is mutated (lines
deleted, duplicated, re-indented, truncated, retyped, garbage and code-running tags put in,
bytes flipped, references renamed): loading must not raise, every problem reads
``FILE:LINE:COL: message`` inside the text, and a tag never runs anything. ``check`` gives
the same for a batch of such files from the command line, and refuses a 50 MB file and a
deeply nested one quickly, each with one clear line.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.spec import Loaded, load_text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "topologies").glob("*.yaml"))
MUTATIONS = settings(max_examples=40, derandomize=True, database=None, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow,
                                            HealthCheck.data_too_large])
MARKER = Path(f"/tmp/playground-fuzz-{uuid.uuid4().hex}")  # a tag that ran would make it
TAGS = [f'!!python/object/apply:os.system ["touch {MARKER}"]', "!!python/name:os.system",
        f'!!python/object/new:subprocess.call [["touch", "{MARKER}"]]', "!custom x",
        "!!binary aGVsbG8=", "!!set {a, b}", "!!omap [a: 1]", "!!timestamp 2001-12-14"]
_VALUES = ["[1, 2]", "{a: 1}", "''", "-1", "-5s", "0", "true", "null", "3.5", "1e400", ".nan",
           "0x1F", "[", "{", "&a x", "*a", "*nope", "'unclosed", "|", "- x", "nope", "5k/s",
           "{dist: lognormal, p50: 0, p99: 1s}", "{node: ghost, filter: {a: [1]}}"]
_WHERE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (warning: )?\S")


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    ids = sorted(set(re.findall(r"^  ([a-z][a-z0-9_-]*):\s*$", text, re.MULTILINE)))
    for _ in range(draw(st.integers(1, 4))):
        lines = text.splitlines(keepends=True) or ["\n"]
        i = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["delete", "duplicate", "indent", "truncate", "retype",
                                    "garbage", "tag", "bytes", "rename", "swap"]))
        line = lines[i]
        if how == "delete":
            del lines[i]
        elif how == "duplicate":
            lines.insert(i, line)
        elif how == "indent":
            lines[i] = draw(st.sampled_from(["", " ", "   ", "\t", "      "])) + line.lstrip()
        elif how in ("retype", "tag") and ": " in line:
            key = line.split(": ", 1)[0]
            value = draw(st.sampled_from(TAGS if how == "tag" else _VALUES))
            lines[i] = f"{key}: {value}\n"
        elif how == "garbage":
            cut = draw(st.integers(0, len(line)))
            lines[i] = line[:cut] + draw(st.text(max_size=8)) + line[cut:]
        elif how == "bytes" and line:
            cut = draw(st.integers(0, len(line) - 1))
            lines[i] = line[:cut] + chr(draw(st.integers(0, 0x2FF))) + line[cut + 1:]
        elif how == "rename" and ids:
            old, new = draw(st.sampled_from(ids)), draw(st.sampled_from(["ghost", "Bad", "x"]))
            lines[i] = re.sub(rf"\b{re.escape(old)}\b", new, line)
        elif how == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        text = "".join(lines)
        if how == "truncate":
            text = text[:draw(st.integers(0, len(text)))]
    return text


def assert_problems_point_inside(text: str, loaded: Loaded, file: str) -> None:
    lines = len(text.splitlines()) + 1
    for problem in loaded.problems:
        shown = str(problem)
        where = _WHERE.match(shown)
        assert where, shown
        assert where["file"] == file, shown
        assert 1 <= problem.line <= lines and 1 <= problem.column <= len(text) + 1, shown
        assert "Traceback" not in shown and "internal error" not in shown.lower(), shown
    if loaded.topology is None:
        assert loaded.errors, "refused without saying why"
    else:
        assert loaded.errors == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_broken_at_random_gets_problems_with_positions(path: Path) -> None:
    original = path.read_text()
    name = f"topologies/{path.name}"

    @MUTATIONS
    @given(mutated(original))
    def check(text: str) -> None:
        loaded = load_text(text, name)
        assert_problems_point_inside(text, loaded, name)
        assert not MARKER.exists(), "a tag ran code"

    check()
    # and a code-running tag as a top-level value is refused, naming it, running nothing
    for tag in TAGS[:3]:
        text = original.replace("version: 1\n", f"version: 1\nextra: {tag}\n", 1)
        loaded = load_text(text, name)
        assert loaded.topology is None and not MARKER.exists()
        assert any("is not allowed: a topology holds only mappings" in p.message
                   for p in loaded.errors), loaded.errors


def test_check_prints_positions_for_a_batch_of_broken_examples(tmp_path: Path) -> None:
    rng = random.Random(6)
    files = []
    for number, path in enumerate(EXAMPLES * 2):
        lines = path.read_text().splitlines(keepends=True)
        for _ in range(3):  # three random cuts and re-indentations
            i = rng.randrange(len(lines))
            lines[i] = rng.choice(["", "  ", "\t"]) + lines[i][rng.randrange(len(lines[i]) + 1):]
        broken = tmp_path / f"{number:02d}-{path.name}"
        broken.write_text("".join(lines))
        files.append(broken)
    anchors = tmp_path / "anchor-defined-twice.yaml"  # valid YAML: ruamel used to warn
    anchors.write_text("version: 1\nname: &a x\ndescription: &a y\nnodes:\n"
                       "  p: {kind: producer, rate: 1, to: q}\n  q: {kind: queue}\n")
    files.append(anchors)
    done = subprocess.run([sys.executable, "run.py", "check", *map(str, files)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1)
    assert "Traceback" not in done.stderr + done.stdout
    printed = done.stdout.splitlines()
    assert printed, "nothing said about broken files"
    for line in printed:
        where = _WHERE.match(line)
        assert where and Path(where["file"]) in files, line
    # standard error holds the summary and nothing else: no traceback, no library warning
    (summary,) = done.stderr.splitlines()
    assert summary.endswith(f"of {len(files)} files valid")


@pytest.mark.parametrize("what", ["50 MB", "deeply nested"])
def test_check_refuses_a_hostile_file_quickly_with_one_clear_line(tmp_path: Path,
                                                                 what: str) -> None:
    path = tmp_path / "hostile.yaml"
    if what == "50 MB":
        with path.open("wb") as handle:
            handle.write(b"version: 1\nname: big\n")
            handle.truncate(50_000_000)
        expected = "the file is 50.0 MB; a topology may be at most 2 MB"
    else:
        path.write_text("version: 1\nname: deep\nnodes: " + "[" * 5_000 + "\n")
        expected = "nested too deeply (more than 64 levels)"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "run.py", "check", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert time.perf_counter() - started < 30  # a fresh interpreter included
    assert done.returncode == 1
    (line,) = done.stdout.splitlines()
    assert line.startswith(f"{path}:") and expected in line, line
    assert "Traceback" not in done.stderr
