"""The UI's tap on the engine's bus: per-edge flow rates, per-node outcome mixes and the
notable events, kept in the engine's thread so nothing is lost when the screen is slow.

It is subscribed and sampled through :meth:`EngineHost.call`, so every method runs in the
engine's thread; :meth:`take` hands the UI one coalesced sample per frame.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from playground.engine import events as ev
from playground.engine.bus import EventBus
from playground.engine.metrics import RateWindow

OUTCOMES = ("throttled", "failed", "retried", "dead-lettered")
NOTABLE = (ev.MessageThrottled, ev.MessageRefused, ev.MessageFailed, ev.MessageRetried,
           ev.MessageRedelivered, ev.MessageDeadLettered, ev.MessageRedriven,
           ev.MessageExpired, ev.ClientTimedOut, ev.ScenarioStepFired, ev.NodeChanged,
           ev.NodeFailed, ev.BreakerChanged, ev.RunFinished)
WINDOW = 5  # seconds over which rates and mixes are averaged


@dataclass(eq=False)
class TapSample:
    """One frame's worth of what the tap saw."""

    edges: dict[tuple[str, str], float] = field(default_factory=dict)
    """Messages per simulated second along each edge (source, target)."""
    outcomes: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per node, the fraction of what arrived that was throttled, failed, retried..."""
    notable: list[ev.Event] = field(default_factory=list)
    """Notable events since the last sample, oldest first."""
    dropped: int = 0
    """Notable events dropped so far because the UI fell behind."""


class Tap:
    def __init__(self, notable_size: int = 20_000) -> None:
        self._edges: dict[tuple[str, str], RateWindow] = {}
        self._arrivals: dict[str, RateWindow] = {}
        self._outcomes: dict[tuple[str, str], RateWindow] = {}
        self._notable: deque[ev.Event] = deque(maxlen=notable_size)
        self.dropped = 0

    def attach(self, bus: EventBus) -> None:
        bus.subscribe(self._sent, [ev.MessageSent])
        bus.subscribe(self._received, [ev.MessageReceived])
        bus.subscribe(self._dead_lettered, [ev.MessageDeadLettered])
        bus.subscribe(self._redriven, [ev.MessageRedriven])
        bus.subscribe(self._throttled, [ev.MessageThrottled])
        bus.subscribe(self._failed, [ev.MessageRefused, ev.MessageFailed])
        bus.subscribe(self._retried, [ev.MessageRetried, ev.MessageRedelivered])
        bus.subscribe(self._invoked, [ev.InvocationFinished])
        bus.subscribe(self._keep, list(NOTABLE))

    # --- handlers (engine thread) ---------------------------------------------------------

    def _flow(self, source: str, target: str, t: float) -> None:
        window = self._edges.get((source, target))
        if window is None:
            window = self._edges[(source, target)] = RateWindow()
        window.add(t)
        arrivals = self._arrivals.get(target)
        if arrivals is None:
            arrivals = self._arrivals[target] = RateWindow()
        arrivals.add(t)

    def _outcome(self, node: str, outcome: str, t: float) -> None:
        window = self._outcomes.get((node, outcome))
        if window is None:
            window = self._outcomes[(node, outcome)] = RateWindow()
        window.add(t)

    def _sent(self, e: ev.MessageSent) -> None:
        self._flow(e.node, e.target, e.t)

    def _received(self, e: ev.MessageReceived) -> None:
        self._flow(e.node, e.consumer, e.t)

    def _dead_lettered(self, e: ev.MessageDeadLettered) -> None:
        self._flow(e.node, e.dlq, e.t)
        self._outcome(e.node, "dead-lettered", e.t)

    def _redriven(self, e: ev.MessageRedriven) -> None:
        self._flow(e.node, e.target, e.t)

    def _throttled(self, e: ev.MessageThrottled) -> None:
        self._outcome(e.node, "throttled", e.t)

    def _failed(self, e: ev.MessageEvent) -> None:
        self._outcome(e.node, "failed", e.t)

    def _retried(self, e: ev.MessageEvent) -> None:
        self._outcome(e.node, "retried", e.t)

    def _invoked(self, e: ev.InvocationFinished) -> None:
        if not e.ok:
            window = self._outcomes.get((e.node, "failed"))
            if window is None:
                window = self._outcomes[(e.node, "failed")] = RateWindow()
            window.add(e.t, len(e.failed) or len(e.msgs))
            self._keep(e)  # a failure worth a line in the log, as a refusal is

    def _keep(self, e: ev.Event) -> None:
        notable = self._notable
        if len(notable) == notable.maxlen:
            self.dropped += 1
        notable.append(e)

    # --- the sample (engine thread, once a frame) -----------------------------------------

    def take(self, now: float) -> TapSample:
        sample = TapSample(dropped=self.dropped)
        for edge, window in self._edges.items():
            sample.edges[edge] = window.rate(now, WINDOW)
        for (node, outcome), window in self._outcomes.items():
            count = window.rate(now, WINDOW)
            if count <= 0:
                continue
            arrivals = self._arrivals.get(node)
            arrived = arrivals.rate(now, WINDOW) if arrivals is not None else 0.0
            share = min(1.0, count / arrived) if arrived > 0 else 1.0
            sample.outcomes.setdefault(node, {})[outcome] = share
        notable = self._notable
        sample.notable = list(notable)
        notable.clear()
        return sample


def sample_engine(engine: Any, tap: Tap) -> tuple[dict[str, Any], TapSample]:
    """The engine's snapshot and the tap's sample, taken at the same instant."""
    snapshot = engine.snapshot()
    return snapshot, tap.take(snapshot["t"])
