"""Putting a run together: engine + recorder, headless (``simulate``) or for the app
(:class:`EngineHost`, which runs the engine in a thread of its own on a simulated clock).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import math
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playground.engine import events as ev
from playground.engine.bus import BoundedFeed
from playground.engine.clock import ClockMode, SimLoop
from playground.engine.report import build_report
from playground.engine.runtime import Engine
from playground.spec import model as m
from playground.store.recorder import Recorder, default_path

if TYPE_CHECKING:
    from playground.mqtt.link import MqttLink
    from playground.mqtt.options import MqttOptions

log = logging.getLogger("playground")
ROWS_EVERY = 1.0  # wall seconds between flushes of a live run's rows to its file


def store_ids(topology: m.Topology) -> list[str]:
    return [i for i, n in topology.nodes.items() if isinstance(n, m.StoreSpec)]


async def simulate(topology: m.Topology, *, duration: float | None = None,
                   drain: float | None = None, seed: int | None = None,
                   db: str | Path | None = None,
                   on_engine: Callable[[Engine], None] | None = None,
                   mqtt: MqttOptions | None = None) -> dict[str, Any]:
    """Runs ``topology`` in the current loop (a :class:`SimLoop`) and returns the report.
    With ``mqtt`` (a real clock), the run is linked to an MQTT broker (see playground.mqtt)
    and the report says how that went under ``"mqtt"``."""
    link = await _mqtt_link(topology, mqtt)
    try:
        if link is not None and link.conflict is not None:
            from playground.mqtt.options import ClaimConflict

            raise ClaimConflict(link.conflict)  # before anything ran or was written
        engine = Engine(topology, seed=seed, **_engine_options(link))
        if link is not None:
            link.attach(engine)
        path = Path(db) if db is not None else default_path(topology.name, engine.seed)
        with _setting_up(asyncio.get_running_loop()):
            recorder = _record(engine, await Recorder(path, store_ids(topology)).open())
        if on_engine is not None:
            on_engine(engine)
        run = asyncio.ensure_future(engine.run(duration, drain))
        # the file cannot take the rows: the run ends now, rather than with rows missing
        recorder.on_failure = lambda _failure: run.cancel()
        if link is not None:  # a conflict found later (the broker answered late) ends it
            loop = asyncio.get_running_loop()
            link.on_conflict = lambda: loop.call_soon_threadsafe(run.cancel)
        try:
            report = await run
        except asyncio.CancelledError:
            # whoever cancelled (a failure, a conflict, Ctrl+C in sim): no task is left, and
            # the rows buffered so far still go to the file (below)
            run.cancel()
            await engine.stop()
            if recorder.failure is not None and run.cancelled():
                raise recorder.failure from None
            if link is None or link.conflict is None or not run.cancelled():
                raise
            from playground.mqtt.options import ClaimConflict

            raise ClaimConflict(link.conflict) from None
        finally:
            await recorder.close()
    finally:
        if link is not None:
            link.on_conflict = None
            link.close(linger=0.0 if link.conflict is not None else 3.0)
    report["db"] = str(path)
    if link is not None:
        report["mqtt"] = link.status()
    return report


def _record(engine: Engine, recorder: Recorder) -> Recorder:
    """The recorder keeps the rows of the run: it hears of every write, and a store that
    turns idempotent asks it what was written before."""
    engine.bus.subscribe(recorder, [ev.MessageWritten])
    engine.written_rows = recorder.written
    return recorder


async def _mqtt_link(topology: m.Topology, options: MqttOptions | None) -> MqttLink | None:
    """A started link to MQTT (None without options); says so when the broker is not there
    yet (the link keeps trying in the background). Awaited, not waited for: the loop stays
    free, so that a run cancelled meanwhile (Ctrl+C) ends at once."""
    if options is None:
        if not any(isinstance(n, m.ProducerSpec) and n.source for n in topology.nodes.values()):
            return None
        from playground.mqtt.options import MqttOptions

        options = MqttOptions()  # only the producers' sources
    from playground.mqtt.link import MqttLink

    link = MqttLink(options, topology)
    try:
        with _setting_up(asyncio.get_running_loop()):
            answered = await asyncio.wrap_future(link.start())
        if not answered:
            for line in link.not_ready():
                log.warning("MQTT: %s", line)
    except BaseException:
        link.close(linger=0.0)
        raise
    return link


def _engine_options(link: MqttLink | None) -> dict[str, Any]:
    if link is None or link.transport is None:
        return {}
    return {"broker": link.transport, "only": link.local if link.partial else None}


def serve_mqtt(options: MqttOptions | None) -> None:
    """Every :class:`EngineHost` started from now on in this process links to MQTT with
    ``options`` (``run --mqtt``: the app makes its hosts itself)."""
    global _MQTT
    _MQTT = options


_MQTT: MqttOptions | None = None


def run_simulation(topology: m.Topology, *, clock: ClockMode = "virtual", speed: float = 1.0,
                   **options: Any) -> dict[str, Any]:
    """``simulate`` on a fresh :class:`SimLoop` (what ``sim`` does)."""
    loop = SimLoop(clock, speed)
    try:
        return loop.run_until_complete(simulate(topology, **options))
    finally:
        loop.close()


@contextlib.contextmanager
def _setting_up(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """Simulated time stands still while a run is set up: on the real clock it would run on
    while the database opens, and the producers would start that late (at 100x, 20 ms of
    setup cost the first 2 s of traffic)."""
    if not isinstance(loop, SimLoop):
        yield
        return
    loop.hold()
    try:
        yield
    finally:
        loop.release()


class EngineHost:
    """An engine running in a thread of its own, for an app in another loop.

    Every method is safe to call from any thread. ``feed`` holds the newest events for the
    UI; :meth:`snapshot` samples the whole state at once inside the engine's thread.
    """

    def __init__(self, topology: m.Topology, *, mode: ClockMode = "real", speed: float = 1.0,
                 seed: int | None = None, db: str | Path | None = None,
                 stop_at: float | None = None, feed_size: int = 20_000,
                 mqtt: MqttOptions | None = None) -> None:
        self.topology = topology
        self.mode = mode
        self.speed = speed
        self.seed = topology.seed if seed is None else seed
        self.db_path = Path(db) if db is not None else default_path(topology.name, self.seed)
        self.stop_at = stop_at
        self.feed = BoundedFeed(feed_size)
        self.mqtt = mqtt if mqtt is not None else _MQTT
        self.link: MqttLink | None = None
        self.loop: SimLoop | None = None
        self.engine: Engine | None = None
        self.recorder: Recorder | None = None
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._done: asyncio.Future[None] | None = None
        self._flushing: threading.Event | None = None  # set: rows are no longer flushed

    # --- lifecycle -----------------------------------------------------------------------

    def start(self, limit: float = math.inf) -> EngineHost:
        """Starts the thread; returns once the engine runs (held at ``limit`` if given)."""
        self._thread = threading.Thread(target=self._main, args=(limit,), name="engine",
                                        daemon=True)
        self._thread.start()
        self._ready.wait()
        if self.error is not None:
            raise self.error
        return self

    def _main(self, limit: float) -> None:
        loop = self.loop = SimLoop(self.mode, self.speed)
        loop.set_limit(limit)
        try:
            loop.run_until_complete(self._run())
        except BaseException as error:  # surfaced to the app by start()/stop()
            self.error = error
            self._ready.set()
        finally:
            loop.close()

    async def _run(self) -> None:
        assert self.loop is not None
        self._done = self.loop.create_future()
        try:
            link = self.link = await _mqtt_link(self.topology, self.mqtt)
            engine = self.engine = Engine(self.topology, seed=self.seed,
                                          **_engine_options(link))
            if link is not None:
                link.attach(engine)
            with _setting_up(self.loop):
                recorder = await Recorder(self.db_path, store_ids(self.topology)).open()
            self.recorder = _record(engine, recorder)
            # the app hears of it as of any engine that stopped: through `error`
            recorder.on_failure = lambda failure: _settle(self._done, failure)
            engine.bus.subscribe(self.feed)
            engine.start(stop_at=self.stop_at)
            self._flushing = _every(ROWS_EVERY, self.loop, recorder.flush_soon)
        except BaseException as error:
            self.error = error  # before start() is woken, so that it raises it
            if self.link is not None:
                self.link.close(linger=0.0)
            raise
        finally:
            self._ready.set()
        try:
            await self._done
        finally:
            if self._flushing is not None:
                self._flushing.set()
            await engine.stop()
            try:
                await self.recorder.close()
            finally:
                if link is not None:
                    link.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stops the engine (no task left), closes the database, ends the thread."""
        loop, done = self.loop, self._done
        if loop is not None and done is not None and not loop.is_closed():
            loop.set_limit(math.inf)
            loop.resume()
            loop.call_soon_threadsafe(_settle, done)
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # --- calls into the engine's thread ------------------------------------------------------

    def call(self, function: Callable[..., Any], *args: Any) -> concurrent.futures.Future[Any]:
        """Runs ``function(*args)`` in the engine's thread; the future holds its result."""
        result: concurrent.futures.Future[Any] = concurrent.futures.Future()
        loop = self.loop
        if loop is None or loop.is_closed():
            result.set_exception(RuntimeError("the engine is not running"))
            return result

        def run() -> None:
            try:
                result.set_result(function(*args))
            except Exception as error:
                result.set_exception(error)

        loop.call_soon_threadsafe(run)
        return result

    def snapshot(self, timeout: float = 5.0) -> dict[str, Any]:
        assert self.engine is not None
        return self.call(self.engine.snapshot).result(timeout)

    async def snapshot_async(self) -> dict[str, Any]:
        assert self.engine is not None
        return await asyncio.wrap_future(self.call(self.engine.snapshot))

    def perform(self, step: Any) -> concurrent.futures.Future[Any]:
        """A scenario action now (the app's live controls)."""
        assert self.engine is not None
        return self.call(self.engine.scenario.perform, step)

    def report(self, timeout: float = 30.0) -> dict[str, Any]:
        assert self.engine is not None
        engine = self.engine

        def build() -> dict[str, Any]:
            engine.sim_seconds = engine.loop.time()
            report = build_report(engine)
            report["db"] = str(self.db_path)
            return report

        return self.call(build).result(timeout)

    # --- the clock -----------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.loop.time() if self.loop is not None else 0.0

    @property
    def current(self) -> float:
        """Simulated time as the wall clock sees it (see :attr:`SimLoop.current`)."""
        return self.loop.current if self.loop is not None else 0.0

    def pause(self) -> None:
        if self.loop is not None:
            self.loop.pause()

    def resume(self) -> None:
        if self.loop is not None:
            self.loop.resume()

    def set_speed(self, speed: float) -> None:
        self.speed = speed
        if self.loop is not None:
            self.loop.set_speed(speed)

    def advance_to(self, t: float, timeout: float = 60.0) -> None:
        """Lets simulated time run up to ``t`` and returns when it is held there."""
        loop = self.loop
        assert loop is not None
        loop.set_limit(t)
        if not loop.idle_at_limit.wait(timeout):
            raise TimeoutError(f"the engine did not reach t={t} within {timeout}s")

    def release(self) -> None:
        """Lets time run freely again after :meth:`advance_to`."""
        if self.loop is not None:
            self.loop.set_limit(math.inf)


def _every(seconds: float, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]
           ) -> threading.Event:
    """Calls ``callback`` in ``loop``'s thread every ``seconds`` of wall time until the event
    returned is set. Wall time, not the loop's: at 0.01x a simulated second is 100 s."""
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(seconds):
            try:
                loop.call_soon_threadsafe(callback)
            except RuntimeError:  # the loop closed meanwhile
                return

    threading.Thread(target=tick, name="every", daemon=True).start()
    return stop


def _settle(future: asyncio.Future[None] | None, error: BaseException | None = None) -> None:
    if future is not None and not future.done():
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
