"""The metrics pane: a row per node with rates, depth, errors and latencies, sparklines over
the last minute, and the ledger and the clients' view pinned below (always visible)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from playground.ui import figures
from playground.ui.frame import Frame
from playground.ui.widgets.lines import text_strip
from playground.ui.widgets.palette import STATE_CLASSES, state_rules
from playground.ui.widgets.styled import StyleCache

COLUMNS = (("in/s", 7), ("out/s", 7), ("depth", 6), ("fly", 5), ("err", 6), ("thr", 6),
           ("retry", 6), ("p50", 6), ("p99", 6))
SPARK_MIN = 6  # narrower, a sparkline shows too little of the minute to read
INDENT = 8  # the width of "ledger  " and "clients ": the figures line up after them
LEDGER = (("created", "created"), ("delivered", "delivered"), ("failed", "failed"),
          ("expired", "expired"), ("unmatched", "unmatched"), ("in system", "in_system"),
          ("in DLQs", "in_dlqs"), ("lost", "lost"))


def node_figures(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The row's cells as (text, state class or "") in the order of :data:`COLUMNS`."""
    kind = data.get("kind")
    counters = data.get("counters", {})
    gauges = data.get("gauges", {})
    depth: Any = None
    flight: Any = None
    if kind == "queue":
        depth, flight = gauges.get("depth"), gauges.get("in_flight")
    elif kind == "function":
        depth, flight = gauges.get("events_waiting"), gauges.get("busy")
    elif kind == "gateway":
        flight = gauges.get("forwarding")
    elif kind == "store":
        flight = gauges.get("writing")
    errors = counters.get("errors", 0) + counters.get("timeouts", 0)
    throttled = counters.get("throttled", 0)
    retries = counters.get("retries", 0) + counters.get("redelivered", 0)
    latency = kind in ("queue", "function")
    return [
        (figures.rate(data.get("rate_in", 0.0)) if kind != "producer" else "-", ""),
        (figures.rate(data.get("rate_out", 0.0)), ""),
        (figures.count(depth) if depth is not None else "-", ""),
        (figures.count(flight) if flight is not None else "-", ""),
        (figures.count(errors), "state--failed" if errors else ""),
        (figures.count(throttled), "state--throttled" if throttled else ""),
        (figures.count(retries), "state--retried" if retries else ""),
        (figures.duration(data.get("p50")) if latency else "-", ""),
        (figures.duration(data.get("p99")) if latency else "-", ""),
    ]


class MetricsTable(StyleCache, ScrollView, can_focus=True):
    """One row per node; the selected node's row is highlighted."""

    COMPONENT_CLASSES = STATE_CLASSES | {"metrics--header", "metrics--selected",
                                         "metrics--spark", "metrics--alarm"}
    DEFAULT_CSS = """
    MetricsTable { background: $surface; height: 1fr; overflow-y: auto; overflow-x: hidden; }
    MetricsTable > .metrics--header { color: $foreground 60%; text-style: bold; }
    MetricsTable > .metrics--selected { background: $accent-muted; }
    MetricsTable > .metrics--spark { color: $primary; }
    MetricsTable > .metrics--alarm { color: $state-failed; text-style: bold; }
    """ + state_rules("MetricsTable")

    class NodeSelected(Message):
        def __init__(self, node: str) -> None:
            super().__init__()
            self.node = node

    frame: var[Frame | None] = var(None, always_update=True)
    """The newest frame."""
    order: var[tuple[str, ...]] = var(())
    """Node ids in the order shown."""
    selected: var[str | None] = var(None)
    """The highlighted node."""

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._strips: list[Strip] | None = None
        self._lines: list[Text] = []

    def watch_frame(self) -> None:
        if self._strips is None or not self.display:
            self._strips = None
            self.refresh()
            return
        lines = self._text_lines()
        if len(lines) != len(self._lines):
            self._strips = None
            self.refresh()
            return
        width = self.scrollable_content_region.width
        scroll_y = self.scroll_offset.y
        console = self.app.console
        for index, (new, old) in enumerate(zip(lines, self._lines, strict=True)):
            if new.plain != old.plain or new.spans != old.spans or new.style != old.style:
                self._strips[index] = text_strip(new, width, console, self.base)
                y = 0 if index == 0 else index - scroll_y
                if 0 <= y < self.size.height and (index == 0 or y > 0):
                    self.refresh(Region(0, y, width, 1))
        self._lines = lines

    def watch_order(self, order: tuple[str, ...]) -> None:
        self.virtual_size = Size(self.size.width, len(order) + 1)
        self._strips = None
        self.refresh()

    def watch_selected(self) -> None:
        self._strips = None
        self.refresh()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.order) + 1)
        self._strips = None

    def styles_changed(self) -> None:
        self._strips = None

    def _build(self) -> list[Strip]:
        width = self.scrollable_content_region.width
        self._lines = self._text_lines()
        console = self.app.console
        return [text_strip(line, width, console, self.base) for line in self._lines]

    def _text_lines(self) -> list[Text]:
        width = self.scrollable_content_region.width
        styles = self.parts()
        base = self.base
        name_w = max(8, min(16, max((len(n) for n in self.order), default=8) + 1))
        columns = sum(w for _, w in COLUMNS)
        # long names give way (cut in the middle) to a sparkline, if that makes room for one
        room = width - columns - 1 - SPARK_MIN
        if 10 <= room < name_w:
            name_w = room
        spark_w = max(0, min(30, width - name_w - columns - 1))
        header = Text("node".ljust(name_w), style=styles["metrics--header"])
        for title, w in COLUMNS:
            header.append(title.rjust(w), styles["metrics--header"])
        if spark_w >= SPARK_MIN:
            title = "in, last 60s" if spark_w >= 12 else "last 60s" if spark_w >= 8 else "60s"
            header.append(" " + title.ljust(spark_w), styles["metrics--header"])
        lines = [header]
        frame = self.frame
        for node in self.order:
            data = frame.node(node) if frame is not None else {}
            row_style = styles["metrics--selected"] if node == self.selected else base
            name_style = styles["state--failed"] if data.get("outage") else row_style
            row = Text(figures.name(node, name_w - 1).ljust(name_w), style=name_style)
            for (text, state), (_, w) in zip(node_figures(data), COLUMNS, strict=True):
                row.append(text.rjust(w), (row_style + styles[state]) if state else row_style)
            if spark_w >= SPARK_MIN:
                series = data.get("series_out" if data.get("kind") == "producer"
                                  else "series_in", [])
                row.append(" " + figures.sparkline(series[1:], spark_w),
                           row_style + styles["metrics--spark"])
            lines.append(row)
        return lines

    def render_line(self, y: int) -> Strip:
        if self._strips is None:
            self._strips = self._build()
        _, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        # the header stays put while rows scroll
        index = 0 if y == 0 else y + scroll_y
        if index >= len(self._strips):
            return Strip.blank(width, self.base)
        return self._strips[index]

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        index = offset.y + self.scroll_offset.y - 1
        if 0 <= index < len(self.order):
            self.selected = self.order[index]
            self.post_message(self.NodeSelected(self.order[index]))

    def text_lines(self) -> list[str]:
        if self._strips is None:
            self._strips = self._build()
        return [s.text for s in self._strips]


class LedgerBar(StyleCache, Widget):
    """The ledger (``lost`` in red if it was ever above zero) and what the clients saw
    (success rate, errors, latency): three lines when the pane is wide enough, and as many
    more as a narrow pane needs to show every figure."""

    COMPONENT_CLASSES = STATE_CLASSES | {"ledger--label", "ledger--alarm"}
    DEFAULT_CSS = """
    LedgerBar { height: auto; background: $panel; }
    LedgerBar > .ledger--label { color: $foreground 60%; }
    LedgerBar > .ledger--alarm { color: $state-failed; text-style: bold reverse; }
    """ + state_rules("LedgerBar")

    class Wrapped(Message):
        """The ledger now takes ``height`` lines (its pane's width or its figures changed)."""

        def __init__(self, height: int) -> None:
            super().__init__()
            self.height = height

    frame: var[Frame | None] = var(None, always_update=True)
    """The newest frame."""

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._strips: list[Strip] | None = None
        self._shown: list[tuple[str, object]] = []

    def watch_frame(self) -> None:
        lines = self.lines()
        shown = [(line.plain, tuple(line.spans)) for line in lines]
        if shown != self._shown:  # the ledger changes far less often than frames come
            if len(shown) != len(self._shown):
                self.refresh(layout=True)
                self.post_message(self.Wrapped(len(shown)))
            self._shown = shown
            self._strips = None
            self.refresh()

    @property
    def line_count(self) -> int:
        """The lines it takes at its width, with its newest figures."""
        return len(self._shown)

    def styles_changed(self) -> None:
        self._strips = None

    def on_resize(self) -> None:
        self._strips = None
        self.watch_frame()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines(width))

    def _style(self, name: str) -> Style:
        return self.part(name)

    def lines(self, width: int | None = None) -> list[Text]:
        """What the bar reads at ``width`` (its own width if not given)."""
        width = self.size.width if width is None else width
        frame = self.frame
        label = self._style("ledger--label")
        ledger = Text("ledger  ", style=label)
        more = Text(" " * INDENT, style=label)
        client = Text("clients ", style=label)
        if frame is None:
            return [ledger, more, client]
        first: list[Text] = []
        second: list[Text] = []
        for title, key in LEDGER:
            value = frame.ledger.get(key, 0)
            style = self.base
            if key == "lost" and (value or frame.lost_ever):
                style = self._style("ledger--alarm")
            elif key == "failed" and value:
                style = self._style("state--failed")
            elif key == "in_dlqs" and value:
                style = self._style("state--dead-lettered")
            elif key == "delivered":
                style = self._style("state--delivered")
            item = Text(f"{title} ", style=label)
            item.append(figures.count(value), style)
            (first if key in ("created", "delivered", "failed", "expired") else second
             ).append(item)
        c = frame.client
        share = frame.client_success
        errors = c.get("errors", 0) + c.get("timeouts", 0)
        latency = c.get("latency", {})
        ok = Text("ok ", style=label)
        ok.append(figures.percent(share),
                  self._style("state--delivered" if not errors else "state--failed"))
        failed = Text("errors ", style=label)
        failed.append(figures.count(errors), self._style("state--failed") if errors
                      else self.base)
        statuses = {k: v for k, v in c.get("statuses", {}).items() if not k.startswith("2")}
        if statuses:
            failed.append(" (" + " ".join(f"{k}×{figures.count(v)}"
                                          for k, v in statuses.items()) + ")",
                          self._style("state--failed"))
        # the latency is of successful answers: before the first, its quantiles read 0
        answered = c.get("ok", 0) > 0
        p50 = Text("p50 ", style=label)
        p50.append(figures.duration(latency.get("p50") if answered else None), self.base)
        p99 = Text("p99 ", style=label)
        p99.append(figures.duration(latency.get("p99") if answered else None), self.base)
        now = Text("now ", style=label)
        now.append(f"{figures.rate(c.get('rate_ok', 0.0))} ok",
                   self._style("state--delivered"))
        now.append(" / ", self.base)
        now.append(f"{figures.rate(c.get('rate_errors', 0.0))} err",
                   self._style("state--failed") if c.get("rate_errors") else self.base)
        console = self.app.console
        return (_wrap(ledger, first, width, console) + _wrap(more, second, width, console)
                + _wrap(client, [ok, failed, p50, p99, now], width, console))

    def render_line(self, y: int) -> Strip:
        if self._strips is None:
            width, console = self.size.width, self.app.console
            self._strips = [text_strip(line, width, console, self.base)
                            for line in self.lines()]
        if y >= len(self._strips):
            return Strip.blank(self.size.width, self.base)
        return self._strips[y]


class MetricsPane(Vertical):
    """The table and the ledger together."""

    DEFAULT_CSS = """
    MetricsPane { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield MetricsTable(id="metrics-table")
        yield LedgerBar(id="ledger")


def _wrap(start: Text, items: list[Text], width: int, console: Console) -> list[Text]:
    """``items`` after ``start``, two spaces apart, on as many lines as ``width`` needs, the
    lines after the first indented under the first item: a narrow pane wraps, it never drops
    a figure. An item wider than a line by itself is broken at its spaces."""
    room = width - INDENT
    lines = [start.copy()]
    for item in items:
        # (no room at all: not laid out yet)
        pieces = item.wrap(console, room) if 0 < room < item.cell_len else [item]
        for piece in pieces:
            line = lines[-1]
            fresh = line.cell_len <= INDENT
            if not fresh and room > 0 and line.cell_len + 2 + piece.cell_len > width:
                line = Text(" " * INDENT, style=start.style)
                lines.append(line)
                fresh = True
            if not fresh:
                line.append("  ")
            line.append_text(piece)
    return lines
