"""One topology being run: its file, its engine host and the UI's tap on it.

The live controls (burst, outage, degrade, pause a consumer, redrive), saving an edited file
with hot reload, and editing one field are here, as plain methods the screens call. No
Textual in this module.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from playground.engine.clock import ClockMode
from playground.runner import EngineHost
from playground.spec import Loaded, load_text
from playground.spec import model as m
from playground.spec.problem import Problem, sort_key
from playground.ui import topology_file, yaml_edit
from playground.ui.reload_plan import ReloadPlan, plan
from playground.ui.tap import Tap, TapSample, sample_engine

BURST_FACTOR, BURST_SECONDS = 5.0, 10.0
OUTAGE_SECONDS = 15.0
DEGRADE_ERRORS, DEGRADE_SLOW, DEGRADE_SECONDS = 0.3, 5.0, 15.0
REDRIVE_RATE = 20.0
CONTROL_TIMEOUT = 10.0
SEE_OTHER = "(ctrl+o) to see the other change"
SAVE_AGAIN = f"Press ctrl+s again to overwrite it, or open it again {SEE_OTHER}"


class ControlError(ValueError):
    """A control that does not apply to this node (said to the user as is)."""


@dataclass
class SaveOutcome:
    saved: bool
    problems: list[Problem] = field(default_factory=list)
    applied: Literal["live", "restarted", "nothing", "not saved"] = "not saved"
    message: str = ""


class Session:
    def __init__(self, path: Path | None, *, text: str | None = None,
                 mode: ClockMode = "real", speed: float = 1.0, seed: int | None = None,
                 db: str | Path | None = None) -> None:
        self.path = path
        self.mode: ClockMode = mode
        self.speed = speed
        self.seed = seed
        self.db = Path(db) if db is not None else None
        self._digest: str | None = None
        """What the file held when last read or saved: a save notices another program's change."""
        self._overruled: str | None = None
        """A change on disk the user was told of: the next save may overwrite it."""
        self._newline = "\n"
        """The file's line ending, kept when it is saved."""
        if text is None and path is not None:
            text, self._digest, self._newline = topology_file.read(path)
        elif path is not None:
            with contextlib.suppress(topology_file.FileRefused):
                self._digest = topology_file.digest(path)
        self.text: str = text or ""
        """The file's text as last read or saved."""
        self.loaded: Loaded = load_text(self.text, str(path or "<new>"))
        self.topology: m.Topology | None = self.loaded.topology if self.loaded.ok else None
        self.host: EngineHost | None = None
        self.tap = Tap()
        self.runs = 0
        self._db_names = itertools.count(1)
        self._pending: set[concurrent.futures.Future[Any]] = set()
        self._bursts: dict[str, float] = {}
        """When the app's own burst of a producer ends (simulated time), repeats included."""

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def name(self) -> str:
        if self.topology is not None:
            return self.topology.name
        return self.path.stem if self.path is not None else "untitled"

    def _db_path(self) -> Path | None:
        if self.db is None:
            return None
        number = next(self._db_names)
        return self.db if number == 1 else self.db.with_name(
            f"{self.db.stem}-{number}{self.db.suffix}")

    def start(self) -> EngineHost | None:
        """Starts the engine held at t=0 (the clock lets it go); None if the file is invalid."""
        if self.topology is None:
            return None
        # the file's duration is a headless run's length: here the run goes on, producers
        # included, until it is stopped or restarted (a demo outlasts a minute)
        host = EngineHost(self.topology, mode=self.mode, speed=self.speed, seed=self.seed,
                          db=self._db_path(), stop_at=math.inf)
        host.start(limit=0.0)
        self.tap = Tap()
        self._bursts = {}
        host.call(self._attach, host, self.tap).result(10)
        if self.mode == "real":
            host.release()
        self.host = host
        self.runs += 1
        return host

    @staticmethod
    def _attach(host: EngineHost, tap: Tap) -> None:
        assert host.engine is not None
        tap.attach(host.engine.bus)

    def stop(self) -> None:
        host, self.host = self.host, None
        if host is not None:
            host.stop()
        # the engine's thread has ended: samples it never took will never come
        for future in list(self._pending):
            if not future.done():
                future.set_exception(RuntimeError("the engine stopped"))
        self._pending.clear()

    def restart(self, topology: m.Topology | None = None) -> EngineHost | None:
        if topology is not None:
            self.topology = topology
        self.stop()
        return self.start()

    # --- what the frame reads ------------------------------------------------------------

    def sample(self) -> concurrent.futures.Future[tuple[dict[str, Any], TapSample]]:
        host = self.host
        if host is None or host.engine is None:
            future: concurrent.futures.Future[Any] = concurrent.futures.Future()
            future.set_exception(RuntimeError("no engine"))
            return future
        future = host.call(sample_engine, host.engine, self.tap)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    def drain(self) -> list[Any]:
        return self.host.feed.drain() if self.host is not None else []

    # --- live controls -------------------------------------------------------------------

    def kind(self, node: str) -> str:
        if self.topology is None or node not in self.topology.nodes:
            raise ControlError(f"no node {node!r}")
        return self.topology.nodes[node].kind

    def _perform(self, data: dict[str, Any]) -> None:
        if self.host is None:
            raise ControlError("the engine is not running")
        step = _step_adapter().validate_python({"at": 0, **data})
        failure = self._wait(self.host.perform(step))
        if failure is not None:
            raise ControlError(f"the engine refused: {failure}")

    @staticmethod
    def _wait(future: concurrent.futures.Future[Any]) -> Any:
        """The engine's answer to a control; its refusal is the user's warning."""
        try:
            return future.result(CONTROL_TIMEOUT)
        except concurrent.futures.TimeoutError as error:
            raise ControlError("the engine did not answer") from error
        except Exception as error:
            raise ControlError(f"the engine refused: {error}") from error

    def burst(self, node: str, factor: float = BURST_FACTOR, seconds: float = BURST_SECONDS
              ) -> str:
        """The app's burst; pressed again while it lasts, it lasts ``seconds`` from now
        (still ``factor``, never multiplied again; a scripted burst still adds its own)."""
        if self.kind(node) != "producer":
            raise ControlError(f"burst needs a producer; {node} is a {self.kind(node)}")
        host = self.host
        if host is None or host.engine is None:
            raise ControlError("the engine is not running")
        ends = self._bursts.get(node)
        adapter = _step_adapter()

        def step(length: float) -> Any:
            return adapter.validate_python({"at": 0, "action": "burst", "node": node,
                                            "factor": factor, "for": length})

        def start(engine: Any) -> float:  # in the engine's thread: its clock is exact
            now = engine.loop.time()
            if ends is None or now >= ends:
                failure = engine.scenario.perform(step(seconds))
                if failure is not None:
                    raise RuntimeError(failure)
            elif now + seconds > ends:  # the running burst goes on from its end
                engine.clock.at(ends, engine.scenario.perform, step(now + seconds - ends))
            return float(now)

        now = self._wait(host.call(start, host.engine))
        repeat = ends is not None and now < ends
        self._bursts[node] = now + seconds
        if repeat:
            return (f"burst {node} x{factor:g} again: {seconds:g}s from now "
                    f"(until {now + seconds:g}s)")
        return f"burst {node} x{factor:g} for {seconds:g}s"

    def outage(self, node: str, seconds: float = OUTAGE_SECONDS) -> str:
        self.kind(node)
        self._perform({"action": "outage", "node": node, "for": seconds})
        return f"outage of {node} for {seconds:g}s"

    def degrade(self, node: str, errors: float = DEGRADE_ERRORS, slow: float = DEGRADE_SLOW,
                seconds: float = DEGRADE_SECONDS) -> str:
        self.kind(node)
        self._perform({"action": "degrade", "node": node, "errors": errors, "slow": slow,
                       "for": seconds})
        return f"degrade {node}: {errors:.0%} errors, {slow:g}x slower for {seconds:g}s"

    def consumer_of(self, node: str) -> str:
        """The function a pause/resume control means when ``node`` is selected."""
        assert self.topology is not None
        if self.kind(node) == "function":
            return node
        consumers = self.topology.consumers_of(node)
        if len(consumers) == 1:
            return consumers[0]
        if len(consumers) > 1:
            raise ControlError(f"{node} has {len(consumers)} consumers "
                               f"({', '.join(consumers)}): select the one to pause or resume")
        kind = self.kind(node)
        if kind == "queue":
            raise ControlError(f"pause/resume needs a consumer; no function consumes {node}")
        raise ControlError(f"pause/resume needs a function or a queue with a consumer; "
                           f"{node} is a {kind}")

    def set_consumer_paused(self, node: str, paused: bool) -> str:
        function = self.consumer_of(node)
        self._perform({"action": "pause" if paused else "resume", "node": function})
        return f"{'paused' if paused else 'resumed'} {function}"

    def redrive(self, node: str, rate: float = REDRIVE_RATE) -> str:
        """Redrives the DLQ ``node`` into the queue it serves, or the DLQ of the queue
        ``node`` into ``node`` itself."""
        topology = self._live_topology()
        dlq, sources = node, topology.dlq_sources(node)
        if sources:
            if len(sources) > 1:
                raise ControlError(f"{node} is the DLQ of {_and(sources)}: select the queue "
                                   "to redrive into and press x")
            target = sources[0]
        else:
            queue = topology.nodes.get(node)
            if isinstance(queue, m.QueueSpec) and queue.dlq is not None:
                dlq, target = queue.dlq.queue, node  # the queue's own DLQ was meant
            else:
                raise ControlError(f"redrive needs a DLQ; {node} is not one")
        if self._visible(dlq) == 0:  # the redrive would end at once, having moved nothing
            raise ControlError(f"{dlq} holds no message to redrive yet")
        self._perform({"action": "redrive", "from": dlq, "to": target, "rate": rate})
        return f"redrive {dlq} into {target} at {rate:g}/s"

    def _visible(self, queue: str) -> int | None:
        """Messages ``queue`` could hand over now; None where another process runs it."""
        host = self.host
        if host is None or host.engine is None:
            return None
        nodes = host.engine.nodes
        return self._wait(host.call(lambda: getattr(nodes.get(queue), "n_visible", None)))

    def _live_topology(self) -> m.Topology:
        """The topology as the run has it now: a scenario's `set` may have given a queue a
        dlq the file does not name."""
        assert self.topology is not None
        host = self.host
        if host is None or host.engine is None:
            return self.topology
        return self._wait(host.call(host.engine.current_topology))

    # --- editing ----------------------------------------------------------------------------

    def check(self, text: str) -> Loaded:
        return load_text(text, str(self.path or "<new>"))

    def save(self, text: str, again: str = SAVE_AGAIN) -> SaveOutcome:
        """Saves ``text`` if it is valid, then applies it: live if it can, else a restart.
        ``again``: how the user saves once more where this save is asked (the YAML pane, or
        the unsaved-edits dialog, whose keys differ)."""
        loaded = self.check(text)
        if not loaded.ok or loaded.topology is None:
            return SaveOutcome(False, loaded.problems, "not saved",
                               f"not saved: {self._first_error(loaded)}")
        return self._commit(text, loaded, kept="your edit stays in the editor",
                            again=again)

    def _first_error(self, loaded: Loaded) -> str:
        """The first error as the editor lists it, and how many more there are."""
        errors = sorted(loaded.errors, key=sort_key)
        if not errors:
            return "the file is not valid"
        first = errors[0]
        name = self.path.name if self.path is not None else "the file"
        said = f"{name}:{first.line}:{first.column}: {first.message}"
        if first.path:
            said += f" ({first.path})"
        more = len(errors) - 1
        if more:
            said += f"; and {more} more problem{'s' if more > 1 else ''} (listed under the editor)"
        return said

    def _commit(self, text: str, loaded: Loaded, *, kept: str, again: str) -> SaveOutcome:
        """Writes the checked ``text`` to the file and applies it; ``kept`` and ``again``
        tell the user, when the file is not written, where the edit is and how to insist."""
        assert loaded.topology is not None
        if self.path is not None:
            try:
                self._write(self.path, text)
            except topology_file.ChangedOnDisk as error:
                return SaveOutcome(False, loaded.problems, "not saved",
                                   f"{error}: not saved; {kept}. {again}")
            except topology_file.FileRefused as error:
                return SaveOutcome(False, loaded.problems, "not saved",
                                   f"{error}: not saved; {kept}")
        self.text, self.loaded = text, loaded
        return self.apply(loaded.topology, loaded.problems)

    def _write(self, path: Path, text: str) -> None:
        """Writes the file unless another program changed it since the app read or wrote
        it; once the user has been told of that change, a second save overwrites it."""
        now = topology_file.digest(path)
        # a file that is gone holds nothing another program could lose
        if now is not None and now != self._digest and now != self._overruled:
            self._overruled = now
            raise topology_file.ChangedOnDisk(
                f"{path} changed on disk since it was opened or last saved")
        self._digest = topology_file.write_text(path, text, self._newline)
        self._overruled = None

    def apply(self, new: m.Topology, problems: list[Problem] | None = None) -> SaveOutcome:
        old = self.topology
        problems = problems or []
        if old is None or self.host is None:
            self.topology = new
            self.restart()
            return SaveOutcome(True, problems, "restarted", "saved; the run started")
        reload = plan(old, new)
        if reload.live:
            failed = self._apply_live(reload)
            if failed is None:
                self.topology = new
                if not reload.changes:
                    return SaveOutcome(True, problems, "nothing", "saved; " + reload.summary())
                return SaveOutcome(True, problems, "live", "saved; " + reload.summary())
            reload = ReloadPlan(False, reason=failed)
        self.restart(new)
        return SaveOutcome(True, problems, "restarted",
                           f"saved; the run restarted because {reload.reason}")

    def _apply_live(self, reload: ReloadPlan) -> str | None:
        """Applies the changes; a refusal comes back as the reason to restart instead."""
        host = self.host
        assert host is not None and host.engine is not None
        for node, fields in reload.changes.items():
            try:
                host.call(host.engine.set_fields, node, fields).result(10)
            except ValidationError as error:
                detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                   for e in error.errors())
                return f"{node} could not change live ({detail})"
            except (ValueError, KeyError) as error:
                return f"{node} could not change live ({error})"
        return None

    def _what_fits(self, node: str, name: str, raw: str) -> str:
        """What the checks say of ``raw`` taken as text for the field: what is valid there
        (empty when text would be accepted)."""
        try:
            loaded = self.check(yaml_edit.set_node_field(self.text, node, name, _quoted(raw)))
        except yaml_edit.EditError:
            return ""
        path = f"nodes.{node}.{name}"
        said = next((p.message for p in loaded.errors if p.path.startswith(path)), None)
        return f"; {said}" if said else ""

    def edit_field(self, node: str, name: str, raw: str) -> SaveOutcome:
        """Sets one field of ``node`` from the YAML value ``raw``: live now, and in the file."""
        try:
            text = yaml_edit.set_node_field(self.text, node, name, raw)
        except yaml_edit.ValueUnparsable as error:
            return SaveOutcome(False, [], "not saved", f"{node}.{name}: {raw} does not parse: "
                               f"{error}{self._what_fits(node, name, raw)}")
        except yaml_edit.EditError as error:
            return SaveOutcome(False, [], "not saved", str(error))
        loaded = self.check(text)
        if not loaded.ok or loaded.topology is None:
            first = loaded.errors[0].message if loaded.errors else "invalid"
            return SaveOutcome(False, loaded.problems, "not saved", f"{node}.{name}: {first}")
        return self._commit(text, loaded, kept=f"{node}.{name} keeps its value",
                            again="Enter the value again to overwrite the file, or open "
                                  f"it again {SEE_OTHER}")


def _quoted(raw: str) -> str:
    return "'" + raw.replace("'", "''") + "'"


def _and(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def _step_adapter() -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(m.ScenarioStep)
