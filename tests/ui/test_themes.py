"""The shipped themes read on a projector: state colours against what they are drawn on."""

from __future__ import annotations

import pytest
from textual.color import Color
from textual.theme import Theme
from textual.widgets import Tab

from playground.ui.theme_files import STATES, load_themes
from tests.ui.conftest import SIZE, MakeApp, run_to

THEMES = {theme.name: theme for theme in load_themes()[0]}


def luminance(colour: Color) -> float:
    """WCAG 2 relative luminance."""
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    return 0.2126 * linear(colour.r) + 0.7152 * linear(colour.g) + 0.0722 * linear(colour.b)


def contrast(one: Color, other: Color) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def needed(theme: Theme) -> float:
    return 4.5 if theme.name == "high-contrast" else 3.0


@pytest.mark.parametrize("name", sorted(THEMES))
def test_every_state_colour_reads_on_the_surfaces_it_is_drawn_on(name: str) -> None:
    theme = THEMES[name]
    assert set(THEMES) >= {"dark", "light", "high-contrast", "colour-blind"}
    # the diagram, metrics and log are drawn on the surface; inspector figures and the
    # ledger on the panel
    grounds = {"surface": theme.surface, "panel": theme.panel}
    low = []
    for state in STATES:
        colour = Color.parse(theme.variables[f"state-{state}"])
        for where, ground in grounds.items():
            assert ground is not None
            ratio = contrast(colour, Color.parse(ground))
            if ratio < needed(theme):
                low.append(f"{state} {colour.hex} on {where}: {ratio:.2f}:1")
    assert low == []


async def test_high_contrast_draws_no_border_or_tab_label_at_half_strength(
        make_app: MakeApp) -> None:
    app = make_app("showcase", theme="high-contrast")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        background = Color.parse(THEMES["high-contrast"].background or "#000000")
        metrics = screen.query_one("#metrics")
        assert not metrics.has_focus_within
        _, border = metrics.styles.border_top
        inspector = next(tab for tab in screen.query(Tab) if "Inspector" in str(tab.label))
        assert not inspector.has_class("-active")
        drawn = {"border": border, "tab label": inspector.styles.color}
        assert {part: colour.a for part, colour in drawn.items()} == {"border": 1.0,
                                                                     "tab label": 1.0}
        for colour in drawn.values():
            assert contrast(background + colour, background) >= 4.5
