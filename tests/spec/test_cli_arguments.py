"""What the command line makes of its arguments: whatever is wrong is said in one line,
never with a traceback."""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from playground.cli import main
from playground.paths import db_problem

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "topologies" / "event-driven.yaml")


def locked_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder this user may not enter (as root, which enters any, a stat that says so)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0)
    if os.access(folder, os.X_OK):
        folder.chmod(0o700)
        real_stat = pathlib.Path.stat

        def stat(self: Path, *, follow_symlinks: bool = True) -> os.stat_result:
            if folder in self.absolute().parents:
                raise PermissionError(13, "Permission denied", str(self))
            return real_stat(self, follow_symlinks=follow_symlinks)

        monkeypatch.setattr(pathlib.Path, "stat", stat)
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if Path(path) == folder
                            else real_access(path, mode, **kw))
    return folder


def test_a_db_in_a_folder_the_user_cannot_enter_is_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = locked_folder(tmp_path, monkeypatch)
    try:
        problem = db_problem(str(folder / "x.sqlite"))
    finally:
        folder.chmod(0o700)
    assert problem == (f"--db: cannot reach {folder / 'x.sqlite'} (this user cannot enter "
                       f"{folder}); name a file in a folder you can write, e.g. run.sqlite")


def test_sim_refuses_a_db_it_cannot_reach_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = locked_folder(tmp_path, monkeypatch)
    try:
        with pytest.raises(SystemExit) as refused:
            main(["sim", EXAMPLE, "--db", str(folder / "x.sqlite")])
    finally:
        folder.chmod(0o700)
    assert str(refused.value).startswith(f"playground sim: --db: cannot reach {folder}")


ENDLESS = """\
version: 1
name: endless
duration: 1000h
nodes:
  clients: {kind: producer, rate: 200/s, to: q}
  q: {kind: queue, to: work}
  work: {kind: function, duration: 5ms, to: orders}
  orders: {kind: store}
"""
# Ctrl+C as a terminal sends it, whatever the test runner did with SIGINT
INTERRUPTIBLE = ("import runpy, signal, sys; signal.signal(signal.SIGINT, "
                 "signal.default_int_handler); sys.argv = ['run.py', *sys.argv[1:]]; "
                 "runpy.run_path('run.py', run_name='__main__')")


@pytest.mark.parametrize("db", [True, False])
def test_ctrl_c_during_sim_says_when_and_where_the_rows_are(tmp_path: Path, db: bool) -> None:
    spec = tmp_path / "endless.yaml"
    spec.write_text(ENDLESS, encoding="utf-8")
    project = tmp_path / "project"  # the default database goes under the working folder
    (project / "run.py").parent.mkdir()
    (project / "run.py").write_text((ROOT / "run.py").read_text(encoding="utf-8"))
    flags = ["--db", str(tmp_path / "rows.sqlite")] if db else []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen([sys.executable, "-c", INTERRUPTIBLE, "sim", str(spec), *flags],
                          cwd=project, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as sim:
        runs = project / ".playground" / "runs"
        deadline = time.monotonic() + 60
        while not (tmp_path / "rows.sqlite" if db else runs).exists() \
                and time.monotonic() < deadline and sim.poll() is None:
            time.sleep(0.05)
        time.sleep(1.0)  # well into the run: rows written
        sim.send_signal(signal.SIGINT)
        out, err = sim.communicate(timeout=60)
    assert sim.returncode == 130, err
    assert out == ""
    where = tmp_path / "rows.sqlite" if db else \
        Path(".playground/runs") / next(runs.glob("endless-*.sqlite")).name
    (line,) = err.splitlines()
    assert re.fullmatch(rf"playground sim: interrupted at \d+\.\d s of 3600000 s simulated; "
                        rf"the rows written so far are in {re.escape(str(where))}", line), line
    stopped_at = float(line.split("interrupted at ")[1].split(" s")[0])
    with contextlib.closing(sqlite3.connect(project / where)) as rows:
        count, last = rows.execute("select count(*), max(written_at) from orders").fetchone()
    # every row made before the interruption is there, not only those of the last full
    # batch of 5,000 (25 simulated seconds at 200/s)
    assert count > 0 and stopped_at - last < 1.0, (stopped_at, last)


@pytest.mark.parametrize(("given", "says"), [
    (["--duration", "-5s"], "--duration: a duration cannot be negative (got '-5s')"),
    (["--duration", "-5"], "--duration: a duration cannot be negative"),
    (["--drain", "-1m"], "--drain: a duration cannot be negative (got '-1m')"),
    (["--drain", "-.5s"], "--drain: a duration cannot be negative"),
    (["--clock", "real", "--speed", "-inf"], "--speed must be from 0.01 to 10000 (got -inf)"),
    (["--clock", "real", "--speed", "-1e3"], "--speed must be from 0.01 to 10000 (got -1000)"),
    (["--clock", "real", "--mqtt", "--tap-rate", "-1e3"],
     "--tap-rate cannot be negative (got -1000)"),
    (["--clock", "real", "--mqtt", "--tap-rate", "-Inf"],
     "--tap-rate must be a number of events a second, 0 or more (got -inf)"),
])
def test_a_value_starting_with_a_minus_gets_the_values_own_message(
        given: list[str], says: str) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["sim", EXAMPLE, *given])
    assert str(refused.value).startswith(f"playground sim: {says}")


def test_the_app_says_the_same_of_a_negative_speed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--speed", "-1e3"]) == 2
    assert capsys.readouterr().err == "playground: --speed must be from 0.1 to 100 (got -1000)\n"


def test_an_option_where_a_value_should_be_is_still_missing_a_value(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sim", EXAMPLE, "--duration", "--json"])
    assert "argument --duration: expected one argument" in capsys.readouterr().err
