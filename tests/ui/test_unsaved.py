"""Unsaved YAML edits are never dropped on the way out of a run: ctrl+o, ctrl+k and ctrl+q
ask first (save, discard, or back to editing)."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Static

from playground.ui.screens.picker_screen import PickerScreen
from playground.ui.screens.run_screen import RunScreen
from playground.ui.screens.unsaved_screen import UnsavedScreen
from playground.ui.widgets.editor_pane import EditorPane, YamlEditor
from tests.ui.conftest import SIZE, MakeApp, run_to

NOTE = "seed: 1  # an unsaved note"


async def edit(pilot: Pilot[None], new: str = NOTE) -> tuple[RunScreen, EditorPane]:
    """Types ``new`` over ``seed: 1`` in the YAML pane, then goes back to the diagram."""
    screen = await run_to(pilot, 1)
    assert isinstance(screen, RunScreen)
    await pilot.press("5")
    pane = screen.query_one(EditorPane)
    pane.editor.text = pane.text.replace("seed: 1", new, 1)
    screen.query_one("#diagram").focus()
    await pilot.pause()
    return screen, pane


async def test_quitting_with_unsaved_edits_asks_and_cancel_goes_back_to_them(
        make_app: MakeApp) -> None:
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen, pane = await edit(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.is_running
        assert isinstance(app.screen, UnsavedScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and app.is_running
        assert NOTE in pane.text
        assert isinstance(app.focused, YamlEditor)  # back to editing


async def test_discard_goes_on_without_writing(make_app: MakeApp) -> None:
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen, _ = await edit(pilot)
        path = screen.session.path
        assert path is not None
        before = path.read_text()
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert not app.is_running
        assert path.read_text() == before


async def test_save_writes_the_edits_then_opens_the_picker(make_app: MakeApp) -> None:
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen, pane = await edit(pilot)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, UnsavedScreen)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        assert NOTE in screen.session.path.read_text()  # type: ignore[union-attr]
        assert not pane.dirty


async def test_edits_with_errors_are_not_saved_and_the_question_stays(
        make_app: MakeApp) -> None:
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen, pane = await edit(pilot, "seed: lots")
        path = screen.session.path
        assert path is not None
        before = path.read_text()
        await pilot.press("ctrl+k")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, UnsavedScreen)
        said = str(app.screen.query_one("#unsaved-problem", Static).render())
        assert "not saved: event-driven.yaml:19:7: seed must be a whole number (got 'lots')" \
            in said, said
        assert path.read_text() == before
        assert "seed: lots" in pane.text
        await pilot.press("d")  # compare anyway, without the edits
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        assert path.read_text() == before


async def test_without_edits_quit_does_not_ask(make_app: MakeApp) -> None:
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        await run_to(pilot, 1)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running


async def test_the_dialog_names_its_own_key_to_overwrite_a_change_on_disk(
        make_app: MakeApp) -> None:
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen, _ = await edit(pilot)
        path = screen.session.path
        assert path is not None
        other = "# written by another editor\n" + path.read_text()
        path.write_text(other)
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, UnsavedScreen)
        said = str(app.screen.query_one("#unsaved-problem", Static).render())
        assert "Press s again to overwrite it" in said, said
        assert "ctrl+" not in said, said
        assert path.read_text() == other
        await pilot.press("s")  # as the dialog said: overwrites, then quits
        await pilot.pause()
        assert not app.is_running
        assert NOTE in path.read_text()
