"""The engine's clock: an event loop whose time is simulated.

Node code only ever sleeps through this loop's timers, so the same code runs on two clocks:

- ``virtual``: whenever the loop has nothing ready to run, simulated time jumps straight to
  the next timer. A long scenario finishes in seconds, and the same seed gives the same run.
- ``real``: the same loop, but time may not run ahead of the wall clock times ``speed``. When
  the machine cannot keep up, simulated time falls behind instead of events being squeezed,
  and :attr:`SimLoop.achieved_speed` says how fast it really went.

Simulated time only moves while the loop is idle, so all work due at one instant is done at
that instant whatever the load. The loop is the engine's own: the app runs it in a thread of
its own, so the app's loop keeps its sense of time. ``limit`` holds time at a given instant
(stepping a timeline, or letting a test or the UI run "up to t").
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import heapq
import itertools
import math
import selectors
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

ClockMode = Literal["virtual", "real"]
MIN_SPEED, MAX_SPEED = 0.01, 10_000.0
# Behind schedule by more than this (wall seconds), we stop trying to catch up: simulated
# time slows down instead of racing to make up for the past.
MAX_LAG = 0.25
IDLE_POLL = 0.1
POLL_EVERY = 2.0  # GIL switch intervals between two polls on the virtual clock
_PRUNE_FROM = 100  # timers: more than this many, half of them cancelled, get pruned
_MAX_SELECT = 24 * 3600.0
# Timers are set on a grid of one microsecond: two ways of computing the same instant
# (t0 + k / rate, or now + delay) then land on the same float, and time does not drift by
# rounding errors summed over millions of steps.
GRID = 6
_RANK = 1 << 60  # a timer's rank times this, added to its number (see call_ranked_at)
TICK = 10.0**-GRID  # the shortest time between two instants


_SCALE = 10.0**GRID
_floor = math.floor


def on_grid(when: float) -> float:
    """``round(when, GRID)``, the very same float, mostly without round's decimal conversion
    (260 ns, four times a message).

    round gives the float nearest to n / 10**GRID, n the integer nearest to the exact
    when x 10**GRID; so does the division below (IEEE division rounds correctly, and n and
    the scale are exact floats). Where the product's own rounding (|error| <= scaled x 2**-53)
    could put it on the other side of a half, round decides. Times from 0 down
    (zero keeps its sign) or from 1e9 s on (n beyond exact floats) go to round too."""
    if 0.0 < when < 1e9:
        scaled = when * _SCALE
        whole = _floor(scaled)
        above_half = scaled - whole - 0.5  # exact: both below 2**53, a multiple of ulp(scaled)
        margin = scaled * 1e-15
        if above_half > margin:
            return (whole + 1) / _SCALE
        if above_half < -margin:
            return whole / _SCALE
    return round(when, GRID)


class _Selector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """The real selector, asked for I/O with the timeout the simulated clock allows."""

    def __init__(self) -> None:
        super().__init__()
        self.sim_select: Callable[[Callable[..., Any], float | None], Any] | None = None
        self._select = super().select  # bound once: asked at every turn of the loop

    def select(self, timeout: float | None = None) -> Any:
        sim_select = self.sim_select
        if sim_select is None:
            return self._select(timeout)
        return sim_select(self._select, timeout)


class SimLoop(asyncio.SelectorEventLoop):
    """An asyncio loop with simulated time; see the module docstring."""

    def __init__(self, mode: ClockMode = "virtual", speed: float = 1.0) -> None:
        selector = _Selector()
        super().__init__(selector)
        selector.sim_select = self._sim_select
        # simulated time, read as a plain attribute by the engine's nodes (some twenty times
        # a message: time() is a Python method, a frame each); time() stays for asyncio
        # and for everyone else
        self.now = 0.0
        self._mode: ClockMode = mode
        self._speed = _clamp(speed)
        self._paused = False
        self._limit = math.inf
        self._holds = 0
        self._anchor_wall = time.monotonic()
        self._anchor_sim = 0.0
        self._sample_wall = self._anchor_wall
        self._sample_sim = 0.0
        self._achieved = 0.0
        self.idle_at_limit = threading.Event()
        self.wall_started = self._anchor_wall  # the instant simulated time 0 stands for
        # timers closer than this to `now` are due; well below the grid, above float noise
        self._clock_resolution = 1e-8
        self._last_poll = 0.0
        # called when the work due at this instant is done, before time moves on: what it
        # schedules (call_soon) still runs at this instant (a drain ends the very moment
        # the last work does)
        self.before_advance: Callable[[], None] | None = None
        # on the real clock, while the loop waits for its next timer: the instant it waits
        # for (time runs on up to it, with nothing to do meanwhile), else None
        self._waiting_for: float | None = None
        # a future is made four times a message: asyncio's create_future is a Python method
        # around the very same call, here made in C (a future asks the loop for its debug
        # mode itself, so debug mode still gets its tracebacks)
        self.create_future = functools.partial(asyncio.Future, loop=self)  # type: ignore[method-assign]
        self._timer_number = itertools.count().__next__

    # --- what node code sees -------------------------------------------------------------

    def time(self) -> float:
        return self.now

    # --- controls (safe to call from any thread) -------------------------------------------

    @property
    def mode(self) -> ClockMode:
        return self._mode

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def limit(self) -> float:
        return self._limit

    def set_speed(self, speed: float) -> None:
        self._reanchor()
        self._speed = _clamp(speed)
        self._wake()

    def set_mode(self, mode: ClockMode) -> None:
        self._reanchor()
        self._mode = mode
        self._wake()

    def pause(self) -> None:
        self._paused = True
        self._wake()

    def resume(self) -> None:
        self._paused = False
        self._reanchor()
        self._wake()

    def set_limit(self, limit: float) -> None:
        """Hold simulated time at ``limit`` (``math.inf`` to release)."""
        self._limit = limit
        self.idle_at_limit.clear()
        self._reanchor()
        self._wake()

    def hold(self) -> None:
        """Keep simulated time where it is until :meth:`release` (work due now still runs).

        For the loop's own tasks, such as the recorder waiting for a disk slower than the
        engine: waiting costs wall time, never simulated time, and nothing piles up meanwhile.
        Holds nest; call from the loop's thread."""
        self._holds += 1

    def release(self) -> None:
        self._holds = max(0, self._holds - 1)
        if self._holds == 0:
            self._reanchor()

    @property
    def held(self) -> bool:
        return self._holds > 0

    @property
    def achieved_speed(self) -> float:
        """Simulated seconds per wall second over the last sample window (real mode)."""
        wall = time.monotonic()
        if wall - self._sample_wall >= 0.5:
            self._achieved = (self.now - self._sample_sim) / (wall - self._sample_wall)
            self._sample_wall, self._sample_sim = wall, self.now
        return self._achieved

    @property
    def current(self) -> float:
        """Simulated time as a watcher in another thread sees it: on the real clock, while
        the loop waits for its next timer, time runs on with the wall clock (``time()``
        moves only when the loop wakes, at the latest every ``IDLE_POLL``: sampled over
        half a second, it read 0.98x for a clock exactly on time)."""
        waiting_for = self._waiting_for
        now = self.now
        if waiting_for is None or self._paused or self._holds:
            return now
        target = self._anchor_sim + (time.monotonic() - self._anchor_wall) * self._speed
        return max(now, min(target, waiting_for))

    @property
    def lag(self) -> float:
        """Simulated seconds the clock is behind where the wall clock says it should be."""
        if self._mode != "real" or self._paused:
            return 0.0
        target = self._anchor_sim + (time.monotonic() - self._anchor_wall) * self._speed
        return max(0.0, min(target, self._limit) - self.now)

    def _reanchor(self) -> None:
        self._anchor_wall = time.monotonic()
        self._anchor_sim = self.now

    def _wake(self) -> None:
        if not self.is_closed():
            with contextlib.suppress(RuntimeError):  # closed meanwhile
                self.call_soon_threadsafe(_nothing)

    def set_debug(self, enabled: bool) -> None:
        super().set_debug(enabled)
        # every future and every handle made asks the loop whether it is in debug mode:
        # answered in C, not by a method of asyncio's
        self.get_debug = itertools.repeat(bool(enabled)).__next__  # type: ignore[method-assign]

    # --- timers and callbacks ---------------------------------------------------------------

    # asyncio keeps its timers in a heap of handles, ordered by TimerHandle.__lt__, a Python
    # method: a message's two timers cost some twenty such calls in heap operations. Here
    # the heap holds (when, number, handle) triples, compared in C. The number counts the
    # timers set: timers due at the same instant fire in the order they were set (asyncio's
    # heap leaves that order to chance, and a scenario's steps at one instant, or an
    # invocation's end and a call arriving at that instant, came in any order).

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any,
                context: Any = None) -> asyncio.TimerHandle:
        if self._debug or self._closed or when is None:
            timer = self._timer(when, callback, args, context)
        else:  # a frame less: a message sets two or three timers
            timer = TimerHandle(when, callback, args, self, context)
        heapq.heappush(self._scheduled, (when, self._timer_number(), timer))
        timer._scheduled = True
        return timer

    def call_ranked_at(self, when: float, rank: int, callback: Callable[..., Any], *args: Any
                       ) -> asyncio.TimerHandle:
        """``call_at`` (rank 0), but after every timer of a lower rank due at that instant,
        set before it or after: what ends at an instant (an invocation, a write: rank 0) is
        over before a deadline at that instant is looked at (rank 1), deadlines are met
        before what arrives at that instant (rank 2), and the run ends after all (rank 3)."""
        timer = self._timer(when, callback, args, None)
        heapq.heappush(self._scheduled, (when, rank * _RANK + self._timer_number(), timer))
        timer._scheduled = True
        return timer

    def _timer(self, when: float, callback: Callable[..., Any], args: tuple[Any, ...],
               context: Any) -> asyncio.TimerHandle:
        if when is None:
            raise TypeError("when cannot be None")
        if self._closed:
            self._check_closed()  # raises asyncio's error
        if self._debug:
            self._check_thread()
            self._check_callback(callback, "call_at")
            timer = asyncio.TimerHandle(when, callback, args, self, context)
            if timer._source_traceback:
                del timer._source_traceback[-2:]  # the frames of this class's methods
            return timer
        return TimerHandle(when, callback, args, self, context)

    def call_soon(self, callback: Callable[..., Any], *args: Any, context: Any = None
                  ) -> asyncio.Handle:
        # asyncio's call_soon is two calls deep; futures call it for every awaiting task
        if self._closed or self._debug:
            return super().call_soon(callback, *args, context=context)
        handle = Handle(callback, args, self, context)
        self._ready.append(handle)
        return handle

    # --- turning ----------------------------------------------------------------------------

    def _run_once(self) -> None:
        """asyncio's turns of the loop, one after another until the loop stops: the
        callbacks ready at the start of the turn run; once none is ready, the next due timer
        (by time, then the order they were set) joins them, so each timer's consequences at
        its instant come before the next timer's. A message takes a handful of turns, and a
        turn of asyncio's own spends as long on its bookkeeping (a call, the cancelled
        timers' check, a select asked for nothing) as on the callback it runs; here a turn
        with work ready costs a comparison or two, and the selector is asked only when there
        is no work or a poll is due.

        In debug mode each callback runs through Handle._run, as asyncio's own turn runs
        it (asyncio's timing of slow callbacks reads the simulated clock: always 0 here)."""
        ready = self._ready
        selector = self._selector
        process = self._process_events
        raw_select = selector._select
        heappop = heapq.heappop
        monotonic = time.monotonic
        resolution = self._clock_resolution
        poll_every = POLL_EVERY * sys.getswitchinterval()
        while True:
            scheduled = self._scheduled
            count = len(scheduled)
            if count > _PRUNE_FROM and self._timer_cancelled_count > count // 2:
                # mostly cancelled timers: keep the live ones (asyncio's own rule)
                live = []
                for entry in scheduled:
                    if entry[2]._cancelled:
                        entry[2]._scheduled = False
                    else:
                        live.append(entry)
                heapq.heapify(live)
                self._scheduled = scheduled = live
                self._timer_cancelled_count = 0
            else:
                while scheduled and scheduled[0][2]._cancelled:
                    self._timer_cancelled_count -= 1
                    heappop(scheduled)[2]._scheduled = False
            if ready or self._stopping:
                if monotonic() - self._last_poll >= poll_every:
                    process(self._poll(raw_select))
            elif scheduled:
                when = scheduled[0][0]
                if self._mode == "virtual" and self.before_advance is None \
                        and not self._paused and not self._holds \
                        and when <= self._limit and when - self.now <= _MAX_SELECT:
                    # what _sim_select does then (jump to the timer), without its calls:
                    # time moves on twice a message
                    if when > self.now:
                        self.now = when
                    if monotonic() - self._last_poll >= poll_every:
                        process(self._poll(raw_select))
                else:
                    process(selector.select(min(max(0.0, when - self.now), _MAX_SELECT)))
            else:
                process(selector.select(None))
            # one due timer at a time, once what the last one set off is done: what ends at
            # an instant is over (an instance free again) before the next timer is looked at
            if not ready and scheduled and scheduled[0][0] < self.now + resolution:
                handle = heappop(scheduled)[2]
                handle._scheduled = False
                ready.append(handle)
            if self._debug:
                for _ in range(len(ready)):
                    handle = ready.popleft()
                    if not handle._cancelled:
                        self._current_handle = handle
                        try:
                            handle._run()
                        finally:
                            self._current_handle = None
            else:
                for _ in range(len(ready)):
                    handle = ready.popleft()
                    if handle._cancelled:
                        continue
                    try:  # Handle._run's work, without its frame
                        handle._context.run(handle._callback, *handle._args)
                    except (SystemExit, KeyboardInterrupt):
                        raise
                    except BaseException as error:
                        self.call_exception_handler({
                            "message": f"Exception in callback {handle._callback!r}",
                            "exception": error, "handle": handle})
            handle = None  # a handle that raised must not keep its frames alive
            if self._stopping:
                return

    # --- the idle hook ---------------------------------------------------------------------

    def _sim_select(self, select: Callable[..., Any], timeout: float | None) -> Any:
        if timeout == 0:  # work is ready: time stands still until it is done
            # (_poll's test, inline: this is most turns of the loop, and seldom a poll)
            if time.monotonic() - self._last_poll < POLL_EVERY * sys.getswitchinterval():
                return ()
            return self._poll(select)
        hook = self.before_advance
        if hook is not None:
            hook()
            if self._ready:  # type: ignore[attr-defined]
                return self._poll(select)
        if self._paused or self._holds:
            return select(None)
        step = math.inf if timeout is None else timeout
        target = min(self.now + step, self._limit)
        if self.now >= self._limit or (self._mode == "virtual" and math.isinf(target)):
            # held at the limit, or nothing scheduled at all: only I/O or a control wakes us
            self.idle_at_limit.set()
            return select(None)
        if self._mode == "virtual":
            # jump to the timer's own time, not now + timeout: summing those would drift
            scheduled = self._scheduled  # type: ignore[attr-defined]
            if scheduled:
                when = scheduled[0][0]
                if when <= self._limit and abs(when - target) <= 1e-9 * max(1.0, when):
                    target = when
            self.now = max(self.now, target)
            return self._poll(select)
        return self._real_select(select, target)

    def _poll(self, select: Callable[..., Any]) -> Any:
        """I/O without waiting, while work is ready. The loop may then turn a million times
        a second, and I/O is rare (threads such as the database's or the app's, a socket to
        an MQTT broker): a poll now and then sees it soon enough.

        Not more often than every two GIL switch intervals (10 ms): a poll lets go of the
        GIL, and a thread waiting for the GIL only asks for it after a whole interval
        without a switch; a poll every millisecond restarted that wait each time, and the
        recorder's thread or the app's went without the GIL for seconds."""
        wall = time.monotonic()
        if wall - self._last_poll < POLL_EVERY * sys.getswitchinterval():
            return ()
        self._last_poll = wall
        return select(0)

    def _real_select(self, select: Callable[..., Any], target: float) -> Any:
        wall = time.monotonic()
        due = self._anchor_wall + (target - self._anchor_sim) / self._speed
        if due < wall - MAX_LAG:
            # far behind: give up the lost time rather than rush through it
            self._anchor_wall, self._anchor_sim = wall, self.now
            due = wall + (target - self.now) / self._speed
        # with nothing scheduled, time still flows for whoever watches; look again soon
        wait = min(due - wall, IDLE_POLL)
        if wait > 0:
            self._waiting_for = target
            try:
                events = select(wait)
            finally:
                self._waiting_for = None
        else:
            events = self._poll(select)
        reached = self._anchor_sim + (time.monotonic() - self._anchor_wall) * self._speed
        self.now = max(self.now, min(target, reached))
        return events


class Handle(asyncio.Handle):
    """asyncio's Handle, made in one frame: the loop makes these out of debug mode only, so
    there is no source traceback to take, nor a debug mode to ask about."""

    __slots__ = ()

    def __init__(self, callback: Callable[..., Any], args: tuple[Any, ...],
                 loop: asyncio.AbstractEventLoop, context: Any = None) -> None:
        self._context = contextvars.copy_context() if context is None else context
        self._loop = loop
        self._callback = callback
        self._args = args
        self._cancelled = False
        self._repr = None
        self._source_traceback = None


class TimerHandle(asyncio.TimerHandle):
    """asyncio's TimerHandle, made in one frame (its own calls two more); as :class:`Handle`."""

    __slots__ = ()

    def __init__(self, when: float, callback: Callable[..., Any], args: tuple[Any, ...],
                 loop: asyncio.AbstractEventLoop, context: Any = None) -> None:
        self._context = contextvars.copy_context() if context is None else context
        self._loop = loop
        self._callback = callback
        self._args = args
        self._cancelled = False
        self._repr = None
        self._source_traceback = None
        self._when = when
        self._scheduled = False


def _nothing() -> None:
    """Scheduled from other threads only to wake the selector."""


def _clamp(speed: float) -> float:
    if not speed > 0:
        raise ValueError(f"speed must be positive (got {speed})")
    return min(MAX_SPEED, max(MIN_SPEED, speed))


class Clock:
    """What nodes use: now, sleep and timers, all on the engine's loop.

    Once the engine stops, timers still due do nothing: a stopped engine's state stays as
    its report saw it, even while the loop goes on (flushing rows to disk, say).
    """

    __slots__ = ("loop", "on_error", "stopped")

    def __init__(self, loop: SimLoop) -> None:
        self.loop = loop
        self.stopped = False
        # told of a timer's callback that raised (the engine reports it as NodeFailed);
        # without it, asyncio would only log the error and the node's failure would go unseen
        self.on_error: Callable[[Callable[..., None], BaseException], None] | None = None

    def now(self) -> float:
        return self.loop.now

    def reached(self, when: float) -> bool:
        """Whether ``when`` has come, as the grid its timer was set on sees it."""
        return on_grid(when) <= self.loop.now

    def sleep(self, delay: float) -> asyncio.Future[None]:
        """A future done after ``delay`` simulated seconds (cheaper than asyncio.sleep).

        A positive delay always ends at a later instant, one grid step at least: a delay
        below the grid must not round to now, or a loop that sleeps until some state
        changes with time (a token bucket refilling) would spin forever at one instant."""
        future = self.loop.create_future()
        now = self.loop.now
        when = on_grid(now + delay)
        if delay > 0 and when <= now:
            when = on_grid(now + 10.0**-GRID)
        self.loop.call_at(when, _finish, future)
        return future

    def at(self, when: float, callback: Callable[..., None], *args: Any) -> asyncio.TimerHandle:
        return self.loop.call_at(on_grid(when), self._fire, callback, args)

    def late_at(self, when: float, callback: Callable[..., None], *args: Any
                ) -> asyncio.TimerHandle:
        """``at``, after whatever ends at that instant: for deadlines (a timeout, a
        visibility timeout, retention, an idle instance's reclaim; see
        SimLoop.call_ranked_at)."""
        return self.loop.call_ranked_at(on_grid(when), 1, self._fire, callback, args)

    def arrival_at(self, when: float, callback: Callable[..., None], *args: Any
                   ) -> asyncio.TimerHandle:
        """``at``, after what ends and the deadlines met at that instant: for arrivals."""
        return self.loop.call_ranked_at(on_grid(when), 2, self._fire, callback, args)

    def final_at(self, when: float, callback: Callable[..., None], *args: Any
                 ) -> asyncio.TimerHandle:
        """``at``, after everything else due at that instant: the end of a run."""
        return self.loop.call_ranked_at(on_grid(when), 3, self._fire, callback, args)

    def later(self, delay: float, callback: Callable[..., None], *args: Any
              ) -> asyncio.TimerHandle:
        return self.loop.call_at(on_grid(self.loop.now + delay), self._fire, callback,
                                 args)

    def soon(self, callback: Callable[..., None], *args: Any) -> None:
        self.loop.call_soon(self._fire, callback, args)

    def _fire(self, callback: Callable[..., None], args: tuple[Any, ...]) -> None:
        if self.stopped:
            return
        try:
            callback(*args)
        except Exception as error:
            if self.on_error is None:
                raise
            self.on_error(callback, error)


def _finish(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
