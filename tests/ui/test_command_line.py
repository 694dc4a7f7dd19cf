"""`run` and `serve` from the command line, up to the app (no terminal, no server)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pytest

from playground import app_main
from playground.ui.screens.compare_screen import CompareScreen
from playground.ui.screens.picker_screen import PickerScreen
from tests.spec.test_cli_arguments import locked_folder
from tests.ui.conftest import SIZE, TOPOLOGIES, MakeApp


def args(**given: Any) -> argparse.Namespace:
    values = {"file": None, "theme": None, "speed": 1.0, "seed": None, "db": None,
              "compare": None, "host": "127.0.0.1", "port": 0}
    values.update(given)
    return argparse.Namespace(**values)


async def test_without_a_file_the_picker_opens(tmp_path: Path) -> None:
    app = app_main.build_app(args(db=str(tmp_path / "run.sqlite")))
    async with app.run_test(size=SIZE) as pilot:  # type: ignore[attr-defined]
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("given", "words"), [
    ({"theme": "neon"}, "no theme 'neon'; themes: colour-blind, dark, high-contrast, light"),
    ({"speed": 500.0}, "--speed must be from 0.1 to 100"),
    ({"speed": 0.0}, "--speed must be from 0.1 to 100 (got 0)"),
    ({"file": "no/such.yaml"}, "no such file: no/such.yaml"),
    ({"seed": -1}, "--seed must be 0 or more (got -1)"),
    ({"db": ""}, "--db needs a file name"),
    ({"db": "topologies"}, "--db: topologies is a folder; name a file, e.g. "
                           "topologies/run.sqlite"),
])
def test_run_refuses_what_it_cannot_do(given: dict[str, Any], words: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert app_main.run_app(args(**given)) == 2
    assert words in capsys.readouterr().err


def test_run_refuses_a_db_it_cannot_reach(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    folder = locked_folder(tmp_path, monkeypatch)
    try:
        assert app_main.run_app(args(db=str(folder / "x.sqlite"))) == 2
    finally:
        folder.chmod(0o700)
    assert capsys.readouterr().err == (
        f"playground: --db: cannot reach {folder / 'x.sqlite'} (this user cannot enter "
        f"{folder}); name a file in a folder you can write, e.g. run.sqlite\n")


def test_run_refuses_a_file_it_cannot_reach(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    folder = locked_folder(tmp_path, monkeypatch)
    try:
        assert app_main.run_app(args(file=str(folder / "x.yaml"))) == 2
    finally:
        folder.chmod(0o700)
    assert capsys.readouterr().err == (
        f"playground: cannot read {folder / 'x.yaml'}: Permission denied\n")


def test_serve_runs_the_app_through_textual_serve(monkeypatch: pytest.MonkeyPatch) -> None:
    made: dict[str, Any] = {}

    class FakeServer:
        def __init__(self, command: str, host: str, port: int, title: str) -> None:
            made.update(command=command, host=host, port=port, title=title)

        def serve(self) -> None:
            made["served"] = True

    import textual_serve.server

    monkeypatch.setattr(textual_serve.server, "Server", FakeServer)
    path = TOPOLOGIES / "showcase.yaml"
    assert app_main.serve_app(args(file=str(path), port=8123)) == 0
    assert made["served"] and made["host"] == "127.0.0.1" and made["port"] == 8123
    assert made["command"].startswith(sys.executable)
    assert made["command"].endswith(f"-m playground run {path.resolve()}")


async def test_compare_on_the_real_clock_keeps_both_sides_together(make_app: MakeApp) -> None:
    app = make_app("request-response", compare="event-driven", mode="real", speed=10)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        while screen.frames[0] is None or screen.frames[0].t < 2:
            await pilot.pause(0.05)
        a, b = (s.host.now for s in screen.sessions)  # type: ignore[union-attr]
        assert abs(a - b) < 1.0  # linked: never more than a few frames apart
        await pilot.press("space")
        assert screen.clock.paused
        target = screen.clock.target
        for _ in range(100):  # both finish the step they were given, and stop there
            if all(s.host.now == target for s in screen.sessions):  # type: ignore[union-attr]
                break
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        assert [s.host.now for s in screen.sessions] == [target, target]  # type: ignore[union-attr]
