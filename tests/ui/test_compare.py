"""Compare mode's controls, help and files: what works there is said, what does not is too."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, KeyPanel, Markdown, Static
from textual.widgets._key_panel import BindingsTable

from playground.ui import figures
from playground.ui.screens.compare_screen import CompareScreen
from playground.ui.screens.help_screen import HelpScreen
from playground.ui.screens.picker_screen import PickerScreen
from playground.ui.widgets.caption_banner import CaptionBanner
from playground.ui.widgets.compare_summary import CompareSummary
from playground.ui.widgets.metrics_pane import LedgerBar
from playground.ui.widgets.status_bar import StatusBar
from playground.ui.widgets.timeline_bar import TimelineBar
from tests.ui.conftest import SIZE, TOPOLOGIES, MakeApp, run_to

BAD = """\
version: 1
name: bad
nodes:
  a: {kind: producer, rate: 0/s, to: b}
  b: {kind: store}
"""


def notices(app: object) -> list[tuple[str, str]]:
    return [(n.message, n.severity) for n in app._notifications]  # type: ignore[attr-defined]


def paused(screen: CompareScreen, function: str) -> list[bool]:
    return [bool(f is not None and f.node(function)["gauges"]["paused"]) for f in screen.frames]


async def test_pause_a_consumer_leaves_both_sides_alike(make_app: MakeApp) -> None:
    app = make_app("request-response", compare="event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 2)
        assert isinstance(screen, CompareScreen)
        screen.select("order-queue")  # only B has it: only B's create-order pauses
        await pilot.press("c")
        screen = await run_to(pilot, 3)
        assert isinstance(screen, CompareScreen)
        assert paused(screen, "create-order") == [False, True]
        screen.select("create-order")  # on both sides: one decision for both
        app.clear_notifications()
        await pilot.press("c")
        screen = await run_to(pilot, 4)
        assert isinstance(screen, CompareScreen)
        assert paused(screen, "create-order") == [True, True]
        assert notices(app) == [("paused create-order (both sides)", "information")]
        app.clear_notifications()
        await pilot.press("c")
        screen = await run_to(pilot, 5)
        assert isinstance(screen, CompareScreen)
        assert paused(screen, "create-order") == [False, False]
        assert notices(app) == [("resumed create-order (both sides)", "information")]


async def test_redrive_with_nothing_selected_finds_the_dlq_of_either_side(
        make_app: MakeApp) -> None:
    app = make_app("poison-no-dlq", compare="poison-with-dlq")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 60)  # B's #42 is parked in its DLQ at about 58 s
        assert isinstance(screen, CompareScreen)
        await pilot.press("x")  # A has no DLQ, B exactly one
        await pilot.pause()
        assert notices(app) == [("redrive orders-dlq into orders at 20/s", "information")]


async def test_help_lists_only_what_compare_mode_does(make_app: MakeApp) -> None:
    app = make_app("request-response", compare="event-driven")
    async with app.run_test(size=SIZE) as pilot:
        await run_to(pilot, 1)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = " ".join(app.screen.query_one(Markdown).source.split())
        assert "## Compare mode" in text and "## Run" not in text
        for words in ("Burst the selected producer", "Redrive", "Restart", "Compare",
                      "into the other side's diagram"):
            assert words in text
        for words in ("Talk mode:", "Maximise", "Show or hide", "panes narrower",
                      "Give the lower panes"):
            assert words not in text
        await pilot.press("escape")
        assert isinstance(app.screen, CompareScreen)


async def test_run_screen_keys_say_they_do_nothing_in_compare_mode(make_app: MakeApp) -> None:
    app = make_app("request-response", compare="event-driven")
    async with app.run_test(size=SIZE) as pilot:
        await run_to(pilot, 1)
        for key, what in (("t", "talk mode"), ("z", "maximise"), ("4", "showing or hiding panes"),
                          ("right_square_bracket", "resizing panes")):
            app.clear_notifications()
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, CompareScreen)
            assert notices(app) == [(f"{what}: only on the run screen, not in compare mode",
                                     "warning")]


async def test_a_side_whose_file_has_errors_says_what_they_are(make_app: MakeApp,
                                                               tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD)
    app = make_app("bad", compare="showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, CompareScreen)
        shown = str(screen.query_one("#problems-a", Static).render())
        assert "A does not run: the file has 2 errors" in shown
        assert "bad.yaml:4:29: a rate must be positive (got '0/s')" in shown
        assert "a producer cannot send to a store" in shown
        assert any("bad.yaml has errors: A does not run" in message and severity == "error"
                   for message, severity in notices(app))
        assert not screen.query_one("#problems-b", Static).display
        app.clear_notifications()
        await pilot.press("n")  # B's scenario is the timeline
        await pilot.pause()
        frame = screen.frames[1]
        assert frame is not None and frame.t == 15



async def test_a_p99_of_nothing_reads_as_a_duration(make_app: MakeApp) -> None:
    app = make_app("request-response", compare="event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 3)
        assert isinstance(screen, CompareScreen)
        b = screen.frames[1]
        assert b is not None and b.client["latency"]["p99"] == 0  # 202 at once
        summary = screen.query_one(CompareSummary).text()
        row_b = next(line for line in summary.splitlines() if line.startswith("B  "))
        assert row_b.split()[2] == "0ms"


async def test_side_by_side_ledgers_stay_in_line_when_one_wraps(make_app: MakeApp) -> None:
    app = make_app("burst-request-response", compare="burst-event-driven")
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await run_to(pilot, 25)
        await pilot.pause()
        a, b = screen.query(LedgerBar)
        assert a.line_count == 4 and b.line_count == 3  # A's errors by status need a line more
        assert (a.region.y, a.region.height) == (b.region.y, b.region.height)
        assert "now" in " ".join(line.plain for line in a.lines())


def down_from_the_start(source: str, target: Path) -> None:
    """``source`` (an example) with its api down for the first minute."""
    text = (TOPOLOGIES / f"{source}.yaml").read_text()
    target.write_text(text.replace(
        "scenario:\n", "scenario:\n  - {at: 0s, action: outage, node: api, for: 60s}\n", 1))


async def test_a_side_with_no_ok_answer_has_no_p99_to_compare(make_app: MakeApp,
                                                              tmp_path: Path) -> None:
    down_from_the_start("request-response", tmp_path / "down.yaml")
    app = make_app("request-response", compare="down")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 3)
        a, b = screen.frames
        assert a is not None and a.client["ok"] > 0
        assert b is not None and b.client.get("ok", 0) == 0 and b.client["errors"] > 0
        rows = {line.split()[0]: line.split()[1:]
                for line in screen.query_one(CompareSummary).text().splitlines()}
        assert rows["A"][1] == figures.duration(a.client["latency"]["p99"]) != "0ms"
        assert rows["B"][1] == "-"  # an outage is not a latency of 0
        assert rows["B−A"][1] == "-"


def caption(screen: CompareScreen, side: str) -> str | None:
    banner = screen.query_one(f"#caption-{side}", CaptionBanner)
    return str(banner.render()) if banner.display else None


def without_scenario(source: str, target: Path) -> None:
    text = (TOPOLOGIES / f"{source}.yaml").read_text()
    target.write_text(text[:text.index("scenario:")] + text[text.index("layout:"):])


async def test_the_timeline_and_n_cover_the_side_that_has_the_scenario(
        make_app: MakeApp, tmp_path: Path) -> None:
    without_scenario("request-response", tmp_path / "quiet.yaml")
    app = make_app("quiet", compare="event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, CompareScreen)
        timeline = screen.query_one(TimelineBar).line(120).plain
        assert "next 15s B degrade orders" in timeline and "no scenario" not in timeline
        await pilot.press("n")
        await pilot.pause()
        assert [f.t for f in screen.frames if f is not None] == [15, 15]
        assert caption(screen, "a") is None
        assert caption(screen, "b") == ("15s  The orders table slows down 40x. Clients get "
                                        "their 202 as fast as before.")
        await pilot.press("n")
        await pilot.pause()
        assert [f.t for f in screen.frames if f is not None] == [40, 40]
        assert "scenario done" in screen.query_one(TimelineBar).line(120).plain


async def test_both_sides_captions_show_each_under_its_side(make_app: MakeApp) -> None:
    app = make_app("request-response", compare="event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, CompareScreen)
        timeline = screen.query_one(TimelineBar).line(160).plain
        assert "next 15s A+B degrade orders: errors 0, x40 slower for 15s  (n)" in timeline
        await pilot.press("n")
        await pilot.pause()
        assert caption(screen, "a") == ("15s  The orders table slows down 40x. Every client "
                                        "now waits for it: watch the latency.")
        assert caption(screen, "b") == ("15s  The orders table slows down 40x. Clients get "
                                        "their 202 as fast as before.")


async def pick(pilot: Pilot[None], path: Path) -> None:
    """Types ``path`` into the picker on screen and opens it."""
    picker = pilot.app.screen
    assert isinstance(picker, PickerScreen)
    typed = picker.query_one("#path", Input)
    typed.value = str(path)
    typed.focus()
    await pilot.press("enter")
    await pilot.pause()


async def test_compare_goes_on_at_the_speed_the_run_had(make_app: MakeApp) -> None:
    app = make_app("request-response")
    async with app.run_test(size=SIZE) as pilot:
        await run_to(pilot, 1)
        await pilot.press("plus", "plus", "plus")  # 1x, 2x, 5x, 10x
        await pilot.press("ctrl+k")
        await pilot.pause()
        await pick(pilot, TOPOLOGIES / "event-driven.yaml")
        screen = await run_to(pilot, 2)
        assert isinstance(screen, CompareScreen)
        assert "speed 10x" in screen.query_one(StatusBar).line(160).plain


async def test_compare_with_a_file_with_errors_is_refused_and_the_run_goes_on(
        make_app: MakeApp, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD)
    app = make_app("request-response")
    async with app.run_test(size=SIZE) as pilot:
        run = await run_to(pilot, 5)
        host = run.sessions[0].host
        await pilot.press("ctrl+k")
        await pilot.pause()
        app.clear_notifications()
        await pick(pilot, tmp_path / "bad.yaml")
        assert isinstance(app.screen, PickerScreen)  # it stays open
        assert notices(app) == [(f"{tmp_path / 'bad.yaml'} has 2 errors: a rate must be "
                                 "positive (got '0/s'). The run goes on; open the file with "
                                 "ctrl+o to fix them", "error")]
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is run and run.sessions[0].host is host
        screen = await run_to(pilot, 6)
        frame = screen.frames[0]
        assert frame is not None and frame.t == 6 and frame.client["ok"] > 0


async def test_the_palettes_keys_panel_lists_only_keys_that_work_in_compare_mode(
        make_app: MakeApp) -> None:
    app = make_app("request-response", compare="event-driven")
    async with app.run_test(size=SIZE) as pilot:
        await run_to(pilot, 1)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Keys")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        table = app.screen.query_one(KeyPanel).query_one(BindingsTable)
        plain = Console(file=io.StringIO(), width=60, color_system=None)
        plain.print(table.render_bindings_table())
        shown = plain.file.getvalue()  # type: ignore[attr-defined]
        for works in ("Pause", "Burst", "Step", "Restart"):
            assert works in shown
        for only_on_the_run_screen in ("Talk", "Maximise", "Inspector", "YAML",
                                       "Lower taller", "Side wider"):
            assert only_on_the_run_screen not in shown


async def test_the_arrows_go_on_into_the_other_sides_diagram(make_app: MakeApp) -> None:
    app = make_app("request-response", compare="event-driven")
    async with app.run_test(size=SIZE) as pilot:  # one side above the other
        screen = await run_to(pilot, 1)
        assert isinstance(screen, CompareScreen)
        a, b = screen.query_one("#diagram-a"), screen.query_one("#diagram-b")
        await pilot.press("right", "right", "down")  # A's api, then down into B
        assert app.focused is b and screen.selected_node() == "api"
        title_a, title_b = (screen.query_one(f"#side-{side} .side-title")
                            for side in ("a", "b"))
        assert title_b.styles.background != title_a.styles.background  # B's is marked
        await pilot.press("right")  # a node only B has
        assert screen.selected_node() == "order-queue"
        await pilot.press("right", "up")  # B's place-order, then up into A's below it
        assert app.focused is a and screen.selected_node() == "create-order"


async def test_side_by_side_the_arrows_go_right_into_b(make_app: MakeApp) -> None:
    app = make_app("request-response", compare="event-driven")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, CompareScreen) and screen.has_class("-wide")
        await pilot.press(*["right"] * 5)  # A's four nodes, then on into B
        assert app.focused is screen.query_one("#diagram-b")
        assert screen.selected_node() == "clients"
        await pilot.press("right", "right", "down")
        assert screen.selected_node() == "order-dlq"
        await pilot.press("up", "left", "left", "left")
        assert app.focused is screen.query_one("#diagram-a")
        assert screen.selected_node() == "orders"


async def test_side_by_side_a_caption_on_one_side_keeps_the_diagrams_in_line(
        make_app: MakeApp, tmp_path: Path) -> None:
    without_scenario("request-response", tmp_path / "quiet.yaml")
    app = make_app("quiet", compare="event-driven")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, CompareScreen) and screen.has_class("-wide")
        await pilot.press("n")
        await pilot.pause()
        await pilot.pause()
        assert caption(screen, "b") is not None
        a, b = screen.query_one("#diagram-a"), screen.query_one("#diagram-b")
        assert b.region.y > screen.query_one("#caption-b").region.y
        assert (a.region.y, a.region.height) == (b.region.y, b.region.height)
