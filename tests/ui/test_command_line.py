"""`run` and `serve` from the command line, up to the app (no terminal, no server)."""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from playground import app_main
from playground.cli import main
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


@pytest.mark.parametrize(("port", "words"), [
    ("99999", "argument --port: a port is from 1 to 65535 (got 99999)"),
    ("0", "argument --port: a port is from 1 to 65535 (got 0)"),
    ("-1", "argument --port: a port is from 1 to 65535 (got -1)"),
    ("http", "argument --port: 'http' is not a port: give a number from 1 to 65535"),
])
def test_serve_refuses_what_is_no_port_when_parsing(
        port: str, words: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["serve", "--port", port])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == f"playground serve: error: {words}"
    assert "Traceback" not in err


class NeverServed:
    def __init__(self, *given: Any, **named: Any) -> None:
        pass

    def serve(self) -> None:
        raise AssertionError("served where it could not listen")


def test_serve_says_a_port_in_use_is_taken(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import textual_serve.server

    monkeypatch.setattr(textual_serve.server, "Server", NeverServed)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert app_main.serve_app(args(port=port)) == 1
    assert capsys.readouterr().err == (
        f"playground serve: port {port} on 127.0.0.1 is already in use (another server?): "
        f"stop it or choose another, e.g. --port {port + 1}\n")


def test_serve_says_a_host_that_does_not_resolve(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import textual_serve.server

    def unknown(*given: Any, **named: Any) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(textual_serve.server, "Server", NeverServed)
    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    assert app_main.serve_app(args(host="999.1.1.1", port=8000)) == 1
    assert capsys.readouterr().err == (
        "playground serve: no address '999.1.1.1' (Name or service not known): give --host "
        "an address of this machine, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every "
        "interface)\n")


def test_serve_says_a_port_taken_after_the_check(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import textual_serve.server

    class TakenMeanwhile(NeverServed):
        def serve(self) -> None:
            raise OSError(errno.EADDRINUSE, "address already in use")

    monkeypatch.setattr(textual_serve.server, "Server", TakenMeanwhile)
    monkeypatch.setattr(app_main, "_listen_problem", lambda host, port: None)
    assert app_main.serve_app(args(port=8123)) == 1
    assert "port 8123 on 127.0.0.1 is already in use" in capsys.readouterr().err


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


def test_a_theme_asked_for_but_refused_is_said_with_why(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from playground.ui import theme_files

    folder = tmp_path / "themes"
    folder.mkdir()
    (folder / "dark.yaml").write_text("name: dark\nprimary: '#4C9BE8'\n")
    (folder / "badcolour.yaml").write_text("name: badcolour\nprimary: '#12345G'\n")
    monkeypatch.setattr(theme_files, "THEMES_DIR", folder)
    assert app_main.run_app(args(theme="badcolour")) == 2
    assert capsys.readouterr().err.splitlines() == [
        "playground: theme not loaded: themes/badcolour.yaml:2:10: primary: '#12345G' is not "
        "a colour; valid: a colour such as \"#4C9BE8\", red or rgb(76,155,232)",
        "playground: no theme 'badcolour'; themes: dark"]


@pytest.mark.parametrize(("given", "expected"), [
    (["--theme", "light", "topologies/showcase.yaml"],
     {"file": "topologies/showcase.yaml", "theme": "light"}),
    (["--speed", "5"], {"file": None, "speed": 5.0}),
    (["--seed=3", "--db", "x.sqlite", "topologies/showcase.yaml"],
     {"file": "topologies/showcase.yaml", "seed": 3, "db": "x.sqlite"}),
    (["topologies/showcase.yaml", "--theme", "light"],
     {"file": "topologies/showcase.yaml", "theme": "light"}),
])
def test_options_before_the_file_open_the_app_as_with_run(
        given: list[str], expected: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[argparse.Namespace] = []
    monkeypatch.setattr(app_main, "run_app", lambda parsed: opened.append(parsed) or 0)
    assert main(given) == 0
    (parsed,) = opened
    assert parsed.command == "run"
    assert {key: getattr(parsed, key) for key in expected} == expected


@pytest.mark.parametrize("given", [["--version"], ["--vers"]])
def test_the_version_is_still_playgrounds_own_option(
        given: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(given)
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("playground ")


@pytest.mark.parametrize("given", [["-h"], ["--help"], ["--he"]])
def test_help_alone_is_still_the_help_of_every_command(
        given: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(given)
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("usage: playground [-h] [--version] COMMAND")
