"""Fixtures for the app's tests: an app factory on a copy of an example, on the virtual
clock (time moves only when a test steps it), with animations and cursor blink off.

Snapshot baselines (``__snapshots__/``) are made with Python 3.11 and Textual 8.2.8; other
versions may draw a cell differently. Refresh them with ``--snapshot-update`` and look at
every changed SVG before committing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from playground.ui.app import PlaygroundApp
from playground.ui.screens.running import RunningScreen
from playground.ui.widgets.editor_pane import EditorPane

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGIES = ROOT / "topologies"
SIZE = (120, 40)

MakeApp = Callable[..., PlaygroundApp]


@pytest.fixture
def make_app(tmp_path: Path) -> MakeApp:
    """``make_app("showcase", compare="event-driven")``: the app on copies of examples."""

    def copy(name: str) -> Path:
        target = tmp_path / f"{name}.yaml"
        if not target.exists():
            shutil.copy(TOPOLOGIES / f"{name}.yaml", target)
        return target

    def make(name: str | None = "showcase", *, compare: str | None = None,
             **options: object) -> PlaygroundApp:
        options.setdefault("mode", "virtual")
        options.setdefault("db", tmp_path / "run.sqlite")
        app = PlaygroundApp(copy(name) if name else None,
                            compare=copy(compare) if compare else None,
                            screenshots_dir=tmp_path / "screenshots",
                            examples_dir=TOPOLOGIES, **options)  # type: ignore[arg-type]
        app.animation_level = "none"
        return app

    return make


def quiet(app: PlaygroundApp) -> None:
    """No blinking cursors: a snapshot must not depend on when it is taken."""
    for widget in app.screen.query(TextArea):
        widget.cursor_blink = False
    for widget in app.screen.query(Input):
        widget.cursor_blink = False


async def run_to(pilot: Pilot[None], t: float) -> RunningScreen:
    """Moves simulated time to ``t`` and shows the frame of that instant."""
    screen = pilot.app.screen
    assert isinstance(screen, RunningScreen)
    await screen.clock.advance_to(t)
    await screen.refresh_frame()
    quiet(pilot.app)  # type: ignore[arg-type]
    await pilot.pause()
    return screen


async def checked(pilot: Pilot[None], pane: EditorPane) -> None:
    """Checks the YAML pane's text now, as a pause in typing would, and waits for the
    check (it runs in a thread) to be shown."""
    pane.check_now()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
