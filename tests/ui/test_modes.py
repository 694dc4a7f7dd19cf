"""The picker, modes (talk, compare), the timeline, panes, themes, help, palette and the
app's lifecycle."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from textual.app import App, ComposeResult
from textual.command import CommandPalette
from textual.renderables.digits import Digits as DigitsText
from textual.widgets import Digits, Input, Markdown, OptionList, Tabs
from textual.widgets._toast import Toast

from playground.ui import figures
from playground.ui.screens.compare_screen import CompareScreen
from playground.ui.screens.help_screen import HelpScreen
from playground.ui.screens.picker_screen import PickerScreen
from playground.ui.screens.run_screen import RunScreen
from playground.ui.theme_files import state_variable_defaults
from playground.ui.widgets.big_counters import BigCounters
from playground.ui.widgets.caption_banner import CaptionBanner
from playground.ui.widgets.compare_summary import CompareSummary
from playground.ui.widgets.diagram_pane import DiagramPane
from playground.ui.widgets.metrics_pane import LedgerBar, MetricsPane
from playground.ui.widgets.status_bar import StatusBar
from playground.ui.widgets.timeline_bar import TimelineBar
from tests.ui.conftest import SIZE, TOPOLOGIES, MakeApp, run_to


def engine_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "engine"]


async def test_picker_lists_examples_and_opens_the_showcase(make_app: MakeApp) -> None:
    app = make_app(None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        listing = app.screen.query_one("#examples", OptionList)
        assert listing.option_count >= 15
        first = listing.get_option_at_index(listing.highlighted or 0)
        assert str(first.id).endswith("showcase.yaml")  # the default selection
        description = app.screen.query_one("#description-text", Markdown)
        assert "online shop" in description.source
        await pilot.press("down")
        assert "online shop" not in description.source
        await pilot.press("up", "enter")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        assert app.screen.query_one(StatusBar).title == "showcase"


async def test_open_another_file_stops_the_old_engine(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        old = screen.sessions[0].host
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        path_input = app.screen.query_one("#path", Input)
        path_input.value = str(TOPOLOGIES / "fan-out.yaml")
        path_input.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        assert app.screen.sessions[0].name == "fan-out"
        assert old is not None and not old.running


async def test_stopping_the_app_stops_every_engine(make_app: MakeApp) -> None:
    before = len(engine_threads())
    app = make_app("showcase", compare="event-driven")
    async with app.run_test(size=SIZE) as pilot:
        await run_to(pilot, 2)
        assert len(engine_threads()) == before + 2
    assert len(engine_threads()) == before


async def test_talk_mode_shows_diagram_counters_and_captions_only(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        await pilot.press("t")
        await pilot.pause()
        assert screen.has_class("-talk")
        assert screen.query_one(BigCounters).display
        assert screen.query_one(DiagramPane).region.height >= 25
        for hidden in ("#status", "#timeline", "#lower"):
            assert screen.query_one(hidden).region.height == 0
        await pilot.press("n")  # the next scenario step: the flash sale at 15 s
        await pilot.pause()
        assert screen.clock.now == 15
        banner = screen.query_one(CaptionBanner)
        assert banner.display and "Flash sale" in str(banner.render())
        digits = screen.query_one("#big-delivered Digits")
        assert digits.value not in ("", "0")  # type: ignore[attr-defined]
        await pilot.press("escape")
        await pilot.pause()
        assert not screen.has_class("-talk")
        assert screen.query_one("#lower").region.height > 0


async def test_timeline_steps_from_step_to_step(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 0)
        timeline = screen.query_one(TimelineBar)
        assert "next 15s burst shoppers" in timeline.line(120).plain
        await pilot.press("n")
        await pilot.pause()
        assert screen.clock.now == 15
        assert "next 45s outage of shipments" in timeline.line(120).plain
        await pilot.press("full_stop")
        await pilot.pause()
        assert screen.clock.now == 16
        assert "held at 16.0s" in screen.query_one(StatusBar).line().plain


async def test_toggle_and_maximise_panes(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        await pilot.press("1")
        assert not screen.query_one(DiagramPane).display
        await pilot.press("1", "2")
        assert screen.query_one(DiagramPane).display
        assert not screen.query_one(MetricsPane).display
        await pilot.press("2", "4")
        side = screen.query_one("#side")
        assert side.active == "tab-inspector"  # type: ignore[attr-defined]
        await pilot.press("4")
        assert not side.display
        await pilot.press("5")
        assert side.display and side.active == "tab-yaml"  # type: ignore[attr-defined]
        screen.query_one(DiagramPane).focus()
        await pilot.press("z")
        await pilot.pause()
        assert screen.maximized is screen.query_one(DiagramPane)
        assert screen.query_one(DiagramPane).region.height >= 35
        await pilot.press("escape")
        assert screen.maximized is None
        await pilot.press("z")
        assert screen.maximized is not None
        await pilot.press("z")
        assert screen.maximized is None
        height = screen.query_one("#lower").region.height
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert screen.query_one("#lower").region.height == height + 2


async def test_a_maximised_side_pane_takes_the_whole_width(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await run_to(pilot, 1)
        side = screen.query_one("#side")
        await pilot.press("5", "tab", "tab")  # the YAML pane, then the focus on its tabs
        await pilot.pause()
        assert isinstance(screen.focused, Tabs) and side.region.width < 80
        await pilot.press("z")
        await pilot.pause()
        assert screen.maximized is side and side.region.width == 80
        await pilot.press("z", "right_curly_bracket", "right_curly_bracket")  # wider: 56
        await pilot.pause()
        chosen = side.region.width
        assert screen.maximized is None and chosen > 48
        await pilot.press("z")
        await pilot.pause()
        assert side.region.width == 80
        await pilot.press("left_curly_bracket")  # the maximised pane keeps the screen
        await pilot.mouse_down(offset=(0, 10))  # its left edge is no border to drag
        await pilot.hover(offset=(40, 10))
        await pilot.mouse_up(offset=(40, 10))
        await pilot.resize_terminal(90, 24)  # laid out again
        await pilot.pause()
        assert side.region.width == 90
        await pilot.press("escape")
        await pilot.pause()
        assert screen.maximized is None and side.region.width == chosen


async def test_compare_mode_links_clocks_and_shows_differences(make_app: MakeApp) -> None:
    app = make_app("burst-request-response", compare="burst-event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 25)
        assert isinstance(screen, CompareScreen)
        a, b = screen.frames
        assert a is not None and b is not None
        assert a.t == b.t == 25  # linked clocks
        # the same traffic: both clients sent the same number of requests
        assert a.client["sent"] == b.client["sent"]
        assert a.client["errors"] > 0 and b.client["errors"] == 0
        summary = screen.query_one(CompareSummary).text()
        assert "client errors" in summary and "peak store writes" in summary
        row_a = next(line for line in summary.splitlines() if line.startswith("A  "))
        assert row_a.split()[1] == figures.count(a.client["errors"])
        delta = next(line for line in summary.splitlines() if line.startswith("B−A"))
        assert delta.split()[1] == "−" + figures.count(a.client["errors"])
        await pilot.press("space")  # one pause for both
        assert not screen.clock.paused
        await pilot.press("space")
        assert screen.clock.paused


async def test_compare_is_reachable_from_a_run(make_app: MakeApp) -> None:
    app = make_app("request-response")
    async with app.run_test(size=SIZE) as pilot:
        await run_to(pilot, 1)
        await pilot.press("ctrl+k")
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        listing = app.screen.query_one("#examples", OptionList)
        index = next(i for i in range(listing.option_count)
                     if str(listing.get_option_at_index(i).id).endswith("event-driven.yaml")
                     and "burst" not in str(listing.get_option_at_index(i).id))
        listing.highlighted = index
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        assert "vs  B event-driven" in app.screen.query_one(StatusBar).title


async def test_theme_switch_and_theme_option(make_app: MakeApp) -> None:
    app = make_app("showcase", theme="light")
    async with app.run_test(size=SIZE) as pilot:
        await run_to(pilot, 1)
        assert app.theme == "light"
        assert set(app.theme_names) >= {"dark", "light", "high-contrast", "colour-blind"}
        await pilot.press("ctrl+t")
        assert app.theme != "light"
        assert app.get_css_variables()["state-failed"]


async def test_screenshot_saves_an_svg(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        await run_to(pilot, 3)
        await pilot.press("ctrl+e")
        await pilot.pause()
        shots = list(app.screenshots_dir.glob("*.svg"))
        assert len(shots) == 1 and shots[0].name.startswith("showcase-t")
        assert "<svg" in shots[0].read_text()


async def test_a_screenshot_of_a_topology_named_in_unicode_keeps_its_name(
        make_app: MakeApp, tmp_path: Path) -> None:
    path = tmp_path / "uni.yaml"
    text = (TOPOLOGIES / "showcase.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("name: showcase", 'name: "注文システム 🚀 café"', 1),
                    encoding="utf-8")
    app = make_app(None)
    app.path = path
    async with app.run_test(size=SIZE) as pilot:
        await run_to(pilot, 3)
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert [p.name for p in app.screenshots_dir.glob("*.svg")] == [
            "注文システム-café-t00003.0s.svg"]


async def test_a_screenshot_that_cannot_be_saved_is_said_not_a_crash(make_app: MakeApp,
                                                                     tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")  # .playground is a file: the folder cannot be made
    app = make_app("showcase")
    app.screenshots_dir = blocker / "screenshots"
    async with app.run_test(size=SIZE) as pilot:
        await run_to(pilot, 1)
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, RunScreen)
        said = [(n.title, n.message, n.severity) for n in app._notifications]
        assert any(title == "Screenshot not saved" and severity == "error"
                   and str(blocker / "screenshots") in message
                   and "not a directory" in message.lower() for title, message, severity in said)


async def test_help_lists_every_control(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        await run_to(pilot, 1)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.query_one(Markdown).source
        for words in ("Burst the selected producer", "Talk mode", "Redrive", "Compare",
                      "screenshot", "Restart"):
            assert words in text
        await pilot.press("escape")
        assert isinstance(app.screen, RunScreen)


async def test_controls_are_in_the_command_palette(make_app: MakeApp) -> None:
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        titles = {c.title for c in app.get_system_commands(screen)}
        assert {"Pause", "Burst", "Outage", "Talk", "Restart", "Theme", "Screenshot",
                "Compare", "Open", "Help"} <= titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Talk")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, RunScreen) and app.screen.has_class("-talk")


async def test_small_terminal_still_works(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await run_to(pilot, 5)
        assert screen.has_class("-narrow") and screen.has_class("-short")
        diagram = screen.query_one(DiagramPane)
        assert diagram.region.height >= 6
        assert any("sho…ers" in line for line in diagram.text_lines())  # cut in the middle
        await pilot.press("3")  # the side panes come back when asked for
        assert screen.query_one("#side").display


async def test_a_run_that_cannot_start_is_said_not_a_crash(make_app: MakeApp,
                                                            tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    app = make_app("showcase", db=blocker / "run.sqlite")  # no database can live there
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        assert app.screen.sessions[0].host is None
        assert any(n.title == "The run did not start" for n in app._notifications)
        await pilot.press("ctrl+r")  # still refuses, still running the app
        await pilot.pause()
        assert app.is_running


async def test_drag_pane_borders_to_resize(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        lower, side = screen.query_one("#lower"), screen.query_one("#side")
        top, left = lower.region.y, side.region.x
        await pilot.mouse_down(offset=(20, top))
        await pilot.hover(offset=(20, top - 5))
        await pilot.mouse_up(offset=(20, top - 5))
        await pilot.pause()
        assert lower.region.y == top - 5
        middle = side.region.y + 3
        await pilot.mouse_down(offset=(left, middle))
        await pilot.hover(offset=(left - 10, middle))
        await pilot.mouse_up(offset=(left - 10, middle))
        await pilot.pause()
        assert side.region.x == left - 10


async def test_quit_ends_the_app_and_its_engine(make_app: MakeApp) -> None:
    before = len(engine_threads())
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        await run_to(pilot, 1)
        assert len(engine_threads()) == before + 1
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running
    assert len(engine_threads()) == before


async def test_broken_and_duplicate_themes_are_one_line_notices_and_ctrl_t_still_cycles(
        make_app: MakeApp, tmp_path: Path) -> None:
    folder = tmp_path / "themes"
    folder.mkdir()
    for name in ("dark", "light", "high-contrast"):
        (folder / f"{name}.yaml").write_text(f"name: {name}\nprimary: '#4C9BE8'\n")
    (folder / "dupname.yaml").write_text("name: dark\nprimary: '#FF0000'\n")
    (folder / "badcolour.yaml").write_text("name: badcolour\nprimary: '#12345G'\n")
    app = make_app("showcase", themes_dir=folder)
    async with app.run_test(size=SIZE) as pilot:
        await run_to(pilot, 1)
        notices = sorted(n.message for n in app._notifications if n.title == "Theme not loaded")
        assert notices == [
            "themes/badcolour.yaml:2:10: primary: '#12345G' is not a colour; valid: a colour "
            "such as \"#4C9BE8\", red or rgb(76,155,232)",
            "themes/dupname.yaml:1:7: name: 'dark' is already the name of dark.yaml; valid: a "
            "name no other theme has (taken: dark, high-contrast, light)"]
        assert app.theme == "dark" and app.theme_names == ["dark", "high-contrast", "light"]
        seen = []
        for _ in range(4):
            await pilot.press("ctrl+t")
            seen.append(app.theme)
        assert seen == ["high-contrast", "light", "dark", "high-contrast"]


async def test_the_palette_has_one_theme_and_one_screenshot_command_ours(
        make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        titles = [c.title for c in app.get_system_commands(screen)]
        assert len(titles) == len(set(titles)), titles
        assert {"Theme", "Screenshot", "Maximise", "Quit", "Keys"} <= set(titles)
        assert "Maximize" not in titles
        for typed in ("Screenshot", "Theme"):
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*typed)
            await pilot.pause(0.3)
            await pilot.press("enter")
            await pilot.pause()
            await pilot.pause()
        # ours: saved where README says, and the next of the files in themes/
        assert [p.name for p in app.screenshots_dir.glob("*.svg")] == ["showcase-t00001.0s.svg"]
        assert app.theme == "high-contrast" and isinstance(app.screen, RunScreen)
    app = make_app("showcase", compare="event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        titles = [c.title for c in app.get_system_commands(screen)]
        assert len(titles) == len(set(titles)) and "Maximize" not in titles, titles


def ledger_and_clients_shown(screen: RunScreen) -> bool:
    """The ledger's lines and the clients' are drawn whole, on the screen and above the
    footer."""
    ledger = screen.query_one(LedgerBar)
    lines = [strip.text for strip in screen._compositor.render_strips()]
    seen = ledger.region.intersection(screen.query_one("#metrics").content_region)
    clients = next(i for i, line in enumerate(ledger.lines()) if line.plain.startswith("clients"))
    return (seen == ledger.region and ledger.region.height == len(ledger.lines())
            and ledger.region.bottom < screen.size.height  # the footer's row is the last
            and "ledger" in lines[ledger.region.y]
            and "clients" in lines[ledger.region.y + clients])


async def test_the_ledger_and_clients_lines_stay_visible_whatever_the_resize(
        make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 2)
        assert isinstance(screen, RunScreen) and ledger_and_clients_shown(screen)
        for _ in range(10):
            await pilot.press("left_square_bracket")
        await pilot.pause()
        assert ledger_and_clients_shown(screen)
        lower = screen.query_one("#lower")
        top = lower.region.y
        await pilot.mouse_down(offset=(20, top))  # dragged down to the bottom
        await pilot.hover(offset=(20, SIZE[1] - 2))
        await pilot.mouse_up(offset=(20, SIZE[1] - 2))
        await pilot.pause()
        assert ledger_and_clients_shown(screen)
        for _ in range(20):  # as tall as can be, then the terminal shrinks
            await pilot.press("right_square_bracket")
        await pilot.pause()
        assert ledger_and_clients_shown(screen)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert ledger_and_clients_shown(screen)
        assert screen.query_one("#diagram").region.height >= 6


class CountersApp(App[None]):
    """Talk mode's counters alone: a run that delivers a million messages takes minutes."""

    def __init__(self, frame: SimpleNamespace) -> None:
        super().__init__()
        self.frame = frame

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return state_variable_defaults()

    def compose(self) -> ComposeResult:
        yield BigCounters()

    def on_mount(self) -> None:
        self.query_one(BigCounters).frame = self.frame  # type: ignore[assignment]


@pytest.mark.parametrize("width", [60, 80, 120])
async def test_talk_modes_big_counters_never_cut_a_number(width: int) -> None:
    frame = SimpleNamespace(ledger={"delivered": 1_229_450},
                            client={"ok": 9, "errors": 12_345, "timeouts": 0,
                                    "latency": {"p99": 0.25}},
                            nodes={"q": {"kind": "queue", "gauges": {"depth": 987_654}}})
    app = CountersApp(frame)
    async with app.run_test(size=(width, 10)) as pilot:
        await pilot.pause()
        shown = {}
        for counter in app.query("BigCounter"):
            digits = counter.query_one(Digits)
            shown[counter.id] = digits.value
            # all of the number is drawn inside its own counter
            assert DigitsText.get_width(digits.value) <= counter.content_region.width
            assert digits.region.right <= counter.content_region.right
        wide = width >= 120  # 30 cells a counter: room for seven big digits
        assert shown["big-delivered"] == ("1229450" if wide else "1.2M")
        assert shown["big-queued"] == ("987654" if wide or width == 80 else "988k")
        assert shown["big-p99"] == "250"


async def test_talk_modes_notices_leave_the_counters_readable(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await run_to(pilot, 1)
        await pilot.press("t")
        await pilot.press("ctrl+t")  # the theme notice
        app.notify("Restarted")
        await pilot.pause(0.3)
        toasts = list(screen.query(Toast))
        assert len(toasts) == 2
        counters = screen.query_one(BigCounters).region
        assert counters.height >= 4
        for toast in toasts:
            assert toast.region.height > 0
            assert not toast.region.overlaps(counters)


async def test_a_step_scrolls_its_node_into_view_in_talk_mode(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await run_to(pilot, 1)
        await pilot.press("t")
        for at in (15, 45):  # the flash sale on shoppers, then the outage on shipments
            await pilot.press("n")
            while screen.clock.now < at - 1e-9:
                await pilot.pause(0.05)
            await screen.refresh_frame()
            await pilot.pause()
        assert "warehouse database is down" in str(screen.query_one(CaptionBanner).render())
        diagram = screen.query_one(DiagramPane)
        assert diagram.geo is not None
        box = diagram.geo.boxes["shipments"]
        x, y = diagram.scroll_offset
        width, height = diagram.scrollable_content_region.size
        # the whole box, OUTAGE badge included, is on screen
        assert x <= box.x and box.right < x + width
        assert y <= box.y and box.bottom < y + height
        # its row count is shortened to fit a 7-cell box, not cut to "2.8k ro"
        assert box.w - 2 == 7 and diagram.frame is not None
        rows = figures.count(diagram.frame.nodes["shipments"]["gauges"]["rows"])
        gauge = diagram.text_lines()[box.bottom][box.x + 1:box.right].rstrip("─")
        assert gauge == rows
