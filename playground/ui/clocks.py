"""The app's time controls over one or more engines.

- :class:`SoloClock`: one engine on the real clock (its own thread paces it); stepping to a
  scenario step fast-forwards there and holds.
- :class:`LinkedClock`: engines on virtual clocks held at a common limit that the app moves
  forward every frame (``speed`` simulated seconds per wall second). Compare mode uses it so
  both sides are always at the same simulated instant; a run opened with ``mode="virtual"``
  uses it paused, so time moves only when stepped.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence

from playground.runner import EngineHost

MAX_STEP = 0.25
ACHIEVED_WINDOW = 0.5  # wall seconds over which the achieved speed is measured
SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0)


def faster(speed: float) -> float:
    return next((s for s in SPEEDS if s > speed + 1e-9), SPEEDS[-1])


def slower(speed: float) -> float:
    return next((s for s in reversed(SPEEDS) if s < speed - 1e-9), SPEEDS[0])


class RunClock:
    """What every clock offers the screens."""

    def __init__(self, speed: float = 1.0, paused: bool = False) -> None:
        self.speed = min(SPEEDS[-1], max(SPEEDS[0], speed))
        self.paused = paused
        self.held_at: float | None = None
        self.hosts: list[EngineHost] = []
        # the achieved speed's window: where it began (wall, simulated) and at what speed
        self._since: tuple[float, float, float] | None = None
        self._achieved: float | None = None

    def achieved(self, wall: float) -> float | None:
        """Simulated seconds per wall second over the last ``ACHIEVED_WINDOW`` of running at
        one speed (``wall``: time.monotonic()); None while paused, held, or before such a
        window has passed - a window spanning a pause or a change of speed would be wrong."""
        if self.paused or self.held_at is not None or not self.hosts:
            self._since = self._achieved = None
            return None
        now = min((h.current for h in self.hosts), default=0.0)
        since = self._since
        if since is None or since[2] != self.speed:
            self._since, self._achieved = (wall, now, self.speed), None
            return None
        if wall - since[0] >= ACHIEVED_WINDOW:
            self._achieved = max(0.0, now - since[1]) / (wall - since[0])
            self._since = (wall, now, self.speed)
        return self._achieved

    @property
    def now(self) -> float:
        return min((h.now for h in self.hosts), default=0.0)

    def bind(self, hosts: Sequence[EngineHost]) -> None:
        self.hosts = list(hosts)
        self.held_at = None

    def toggle_pause(self) -> None:
        self.set_paused(not self.paused)

    def set_paused(self, paused: bool) -> None:
        raise NotImplementedError

    def set_speed(self, speed: float) -> None:
        raise NotImplementedError

    def hold_at(self, t: float) -> None:
        """Run to ``t`` (as fast as possible) and hold there, paused."""
        raise NotImplementedError

    def tick(self, wall_seconds: float) -> None:
        """Called once a frame."""

    async def advance_to(self, t: float) -> None:
        """Moves every engine to ``t`` and returns once they are all there (stepping)."""
        raise NotImplementedError


class SoloClock(RunClock):
    def bind(self, hosts: Sequence[EngineHost]) -> None:
        super().bind(hosts)
        for host in hosts:
            host.set_speed(self.speed)
            if self.paused:
                host.pause()

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        for host in self.hosts:
            if paused:
                host.pause()
            else:
                if host.loop is not None and host.loop.mode == "virtual":
                    host.loop.set_mode("real")
                host.release()
                host.resume()
        if not paused:
            self.held_at = None

    def set_speed(self, speed: float) -> None:
        self.speed = min(SPEEDS[-1], max(SPEEDS[0], speed))
        for host in self.hosts:
            host.set_speed(self.speed)

    def hold_at(self, t: float) -> None:
        self.held_at = t
        self.paused = True
        for host in self.hosts:
            if host.loop is None:
                continue
            host.loop.set_mode("virtual")
            host.loop.set_limit(t)
            host.resume()

    def tick(self, wall_seconds: float) -> None:
        if self.held_at is None:
            return
        for host in self.hosts:
            loop = host.loop
            if loop is not None and loop.mode == "virtual" and host.now >= self.held_at - 1e-9:
                loop.set_mode("real")  # arrived: back on the wall clock, held at the limit

    async def advance_to(self, t: float) -> None:
        self.hold_at(t)
        await asyncio.gather(*(asyncio.to_thread(h.advance_to, t) for h in self.hosts))
        self.tick(0.0)


class LinkedClock(RunClock):
    def __init__(self, speed: float = 1.0, paused: bool = False) -> None:
        super().__init__(speed, paused)
        self.target = 0.0

    def bind(self, hosts: Sequence[EngineHost]) -> None:
        super().bind(hosts)
        self.target = self.now

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        if not paused:
            self.held_at = None
            self.target = max(self.target, self.now)

    def set_speed(self, speed: float) -> None:
        self.speed = min(SPEEDS[-1], max(SPEEDS[0], speed))

    def _limit(self, t: float) -> None:
        for host in self.hosts:
            if host.loop is not None:
                host.loop.set_limit(t)

    def hold_at(self, t: float) -> None:
        self.held_at = t
        self.paused = True
        self.target = t
        self._limit(t)

    def tick(self, wall_seconds: float) -> None:
        if self.paused or not self.hosts:
            return
        # a stalled frame does not make time leap: at most MAX_STEP wall seconds a frame
        step = min(wall_seconds, MAX_STEP) * self.speed
        # never more than a few frames ahead of the slower engine: the two stay linked
        ahead = min(self.target + step, self.now + max(step * 4, 0.05))
        self.target = max(self.target, ahead)  # never back: the leader waits, it does not undo
        if math.isfinite(self.target):
            self._limit(self.target)

    async def advance_to(self, t: float) -> None:
        self.hold_at(t)
        await asyncio.gather(*(asyncio.to_thread(h.advance_to, t) for h in self.hosts))
