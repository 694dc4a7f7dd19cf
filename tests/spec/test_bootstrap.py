"""The quick start's first-run setup: .venv is made and filled once, then simply used."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from playground import bootstrap


class Started(Exception):
    """os.execv, which would replace the test's process."""


@pytest.fixture
def calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    seen: dict[str, list] = {"exec": [], "pip": [], "created": []}

    def execv(path: str, args: list[str]) -> None:
        seen["exec"].append(args)
        raise Started

    def create(_builder: object, env: Path) -> None:
        seen["created"].append(env)
        python = bootstrap._python_in(Path(env))
        python.parent.mkdir(parents=True)
        python.touch()

    monkeypatch.setattr(bootstrap, "VENV", tmp_path / ".venv")
    monkeypatch.setattr(bootstrap, "_missing", lambda wanted: ["textual"])
    monkeypatch.setattr(bootstrap.os, "execv", execv)
    monkeypatch.setattr(bootstrap.venv.EnvBuilder, "create", create)
    monkeypatch.setattr(bootstrap.subprocess, "call",
                        lambda command: seen["pip"].append(command) or 0)
    monkeypatch.delenv(bootstrap._INSTALLED, raising=False)
    return seen


def test_a_python_without_the_packages_starts_again_in_venv_without_asking_pip(calls):
    venv_python = bootstrap._python_in(bootstrap.VENV)
    for _ in range(2):  # the first run, then a later one: .venv exists by then
        with pytest.raises(Started):
            bootstrap.ensure(["run.py", "check", "x.yaml"])
    assert calls["created"] == [bootstrap.VENV]  # made once
    assert calls["exec"] == [[str(venv_python), "run.py", "check", "x.yaml"]] * 2
    assert calls["pip"] == []  # .venv installs what it lacks itself, once, inside


def test_inside_venv_what_is_missing_is_installed_then_the_run_starts_afresh(
        calls, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(bootstrap.sys, "prefix", str(bootstrap.VENV))
    bootstrap.VENV.mkdir()
    with pytest.raises(Started):
        bootstrap.ensure(["run.py", "test"])
    assert len(calls["pip"]) == 1 and calls["pip"][0][:3] == [sys.executable, "-m", "pip"]
    assert calls["exec"] == [[sys.executable, "run.py", "test"]]
    # installed, and still missing: said, not tried again and again
    with pytest.raises(SystemExit, match="still missing after installing"):
        bootstrap.ensure(["run.py", "test"])
