"""Every live control, pressed as a user would, checked in what the panes show."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.widgets import Input

from playground.ui.screens.run_screen import RunScreen
from playground.ui.screens.running import FPS
from playground.ui.session import ControlError
from playground.ui.widgets.diagram_pane import DiagramPane
from playground.ui.widgets.events_pane import EventLog, TraceView
from playground.ui.widgets.metrics_pane import MetricsTable
from playground.ui.widgets.status_bar import StatusBar
from tests.ui.conftest import SIZE, MakeApp, run_to


def box_title(screen: RunScreen, node: str) -> str:
    """The text on the top border of ``node``'s box in the diagram."""
    diagram = screen.query_one(DiagramPane)
    assert diagram.geo is not None
    box = diagram.geo.boxes[node]
    return diagram.text_lines()[box.y][box.x + 1:box.right]


def log_text(screen: RunScreen) -> str:
    return "\n".join(screen.query_one(EventLog).text_lines())


async def test_pause_and_resume(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        status = screen.query_one(StatusBar)
        assert "⏸ held at 1.0s" in status.line().plain  # a virtual run waits to be stepped
        await pilot.press("space")
        await screen.refresh_frame()
        assert "running" in status.line().plain
        assert not screen.clock.paused
        await pilot.press("space")
        await screen.refresh_frame()
        assert "paused" in status.line().plain
        assert screen.clock.paused


async def test_speed_steps_between_bounds(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 0.5)
        await pilot.press("plus")
        await screen.refresh_frame()
        assert "speed 2x" in screen.query_one(StatusBar).line().plain
        for _ in range(12):
            await pilot.press("plus")
        assert screen.clock.speed == 100
        for _ in range(12):
            await pilot.press("minus")
        await screen.refresh_frame()
        assert screen.clock.speed == 0.1
        assert "speed 0.1x" in screen.query_one(StatusBar).line().plain


async def test_burst_the_selected_producer(make_app: MakeApp) -> None:
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 2)
        assert isinstance(screen, RunScreen)
        screen.select("clients")
        await pilot.press("b")
        screen = await run_to(pilot, 3)
        frame = screen.frames[0]
        assert frame is not None
        assert frame.node("clients")["gauges"]["rate"] == 5 * 20
        diagram = screen.query_one(DiagramPane)
        assert any("×5" in line for line in diagram.text_lines())
        assert "burst clients x5" in log_text(screen)


SHORT = """\
version: 1
name: short
duration: 2s
nodes:
  clients: {kind: producer, rate: 10/s, pattern: constant, to: work}
  work: {kind: function}
"""


async def test_producers_go_on_past_the_files_duration(make_app: MakeApp,
                                                         tmp_path: Path) -> None:
    (tmp_path / "short.yaml").write_text(SHORT)
    app = make_app("short")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 6)  # the file's 2 s are a headless run's length
        host = screen.sessions[0].host
        assert host is not None
        assert host.report()["client"]["sent"] >= 60
        assert isinstance(screen, RunScreen)
        screen.select("clients")
        await pilot.press("b")  # a burst after the duration still makes messages
        screen = await run_to(pilot, 7)
        assert host.report()["client"]["sent"] >= 60 + 5 * 10


async def test_burst_refuses_a_node_that_is_no_producer(make_app: MakeApp) -> None:
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, RunScreen)
        screen.select("orders")
        await pilot.press("b")
        await pilot.pause()
        assert any("needs a producer" in n.message for n in app._notifications)


async def test_outage_of_the_selected_node(make_app: MakeApp) -> None:
    app = make_app("request-response")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, RunScreen)
        screen.select("orders")
        await pilot.press("o")
        screen = await run_to(pilot, 3)
        assert box_title(screen, "orders").startswith("OUTAGE")
        frame = screen.frames[0]
        assert frame is not None and frame.client["errors"] > 0
        assert "outage of orders" in log_text(screen)
        screen = await run_to(pilot, 20)  # 15 s later it is over
        assert not box_title(screen, "orders").startswith("OUTAGE")


async def test_degrade_the_selected_node(make_app: MakeApp) -> None:
    app = make_app("request-response")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, RunScreen)
        screen.select("create-order")
        await pilot.press("g")
        screen = await run_to(pilot, 2)
        assert box_title(screen, "create-order").startswith("DEGRADED")
        assert "degrade create-order" in log_text(screen)


async def test_pause_and_resume_a_consumer(make_app: MakeApp) -> None:
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, RunScreen)
        screen.select("order-queue")  # the queue's consumer is meant
        await pilot.press("c")
        screen = await run_to(pilot, 4)
        assert box_title(screen, "create-order").startswith("PAUSED")
        frame = screen.frames[0]
        assert frame is not None
        assert frame.node("order-queue")["gauges"]["depth"] > 30  # nobody consumes
        await pilot.press("c")
        screen = await run_to(pilot, 6)
        assert not box_title(screen, "create-order").startswith("PAUSED")
        frame = screen.frames[0]
        assert frame is not None
        assert frame.node("order-queue")["gauges"]["depth"] < 10


async def test_redrive_a_dlq(make_app: MakeApp) -> None:
    app = make_app("poison-with-dlq")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 60)  # #42 is parked at about 58 s
        frame = screen.frames[0]
        assert frame is not None
        parked = frame.node("orders-dlq")["gauges"]["depth"]
        assert parked > 0
        assert isinstance(screen, RunScreen)
        screen.select("orders-dlq")
        await pilot.press("x")
        screen = await run_to(pilot, 61.5)
        assert "redrive orders-dlq" in log_text(screen)
        assert "redriven -> orders" in log_text(screen)


async def test_restart_goes_back_to_zero(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 16)
        assert "Flash sale" in log_text(screen)
        old_host = screen.sessions[0].host
        await pilot.press("ctrl+r")
        await screen.refresh_frame()
        await pilot.pause()
        frame = screen.frames[0]
        assert frame is not None and frame.t == 0
        assert old_host is not None and not old_host.running
        assert log_text(screen) == ""
        assert "t 0.0s" in screen.query_one(StatusBar).line().plain


async def test_arrows_and_clicks_select_nodes(make_app: MakeApp) -> None:
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        diagram = screen.query_one(DiagramPane)
        diagram.focus()
        await pilot.press("right")  # nothing selected yet: the leftmost node
        assert diagram.selected == "clients"
        await pilot.press("right", "right")
        assert diagram.selected == "order-queue"
        await pilot.press("down")
        assert diagram.selected == "order-dlq"
        assert screen.query_one(MetricsTable).selected == "order-dlq"
        await pilot.press("enter")  # the inspector opens on it
        assert screen.query_one("#side").active == "tab-inspector"  # type: ignore[attr-defined]
        assert "order-dlq · queue" in str(screen.query_one("#inspector-title").render())
        assert diagram.geo is not None
        box = diagram.geo.boxes["orders"]
        await pilot.click(DiagramPane, offset=(box.x + 2, box.y + 2))
        assert diagram.selected == "orders"
        lines = diagram.text_lines()
        assert lines[box.y][box.x] == "┏"  # the selected box is drawn heavy


async def test_filter_the_log_and_follow_a_message_hop_by_hop(make_app: MakeApp) -> None:
    app = make_app("poison-with-dlq")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 62)
        log = screen.query_one(EventLog)
        log.focus()
        await pilot.press("f", "f")  # all -> error -> retry
        assert log.category == "retry"
        assert log.view and all("visible again" in e.text for e in log.view)
        await pilot.press("f", "f")  # -> throttle -> dlq
        assert log.view and all(e.category == "dlq" for e in log.view)
        assert log.view[-1].text.startswith("-> orders-dlq")
        await pilot.press("up", "enter")
        await screen.refresh_frame()
        await pilot.pause()
        trace = screen.query_one(TraceView)
        assert trace.display and trace.trace == log.view[-1].trace
        hops = trace.text_lines()
        assert any("created" in h for h in hops)
        assert sum("received by process-order" in h for h in hops) == 5
        assert "-> orders-dlq" in hops[-1]
        times = [float(h.split()[0]) for h in hops]
        assert times == sorted(times)
        await pilot.press("escape")
        assert trace.trace is None and not trace.display
        search = screen.query_one("#events-filter", Input)
        search.value = "no such node"
        await pilot.pause()
        assert not log.view


async def test_esc_leaves_the_events_filter_and_keeps_its_text(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 20)
        search = screen.query_one("#events-filter", Input)
        search.focus()
        await pilot.press(*"api", "escape")
        log = screen.query_one(EventLog)
        assert screen.focused is log and search.value == "api"
        assert log.search == "api" and log.view
        await pilot.press("space")  # a live key again, not typed into the box
        assert search.value == "api"
        assert "▶ running" in screen.query_one(StatusBar).line().plain


async def test_a_failing_invocation_is_an_error_in_the_log(make_app: MakeApp) -> None:
    app = make_app("poison-with-dlq")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 62)
        log = screen.query_one(EventLog)
        log.focus()
        await pilot.press("f")  # all -> error
        assert log.category == "error"
        failed = [e for e in log.view if e.node == "process-order"]
        assert [e.text.split(" in ")[0] for e in failed] == \
            ["invocation failed (poison message)"] * 5  # #42, received five times


async def test_a_real_clock_runs_on_its_own_and_pauses(make_app: MakeApp) -> None:
    app = make_app("event-driven", mode="real", speed=10)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, RunScreen)
        while screen.frames[0] is None or screen.frames[0].t < 2:
            await pilot.pause(0.05)  # ten simulated seconds per wall second
        drawn = screen.frame_count + screen.glides
        started = time.monotonic()
        await pilot.pause(1.0)
        rate = (screen.frame_count + screen.glides - drawn) / (time.monotonic() - started)
        assert 5 < rate <= FPS + 2  # one frame timer, at its rate
        await pilot.press("space")
        await pilot.pause(0.2)
        held = screen.sessions[0].host.now  # type: ignore[union-attr]
        await pilot.pause(0.3)
        assert screen.sessions[0].host.now == held  # type: ignore[union-attr]
        await pilot.press("n")  # fast-forward to the first scenario step and hold
        while screen.clock.now < 15 - 1e-9:
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        assert screen.clock.now == 15
        assert "held at 15.0s" in screen.query_one(StatusBar).line().plain


SHARED_DLQ = """\
version: 1
name: shared-dlq
seed: 1
duration: 60s
nodes:
  p: {kind: producer, rate: 10/s, to: q}
  q: {kind: queue, visibility_timeout: 1s, to: [f1], dlq: {queue: d, max_receives: 1}}
  d: {kind: queue}
  q2: {kind: queue, to: [f2, f3], dlq: {queue: d, max_receives: 5}}
  f1: {kind: function, errors: 1, to: [s, q2]}
  f2: {kind: function, to: s}
  f3: {kind: function, to: s}
  s: {kind: store}
"""


def notices(app: object) -> list[tuple[str, str]]:
    return [(n.message, n.severity) for n in app._notifications]  # type: ignore[attr-defined]


async def notices_after(pilot: object, screen: RunScreen, node: str, key: str
                        ) -> list[tuple[str, str]]:
    """What the app says when ``key`` is pressed with ``node`` selected."""
    app = screen.app
    screen.select(node)
    app.clear_notifications()
    await pilot.press(key)  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    return notices(app)


async def test_redrive_a_dlq_two_queues_share_into_the_selected_queue(
        make_app: MakeApp, tmp_path: Path) -> None:
    (tmp_path / "shared-dlq.yaml").write_text(SHARED_DLQ)
    app = make_app("shared-dlq")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 5)
        assert isinstance(screen, RunScreen)
        screen.select("f1")
        await pilot.press("c")  # every message of q fails once, then waits in d
        screen = await run_to(pilot, 8)
        frame = screen.frames[0]
        assert frame is not None
        parked = frame.node("d")["gauges"]["depth"]
        assert parked >= 40
        # whose DLQ? q's and q2's: the user must say
        assert await notices_after(pilot, screen, "d", "x") == [
            ("d is the DLQ of q and q2: select the queue to redrive into and press x",
             "warning")]
        assert await notices_after(pilot, screen, "q", "x") == [
            ("redrive d into q at 20/s", "information")]
        screen = await run_to(pilot, 10)
        frame = screen.frames[0]
        assert frame is not None
        assert frame.node("d")["gauges"]["depth"] <= parked - 30
        assert "redrive failed" not in log_text(screen)


async def test_redrive_of_an_empty_dlq_says_there_is_nothing_to_redrive(
        make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 2)  # nothing has failed yet
        assert isinstance(screen, RunScreen)
        assert await notices_after(pilot, screen, "warehouse-dlq", "x") == [
            ("warehouse-dlq holds no message to redrive yet", "warning")]


async def test_pause_a_queue_with_several_consumers_names_them(make_app: MakeApp,
                                                               tmp_path: Path) -> None:
    (tmp_path / "shared-dlq.yaml").write_text(SHARED_DLQ)
    app = make_app("shared-dlq")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, RunScreen)
        assert await notices_after(pilot, screen, "q2", "c") == [
            ("q2 has 2 consumers (f2, f3): select the one to pause or resume", "warning")]
        assert await notices_after(pilot, screen, "s", "c") == [
            ("pause/resume needs a function or a queue with a consumer; s is a store",
             "warning")]


async def test_burst_again_restarts_the_burst_instead_of_stacking(make_app: MakeApp) -> None:
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 2)
        assert isinstance(screen, RunScreen)
        await pilot.press("b", "b", "b")  # the first producer: clients, 20/s
        screen = await run_to(pilot, 3)
        frame = screen.frames[0]
        assert frame is not None
        assert frame.node("clients")["gauges"]["rate"] == 5 * 20
        lines = screen.query_one(DiagramPane).text_lines()
        assert any("×5" in line for line in lines)
        assert not any("×25" in line or "×125" in line for line in lines)
        assert [m for m, _ in notices(app)][-3:] == [
            "burst clients x5 for 10s", "burst clients x5 again: 10s from now (until 12s)",
            "burst clients x5 again: 10s from now (until 12s)"]
        screen = await run_to(pilot, 6)
        app.clear_notifications()
        await pilot.press("b")  # 4 s before the end: 10 s more from now
        await pilot.pause()
        assert [m for m, _ in notices(app)] == [
            "burst clients x5 again: 10s from now (until 16s)"]
        for t, rate in ((11.5, 100), (13, 100), (15.5, 100), (16.5, 20)):
            screen = await run_to(pilot, t)
            frame = screen.frames[0]
            assert frame is not None
            assert frame.node("clients")["gauges"]["rate"] == rate, t


async def test_throttling_shows_in_every_frame_while_requests_are_refused(
        make_app: MakeApp) -> None:
    app = make_app("showcase")  # 15-35 s: 150 shoppers/s into a 100/s throttle
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 18)
        assert isinstance(screen, RunScreen)
        frame = screen.frames[0]
        assert frame is not None
        refused = frame.node("api")["counters"]["throttled"]
        for n in range(1, 31):  # one second, frame by frame
            screen = await run_to(pilot, 18 + n / FPS)
            assert isinstance(screen, RunScreen)
            assert box_title(screen, "api").startswith("THROTTLING"), n
        frame = screen.frames[0]
        assert frame is not None and frame.node("api")["counters"]["throttled"] > refused + 20
        screen = await run_to(pilot, 38)  # the flash sale is over: nothing refused
        assert isinstance(screen, RunScreen)
        assert not box_title(screen, "api").startswith("THROTTLING")


OVERLOADED_STORE = """\
version: 1
name: overloaded-store
seed: 1
duration: 60s
nodes:
  client: {kind: producer, rate: 100/s, pattern: constant, limit: 400, to: fn}
  fn: {kind: function, duration: 1ms, concurrency: 100, to: db}
  db: {kind: store, capacity: 50, latency: 1ms}
"""


async def test_a_store_over_its_capacity_shows_throttling_in_every_frame(
        make_app: MakeApp, tmp_path: Path) -> None:
    (tmp_path / "overloaded-store.yaml").write_text(OVERLOADED_STORE)
    app = make_app("overloaded-store")  # 100 writes/s for 4 s into a capacity of 50/s
    async with app.run_test(size=SIZE) as pilot:
        for n in range(30):
            screen = await run_to(pilot, 2 + n / FPS)
            assert isinstance(screen, RunScreen)
            frame = screen.frames[0]
            assert frame is not None and frame.node("db")["gauges"]["throttling"], n
            # the box is 7 cells wide: the word shortened, not cut
            assert box_title(screen, "db") == "THR…TLE", n
        screen = await run_to(pilot, 6)  # the producer stopped at 4 s
        assert isinstance(screen, RunScreen)
        assert not box_title(screen, "db").startswith(("THROTTL", "THR…TLE"))


async def test_a_control_the_engine_refuses_is_a_warning_not_a_success(
        make_app: MakeApp, tmp_path: Path) -> None:
    (tmp_path / "shared-dlq.yaml").write_text(SHARED_DLQ)
    app = make_app("shared-dlq")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, RunScreen)
        # the keys foresee this one; the engine's own refusal must reach the user too
        with pytest.raises(ControlError, match=r"^the engine refused: redrive failed: say "
                                               r"where to redrive 'd' \(to:\)$"):
            screen.session._perform({"action": "redrive", "from": "d", "rate": 5})


SET_DLQ = """\
version: 1
name: set-dlq
duration: 60s
nodes:
  p: {kind: producer, rate: 10/s, to: q}
  q: {kind: queue, visibility_timeout: 1s, to: f}
  d: {kind: queue}
  f: {kind: function, errors: 1}
scenario:
  - {at: 1s, action: set, node: q, dlq: {queue: d, max_receives: 1}}
"""


async def test_redrive_a_dlq_that_a_scenario_set_made(make_app: MakeApp, tmp_path: Path
                                                      ) -> None:
    (tmp_path / "set-dlq.yaml").write_text(SET_DLQ)
    app = make_app("set-dlq")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 4)
        assert isinstance(screen, RunScreen)
        assert await notices_after(pilot, screen, "d", "x") == [
            ("redrive d into q at 20/s", "information")]


@pytest.mark.parametrize(("start", "shown"), [(3.60978, "4.6s"), (60.5, "1:01.5")])
async def test_a_step_holds_at_a_time_written_like_the_clock(make_app: MakeApp, start: float,
                                                             shown: str) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, start)
        await pilot.press("full_stop")  # one simulated second on
        while screen.clock.now < start + 1 - 1e-9:
            await pilot.pause(0.05)
        await screen.refresh_frame()
        status = screen.query_one(StatusBar).line().plain
        assert status.split("⏸ held at ")[1].split()[0] == shown
