"""The achieved speed in the status line: shown while time runs on the wall clock, solo or
in compare mode, measured over a window of running at one speed, never across a pause."""

from __future__ import annotations

import re
import time

from playground.ui import figures
from playground.ui.screens.running import RunningScreen
from playground.ui.widgets.status_bar import StatusBar
from tests.ui.conftest import SIZE, MakeApp

ACHIEVED = re.compile(r"achieved ([0-9.]+)x")


async def _achieved_within(pilot: object, screen: RunningScreen, seconds: float
                           ) -> list[float]:
    """Every achieved speed the status line shows for ``seconds`` of wall time."""
    seen: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await pilot.pause(0.05)  # type: ignore[attr-defined]
        found = ACHIEVED.search(screen.query_one(StatusBar).line().plain)
        if found:
            seen.append(float(found.group(1)))
    return seen


async def test_compare_mode_shows_the_speed_it_achieves(make_app: MakeApp) -> None:
    app = make_app("request-response", compare="event-driven", mode="real", speed=2)
    async with app.run_test(size=(200, 50)) as pilot:
        screen = app.screen
        assert isinstance(screen, RunningScreen)
        seen = await _achieved_within(pilot, screen, 2.0)
        # (a busy machine may not keep up: above half the speed asked, never beyond it)
        assert seen and 1.0 < seen[-1] <= 2.2


async def test_after_a_pause_no_achieved_speed_of_zero_is_shown(make_app: MakeApp) -> None:
    app = make_app("event-driven", mode="real", speed=1)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, RunningScreen)
        assert await _achieved_within(pilot, screen, 1.0)
        await pilot.press("space")
        assert await _achieved_within(pilot, screen, 1.0) == []  # paused: nothing achieved
        await pilot.press("space")
        seen = await _achieved_within(pilot, screen, 1.5)
        assert seen and min(seen) > 0.5  # the first window after the pause is whole


def test_a_speed_is_written_without_an_exponent() -> None:
    assert [figures.speed(x) for x in (0.22, 4.999, 9.96, 99.7, 100.0, 222.0)] == [
        "0.22", "5", "10", "100", "100", "222"]
