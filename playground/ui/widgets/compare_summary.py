"""Between the two sides of compare mode: client errors, p99 and peak store writes of each,
and the difference."""

from __future__ import annotations

from collections.abc import Callable

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


def _errors(frame: Frame) -> float | None:
    return frame.client.get("errors", 0) + frame.client.get("timeouts", 0)


def _p99(frame: Frame) -> float | None:
    # the quantiles are of ok answers: a side with none has no p99, and its 0 would read
    # as the faster side (an outage as a latency win)
    if not frame.client.get("ok"):
        return None
    return frame.client.get("latency", {}).get("p99", 0.0)


def _writes(frame: Frame) -> float | None:
    return frame.peak_writes


FIGURES: tuple[tuple[str, Callable[[Frame], float | None],
                     Callable[[float | None], str]], ...] = (
    ("client errors", _errors, figures.count),
    ("client p99", _p99, figures.duration),
    ("peak store writes", _writes, figures.rate),
)


def differences(a: Frame, b: Frame) -> list[tuple[str, str, str, str]]:
    """(figure, A, B, B − A) as text; ``-`` for a figure a side does not have yet."""
    out = []
    for title, get, show in FIGURES:
        va, vb = get(a), get(b)
        if va is None or vb is None:
            out.append((title, show(va), show(vb), "-"))
            continue
        delta = vb - va
        sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
        out.append((title, show(va), show(vb), sign + show(abs(delta))))
    return out


def _better_worse(a: Frame, b: Frame, get: Callable[[Frame], float | None]
                  ) -> tuple[bool, bool]:
    """Whether B is below / above A on a figure (neither when a side lacks it)."""
    va, vb = get(a), get(b)
    if va is None or vb is None:
        return False, False
    return vb < va, vb > va


BAND_WIDTH = 60


class CompareSummary(StyleCache, Widget):
    COMPONENT_CLASSES = STATE_CLASSES | {"summary--title", "summary--label"}
    DEFAULT_CSS = """
    CompareSummary { background: $panel; padding: 0 1; }
    CompareSummary > .summary--title { color: $accent; text-style: bold; }
    CompareSummary > .summary--label { color: $foreground 60%; }
    """ + state_rules("CompareSummary")

    frames: var[tuple[Frame | None, Frame | None]] = var((None, None), always_update=True)
    """The newest frame of each side."""

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._lines: list[Text] | None = None

    def watch_frames(self) -> None:
        self._lines = None
        self.refresh()

    def styles_changed(self) -> None:
        self._lines = None

    def on_resize(self) -> None:
        self._lines = None

    def _style(self, name: str) -> Style:
        return self.part(name)

    def lines(self) -> list[Text]:
        a, b = self.frames
        out = [Text("A vs B", self._style("summary--title")), Text()]
        if a is None or b is None:
            return out
        for (title, va, vb, delta), (_, get, _) in zip(differences(a, b), FIGURES,
                                                      strict=True):
            better_b, worse_b = _better_worse(a, b, get)
            out.append(Text(title, self._style("summary--title")))
            out.append(Text.assemble(("A ", self._style("summary--label")),
                                     (va, self._style("state--failed") if better_b
                                      else self.base)))
            out.append(Text.assemble(("B ", self._style("summary--label")),
                                     (vb, self._style("state--failed") if worse_b
                                      else self.base)))
            out.append(Text.assemble(("B−A ", self._style("summary--label")),
                                     (delta, self._style("state--delivered") if better_b
                                      else self._style("state--failed") if worse_b
                                      else self.base)))
            out.append(Text())
        return out

    def band(self) -> list[Text]:
        """The same, as four lines across (when the two sides are one above the other)."""
        a, b = self.frames
        width = max(12, (self.size.width - 8) // len(FIGURES))
        title = self._style("summary--title")
        label = self._style("summary--label")
        rows = [Text("A vs B  ", title), Text("A       ", label), Text("B       ", label),
                Text("B−A     ", label)]
        if a is None or b is None:
            return rows
        for (name, va, vb, delta), (_, get, _) in zip(differences(a, b), FIGURES, strict=True):
            better_b, worse_b = _better_worse(a, b, get)
            rows[0].append(name.ljust(width), title)
            rows[1].append(va.ljust(width), self._style("state--failed") if better_b
                           else self.base)
            rows[2].append(vb.ljust(width), self._style("state--failed") if worse_b
                           else self.base)
            rows[3].append(delta.ljust(width), self._style("state--delivered") if better_b
                           else self._style("state--failed") if worse_b else self.base)
        return rows

    def render_line(self, y: int) -> Strip:
        if self._lines is None:
            self._lines = self.band() if self.size.width >= BAND_WIDTH else self.lines()
        lines = self._lines
        width = self.size.width - 2 if self.size.width > 2 else self.size.width
        if y >= len(lines):
            return Strip.blank(width, self.base)
        return text_strip(lines[y], width, self.app.console, self.base)

    def text(self) -> str:
        lines = self.band() if self.size.width >= BAND_WIDTH else self.lines()
        return "\n".join(line.plain for line in lines)
