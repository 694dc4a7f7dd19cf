"""Every control of the app in one table: its key, its action, and the words the footer,
the help screen and the command palette use for it."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Control:
    key: str
    action: str
    title: str
    help: str
    show: bool = True
    key_display: str | None = None
    system: bool = False
    """Kept out of Textual's keys panel (the palette's Keys) too."""

    def binding(self) -> Binding:
        return Binding(self.key, self.action, self.title, show=self.show,
                       key_display=self.key_display, system=self.system)


RUN_CONTROLS = (
    Control("space", "toggle_pause", "Pause", "Pause or resume simulated time",
            key_display="space"),
    Control("plus,equals_sign", "faster", "Faster", "Speed up (0.1x to 100x)",
            key_display="+"),
    Control("minus", "slower", "Slower", "Slow down (0.1x to 100x)", key_display="-"),
    Control("b", "burst", "Burst",
            "Burst the selected producer: 5x its rate for 10 s (again: 10 s from then)"),
    Control("o", "outage", "Outage", "Outage of the selected node for 15 s"),
    Control("g", "degrade", "Degrade",
            "Degrade the selected node for 15 s: 30% errors, 5x slower"),
    Control("c", "toggle_consumer", "Consumer", "Pause or resume the selected consumer",
            show=False),
    Control("x", "redrive", "Redrive",
            "Redrive the selected DLQ into its queue (or the queue's DLQ into it)", show=False),
    Control("n", "next_step", "Step",
            "Run to the scenario's next step and hold there (for a talk)"),
    Control("full_stop", "step_second", "+1 s", "Run one simulated second and hold",
            show=False, key_display="."),
    Control("ctrl+r", "restart", "Restart", "Restart the run from t = 0", show=False),
    Control("t", "talk", "Talk", "Talk mode: the diagram, big counters and captions only"),
    Control("z", "maximize_pane", "Maximise", "Maximise the focused pane (esc restores)",
            show=False),
    Control("escape", "back", "Back", "Restore a maximised pane, or leave talk mode",
            show=False, key_display="esc"),
    Control("1", "toggle_pane('diagram')", "Diagram", "Show or hide the diagram", show=False),
    Control("2", "toggle_pane('metrics')", "Metrics", "Show or hide the metrics", show=False),
    Control("3", "toggle_pane('events')", "Events", "Show or hide the events", show=False),
    Control("4", "toggle_pane('inspector')", "Inspector", "Show or hide the inspector",
            show=False),
    Control("5", "toggle_pane('yaml')", "YAML", "Show or hide the YAML editor", show=False),
    Control("left_square_bracket", "resize('lower', -2)", "Lower smaller",
            "Give the lower panes less height", show=False, key_display="["),
    Control("right_square_bracket", "resize('lower', 2)", "Lower taller",
            "Give the lower panes more height", show=False, key_display="]"),
    Control("left_curly_bracket", "resize('side', -4)", "Side narrower",
            "Make the side panes narrower", show=False, key_display="{"),
    Control("right_curly_bracket", "resize('side', 4)", "Side wider",
            "Make the side panes wider", show=False, key_display="}"),
)

APP_CONTROLS = (
    Control("question_mark", "help", "Help", "Show the keys and what the panes mean",
            key_display="?"),
    Control("ctrl+o", "open", "Open", "Open another topology file", show=False),
    Control("ctrl+t", "next_theme", "Theme", "Switch to the next theme", show=False),
    Control("ctrl+e", "screenshot", "Screenshot", "Save an SVG screenshot", show=False),
    Control("ctrl+k", "compare", "Compare", "Compare with another topology, side by side",
            show=False),
    Control("ctrl+q", "quit", "Quit", "Quit the app"),
)

COMPARE_CONTROLS = tuple(c for c in RUN_CONTROLS if c.action in (
    "toggle_pause", "faster", "slower", "burst", "outage", "degrade", "toggle_consumer",
    "redrive", "next_step", "step_second", "restart"))

_RUN_SCREEN_ONLY = {"talk": "talk mode", "maximize_pane": "maximise",
                    "toggle_pane": "showing or hiding panes", "resize": "resizing panes"}
RUN_SCREEN_ONLY = tuple(
    Control(c.key, f"run_screen_only({_RUN_SCREEN_ONLY[c.action.split('(')[0]]!r})", c.title,
            c.help, show=False, key_display=c.key_display, system=True)
    for c in RUN_CONTROLS if c.action.split("(")[0] in _RUN_SCREEN_ONLY)
"""The run screen's keys that compare mode answers with a warning instead of nothing; no
list of compare mode's keys names them (they do not work there)."""


def bindings(controls: tuple[Control, ...]) -> list[Binding]:
    return [c.binding() for c in controls]
