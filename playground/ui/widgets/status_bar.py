"""The top line: what runs, the simulated time, the speed and whether time is moving."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.reactive import var
from textual.strip import Strip
from textual.widget import Widget

from playground.ui import figures
from playground.ui.frame import Frame
from playground.ui.widgets.lines import text_strip
from playground.ui.widgets.palette import STATE_CLASSES, state_rules
from playground.ui.widgets.styled import StyleCache


class StatusBar(StyleCache, Widget):
    COMPONENT_CLASSES = STATE_CLASSES | {"status--name", "status--label", "status--paused",
                                         "status--running"}
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $primary-muted; }
    StatusBar > .status--name { color: $text; text-style: bold; }
    StatusBar > .status--label { color: $text-muted; }
    StatusBar > .status--paused { color: $text-warning; text-style: bold; }
    StatusBar > .status--running { color: $text-success; text-style: bold; }
    """ + state_rules("StatusBar")

    title: var[str] = var("")
    """The topology's name (and file)."""
    frame: var[Frame | None] = var(None, always_update=True)
    """The newest frame."""
    note: var[str] = var("")
    """A short note after the figures (restarted, invalid file...)."""

    _shown: tuple[str, tuple[object, ...]] | None = None

    def watch_frame(self) -> None:
        self._changed()

    def watch_title(self) -> None:
        self._changed()

    def watch_note(self) -> None:
        self._changed()

    def styles_changed(self) -> None:
        self._shown = None

    def _changed(self) -> None:
        """Refreshes only when the line would read differently."""
        line = self.line()
        shown = (line.plain, tuple(line.spans))
        if shown != self._shown:
            self._shown = shown
            self.refresh()

    def _style(self, name: str) -> Style:
        return self.part(name)

    def line(self) -> Text:
        text = Text(" ")
        text.append(self.title, self._style("status--name"))
        frame = self.frame
        if frame is not None:
            clock = frame.clock
            text.append("   t ", self._style("status--label"))
            text.append(figures.sim_clock(frame.t).strip())
            text.append("   speed ", self._style("status--label"))
            text.append(f"{clock.speed:g}x")
            if clock.held_at is not None:
                text.append(f"   ⏸ held at {clock.held_at:g}s", self._style("status--paused"))
            elif clock.paused:
                text.append("   ⏸ paused", self._style("status--paused"))
            else:
                text.append("   ▶ running", self._style("status--running"))
            if clock.mode == "real" and clock.achieved is not None and not clock.paused:
                text.append(f"   achieved {clock.achieved:.2g}x", self._style("status--label"))
            if frame.dropped:
                text.append(f"   {figures.count(frame.dropped)} events not shown",
                            self._style("state--retried"))
        if self.note:
            text.append("   " + self.note, self._style("status--label"))
        return text

    def render_line(self, y: int) -> Strip:
        return text_strip(self.line(), self.size.width, self.app.console, self.base)
