"""Compare mode: two topologies side by side under the same traffic and seed, on linked
clocks, with the difference between them in the middle."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Static

from playground.ui.clocks import LinkedClock
from playground.ui.compare_layout import share_height
from playground.ui.controls import COMPARE_CONTROLS, RUN_SCREEN_ONLY, bindings
from playground.ui.frame import Frame
from playground.ui.screens.running import RunningScreen
from playground.ui.session import Session
from playground.ui.widgets.caption_banner import CaptionBanner
from playground.ui.widgets.compare_summary import CompareSummary
from playground.ui.widgets.diagram_pane import DiagramPane
from playground.ui.widgets.key_footer import KeyFooter
from playground.ui.widgets.metrics_pane import LedgerBar, MetricsTable
from playground.ui.widgets.status_bar import StatusBar
from playground.ui.widgets.timeline_bar import TimelineBar

SIDES = ("a", "b")
WIDE, TALL = 160, 50  # side by side from this width; metrics tables from this height


class CompareScreen(RunningScreen):
    CONTROLS = COMPARE_CONTROLS
    BINDINGS = bindings(COMPARE_CONTROLS) + bindings(RUN_SCREEN_ONLY)
    HELP_TITLE = "Compare mode"

    def __init__(self, a: Session, b: Session, clock: LinkedClock, *,
                 name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__([a, b], clock, name=name, id=id, classes=classes)
        self._selected: str | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield TimelineBar(id="timeline")
        with Horizontal(id="compare"):
            for index, side in enumerate(SIDES):
                with Vertical(id=f"side-{side}", classes="compare-side"):
                    letter = side.upper()
                    yield Static(f"{letter}: {self.sessions[index].name}", classes="side-title")
                    yield Static(id=f"problems-{side}", classes="side-problems")
                    # under its side: whose step a caption tells of goes without saying
                    yield CaptionBanner(id=f"caption-{side}")
                    yield DiagramPane(id=f"diagram-{side}")
                    yield MetricsTable(id=f"metrics-{side}")
                    yield LedgerBar(id=f"ledger-{side}")
                if index == 0:
                    yield CompareSummary(id="difference")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        a, b = self.sessions
        self.query_one(StatusBar).title = f"compare  A {a.name}  vs  B {b.name}"
        for session, side in zip(self.sessions, SIDES, strict=True):
            self._show_problems(session, side)
            self.query_one(f"#diagram-{side}", DiagramPane).topology = session.topology
            if session.topology is not None:
                self.query_one(f"#metrics-{side}", MetricsTable).order = tuple(
                    session.topology.nodes)
        timeline = self.query_one(TimelineBar)
        timeline.steps = self.scenario_steps()
        timeline.duration = max((s.topology.duration for s in self.sessions
                                 if s.topology is not None), default=timeline.duration)
        self.query_one("#diagram-a", DiagramPane).focus()
        # a caption of two lines takes a row from its side: share again
        for banner in self.query(CaptionBanner):
            self.watch(banner, "caption", self._share_later, init=False)
        self.on_resize()

    def _show_problems(self, session: Session, side: str) -> None:
        """A side whose file has errors says which, in its place and in a notice."""
        shown = self.query_one(f"#problems-{side}", Static)
        errors = session.loaded.errors
        shown.display = session.topology is None
        if session.topology is not None:
            return
        letter = side.upper()
        count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        shown.update(Content("\n").join([
            Content(f"{letter} does not run: the file has {count} (open it with ctrl+o "
                    "to fix them)"), *(Content(str(p)) for p in errors)]))
        self.notify(f"{session.path or session.name} has errors: {letter} does not run; "
                    f"{errors[0].message if errors else ''}", title=f"{letter} does not run",
                    severity="error", timeout=10)

    def on_resize(self) -> None:
        self.set_class(self.size.width >= WIDE, "-wide")
        self.set_class(self.size.height >= TALL, "-tall")
        # one above the other on a short screen, both captions wrapped onto two lines each
        # left the diagrams no room for a row of boxes: a caption keeps to one line there
        self.set_class(self.size.width < WIDE and self.size.height < TALL, "-cramped")
        self._line_up_ledgers()
        self.call_after_refresh(self._line_up_captions)

    def _line_up_captions(self) -> None:
        # side by side, a caption on one side only (or wrapped onto more lines) would put
        # the two diagrams out of line: both banners take the taller one's lines
        banners = list(self.query(CaptionBanner))
        lines = [self._caption_lines(b) for b in banners if b.caption is not None]
        tallest = max(lines, default=0) if self.has_class("-wide") else 0
        for banner in banners:
            banner.set_class(tallest > 0, "-room")
            banner.set_class(banner.caption is None, "-blank")
            banner.styles.height = tallest or None

    @staticmethod
    def _caption_lines(banner: CaptionBanner) -> int:
        parent = banner.parent
        width = max(1, (parent.content_region.width if isinstance(parent, Widget) else 0) - 2)
        return min(3, banner.get_content_height(Size(width, 3), Size(width, 3), width))

    @on(LedgerBar.Wrapped)
    def _line_up_ledgers(self) -> None:
        # side by side, a ledger wrapped onto more lines than the other would put the two
        # sides' figures (and the panes above them) out of line
        ledgers = list(self.query(LedgerBar))
        tallest = max(ledger.line_count for ledger in ledgers)
        for ledger in ledgers:
            ledger.styles.min_height = tallest if self.has_class("-wide") else None
        self._share_later()

    def _share_later(self) -> None:
        self.call_after_refresh(share_height, self)

    def show(self, frames: list[Frame | None], full: bool) -> None:
        for frame, side in zip(frames, SIDES, strict=True):
            if frame is None:
                continue
            diagram = self.query_one(f"#diagram-{side}", DiagramPane)
            diagram.speed = frame.clock.speed
            diagram.frame = frame
            banner = self.query_one(f"#caption-{side}", CaptionBanner)
            if banner.caption != frame.caption:
                banner.caption = frame.caption
                self.call_after_refresh(self._line_up_captions)
            if full:
                self.query_one(f"#metrics-{side}", MetricsTable).frame = frame
                self.query_one(f"#ledger-{side}", LedgerBar).frame = frame
        first = frames[0] or frames[1]
        if first is not None:
            self.query_one(StatusBar).frame = first
            self.query_one(TimelineBar).t = first.t
        if full:
            self.query_one(CompareSummary).frames = (frames[0], frames[1])

    def action_run_screen_only(self, what: str) -> None:
        self.notify(f"{what}: only on the run screen, not in compare mode",
                    severity="warning", timeout=3)

    def selected_node(self) -> str | None:
        return self._selected

    @on(DiagramPane.NodeSelected)
    def _node_selected(self, event: DiagramPane.NodeSelected) -> None:
        self._selected = event.node
        for side in SIDES:
            self.query_one(f"#diagram-{side}", DiagramPane).selected = event.node
            self.query_one(f"#metrics-{side}", MetricsTable).selected = event.node

    @on(DiagramPane.Passed)
    def _on_to_the_other_side(self, event: DiagramPane.Passed) -> None:
        """Arrows past the last node towards the other side go on in its diagram: down
        and up when the sides are one above the other, right and left side by side."""
        towards_b = (1, 0) if self.has_class("-wide") else (0, 1)
        way = (event.dx, event.dy)
        if event.pane.id == "diagram-a" and way == towards_b:
            there = "b"
        elif event.pane.id == "diagram-b" and way == (-towards_b[0], -towards_b[1]):
            there = "a"
        else:
            return
        pane = self.query_one(f"#diagram-{there}", DiagramPane)
        if pane.topology is None:  # its file has errors: no node to go to
            return
        pane.focus()
        pane.enter(event.dx, event.dy, event.across)

    def select(self, node: str) -> None:
        self._node_selected(DiagramPane.NodeSelected(node))
