"""Keys reach a pane the user can see, and the footer offers only keys that work there."""

from __future__ import annotations

import pytest

from playground.ui.app import PlaygroundApp
from playground.ui.screens.compare_screen import CompareScreen
from playground.ui.screens.picker_screen import PickerScreen
from playground.ui.screens.run_screen import RunScreen
from playground.ui.widgets.diagram_pane import DiagramPane
from playground.ui.widgets.editor_pane import EditorPane
from playground.ui.widgets.metrics_pane import MetricsTable
from tests.ui.conftest import SIZE, MakeApp, run_to


def footer(screen: RunScreen) -> set[str]:
    """The descriptions the footer shows."""
    return {b.binding.description for b in screen.active_bindings.values()
            if b.binding.show}


async def test_a_pane_shown_again_has_the_keys(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, RunScreen)
        await pilot.press("1")
        await pilot.pause()
        assert isinstance(app.focused, MetricsTable)  # not lost with the diagram
        await pilot.press("1")
        await pilot.pause()
        diagram = screen.query_one(DiagramPane)
        assert app.focused is diagram
        await pilot.press("right")
        assert screen.selected_node() is not None
        await pilot.press("z")
        assert screen.maximized is diagram


async def test_side_panes_take_the_keys_only_when_nothing_else_shows(
        make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        diagram = screen.query_one(DiagramPane)
        await pilot.press("5")  # a look at the YAML: the arrows stay with the diagram
        await pilot.pause()
        assert app.focused is diagram
        await pilot.press("1", "2")
        await pilot.pause()
        side = screen.query_one("#side")
        assert app.focused is not None and side in app.focused.ancestors
        await pilot.press("4", "4")  # their tabs, not a text box: digits still toggle
        await pilot.pause()
        assert not side.display


async def test_the_footer_leaves_out_faster_and_slower_while_typing(
        make_app: MakeApp) -> None:
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, RunScreen)
        assert {"Faster", "Slower"} <= footer(screen)
        await pilot.press("5")
        editor = screen.query_one(EditorPane).editor
        editor.focus()
        await pilot.pause()
        assert not {"Faster", "Slower"} & footer(screen)
        assert "Save & apply" in footer(screen)
        speed = screen.clock.speed
        await pilot.press("plus", "minus")
        assert "+-" in editor.text and screen.clock.speed == speed
        faster = next(c for c in app.get_system_commands(screen) if c.title == "Faster")
        faster.callback()  # the palette still speeds up: it goes by name, not by key
        await pilot.pause()
        assert screen.clock.speed > speed
        screen.query_one(DiagramPane).focus()
        await pilot.pause()
        await pilot.press("plus")
        assert {"Faster", "Slower"} <= footer(screen)
        assert screen.clock.speed > speed * 2


def bottom_line(app: PlaygroundApp) -> str:
    """The footer as drawn: the screen's last line of text."""
    return app.screen._compositor.render_strips()[-1].text


@pytest.mark.parametrize("size", [(80, 24), SIZE])
async def test_help_and_quit_are_always_in_the_footer(make_app: MakeApp,
                                                      size: tuple[int, int]) -> None:
    app = make_app("showcase", compare="event-driven")
    async with app.run_test(size=size) as pilot:
        await run_to(pilot, 1)
        assert isinstance(app.screen, CompareScreen)
        assert bottom_line(app).rstrip().endswith("▏? Help ^q Quit ^p palette")
    app = make_app("showcase")
    async with app.run_test(size=size) as pilot:
        await run_to(pilot, 1)
        line = bottom_line(app)
        assert line.startswith("space Pause + Faster")  # the run's own keys come first
        assert line.rstrip().endswith("▏? Help ^q Quit ^p palette"), line
    app = make_app(None)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        assert "^q Quit" in bottom_line(app)
