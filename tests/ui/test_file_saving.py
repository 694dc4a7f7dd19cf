"""Saving writes the file the user opened and nothing else: a read-only file is refused, a
symbolic or hard link keeps pointing at the new text, the mode stays, and a change another
program made to the file since the app read it is never silently overwritten."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from textual.widgets import Input

from playground.ui.app import PlaygroundApp
from playground.ui.screens.run_screen import RunScreen
from playground.ui.widgets.editor_pane import EditorPane
from playground.ui.widgets.inspector_pane import InspectorPane
from tests.ui.conftest import SIZE, TOPOLOGIES, MakeApp, run_to

OTHER = "# written by another editor\n"


def app_on(path: Path, tmp_path: Path) -> PlaygroundApp:
    app = PlaygroundApp(path, mode="virtual", db=tmp_path / "run.sqlite",
                        screenshots_dir=tmp_path / "screenshots", examples_dir=TOPOLOGIES)
    app.animation_level = "none"
    return app


def example(tmp_path: Path, name: str = "event-driven") -> Path:
    path = tmp_path / f"{name}.yaml"
    shutil.copy(TOPOLOGIES / f"{name}.yaml", path)
    return path


async def edit_and_save(pilot, rate: str = "30/s") -> EditorPane:  # type: ignore[no-untyped-def]
    """Changes the first producer's rate in the YAML pane and presses ctrl+s."""
    screen = await run_to(pilot, 1)
    assert isinstance(screen, RunScreen)
    await pilot.press("5")
    pane = screen.query_one(EditorPane)
    pane.editor.text = pane.text.replace("rate: 20/s", f"rate: {rate}", 1)
    pane.editor.focus()
    await pilot.press("ctrl+s")
    await pilot.pause()
    return pane


def said(app: PlaygroundApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_a_read_only_file_is_not_saved(tmp_path: Path) -> None:
    path = example(tmp_path)
    before = path.read_text()
    path.chmod(0o444)
    app = app_on(path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = await edit_and_save(pilot)
        assert f"{path} is read-only: not saved; your edit stays in the editor" in said(app)
        assert path.read_text() == before
        assert stat.S_IMODE(path.stat().st_mode) == 0o444
        assert "rate: 30/s" in pane.text and pane.dirty


async def test_saving_through_a_symlink_writes_the_file_it_points_to(tmp_path: Path) -> None:
    real = example(tmp_path)
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    app = app_on(link, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = await edit_and_save(pilot)
        assert not pane.dirty
        assert link.is_symlink() and link.resolve() == real
        assert "rate: 30/s" in real.read_text()


async def test_saving_keeps_the_mode_and_hard_links(tmp_path: Path) -> None:
    path = example(tmp_path)
    path.chmod(0o640)
    other_name = tmp_path / "same-file.yaml"
    os.link(path, other_name)
    app = app_on(path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await edit_and_save(pilot)
        assert "rate: 30/s" in other_name.read_text()
        assert stat.S_IMODE(path.stat().st_mode) == 0o640


async def test_a_writable_file_in_a_read_only_folder_is_saved(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    path = example(folder)
    folder.chmod(0o555)
    try:
        try:
            (folder / "probe").touch()
        except PermissionError:
            pass
        else:
            pytest.skip("this user creates files in any folder (root with CAP_DAC_OVERRIDE)")
        app = app_on(path, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            pane = await edit_and_save(pilot)
            assert not pane.dirty
            assert "rate: 30/s" in path.read_text()
            assert sorted(p.name for p in folder.iterdir()) == [path.name]
    finally:
        folder.chmod(0o755)


async def test_a_change_made_by_another_program_is_not_overwritten_unasked(
        make_app: MakeApp) -> None:
    app = make_app("event-driven")
    path = app.path
    assert path is not None
    async with app.run_test(size=SIZE) as pilot:
        await run_to(pilot, 1)
        path.write_text(OTHER + path.read_text())
        pane = await edit_and_save(pilot)
        assert path.read_text().startswith(OTHER)  # the other change is still there
        assert "rate: 30/s" in pane.text and pane.dirty
        assert any(m.startswith(f"{path} changed on disk since it was opened or last saved: "
                                "not saved; your edit stays in the editor. Press ctrl+s again "
                                "to overwrite it") for m in said(app))
        await pilot.press("ctrl+s")  # the user knows: the second save overwrites
        await pilot.pause()
        assert path.read_text() == pane.text and not pane.dirty


async def test_a_second_change_on_disk_is_told_again(make_app: MakeApp) -> None:
    app = make_app("event-driven")
    path = app.path
    assert path is not None
    async with app.run_test(size=SIZE) as pilot:
        await run_to(pilot, 1)
        path.write_text(OTHER + path.read_text())
        await edit_and_save(pilot)
        again = path.read_text() + OTHER
        path.write_text(again)  # changed again after the user was told
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert path.read_text() == again
        assert sum("changed on disk" in m for m in said(app)) == 2


async def test_an_inspector_edit_does_not_overwrite_a_change_on_disk(
        make_app: MakeApp) -> None:
    app = make_app("burst-event-driven")
    path = app.path
    assert path is not None
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, RunScreen)
        path.write_text(OTHER + path.read_text())
        changed = path.read_text()
        screen.select("place-order")
        await pilot.press("4")
        inspector = screen.query_one(InspectorPane)

        async def enter_concurrency() -> None:
            inspector.edit("concurrency")
            await pilot.pause()
            inspector.query_one("#field-input", Input).value = "25"
            await pilot.press("enter")
            await pilot.pause()

        await enter_concurrency()
        assert path.read_text() == changed
        assert any("changed on disk" in m and "place-order.concurrency keeps its value" in m
                   for m in said(app))
        await enter_concurrency()
        assert "concurrency: 25" in path.read_text()


@pytest.mark.parametrize("ending", ["\r\n", "\n"])
async def test_saving_keeps_the_line_endings_and_a_missing_final_newline(
        tmp_path: Path, ending: str) -> None:
    path = example(tmp_path)
    text = path.read_text().rstrip("\n")
    path.write_bytes(text.replace("\n", ending).encode())
    app = app_on(path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await edit_and_save(pilot)
        expected = text.replace("rate: 20/s", "rate: 30/s", 1).replace("\n", ending)
        assert path.read_bytes() == expected.encode()
        screen = app.screen
        assert isinstance(screen, RunScreen)
        screen.select("orders")
        await pilot.press("4")
        inspector = screen.query_one(InspectorPane)
        inspector.edit("latency")
        await pilot.pause()
        inspector.query_one("#field-input", Input).value = "9ms"
        await pilot.press("enter")
        await pilot.pause()
        written = path.read_bytes().decode()
        assert "latency: 9ms" in written
        assert written.count(ending) == expected.count(ending)
        assert not written.endswith("\n")
