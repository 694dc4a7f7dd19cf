"""Large counters for talk mode: what the audience should read from the back of the room."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.renderables.digits import Digits as DigitsText
from textual.widgets import Digits, Label

from playground.ui import figures
from playground.ui.frame import Frame

COUNTERS = (("delivered", "delivered"), ("client errors", "errors"),
            ("client p99 (ms)", "p99"), ("waiting in queues", "queued"))


def fitted(value: str, width: int) -> str:
    """``value`` in big digits if it fits ``width`` cells, else shortened like the ledger
    (``1.2M``): a number cut at the pane's edge reads as a smaller one."""
    if width <= 0 or DigitsText.get_width(value) <= width or not value.isdigit():
        return value
    return figures.count(int(value))


def counter_values(frame: Frame) -> dict[str, str]:
    client = frame.client
    queued = sum(n.get("gauges", {}).get("depth", 0) for n in frame.nodes.values()
                 if n.get("kind") == "queue")
    p99 = client.get("latency", {}).get("p99") or 0.0
    # before the first ok answer there is no p99: a 0 would read as answers taking no time
    shown_p99 = str(round(p99 * 1000)) if client.get("ok") else "-"
    return {
        "delivered": str(frame.ledger.get("delivered", 0)),
        "errors": str(client.get("errors", 0) + client.get("timeouts", 0)),
        "p99": shown_p99,
        "queued": str(queued),
    }


class BigCounter(Vertical):
    DEFAULT_CSS = """
    BigCounter { width: 1fr; height: auto; align-horizontal: center; }
    BigCounter > Label { width: 100%; content-align: center middle; color: $foreground 70%; }
    BigCounter > Digits { width: auto; }
    BigCounter.-errors > Digits { color: $state-failed; }
    BigCounter.-delivered > Digits { color: $state-delivered; }
    """

    def __init__(self, title: str, key: str) -> None:
        super().__init__(id=f"big-{key}", classes=f"-{key}")
        self.title = title

    def compose(self) -> ComposeResult:
        yield Label(self.title)
        yield Digits("0")


class BigCounters(Horizontal):
    DEFAULT_CSS = """
    BigCounters { height: auto; background: $surface; }
    """

    frame: var[Frame | None] = var(None, always_update=True)
    """The newest frame."""

    def compose(self) -> ComposeResult:
        for title, key in COUNTERS:
            yield BigCounter(title, key)

    def watch_frame(self, frame: Frame | None) -> None:
        if frame is None or not self.display:
            return
        self._show(counter_values(frame))

    def on_resize(self) -> None:
        # a narrower terminal may no longer hold the numbers shown in full
        if self.frame is not None and self.display:
            self._show(counter_values(self.frame))

    def _show(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            counter = self.query_one(f"#big-{key}", BigCounter)
            digits = counter.query_one(Digits)
            shown = fitted(value, counter.content_region.width)
            if digits.value != shown:
                digits.update(shown)
