"""The main screen: diagram, metrics, and the side panes (events, inspector, YAML) over one
running topology; talk mode shows the diagram, big counters and captions only."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.scalar import Scalar
from textual.widget import Widget
from textual.widgets import TabbedContent, TabPane, Tabs
from textual.worker import Worker, WorkerState

from playground.spec.problem import Problem
from playground.ui import yaml_edit, yaml_lines
from playground.ui.clocks import RunClock
from playground.ui.controls import RUN_CONTROLS, bindings
from playground.ui.event_text import EventLine
from playground.ui.frame import Frame
from playground.ui.screens.pane_drag import PaneDrag
from playground.ui.screens.running import RunningScreen
from playground.ui.session import SAVE_AGAIN, SaveOutcome, Session
from playground.ui.widgets.big_counters import BigCounters
from playground.ui.widgets.caption_banner import CaptionBanner
from playground.ui.widgets.diagram_pane import DiagramPane
from playground.ui.widgets.editor_pane import EditorPane
from playground.ui.widgets.events_pane import EventsPane
from playground.ui.widgets.inspector_pane import InspectorPane
from playground.ui.widgets.key_footer import KeyFooter
from playground.ui.widgets.metrics_pane import LedgerBar, MetricsPane, MetricsTable
from playground.ui.widgets.status_bar import StatusBar
from playground.ui.widgets.timeline_bar import TimelineBar

SIDE_TABS = {"events": "tab-events", "inspector": "tab-inspector", "yaml": "tab-yaml"}
# Textual keeps out of the footer the keys a focused text box takes, but finds no
# character for these two key names, so it would show them while they type into the box
TYPED_KEYS = {"faster": ("plus", "+"), "slower": ("minus", "-")}
NARROW, SHORT = 100, 30


class RunScreen(PaneDrag, RunningScreen):
    """One topology running: every pane, the live controls, talk mode."""

    CONTROLS = RUN_CONTROLS
    BINDINGS = bindings(RUN_CONTROLS)

    def __init__(self, session: Session, clock: RunClock, *, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__([session], clock, name=name, id=id, classes=classes)
        self.session = session
        self._lines: list[EventLine] = []
        self._panes: tuple[Any, ...] | None = None
        self._side_width: Scalar | None = None

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield TimelineBar(id="timeline")
        yield CaptionBanner(id="caption")
        with Vertical(id="body"):
            yield DiagramPane(id="diagram")
            with Horizontal(id="lower"):
                yield MetricsPane(id="metrics")
                with TabbedContent(id="side", initial="tab-events"):
                    with TabPane("Events", id="tab-events"):
                        yield EventsPane(id="events")
                    with TabPane("Inspector", id="tab-inspector"):
                        yield InspectorPane(id="inspector")
                    with TabPane("YAML", id="tab-yaml"):
                        yield EditorPane(id="yaml")
        yield BigCounters(id="counters")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#diagram", DiagramPane).border_title = "diagram"
        self.query_one("#metrics").border_title = "metrics"
        self._show_topology()
        editor = self.query_one(EditorPane)
        editor.load(self.session.text)
        editor.problems = tuple(self.session.loaded.problems)
        if self.session.topology is None:
            self.query_one("#side", TabbedContent).active = "tab-yaml"
            self.query_one(StatusBar).note = "the file has errors: fix them and save (ctrl+s)"
        self.query_one(DiagramPane).focus()
        self._adapt(self.size.width, self.size.height)

    def on_resize(self) -> None:
        self._adapt(self.size.width, self.size.height)

    def _adapt(self, width: int, height: int) -> None:
        self.set_class(width < NARROW, "-narrow")
        self.set_class(height < SHORT, "-short")
        lower = self.query_one("#lower")
        lower.styles.min_height = self.lower_min  # whatever sets its height: CSS, keys, mouse
        chosen = lower.styles.inline.height  # set by [ ] or the mouse, in cells
        if chosen is not None:
            # perhaps for a taller terminal: the ledger must not go below the screen's edge
            # when the terminal shrinks
            lower.styles.height = self.lower_height(int(chosen.value))
        side = self.query_one("#side")
        if width < NARROW and not side.has_class("-pinned"):
            side.display = False
        elif not side.has_class("-hidden"):
            side.display = True

    @on(LedgerBar.Wrapped)
    def _ledger_wrapped(self, event: LedgerBar.Wrapped) -> None:
        self.ledger_lines = event.height
        self._adapt(self.size.width, self.size.height)

    def _show_topology(self) -> None:
        topology = self.session.topology
        self.query_one(StatusBar).title = self.session.name
        diagram = self.query_one(DiagramPane)
        diagram.topology = topology
        if topology is None:
            return
        self.query_one(MetricsTable).order = tuple(topology.nodes)
        timeline = self.query_one(TimelineBar)
        timeline.steps = self.scenario_steps()
        timeline.duration = topology.duration
        self._select(diagram.selected)

    # --- frames down -----------------------------------------------------------------------

    def show(self, frames: list[Frame | None], full: bool) -> None:
        frame = frames[0]
        if frame is None:
            return
        panes = self._panes
        if panes is None:  # found once: frames come 30 times a second
            panes = self._panes = (
                self.query_one(DiagramPane), self.query_one(StatusBar),
                self.query_one(TimelineBar), self.query_one(CaptionBanner),
                self.query_one(MetricsTable), self.query_one(LedgerBar),
                self.query_one(EventsPane), self.query_one(InspectorPane),
                self.query_one(BigCounters))
        diagram, status, timeline, caption, table, ledger, events, inspector, counters = panes
        self._lines.extend(frame.lines)
        diagram.speed = frame.clock.speed
        diagram.frame = frame
        if frame.stepped:
            # a caption about a node the audience cannot see reads as nonsense
            diagram.show_node(frame.stepped[-1])
        status.frame = frame
        timeline.t = frame.t
        caption.caption = frame.caption
        if not full:
            return
        lines, self._lines = self._lines, []
        table.frame = frame
        ledger.frame = frame
        events.frame = replace(frame, lines=lines)
        inspector.frame = frame
        if self.has_class("-talk"):
            counters.frame = frame

    # --- selection -------------------------------------------------------------------------

    def selected_node(self) -> str | None:
        return self.query_one(DiagramPane).selected

    def _select(self, node: str | None) -> None:
        topology = self.session.topology
        spec = topology.nodes.get(node) if topology is not None and node else None
        self.query_one(DiagramPane).selected = node if spec is not None else None
        self.query_one(MetricsTable).selected = node if spec is not None else None
        written = yaml_edit.node_values(self.session.text, node) if spec is not None else {}
        host = self.session.host
        rows_in = str(host.db_path) if host is not None and spec is not None \
            and spec.kind == "store" else None
        self.query_one(InspectorPane).show(node if spec else None, spec, written, rows_in)
        frame = self.frames[0]
        if frame is not None:
            self.query_one(InspectorPane).frame = frame

    @on(DiagramPane.NodeSelected)
    @on(MetricsTable.NodeSelected)
    def _node_selected(self, event: DiagramPane.NodeSelected | MetricsTable.NodeSelected
                       ) -> None:
        self._select(event.node)

    @on(DiagramPane.NodeInspected)
    def _inspect(self, event: DiagramPane.NodeInspected) -> None:
        side = self.query_one("#side", TabbedContent)
        side.display = True
        side.remove_class("-hidden")
        side.add_class("-pinned")
        side.active = "tab-inspector"

    def select(self, node: str) -> None:
        """Selects ``node`` as a click on it would."""
        self._select(node)

    # --- the events pane -------------------------------------------------------------------

    @on(TabbedContent.TabActivated, "#side")
    def _tab(self, event: TabbedContent.TabActivated) -> None:
        self.set_class(event.pane.id == "tab-yaml", "-editing")

    @on(EventsPane.TraceFollowed)
    def _follow(self, event: EventsPane.TraceFollowed) -> None:
        self.builders[0].follow = event.trace

    # --- editing -----------------------------------------------------------------------------

    @on(EditorPane.Edited)
    def _edited(self, event: EditorPane.Edited) -> None:
        self._check(event.text)

    @work(thread=True, exclusive=True, group="yaml-check")
    def _check(self, text: str) -> tuple[str, tuple[Problem, ...]]:
        # off the app's thread: checking a large file takes longer than a key may wait
        return text, tuple(self.session.check(text).problems)

    @on(Worker.StateChanged)
    def _checked(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "yaml-check" or event.state != WorkerState.SUCCESS \
                or worker.result is None:
            return
        text, problems = worker.result
        editor = self.query_one(EditorPane)
        if editor.text == text:  # typed over since: a newer check is on its way
            editor.problems = problems

    @on(EditorPane.SaveRequested)
    def _save(self, event: EditorPane.SaveRequested) -> None:
        self._save_text(event.text)

    def _save_text(self, text: str, again: str = SAVE_AGAIN) -> str | None:
        outcome: list[SaveOutcome] = []
        if not self.guarded(lambda: outcome.append(self.session.save(text, again))):
            return "the run did not start"
        self._saved(outcome[0], text)
        return None if outcome[0].saved else outcome[0].message

    @property
    def unsaved(self) -> bool:
        """The YAML pane holds edits that are not in the file."""
        return self.query_one(EditorPane).dirty

    def save_edits(self, again: str) -> str | None:
        """Saves the YAML pane as ``ctrl+s`` does: ``None`` once saved, else why not;
        ``again`` names the key that saves once more (the asking dialog's own)."""
        return self._save_text(self.query_one(EditorPane).text, again)

    def edit(self) -> None:
        """Shows the YAML pane and puts the cursor in it."""
        self._show_side("tab-yaml")
        self.query_one(EditorPane).editor.focus()

    @on(InspectorPane.FieldEdited)
    def _field_edited(self, event: InspectorPane.FieldEdited) -> None:
        editor = self.query_one(EditorPane)
        buffer: str | None = None
        if editor.dirty:
            # the edit goes into the unsaved buffer too, or the next ctrl+s of the buffer
            # would silently undo it; where it cannot, nothing is written at all
            buffer, why = self._edit_buffer(editor.text, event)
            if buffer is None and why:
                self.notify(f"{event.node}.{event.field}: not applied: the YAML pane has "
                            f"unsaved edits and {why}, so their next save would undo this "
                            "change. Save or fix them first", severity="error",
                            title="Not applied", timeout=10)
                self.query_one(InspectorPane).edit(event.field, event.raw)
                return
        edited: list[SaveOutcome] = []
        if not self.guarded(lambda: edited.append(
                self.session.edit_field(event.node, event.field, event.raw))):
            return
        outcome = edited[0]
        if not outcome.saved:
            self.notify(outcome.message, severity="error", title="Not applied")
            self.query_one(InspectorPane).edit(event.field, event.raw)
            return
        if buffer is not None:
            editor.saved_text = self.session.text
            cursor = editor.editor.cursor_location
            editor.editor.load_text(buffer)
            editor.editor.cursor_location = cursor  # typing goes on where it was
            outcome.message += "; made in the YAML pane's unsaved edits too"
        else:
            editor.load(self.session.text)
        self._saved(outcome, None)

    def _edit_buffer(self, text: str, event: InspectorPane.FieldEdited
                     ) -> tuple[str | None, str]:
        """The unsaved ``text`` with the inspector's edit made to it, or why it cannot be
        (empty: the value itself is wrong, which the file's own edit says better)."""
        try:
            return yaml_edit.set_node_field(text, event.node, event.field, event.raw), ""
        except yaml_edit.ValueUnparsable:
            return None, ""
        except yaml_edit.EditError:
            pass
        edited = yaml_lines.set_field_line(text, event.node, event.field, event.raw)
        if edited is not None:
            return edited, ""
        errors = self.session.check(text).errors
        if not errors:
            return None, f"they have no node {event.node}"
        first = errors[0]
        name = self.session.path.name if self.session.path is not None else "the file"
        return None, (f"{event.node}'s {event.field} cannot be found in them for the YAML "
                      f"error at {name}:{first.line}:{first.column}: {first.message}")

    def _saved(self, outcome: SaveOutcome, text: str | None) -> None:
        editor = self.query_one(EditorPane)
        editor.problems = tuple(outcome.problems)
        if not outcome.saved:
            self.notify(outcome.message, severity="error", title="Not saved")
            return
        if text is not None:
            editor.saved_text = text
        self.query_one(StatusBar).note = ""
        if outcome.applied == "restarted":
            self.query_one(EventsPane).reset()
            self._show_topology()
            self.after_restart(outcome.message)
        else:
            self._show_topology()
            self.notify(outcome.message, title="Saved")

    def after_restart(self, reason: str) -> None:
        self._lines = []
        self.query_one(EventsPane).reset()
        super().after_restart(reason)

    # --- panes and modes -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "resize" and self.maximized is not None:
            return False  # a maximised pane has the screen: nothing beside it to give way
        typed = TYPED_KEYS.get(action)
        focused = self.focused
        return typed is None or focused is None or not focused.check_consume_key(*typed)

    def action_toggle_pane(self, pane: str) -> None:
        if pane in ("diagram", "metrics"):
            box = self.query_one(DiagramPane if pane == "diagram" else MetricsPane)
            box.display = not box.display
            # the diagram and the metrics take arrows to select nodes: one just shown is
            # where the user wants to be
            if box.display:
                self._focus_in(box)
                return
        else:
            side = self.query_one("#side", TabbedContent)
            tab = SIDE_TABS[pane]
            if side.display and side.active == tab:
                side.display = False
                side.add_class("-hidden")
                side.remove_class("-pinned")
            else:
                self._show_side(tab)
        focused = self.focused
        if focused is None or not all(w.display for w in focused.ancestors_with_self):
            self._focus_first_pane()

    def _show_side(self, tab: str) -> None:
        side = self.query_one("#side", TabbedContent)
        side.display = True
        side.remove_class("-hidden")
        side.add_class("-pinned")
        side.active = tab

    def _focus_in(self, box: Widget) -> None:
        if box.id == "metrics":
            box.query_one(MetricsTable).focus()
        elif box.id == "side":
            # the side panes' boxes take typed text, the digits that toggle panes
            # included: their tabs take arrows only
            box.query_one(Tabs).focus()
        else:
            box.focus()

    def _focus_first_pane(self) -> None:
        """Keys go to a pane the user can see once the focused one is hidden: otherwise
        nothing has focus and arrows, ``z`` and the like do nothing until a click."""
        for pane_id in ("diagram", "metrics", "side"):
            box = self.query_one(f"#{pane_id}")
            if box.display:
                self._focus_in(box)
                return

    def action_talk(self) -> None:
        talking = not self.has_class("-talk")
        self.set_class(talking, "-talk")
        if talking:
            self.query_one(DiagramPane).focus()
            frame = self.frames[0]
            if frame is not None:
                self.query_one(BigCounters).frame = frame

    def action_maximize_pane(self) -> None:
        if self.maximized is not None:
            self.minimize()
            return
        focused = self.focused
        if focused is None:
            return
        for pane_id in ("diagram", "metrics", "side"):
            pane = self.query_one(f"#{pane_id}")
            if focused is pane or pane in focused.ancestors:
                self.maximized = pane
                return

    def watch_maximized(self, was: Widget | None, now: Widget | None) -> None:
        # the side's width chosen with { } or the mouse is an inline style, which would beat
        # the stylesheet's full width: it is put aside while the side pane is maximised
        side = self.query_one("#side")
        if now is side:
            self._side_width = side.styles.inline.width
            side.styles.width = None
        elif was is side:
            side.styles.width = self._side_width

    def action_back(self) -> None:
        if self.maximized is not None:
            self.minimize()
        elif self.has_class("-talk"):
            self.action_talk()

    def action_resize(self, what: str, step: int) -> None:
        if what == "lower":
            lower = self.query_one("#lower")
            lower.styles.height = self.lower_height(lower.outer_size.height + step)
        else:
            side = self.query_one("#side")
            width = max(20, min(self.size.width - 30, side.outer_size.width + step))
            side.styles.width = width
