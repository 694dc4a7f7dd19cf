"""A file the app cannot read (not UTF-8, no permission, a folder) is said so by name: the
command line exits 2, the picker stays open and the running session goes on."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from playground import app_main
from playground.ui.screens.picker_screen import PickerScreen
from playground.ui.screens.run_screen import RunScreen
from playground.ui.widgets.editor_pane import EditorPane
from tests.ui.conftest import SIZE, TOPOLOGIES, MakeApp, run_to

LATIN1 = "version: 1\nname: café\n".encode("latin-1")


def args(**given: Any) -> argparse.Namespace:
    values = {"file": None, "theme": None, "speed": 1.0, "seed": None, "db": None,
              "compare": None}
    values.update(given)
    return argparse.Namespace(**values)


def unreadable(tmp_path: Path) -> Path:
    path = tmp_path / "locked.yaml"
    path.write_text((TOPOLOGIES / "event-driven.yaml").read_text())
    path.chmod(0)
    try:
        path.open("rb").close()
    except PermissionError:
        return path
    pytest.skip("this user reads files whatever their mode (root with CAP_DAC_OVERRIDE)")


def test_run_names_a_file_that_is_not_utf8(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(LATIN1)
    assert app_main.run_app(args(file=str(path))) == 2
    assert capsys.readouterr().err == (
        f"playground: {path}: not UTF-8 text (byte 0xe9 at line 2, column 10): "
        "save it as UTF-8\n")


def test_run_names_a_file_it_may_not_read(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = unreadable(tmp_path)
    assert app_main.run_app(args(file=str(path))) == 2
    assert capsys.readouterr().err == f"playground: {path}: cannot read it: permission denied\n"


@pytest.mark.parametrize("option", ["file", "compare"])
def test_run_refuses_a_folder(option: str, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    given = {"file": str(TOPOLOGIES / "showcase.yaml"), option: str(tmp_path)}
    assert app_main.run_app(args(**given)) == 2
    assert f"{tmp_path}: is a folder, not a file" in capsys.readouterr().err


def test_serve_refuses_a_file_that_is_not_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import textual_serve.server

    class NoServer:
        def __init__(self, *_: object, **__: object) -> None:
            raise AssertionError("a file the app cannot open was served")

    monkeypatch.setattr(textual_serve.server, "Server", NoServer)
    path = tmp_path / "latin1.yaml"
    path.write_bytes(LATIN1)
    assert app_main.serve_app(args(file=str(path), host="127.0.0.1", port=0)) == 2
    assert "not UTF-8 text" in capsys.readouterr().err


async def test_the_picker_refuses_a_file_and_the_run_goes_on(make_app: MakeApp,
                                                              tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(LATIN1)
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, RunScreen)
        session, buffer = screen.session, screen.query_one(EditorPane).text
        await pilot.press("ctrl+o")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        typed = picker.query_one("#path", Input)
        typed.focus()
        typed.value = str(bad)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is picker  # still choosing, told why not
        said = [n.message for n in app._notifications]
        assert f"{bad}: not UTF-8 text (byte 0xe9 at line 2, column 10): save it as UTF-8" \
            in said
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and screen.session is session
        assert session.host is not None
        assert screen.query_one(EditorPane).text == buffer


async def test_the_app_given_a_file_it_cannot_read_exits_saying_why(tmp_path: Path) -> None:
    from playground.ui.app import PlaygroundApp

    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(LATIN1)
    app = PlaygroundApp(bad, mode="virtual", db=tmp_path / "run.sqlite",
                        screenshots_dir=tmp_path / "shots", examples_dir=TOPOLOGIES)
    said: list[object] = []
    leave = app.exit

    def exit_saying(*given: Any, **options: Any) -> None:  # what is printed once it is gone
        said.append(options.get("message"))
        leave(*given, **options)

    app.exit = exit_saying  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
    assert app.return_code == 2
    assert said == [f"{bad}: not UTF-8 text (byte 0xe9 at line 2, column 10): save it as UTF-8"]


async def test_a_file_spoilt_after_the_picker_read_it_leaves_the_run_as_it_was(
        make_app: MakeApp, tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(LATIN1)
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        app._picked(bad)  # what the picker hands over, had the file changed since it looked
        await pilot.pause()
        assert app.screen is screen and screen.session.host is not None
        assert any(n.title == "Cannot open" for n in app._notifications)
