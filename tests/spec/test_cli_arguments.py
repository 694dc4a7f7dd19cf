"""What the command line makes of its arguments: whatever is wrong is said in one line,
never with a traceback."""

from __future__ import annotations

import os
import pathlib
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
