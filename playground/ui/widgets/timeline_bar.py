"""The scenario's timeline: steps as marks on a line, the time so far filled in, and what
comes next (``n`` steps to it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.reactive import var
from textual.widget import Widget

from playground.engine.scenario import describe
from playground.ui.widgets.lines import OneLine
from playground.ui.widgets.palette import STATE_CLASSES, state_rules


def next_step(steps: tuple[Any, ...], t: float) -> Any | None:
    return next((s for s in steps if s.at > t + 1e-9), None)


@dataclass(frozen=True)
class SideStep:
    """A step of one side of compare mode: both sides' steps share one timeline, so each
    says whose it is."""

    side: str
    step: Any

    @property
    def at(self) -> float:
        return float(self.step.at)


def said(steps: list[SideStep]) -> str:
    """Steps of one instant: the same step on both sides is said once (``A+B ...``)."""
    sides: dict[str, list[str]] = {}
    for step in steps:
        sides.setdefault(describe(step.step), []).append(step.side)
    return "; ".join(f"{'+'.join(who)} {what}" for what, who in sides.items())


def merged(sides: dict[str, tuple[Any, ...]]) -> tuple[SideStep, ...]:
    """The steps of every side (by letter), in time order; a side's own order kept."""
    return tuple(sorted((SideStep(side, step) for side, steps in sides.items()
                         for step in steps), key=lambda s: s.at))


class TimelineBar(OneLine, Widget):
    COMPONENT_CLASSES = STATE_CLASSES | {"timeline--done", "timeline--todo", "timeline--step",
                                         "timeline--next", "timeline--label"}
    DEFAULT_CSS = """
    TimelineBar { height: 1; background: $panel; }
    TimelineBar > .timeline--done { color: $primary; }
    TimelineBar > .timeline--todo { color: $foreground 30%; }
    TimelineBar > .timeline--step { color: $foreground 60%; }
    TimelineBar > .timeline--next { color: $accent; text-style: bold; }
    TimelineBar > .timeline--label { color: $foreground 70%; }
    """ + state_rules("TimelineBar")

    steps: var[tuple[Any, ...]] = var(())
    """The scenario's steps, in time order."""
    duration: var[float] = var(60.0)
    """The run's duration."""
    t: var[float] = var(0.0)
    """Simulated time now."""

    def watch_t(self) -> None:
        self._changed()

    def watch_steps(self) -> None:
        self._changed()

    def on_resize(self) -> None:
        self._shown = None

    def line(self, width: int) -> Text:
        steps, t = self.steps, self.t
        coming = next_step(steps, t)
        if isinstance(coming, SideStep):  # both sides' steps at that instant fire together
            now = [s for s in steps if abs(s.at - coming.at) < 1e-9]
            label = f" next {coming.at:g}s {said(now)}  (n)"
        elif coming is not None:
            label = f" next {coming.at:g}s {describe(coming)}  (n)"
        elif steps:
            label = " scenario done"
        else:
            label = " no scenario"
        track_w = max(10, min(width // 2, width - len(label) - 2))
        end = max([self.duration, *(s.at for s in steps)]) or 1.0
        cells = [("─", "timeline--todo")] * track_w
        done = min(track_w, int(t / end * track_w))
        for i in range(done):
            cells[i] = ("━", "timeline--done")
        for step in steps:
            i = min(track_w - 1, int(step.at / end * track_w))
            style = "timeline--next" if step.at == getattr(coming, "at", None) \
                else "timeline--step"
            cells[i] = ("◆", style)
        text = Text(" ")
        run_start = 0
        for i in range(1, len(cells) + 1):
            if i == len(cells) or cells[i][1] != cells[run_start][1]:
                text.append("".join(c for c, _ in cells[run_start:i]),
                            self._style(cells[run_start][1]))
                run_start = i
        text.append(label, self._style("timeline--label"))
        return text
