"""What every screen over running engines shares: the frame loop and the live controls.

One timer pulls a snapshot (and the tap's sample) from each engine at :data:`FPS`, drains
the event feed, coalesces it all into a :class:`Frame` per engine and hands the frames to
:meth:`show`. Panes are never updated once per event.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from textual.screen import Screen

from playground.runner import EngineHost
from playground.ui import figures
from playground.ui.clocks import RunClock, faster, slower
from playground.ui.controls import Control
from playground.ui.frame import ClockView, Frame, FrameBuilder
from playground.ui.session import ControlError, Session
from playground.ui.widgets.diagram_pane import DiagramPane
from playground.ui.widgets.status_bar import StatusBar
from playground.ui.widgets.timeline_bar import merged, next_step

FPS = 30
SLOW_EVERY = 4  # tables, logs and the inspector are shown every fourth frame (7.5 Hz)
SAMPLE_TIMEOUT = 2.0


class RunningScreen(Screen[None]):
    """Base of the run and compare screens (see the module docstring)."""

    CONTROLS: tuple[Control, ...] = ()
    """The controls this screen offers (bindings, help and command palette)."""
    HELP_TITLE = "Run"
    """The heading of those controls on the help screen."""

    def __init__(self, sessions: list[Session], clock: RunClock, *, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.sessions = sessions
        self.clock = clock
        self.builders = [FrameBuilder() for _ in sessions]
        self.frames: list[Frame | None] = [None for _ in sessions]
        self._last_tick = time.monotonic()
        self._sampling = asyncio.Lock()
        self._asked: list[concurrent.futures.Future[Any] | None] = [None for _ in sessions]
        self._ready: list[Any] = [None for _ in sessions]
        self.frame_count = 0
        self.glides = 0
        """Frames that only moved the glyphs on (no new sample had come)."""
        self._last_glide = self._last_tick
        self._failed: set[EngineHost] = set()
        self._conflicted: set[EngineHost] = set()  # told: another process runs its nodes

    # --- lifecycle -------------------------------------------------------------------------

    def on_mount(self) -> None:
        # Textual calls this after the subclass's own on_mount (handlers of every class in
        # the MRO run, most derived first): subclasses must not call it again.
        for session in self.sessions:
            if session.host is None:
                self.guarded(session.start)
        self._bind_clock()
        self.set_interval(1 / FPS, self._tick, name="frame")

    def guarded(self, start: Callable[[], Any]) -> bool:
        """Starts (or restarts) an engine; a failure is said, not a crash of the app."""
        try:
            start()
        except Exception as error:  # the database cannot be opened, the engine refused...
            self.notify(f"{type(error).__name__}: {error}", title="The run did not start",
                        severity="error", timeout=10)
            return False
        return True

    def on_unmount(self) -> None:
        for session in self.sessions:
            session.stop()

    def _bind_clock(self) -> None:
        hosts: list[EngineHost] = [s.host for s in self.sessions if s.host is not None]
        self.clock.bind(hosts)

    # --- the frame loop ------------------------------------------------------------------

    def clock_view(self) -> ClockView:
        hosts = self.clock.hosts
        achieved = self.clock.achieved(time.monotonic())
        return ClockView(mode=hosts[0].mode if hosts else "virtual", speed=self.clock.speed,
                         paused=self.clock.paused, held_at=self.clock.held_at,
                         achieved=achieved)

    def _tick(self) -> None:
        """The frame timer: shows the newest samples and asks for the next ones.

        Samples are pipelined: the engines' threads answer while this thread draws, so a
        busy engine delays what a frame shows by one frame, never the frame itself.
        """
        now = time.monotonic()
        self.clock.tick(now - self._last_tick)
        self._last_tick = now
        for session in self.sessions:
            host = session.host
            if host is not None and host.error is not None and host not in self._failed:
                self._failed.add(host)
                self.notify(f"{type(host.error).__name__}: {host.error}",
                            title=f"The engine of {session.name} stopped", severity="error",
                            timeout=10)
                for bar in self.query(StatusBar):  # the notice goes; this stays
                    bar.stopped = f"{session.name}: {host.error}" if len(self.sessions) > 1 \
                        else str(host.error)
        if self._sampling.locked():
            return  # a step is being shown (refresh_frame): it has the newest state
        ready = self._ready
        self._ready = [None] * len(self.sessions)
        if any(sample is not None for sample in ready):
            self._build(ready, full=self.frame_count % SLOW_EVERY == 0)
        else:  # the engine has not answered yet: the glyphs move on as the clock does
            running = not self.clock.paused and self.clock.held_at is None
            for diagram in self.query(DiagramPane):
                diagram.glide(now - self._last_glide, running)
            self.glides += 1
        self._last_glide = now
        for index, session in enumerate(self.sessions):
            if self._asked[index] is None and session.host is not None:
                self._ask(index, session)

    def _ask(self, index: int, session: Session) -> None:
        future = session.sample()
        self._asked[index] = future
        loop = asyncio.get_running_loop()

        def arrived(done: concurrent.futures.Future[Any]) -> None:
            # runs in the engine's thread: hand over, never wait for this thread
            failed = done.cancelled() or done.exception() is not None
            with contextlib.suppress(RuntimeError):  # the app's loop has closed
                loop.call_soon_threadsafe(self._arrived, index, done,
                                          None if failed else done.result())

        future.add_done_callback(arrived)

    def _arrived(self, index: int, future: concurrent.futures.Future[Any],
                 sample: Any) -> None:
        if self._asked[index] is future:
            self._asked[index] = None
            if sample is not None:
                self._ready[index] = sample

    def _build(self, samples: list[Any], full: bool) -> None:
        view = self.clock_view()
        for index, (session, sample) in enumerate(zip(self.sessions, samples, strict=True)):
            if sample is None:
                continue
            snapshot, tap = sample
            frame = self.builders[index].build(snapshot, tap, session.drain(), view)
            self.frames[index] = frame
            self._hold_if_run_twice(session, frame)
        self.frame_count += 1
        self.show(self.frames, full)

    def _hold_if_run_twice(self, session: Session, frame: Frame) -> None:
        """Another process on the broker ran some of this run's nodes first: every message
        for them would be handled twice (rows written twice). Time holds, once, and the
        user decides (sim stops there)."""
        host = session.host
        twice = (frame.mqtt or {}).get("conflict_nodes")
        if not twice or host is None or host in self._conflicted:
            return
        self._conflicted.add(host)
        self.clock.set_paused(True)
        self.notify(f"another process on the broker runs {', '.join(twice)} already: this one "
                    "would handle their messages too, and write their rows twice. Give each "
                    "process --nodes of its own; space runs anyway",
                    title=f"{session.name}: paused", severity="error", timeout=30)

    async def refresh_frame(self, full: bool = True) -> None:
        """Samples every engine now and shows the result (also after a step).

        Every frame updates what moves (diagram, clock, timeline); ``full`` frames update
        the rest too. Nothing is lost in between: event lines wait for the next full frame.
        """
        async with self._sampling:
            samples = await asyncio.gather(
                *(self._sample(s) for s in self.sessions), return_exceptions=True)
            # samples the frame timer asked for earlier were taken before these: show them
            # first, as each holds events no other sample has
            earlier, self._ready = self._ready, [None] * len(self.sessions)
            if any(sample is not None for sample in earlier):
                self._build(earlier, full=False)
            self._build([None if isinstance(s, BaseException) else s for s in samples], full)

    async def _sample(self, session: Session) -> Any:
        if session.host is None:
            return None
        return await asyncio.wait_for(asyncio.wrap_future(session.sample()), SAMPLE_TIMEOUT)

    def show(self, frames: list[Frame | None], full: bool) -> None:
        """Pushes the frames down into the panes (the slower ones only when ``full``)."""
        raise NotImplementedError

    # --- what the controls act on ----------------------------------------------------------

    def selected_node(self) -> str | None:
        raise NotImplementedError

    def after_restart(self, reason: str) -> None:
        """The run started again (new engines): forget what belonged to the old ones."""
        for builder in self.builders:
            builder.reset()
        self._asked = [None for _ in self.sessions]
        self._ready = [None for _ in self.sessions]
        for bar in self.query(StatusBar):
            bar.stopped = ""
        self._bind_clock()
        self.notify(reason, title="Restarted")

    def _say(self, done: str) -> None:
        """Acknowledges a control (not in talk mode: the audience sees the effect)."""
        if not self.has_class("-talk"):
            self.notify(done, timeout=3)

    def _control(self, what: str, *sessions: Session) -> None:
        node = self.selected_node()
        targets = sessions or tuple(self.sessions)
        if node is None:
            node = self._default_node(what)
        if node is None:
            self.notify(f"select a node for {what} first (click it, or arrows in the diagram)",
                        severity="warning")
            return
        present = [s for s in targets if s.topology is not None and node in s.topology.nodes]
        try:
            if what == "consumer":
                said = self._toggle_consumers(present, node)
            else:
                said = [self._apply(what, session, node) for session in present]
        except ControlError as error:
            self.notify(str(error), severity="warning")
            return
        if said:
            self._say(said[0] + (" (both sides)" if len(said) > 1 else ""))

    def _default_node(self, what: str) -> str | None:
        """The node a control means when none is selected: the one that fits, on any side."""
        found: list[str] = []
        for topology in (s.topology for s in self.sessions):
            if topology is None:
                continue
            if what == "burst":
                found += [i for i, n in topology.nodes.items() if n.kind == "producer"][:1]
            elif what == "redrive":
                found += [i for i in topology.nodes if topology.dlq_sources(i)]
        if what == "burst":
            return found[0] if found else None
        return found[0] if len(set(found)) == 1 else None

    def _apply(self, what: str, session: Session, node: str) -> str:
        if what == "burst":
            return session.burst(node)
        if what == "outage":
            return session.outage(node)
        if what == "degrade":
            return session.degrade(node)
        if what == "redrive":
            return session.redrive(node)
        raise ControlError(f"unknown control {what}")

    def _toggle_consumers(self, sessions: list[Session], node: str) -> list[str]:
        """Pauses the consumer ``node`` means on every side, or resumes it where every side
        has it paused: the sides never end up one paused, one running."""
        functions = [(s, s.consumer_of(node)) for s in sessions]  # refused before any acts
        paused = all(self._paused(s, function) for s, function in functions)
        return [s.set_consumer_paused(node, not paused) for s, _ in functions]

    def _paused(self, session: Session, function: str) -> bool:
        frame = self.frames[self.sessions.index(session)]
        return bool(frame and frame.node(function).get("gauges", {}).get("paused"))

    # --- actions -------------------------------------------------------------------------

    def _acknowledge(self) -> None:
        """Shows a change of the clock at once, on the last frame (no wait for a sample)."""
        view = self.clock_view()
        self.frames = [None if f is None else replace(f, clock=view, lines=[])
                       for f in self.frames]
        self.show(self.frames, False)

    def action_toggle_pause(self) -> None:
        self.clock.toggle_pause()
        self._acknowledge()
        self._say("paused" if self.clock.paused else f"running at {self.clock.speed:g}x")

    def action_faster(self) -> None:
        self.clock.set_speed(faster(self.clock.speed))
        self._acknowledge()
        self._say(f"speed {self.clock.speed:g}x")

    def action_slower(self) -> None:
        self.clock.set_speed(slower(self.clock.speed))
        self._acknowledge()
        self._say(f"speed {self.clock.speed:g}x")

    def action_burst(self) -> None:
        self._control("burst")

    def action_outage(self) -> None:
        self._control("outage")

    def action_degrade(self) -> None:
        self._control("degrade")

    def action_toggle_consumer(self) -> None:
        self._control("consumer")

    def action_redrive(self) -> None:
        self._control("redrive")

    def scenario_steps(self) -> tuple[Any, ...]:
        """The steps ``n`` runs to, in time order: with two sides, both sides' (the linked
        clocks hold them at one instant, so a step of either fires there)."""
        topologies = [s.topology for s in self.sessions]
        if len(topologies) == 1:
            only = topologies[0]
            return tuple(sorted(only.scenario, key=lambda s: s.at)) if only else ()
        return merged({chr(ord("A") + i): tuple(t.scenario)
                       for i, t in enumerate(topologies) if t is not None})

    async def action_next_step(self) -> None:
        if all(s.topology is None for s in self.sessions):
            self.notify("no scenario: the file has errors", severity="warning")
            return
        coming = next_step(self.scenario_steps(), self.clock.now)
        if coming is None:
            self.notify("no further scenario step", severity="warning")
            return
        await self._step_to(coming.at)

    async def action_step_second(self) -> None:
        await self._step_to(self.clock.now + 1.0)

    async def _step_to(self, t: float) -> None:
        if self.clock.paused and self.clock.held_at is None and all(
                h.mode == "virtual" for h in self.clock.hosts):
            await self.clock.advance_to(t)  # stepping a held virtual run: wait until there
        else:
            self.clock.hold_at(t)
        await self.refresh_frame()
        self._say(f"held at {figures.sim_clock(t).strip()}")

    def action_restart(self) -> None:
        if all([self.guarded(session.restart) for session in self.sessions]):
            self.after_restart("the run restarted from t = 0")
        else:
            self._bind_clock()
