"""Keys reach a pane the user can see."""

from __future__ import annotations

from playground.ui.screens.run_screen import RunScreen
from playground.ui.widgets.diagram_pane import DiagramPane
from playground.ui.widgets.metrics_pane import MetricsTable
from tests.ui.conftest import SIZE, MakeApp, run_to


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

