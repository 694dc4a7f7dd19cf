"""Snapshots of the main screens (pytest-textual-snapshot): three examples, compare mode,
talk mode and the editor showing an error. Every run is on the virtual clock with a fixed
seed, stepped to a given instant, so the pictures hold only simulated time.

Baselines were made with Python 3.11 and Textual 8.2.8 (see conftest.py).
"""

from __future__ import annotations

from textual.pilot import Pilot

from playground.ui.screens.run_screen import RunScreen
from playground.ui.widgets.editor_pane import EditorPane
from playground.ui.widgets.events_pane import EventLog
from tests.ui.conftest import SIZE, MakeApp, checked, quiet, run_to


def test_showcase_during_the_flash_sale(make_app: MakeApp, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        screen = await run_to(pilot, 20)
        assert isinstance(screen, RunScreen)
        screen.select("api")
        await pilot.pause()

    assert snap_compare(make_app("showcase"), terminal_size=SIZE, run_before=run_before)


def test_burst_into_a_queue(make_app: MakeApp, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        screen = await run_to(pilot, 30)
        assert isinstance(screen, RunScreen)
        screen.select("order-queue")
        await pilot.press("4")  # the inspector
        await pilot.pause()

    assert snap_compare(make_app("burst-event-driven"), terminal_size=SIZE,
                        run_before=run_before)


def test_poison_message_in_the_dlq(make_app: MakeApp, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        screen = await run_to(pilot, 62)
        screen.query_one(EventLog).focus()
        await pilot.press("f", "f", "f", "f")  # the events pane shows DLQ moves only
        await pilot.pause()

    assert snap_compare(make_app("poison-with-dlq"), terminal_size=SIZE,
                        run_before=run_before)


def test_compare_mode(make_app: MakeApp, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await run_to(pilot, 25)

    app = make_app("burst-request-response", compare="burst-event-driven")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_talk_mode(make_app: MakeApp, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        screen = await run_to(pilot, 40)
        await pilot.press("t", "n")  # talk mode, then on to the outage at 45 s
        await screen.refresh_frame()
        await pilot.pause()

    assert snap_compare(make_app("showcase"), terminal_size=SIZE, run_before=run_before)


def test_editor_showing_an_error(make_app: MakeApp, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        screen = await run_to(pilot, 5)
        await pilot.press("5")
        pane = screen.query_one(EditorPane)
        pane.editor.focus()
        line = pane.text.splitlines().index("    visibility_timeout: 30s")
        pane.editor.cursor_location = (line, len("    visibility_timeout: 30s"))
        await pilot.press("backspace", "backspace", "backspace", *"soon")
        await checked(pilot, pane)
        pane.editor.scroll_to(y=max(0, line - 8), animate=False)
        quiet(pilot.app)  # type: ignore[arg-type]
        await pilot.pause()

    assert snap_compare(make_app("burst-event-driven"), terminal_size=SIZE,
                        run_before=run_before)
