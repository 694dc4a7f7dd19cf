"""The events pane: a live, filterable log of what matters, and one message's trace hop by
hop (choose a line, press enter)."""

from __future__ import annotations

from collections import deque
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Input, Static

from playground.ui.event_text import FILTERS, STATE_OF_CATEGORY, EventLine
from playground.ui.figures import duration
from playground.ui.frame import Frame
from playground.ui.widgets.lines import text_strip
from playground.ui.widgets.palette import STATE_CLASSES, state_rules
from playground.ui.widgets.styled import StyleCache

KEEP = 2_000


def _time(t: float) -> str:
    return f"{t:8.3f}"


class EventLog(StyleCache, ScrollView, can_focus=True):
    """The newest notable events (at most :data:`KEEP`); a cursor picks one to follow."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("enter", "follow", "Follow trace"),
        Binding("end", "tail", "Newest", show=False),
    ]
    COMPONENT_CLASSES = STATE_CLASSES | {"log--time", "log--node", "log--cursor",
                                         "log--caption"}
    DEFAULT_CSS = """
    EventLog { background: $surface; height: 1fr; overflow-y: auto; overflow-x: hidden; }
    EventLog > .log--time { color: $foreground 50%; }
    EventLog > .log--node { color: $foreground 85%; }
    EventLog > .log--cursor { background: $accent 35%; }
    EventLog > .log--caption { color: $state-redriven; text-style: bold; }
    """ + state_rules("EventLog")

    class Chosen(Message):
        """The user asked to follow the trace of ``line``."""

        def __init__(self, line: EventLine) -> None:
            super().__init__()
            self.line = line

    category: var[str] = var("all")
    """Which kind of event is shown (one of FILTERS)."""
    search: var[str] = var("")
    """Text a shown line must contain."""

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.entries: deque[EventLine] = deque(maxlen=KEEP)
        self.view: deque[EventLine] = deque(maxlen=KEEP)
        self.cursor: int | None = None

    def add(self, lines: list[EventLine]) -> None:
        """New lines: only they are matched against the filter (not the whole log)."""
        if not lines:
            return
        self.entries.extend(lines)
        shown = [e for e in lines if e.matches(self.category, self.search)]
        if not shown:
            return
        dropped = max(0, len(self.view) + len(shown) - KEEP)
        self.view.extend(shown)
        if self.cursor is not None:
            self.cursor -= dropped
            if self.cursor < 0:
                self.cursor = None
        self._resized()
        if self.cursor is None:  # following the newest lines
            self.scroll_end(animate=False, x_axis=False)
        self.refresh()

    def clear(self) -> None:
        self.entries.clear()
        self._refilter()

    def watch_category(self) -> None:
        self._refilter()

    def watch_search(self) -> None:
        self._refilter()

    def _refilter(self) -> None:
        chosen = self.view[self.cursor] if self.cursor is not None and self.view else None
        self.view = deque((e for e in self.entries if e.matches(self.category, self.search)),
                          maxlen=KEEP)
        if chosen is not None and self.cursor is not None:
            try:
                self.cursor = self.view.index(chosen)
            except ValueError:
                self.cursor = None
        self._resized()

    def _resized(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.view))
        if self.cursor is None:
            self.scroll_end(animate=False, x_axis=False)
        self.refresh()

    def action_cursor(self, step: int) -> None:
        if not self.view:
            return
        if self.cursor is None:
            self.cursor = len(self.view) - 1
        else:
            self.cursor = max(0, min(len(self.view) - 1, self.cursor + step))
        self.scroll_to(y=max(0, self.cursor - self.size.height // 2), animate=False)
        self.refresh()

    def action_tail(self) -> None:
        self.cursor = None
        self.scroll_end(animate=False)
        self.refresh()

    def action_follow(self) -> None:
        if self.cursor is None and self.view:
            self.cursor = len(self.view) - 1
        if self.cursor is not None and self.view:
            self.post_message(self.Chosen(self.view[self.cursor]))

    def render_line(self, y: int) -> Strip:
        index = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        if index >= len(self.view):
            return Strip.blank(width, self.base)
        entry = self.view[index]
        cursor = index == self.cursor
        base = self.part("log--cursor") if cursor else self.base

        def style(name: str) -> Style:
            return base + self.part(name) if cursor else self.part(name)

        text = Text(style=base)
        text.append(_time(entry.t), style("log--time"))
        text.append(" ")
        text.append(f"{entry.node:<12.12}", style("log--node"))
        state = STATE_OF_CATEGORY.get(entry.category, "delivered")
        name = "log--caption" if entry.category == "scenario" else f"state--{state}"
        text.append(" " + entry.text, style(name))
        return text_strip(text, width, self.app.console, base)

    def text_lines(self) -> list[str]:
        return [f"{_time(e.t)} {e.node} {e.text}" for e in self.view]


class TraceView(StyleCache, ScrollView):
    """Every hop of one trace, with simulated times (newest hops arrive live)."""

    COMPONENT_CLASSES = STATE_CLASSES | {"trace--title", "trace--time"}
    DEFAULT_CSS = """
    TraceView { background: $panel; height: 40%; display: none; overflow-y: auto; }
    TraceView.-open { display: block; }
    TraceView > .trace--title { color: $accent; text-style: bold; }
    TraceView > .trace--time { color: $foreground 55%; }
    """ + state_rules("TraceView")

    hops: var[tuple[EventLine, ...]] = var(())
    """The followed trace's events, oldest first."""
    trace: var[str | None] = var(None)
    """The trace followed, or None."""

    def watch_hops(self, hops: tuple[EventLine, ...]) -> None:
        self.virtual_size = Size(self.size.width, len(hops) + 1)
        self.refresh()

    def watch_trace(self, trace: str | None) -> None:
        self.set_class(trace is not None, "-open")
        self.refresh()

    def _style(self, name: str) -> Style:
        return self.part(name)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        hops = self.hops
        if y == 0:
            start = hops[0].t if hops else 0.0
            title = Text(f"trace {self.trace}: {len(hops)} hops"
                         + (f" over {duration(hops[-1].t - start)}" if hops else "")
                         + "  (esc closes)", self._style("trace--title"))
            return text_strip(title, width, self.app.console, self.base)
        index = y - 1 + self.scroll_offset.y
        if index >= len(hops):
            return Strip.blank(width, self.base)
        hop = hops[index]
        state = STATE_OF_CATEGORY.get(hop.category, "delivered")
        text = Text()
        text.append(_time(hop.t), self._style("trace--time"))
        text.append(f" {hop.node:<15.15} ")
        text.append(hop.text, self._style(f"state--{state}") if hop.category != "hop"
                    else self.base)
        return text_strip(text, width, self.app.console, self.base)

    def text_lines(self) -> list[str]:
        return [f"{_time(h.t)} {h.node} {h.text}" for h in self.hops]


class FilterInput(Input):
    """The filter box. ``esc`` leaves it for the log, its text kept, as ``esc`` leaves the
    YAML editor: otherwise only Tab does, and every live key is typed into the filter."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Leave the filter", show=False)]

    def action_leave(self) -> None:
        self.screen.focus_next()


class EventsPane(Vertical, can_focus=False):
    """Filter box, the log, and the followed trace."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "next_filter", "Filter kind"),
        Binding("escape", "unfollow", "Close trace", show=False),
    ]
    DEFAULT_CSS = """
    EventsPane { height: 1fr; }
    EventsPane > Input { margin: 0; }
    EventsPane > #events-kind { height: 1; color: $text-muted; background: $panel; }
    """

    class TraceFollowed(Message):
        """The user chose a trace to follow (None: stop following)."""

        def __init__(self, trace: str | None) -> None:
            super().__init__()
            self.trace = trace

    frame: var[Frame | None] = var(None, always_update=True)
    """The newest frame: its new lines are added, its followed trace shown."""

    def compose(self) -> ComposeResult:
        yield Static(id="events-kind")
        yield FilterInput(placeholder="filter: node or text", compact=True, id="events-filter")
        yield EventLog(id="event-log")
        yield TraceView(id="trace-view")

    def on_mount(self) -> None:
        self._show_kind("all")

    def _show_kind(self, category: str) -> None:
        self.query_one("#events-kind", Static).update(
            f" {category} · f: kind · enter: follow a message")

    def watch_frame(self, frame: Frame | None) -> None:
        if frame is None:
            return
        self.query_one(EventLog).add(frame.lines)
        view = self.query_one(TraceView)
        # the pane decides what is followed; a frame only brings that trace's newest hops
        if view.trace is not None and frame.followed_trace == view.trace:
            view.hops = tuple(frame.followed or ())

    @on(Input.Changed, "#events-filter")
    def _search(self, event: Input.Changed) -> None:
        self.query_one(EventLog).search = event.value.strip()

    @on(EventLog.Chosen)
    def _chosen(self, event: EventLog.Chosen) -> None:
        if event.line.trace is None:
            self.notify("this event belongs to no single message", severity="warning")
            return
        self.query_one(TraceView).trace = event.line.trace
        self.post_message(self.TraceFollowed(event.line.trace))

    def action_next_filter(self) -> None:
        log = self.query_one(EventLog)
        log.category = FILTERS[(FILTERS.index(log.category) + 1) % len(FILTERS)]
        self._show_kind(log.category)

    def action_unfollow(self) -> None:
        view = self.query_one(TraceView)
        view.trace = None
        view.hops = ()
        self.post_message(self.TraceFollowed(None))

    def reset(self) -> None:
        """A new run: the old run's lines no longer apply."""
        self.query_one(EventLog).clear()
        self.action_unfollow()
