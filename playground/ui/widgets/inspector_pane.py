"""The inspector: the selected node's fields (as written in the file, or their defaults) and
its live figures. Choose a field, type a value, press enter: it applies at once and is
written back into the file."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import var
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from playground.spec import model as m
from playground.ui import figures
from playground.ui.frame import Frame
from playground.ui.spec_text import written_values
from playground.ui.widgets.lines import text_strip
from playground.ui.widgets.palette import STATE_CLASSES, state_rules
from playground.ui.widgets.styled import StyleCache
from playground.ui.yaml_edit import inline

READ_ONLY = ("kind", "to")


def live_figures(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, value, state class) for the node's live figures."""
    if not data:
        return []
    counters = data.get("counters", {})
    gauges = data.get("gauges", {})
    out: list[tuple[str, str, str]] = [
        ("in", figures.rate(data.get("rate_in", 0.0)), ""),
        ("out", figures.rate(data.get("rate_out", 0.0)), ""),
    ]
    for key in ("depth", "visible", "in_flight", "max_depth", "busy", "idle", "instances",
                "cold_starting", "events_waiting", "rows", "tokens", "rate", "forwarding",
                "delivering"):
        value = gauges.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out.append((key.replace("_", " "), figures.count(round(value, 1)),
                        "state--cold" if key == "cold_starting" and value else ""))
    for key, state in (("errors", "state--failed"), ("throttled", "state--throttled"),
                       ("retries", "state--retried"), ("redelivered", "state--retried"),
                       ("dead_lettered", "state--dead-lettered"),
                       ("redriven", "state--redriven"), ("timeouts", "state--failed")):
        value = counters.get(key, 0)
        if value:
            out.append((key.replace("_", " "), figures.count(value), state))
    if data.get("kind") in ("queue", "function"):
        out.append(("p50", figures.duration(data.get("p50")), ""))
        out.append(("p99", figures.duration(data.get("p99")), ""))
    for flag, label, state in (("outage", "OUTAGE", "state--failed"),
                               ("degraded", "DEGRADED", "state--retried")):
        if data.get(flag):
            out.append(("state", label, state))
    if gauges.get("paused"):
        out.append(("state", "PAUSED", "state--retried"))
    if gauges.get("breaker"):
        out.append(("breaker", str(gauges["breaker"]), "state--failed"
                    if gauges["breaker"] != "closed" else ""))
    return out


class FiguresView(StyleCache, Widget):
    """The live figures, two to a line, redrawn every frame."""

    COMPONENT_CLASSES = STATE_CLASSES | {"figures--label"}
    DEFAULT_CSS = """
    FiguresView { height: 5; background: $panel; }
    FiguresView > .figures--label { color: $foreground 55%; }
    """ + state_rules("FiguresView")

    data: var[dict[str, Any]] = var(dict, always_update=True)
    """The node's part of the newest snapshot."""

    def watch_data(self) -> None:
        self._items = None
        self.refresh()

    _items: list[tuple[str, str, str]] | None = None

    def _style(self, name: str) -> Style:
        return self.part(name)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self._items is None:
            self._items = live_figures(self.data)
        items = self._items
        per_line = max(1, width // 18)
        chunk = items[y * per_line:(y + 1) * per_line]
        text = Text()
        for label, value, state in chunk:
            cell = Text()
            cell.append(f"{label} ", self._style("figures--label"))
            cell.append(value, self._style(state) if state else self.base)
            cell.truncate(width // per_line)
            cell.pad_right(width // per_line - cell.cell_len)
            text.append_text(cell)
        return text_strip(text, width, self.app.console, self.base)

    def text(self) -> str:
        return "  ".join(f"{label} {value}" for label, value, _ in live_figures(self.data))


class InspectorPane(Vertical):
    """Fields and figures of one node."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel edit", show=False)]
    DEFAULT_CSS = """
    InspectorPane { height: 1fr; }
    InspectorPane > #inspector-title { height: 1; background: $panel; color: $accent;
                                       text-style: bold; padding: 0 1; }
    InspectorPane > OptionList { height: 1fr; border: none; }
    InspectorPane > Input { display: none; }
    InspectorPane > Input.-editing { display: block; }
    """

    class FieldEdited(Message):
        """The user set ``field`` of ``node`` to the YAML value ``raw``."""

        def __init__(self, node: str, field: str, raw: str) -> None:
            super().__init__()
            self.node = node
            self.field = field
            self.raw = raw

    node: var[str | None] = var(None)
    """The node shown."""
    spec: var[m.NodeSpec | None] = var(None)
    """Its spec (for defaults)."""
    written: var[dict[str, str]] = var(dict)
    """Its fields as written in the file."""
    frame: var[Frame | None] = var(None, always_update=True)
    """The newest frame (for the live figures)."""

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._fields: list[str] = []
        self._editing: str | None = None
        self._opened_with = ""
        self._rows_in: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("select a node in the diagram", id="inspector-title")
        yield FiguresView(id="figures")
        yield OptionList(id="fields")
        yield Input(id="field-input", compact=True)

    def watch_frame(self, frame: Frame | None) -> None:
        if frame is not None and self.node is not None:
            self.query_one(FiguresView).data = frame.node(self.node)

    def show(self, node: str | None, spec: m.NodeSpec | None, written: dict[str, str],
             rows_in: str | None = None) -> None:
        """Sets what is shown (three attributes at once, one redraw); ``rows_in``: the file a
        store's rows go to."""
        self.set_reactive(InspectorPane.node, node)
        self.set_reactive(InspectorPane.spec, spec)
        self.set_reactive(InspectorPane.written, written)
        self._rows_in = rows_in
        self._rebuild()

    def _rebuild(self) -> None:
        title = self.query_one("#inspector-title", Static)
        options = self.query_one("#fields", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        self._fields = []
        if self.node is None or self.spec is None:
            title.update("select a node in the diagram")
            return
        title.update(f"{self.node} · {self.spec.kind}")
        defaults = written_values(self.spec)
        written = self.written
        rows: list[Option] = []
        for name in defaults:
            if name in READ_ONLY:
                continue
            if name in written:
                value = Text(written[name])
            else:
                value = Text(f"{inline(defaults[name])} (default)", style="dim")
            rows.append(Option(Text.assemble((f"{name}: ", "bold"), value), id=name))
            self._fields.append(name)
        if "to" in written:
            rows.append(Option(Text.assemble(("to: ", "bold"), (written["to"], "dim"),
                                             (" (restart to change)", "dim italic")),
                               id="to", disabled=True))
        if self._rows_in is not None:
            rows.append(Option(Text.assemble(("rows: ", "bold"), (self._rows_in, "dim"),
                                             (f", table {self.node}", "dim"),
                                             (" (SQLite, written every second)", "dim italic")),
                               id="rows", disabled=True))
        options.add_options(rows)
        if highlighted is not None and highlighted < len(rows):
            options.highlighted = highlighted

    @on(OptionList.OptionSelected, "#fields")
    def _edit(self, event: OptionList.OptionSelected) -> None:
        name = event.option.id
        if name is None or name not in self._fields:
            return
        self._editing = name
        field_input = self.query_one("#field-input", Input)
        current = self.written.get(name)
        if current is None and self.spec is not None:
            current = inline(written_values(self.spec)[name])
        field_input.value = self._opened_with = current or ""
        field_input.placeholder = f"{name}: a YAML value, enter applies, esc cancels"
        field_input.add_class("-editing")
        field_input.focus()

    @on(Input.Submitted, "#field-input")
    def _submit(self, event: Input.Submitted) -> None:
        if self._editing is not None and self.node is not None:
            if event.value.strip() == self._opened_with.strip():
                # enter on a default as shown would write it into the file: a change to the
                # file the user never made
                self.notify(f"{self.node}.{self._editing}: nothing changed", timeout=3)
            else:
                self.post_message(self.FieldEdited(self.node, self._editing, event.value))
        self.action_cancel()

    def action_cancel(self) -> None:
        self._editing = None
        field_input = self.query_one("#field-input", Input)
        field_input.remove_class("-editing")
        self.query_one("#fields", OptionList).focus()

    def edit(self, field: str, value: str | None = None) -> None:
        """Opens the editor on ``field`` (the same as choosing it), holding ``value`` if
        given: a value that was not applied comes back as typed, to be mended."""
        options = self.query_one("#fields", OptionList)
        index = self._fields.index(field)
        options.highlighted = index
        options.action_select()
        if value is not None:
            self.call_after_refresh(self._hold, value)

    def _hold(self, value: str) -> None:
        field_input = self.query_one("#field-input", Input)
        field_input.value = value
        field_input.cursor_position = len(value)
