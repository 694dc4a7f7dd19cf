"""One frame of state for the panes, coalesced from a snapshot, the tap and the feed.

The screen builds a :class:`Frame` at a fixed rate and hands it down to every pane; panes
never look at the engine or at single events themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playground.engine import events as ev
from playground.ui.event_text import EventLine, line
from playground.ui.tap import TapSample
from playground.ui.trace_index import TraceIndex


@dataclass(frozen=True, slots=True)
class Caption:
    t: float
    text: str


@dataclass(frozen=True, slots=True)
class ClockView:
    """What the status line says about time."""

    mode: str
    speed: float
    paused: bool
    held_at: float | None = None
    achieved: float | None = None  # while running on the wall clock: simulated s per wall s


@dataclass(eq=False)
class Frame:
    t: float
    nodes: dict[str, dict[str, Any]]
    ledger: dict[str, int]
    client: dict[str, Any]
    end_to_end: dict[str, float]
    edges: dict[tuple[str, str], float]
    outcomes: dict[str, dict[str, float]]
    lines: list[EventLine]
    """Notable events since the previous frame, oldest first."""
    clock: ClockView
    caption: Caption | None = None
    scenario_next: float | None = None
    lost_ever: bool = False
    peak_writes: float = 0.0
    """The highest store write rate (rows per second, all stores) seen so far."""
    dropped: int = 0
    followed: list[EventLine] | None = None
    followed_trace: str | None = None
    stepped: tuple[str, ...] = ()
    """The nodes scenario steps fired on since the previous frame, oldest first."""
    mqtt: dict[str, Any] | None = None
    """The run's MQTT link (``MqttLink.status()``: ``state``, ``url`` without password,
    ``reconnects``, ``tap_dropped`` ...); None when the run is not linked to MQTT."""

    def node(self, node_id: str) -> dict[str, Any]:
        return self.nodes.get(node_id, {})

    @property
    def client_success(self) -> float | None:
        sent = self.client.get("ok", 0) + self.client.get("errors", 0) + self.client.get(
            "timeouts", 0)
        return self.client.get("ok", 0) / sent if sent else None


class FrameBuilder:
    """Keeps what outlives a frame: the trace index, the caption, peaks."""

    def __init__(self) -> None:
        self.traces = TraceIndex()
        self.caption: Caption | None = None
        self.lost_ever = False
        self.peak_writes = 0.0

    @property
    def follow(self) -> str | None:
        """The trace whose hops each frame carries (None: none)."""
        return self._follow

    @follow.setter
    def follow(self, trace: str | None) -> None:
        self._follow = trace
        self.traces.follow(trace)

    _follow: str | None = None

    def reset(self) -> None:
        """A new run: forget what belonged to the old one."""
        self.traces.clear()
        self.caption = None
        self.lost_ever = False
        self.peak_writes = 0.0
        self._follow = None

    def build(self, snapshot: dict[str, Any], sample: TapSample, events: list[ev.Event],
              clock: ClockView) -> Frame:
        self.traces.add(events)
        lines = [line(e) for e in sample.notable]
        stepped = tuple(e.node for e in sample.notable if isinstance(e, ev.ScenarioStepFired))
        for event in sample.notable:
            if isinstance(event, ev.ScenarioStepFired) and event.say:
                self.caption = Caption(event.t, event.say)
        ledger = snapshot.get("ledger", {})
        if ledger.get("lost", 0):
            self.lost_ever = True
        nodes = snapshot.get("nodes", {})
        stores = [n for n in nodes.values() if n.get("kind") == "store"]
        if stores:
            series = [n.get("series_out", []) for n in stores]
            per_second = [sum(values) for values in zip(*series, strict=False)]
            self.peak_writes = max([self.peak_writes, *per_second[1:]])
        followed = None
        if self.follow is not None:
            followed = [line(e) for e in self.traces.hops(self.follow)]
        return Frame(
            t=snapshot.get("t", 0.0), nodes=nodes, ledger=ledger,
            client=snapshot.get("client", {}), end_to_end=snapshot.get("end_to_end", {}),
            edges=sample.edges, outcomes=sample.outcomes, lines=lines, clock=clock,
            caption=self.caption, scenario_next=snapshot.get("scenario_next"),
            lost_ever=self.lost_ever, peak_writes=self.peak_writes, dropped=sample.dropped,
            followed=followed, followed_trace=self.follow, stepped=stepped,
            mqtt=snapshot.get("mqtt"),
        )
