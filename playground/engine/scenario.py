"""The scenario: steps fired at their times, and the same actions on demand (live controls)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from playground.engine import events as ev
from playground.spec import model as m
from playground.spec.units import format_duration

if TYPE_CHECKING:
    from playground.engine.runtime import Engine


def describe(step: Any) -> str:
    """A short human description of a step, e.g. ``burst clients x5 for 10s``."""
    if isinstance(step, m.BurstStep):
        return f"burst {step.node} x{step.factor:g} for {format_duration(step.for_)}"
    if isinstance(step, m.OutageStep):
        return f"outage of {step.node} for {format_duration(step.for_)}"
    if isinstance(step, m.DegradeStep):
        return (f"degrade {step.node}: errors {step.errors:g}, x{step.slow:g} slower for "
                f"{format_duration(step.for_)}")
    if isinstance(step, m.PauseStep | m.ResumeStep):
        return f"{step.action} {step.node}"
    if isinstance(step, m.RedriveStep):
        return f"redrive {step.from_} -> {step.to or 'its source'} at {step.rate:g}/s"
    if isinstance(step, m.SetStep):
        fields = ", ".join(f"{k}={v}" for k, v in step.fields.items())
        return f"set {step.node}: {fields}"
    return str(step)


class Scenario:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # with a topology spread over processes, each fires the steps of its own nodes
        self.steps: list[Any] = sorted(
            (s for s in engine.topology.scenario
             if (getattr(s, "node", None) or getattr(s, "from_", None)) in engine.nodes),
            key=lambda s: s.at)
        self.fired: list[bool] = [False] * len(self.steps)
        # the file's steps that could not be applied when they fired, said in a line each:
        # a headless run has no events pane to show them in
        self.failures: list[str] = []

    def start(self) -> None:
        clock = self.engine.clock
        for index, step in enumerate(self.steps):
            clock.at(max(step.at, clock.now()), self._fire, index)

    def due_before(self, deadline: float) -> bool:
        return any(not fired and step.at <= deadline
                   for step, fired in zip(self.steps, self.fired, strict=True))

    def next_step(self) -> Any | None:
        for step, fired in zip(self.steps, self.fired, strict=True):
            if not fired:
                return step
        return None

    def _fire(self, index: int) -> None:
        if self.fired[index] or self.engine.stopped:
            return
        self.fired[index] = True
        step = self.steps[index]
        failure = self.perform(step)
        if failure is not None:
            self.failures.append(f"the step at {format_duration(step.at)} ({describe(step)}) "
                                 f"did nothing: {failure}")

    def perform(self, step: Any) -> str | None:
        """Applies a step now; a failure to apply becomes an event, never an exception, and
        is returned (for a live control to tell its user)."""
        engine = self.engine
        now = engine.loop.time()
        node = getattr(step, "node", None) or getattr(step, "from_", "") or ""
        try:
            self._apply(step)
        except Exception as error:  # a live control with a bad argument: report it
            failure = f"{step.action} failed: {error}"
            engine.bus.emit(ev.NodeChanged(now, node, failure))
            return failure
        engine.bus.emit(ev.ScenarioStepFired(now, node, step.action, step.say or "",
                                             describe(step)))
        return None

    def _apply(self, step: Any) -> None:
        engine = self.engine
        if isinstance(step, m.BurstStep):
            engine.burst(step.node, step.factor, step.for_)
        elif isinstance(step, m.OutageStep):
            engine.outage(step.node, step.for_)
        elif isinstance(step, m.DegradeStep):
            engine.degrade(step.node, step.errors, step.slow, step.for_)
        elif isinstance(step, m.PauseStep):
            engine.pause(step.node)
        elif isinstance(step, m.ResumeStep):
            engine.resume(step.node)
        elif isinstance(step, m.RedriveStep):
            engine.redrive(step.from_, step.to, step.rate)
        elif isinstance(step, m.SetStep):
            engine.set_fields(step.node, step.fields)
