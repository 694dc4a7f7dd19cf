"""The status bar shows the MQTT broker of a linked run: its address (never a user or a
password), the link's state, reconnections and what the tap left out; nothing without MQTT."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from playground.mqtt.command import mqtt_run
from playground.runner import serve_mqtt
from playground.spec import load_file
from playground.ui.frame import ClockView, Frame, FrameBuilder
from playground.ui.screens.running import RunningScreen
from playground.ui.tap import TapSample
from playground.ui.widgets.status_bar import StatusBar, broker_address
from tests.ui.conftest import SIZE, MakeApp, run_to

NARROW = (80, 24)


def shown(status: StatusBar) -> str:
    """The status line as drawn on the screen (cut to the bar's width)."""
    return "".join(segment.text for segment in status.render_line(0))


async def held_at_one_second(pilot: Any) -> tuple[StatusBar, Frame]:
    """The run held at 1 s: its status bar and the frame it shows."""
    screen = await run_to(pilot, 1)
    frame = screen.frames[0]
    assert frame is not None
    return screen.query_one(StatusBar), frame


def down_status(**fields: Any) -> dict[str, Any]:
    """A link whose broker went away: reconnecting after three earlier reconnections."""
    return {"state": "reconnecting", "url": "mqtt://ann@10.0.0.5:1883", "process": "1a2b3c",
            "nodes": "all", "in_flight": 12, "reconnects": 3, "tap_dropped": 1234,
            "error": "[Errno 111] Connection refused", **fields}


@pytest.mark.parametrize(("url", "show", "expected"), [
    ("mqtt://127.0.0.1:40123", "host", "127.0.0.1:40123"),
    ("mqtt://ann:hunter2@10.0.0.5:1883", "host", "10.0.0.5:1883"),
    ("mqtts://ann@broker.example:8883", "host", "mqtts://broker.example:8883"),
    ("mqtt://[::1]:1883", "host", "[::1]:1883"),
    ("mqtt://ann:hunter2@10.0.0.5:1883", "port", ":1883"),
    ("mqtt://10.0.0.5:1883", "", ""),
])
def test_the_broker_address_keeps_host_and_port_only(url: str, show: str,
                                                     expected: str) -> None:
    assert broker_address(url, show) == expected


def test_frames_carry_the_links_status_only_when_there_is_one() -> None:
    clock = ClockView(mode="real", speed=1.0, paused=False)
    status = down_status()
    builder = FrameBuilder()
    assert builder.build({"t": 1.0, "mqtt": status}, TapSample(), [], clock).mqtt == status
    assert builder.build({"t": 1.0}, TapSample(), [], clock).mqtt is None


async def test_a_run_on_the_embedded_broker_shows_it_connected(
        make_app: MakeApp, capsys: pytest.CaptureFixture[str]) -> None:
    """``run --mqtt``: the port printed on start is the one the status bar shows."""
    from playground.cli import _parser

    app = make_app("showcase", mode="real")
    assert app.path is not None
    args = _parser().parse_args(["run", str(app.path), "--mqtt"])
    topology = load_file(str(app.path), lint=False).topology
    with mqtt_run(args, topology, prog="playground") as options:
        assert options is not None and options.broker is not None
        port = options.broker.port
        serve_mqtt(options)
        try:
            async with app.run_test(size=SIZE) as pilot:
                screen = app.screen
                assert isinstance(screen, RunningScreen)
                status = screen.query_one(StatusBar)
                deadline = time.monotonic() + 8.0
                while time.monotonic() < deadline and not (
                        screen.frames[0] is not None and screen.frames[0].mqtt):
                    await pilot.pause(0.05)
                frame = screen.frames[0]
                assert frame is not None and frame.mqtt is not None
                assert frame.mqtt["state"] == "connected"
                line = shown(status)
                assert f"MQTT 127.0.0.1:{port} connected" in line
                await pilot.resize_terminal(*NARROW)
                await pilot.pause()
                line = shown(status)
                assert len(line) == NARROW[0]
                assert "MQTT" in line and f":{port} connected" in line
                assert "▶ running" in line
        finally:
            serve_mqtt(None)
    printed = capsys.readouterr().err
    assert f"embedded MQTT broker on mqtt://127.0.0.1:{port}" in printed


@pytest.mark.parametrize("size", [SIZE, NARROW])
async def test_a_broker_gone_away_reads_reconnecting_with_counts(
        make_app: MakeApp, size: tuple[int, int]) -> None:
    app = make_app("showcase")
    async with app.run_test(size=size) as pilot:
        status, frame = await held_at_one_second(pilot)
        status.frame = replace(frame, mqtt=down_status())
        line = shown(status)  # at once: the frame timer would show the engine's own frame
        assert len(line) == size[0]
        assert "⏸ held at 1.0s" in line
        if size == SIZE:
            assert "MQTT 10.0.0.5:1883 reconnecting, 3 reconnects, tap −1.2k" in line
        else:  # 80 columns: the address and the words of the counts gave way
            assert line.rstrip().endswith("MQTT reconnecting ↻3 tap −1.2k")
        assert "ann" not in status.line().plain and "refused" not in status.line().plain
        spans = {line[s.start:s.end]: s.style for s in status.line(size[0]).spans}
        assert spans["reconnecting"] == status.part("status--mqtt-waiting")
        status.frame = replace(frame, mqtt=down_status(state="closed", reconnects=0,
                                                       tap_dropped=0))
        line = shown(status)
        assert "MQTT 10.0.0.5:1883 closed " in line  # short enough for the host at 80
        spans = {line[s.start:s.end]: s.style for s in status.line(size[0]).spans}
        assert spans["closed"] == status.part("status--mqtt-down")
        assert "reconnect" not in line and "tap" not in line
        status.frame = replace(frame, mqtt=down_status(state="connected", reconnects=1))
        assert ("connected, 1 reconnect, tap −1.2k" if size == SIZE
                else "MQTT connected ↻1 tap −1.2k") in shown(status)
        spans = {status.line().plain[s.start:s.end]: s.style for s in status.line().spans}
        assert spans["connected"] == status.part("status--mqtt-up")


async def test_producers_fed_by_a_source_show_their_worst_state(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        status, frame = await held_at_one_second(pilot)
        sources = {"a": {"url": "mqtt://ann@h:1883/t", "state": "connected"},
                   "b": {"url": "mqtt://ann@h:1883/u", "state": "connecting"}}
        status.frame = replace(frame, mqtt={"state": "off", "url": None, "sources": sources})
        line = shown(status)
        assert "MQTT source connecting" in line and "ann" not in line


async def test_without_mqtt_nothing_about_it_is_shown(make_app: MakeApp,
                                                      tmp_path: Path) -> None:
    app = make_app("showcase", mode="real")
    async with app.run_test(size=NARROW) as pilot:
        screen = app.screen
        assert isinstance(screen, RunningScreen)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and screen.frames[0] is None:
            await pilot.pause(0.05)
        frame = screen.frames[0]
        assert frame is not None and frame.mqtt is None
        status = screen.query_one(StatusBar)
        assert "MQTT" not in shown(status) and "MQTT" not in status.line().plain
        deadline = time.monotonic() + 3.0  # the achieved speed: after half a second running
        while time.monotonic() < deadline and "achieved" not in status.line().plain:
            await pilot.pause(0.05)
        assert "achieved" in status.line(NARROW[0]).plain  # nothing gave way for it


@pytest.mark.parametrize("size", [SIZE, NARROW])
async def test_a_split_gone_wrong_is_on_the_status_line(make_app: MakeApp,
                                                        size: tuple[int, int]) -> None:
    app = make_app("showcase")
    async with app.run_test(size=size) as pilot:
        status, frame = await held_at_one_second(pilot)
        split = down_status(state="connected", reconnects=0, tap_dropped=0,
                            nodes=["api", "shoppers"], missing=["checkout", "orders"])
        status.frame = replace(frame, mqtt=split)
        line = shown(status)
        said = "no process runs checkout, orders" if size == SIZE else "nodes missing"
        assert said in line
        spans = {line[s.start:s.end]: s.style for s in status.line(size[0]).spans}
        assert spans[said] == status.part("status--mqtt-waiting")
        status.frame = replace(frame, mqtt={**split, "conflict_nodes": ["api"],
                                            "conflict": "MQTT: process 9f runs api already"})
        line = shown(status)
        said = "api also run elsewhere" if size == SIZE else "runs twice"
        assert said in line and "missing" not in line
        spans = {line[s.start:s.end]: s.style for s in status.line(size[0]).spans}
        assert spans[said] == status.part("status--mqtt-down")


async def test_a_run_whose_nodes_another_process_runs_holds_and_says_so(
        make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        screen.clock.set_paused(False)
        host = screen.sessions[0].host
        assert host is not None and host.engine is not None
        split = down_status(state="connected", reconnects=0, nodes=["api", "checkout"],
                            conflict_nodes=["checkout"],
                            conflict="MQTT: process 9f runs checkout already")
        host.engine.status["mqtt"] = lambda: split
        await screen.refresh_frame()
        await pilot.pause()
        assert screen.clock.paused
        said = [n for n in app._notifications if "paused" in (n.title or "")]
        assert len(said) == 1
        assert "another process on the broker runs checkout already" in said[0].message
        assert said[0].severity == "error"
        screen.clock.set_paused(False)  # space: the user runs it anyway
        await screen.refresh_frame()
        await pilot.pause()
        assert not screen.clock.paused  # told once, not held again
