"""Token buckets and circuit breakers, on simulated time."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from playground.engine.clock import TICK

if TYPE_CHECKING:
    import asyncio

    from playground.engine.clock import Clock
    from playground.spec import model as m

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


THROTTLING_SHOWN = 1.0
"""A node reads as throttling for this long (simulated seconds) after its last refusal:
a steady overload refuses every few milliseconds, its tokens only now and then read 0."""


class TokenBucket:
    """Starts full; refills continuously at ``rate`` up to ``size`` tokens."""

    __slots__ = ("_last", "_slack", "rate", "size", "tokens")

    def __init__(self, rate: float, size: float, now: float = 0.0) -> None:
        self.rate = rate
        self.size = size
        self.tokens = size
        self._last = now
        self._slack = _slack(rate)

    def _refill(self, now: float) -> None:
        if now > self._last:
            self.tokens = min(self.size, self.tokens + (now - self._last) * self.rate)
            self._last = now

    def take(self, now: float) -> bool:
        self._refill(now)
        if self.tokens >= 1.0 - self._slack:
            self.tokens -= 1.0
            return True
        return False

    def wait_time(self, now: float) -> float:
        """Seconds until a token is there."""
        self._refill(now)
        if self.tokens >= 1.0 - self._slack:
            return 0.0
        return (1.0 - self.tokens) / self.rate

    def retune(self, rate: float, size: float, now: float) -> None:
        self._refill(now)
        self.rate = rate
        self.size = size
        self.tokens = min(self.tokens, size)
        self._slack = _slack(rate)


def _slack(rate: float) -> float:
    """How far below a whole token a take still counts as having one: times are on a grid
    of a microsecond, so a gap of 1/rate between two requests can be up to a microsecond
    short, and refill up to rate x 1 µs less than a token (at exactly the limit, a third
    of the requests were refused). What is taken early is owed: the long-run rate holds."""
    return min(0.5, rate * TICK) + 1e-9


class Breaker:
    """A circuit breaker over the outcomes of the last ``window`` calls."""

    def __init__(self, failure_rate: float, window: int, min_calls: int, open_for: float,
                 half_open_calls: int,
                 on_change: Callable[[str, float], None] | None = None,
                 clock: Clock | None = None) -> None:
        self.failure_rate = failure_rate
        self.min_calls = min_calls
        self.open_for = open_for
        self.half_open_calls = half_open_calls
        self.outcomes: deque[bool] = deque(maxlen=window)
        self.failures = 0
        self.state = CLOSED
        self.opened_at = 0.0
        self.trial_started = 0
        self.trial_succeeded = 0
        self.short_circuited = 0
        self._on_change = on_change
        # with a clock, an open breaker turns half-open when open_for ends, not at the next
        # call: its state reads true while no call comes
        self._clock = clock
        self._timer: asyncio.TimerHandle | None = None

    def retune(self, failure_rate: float, window: int, min_calls: int, open_for: float,
               half_open_calls: int, now: float) -> None:
        """New settings, kept state: an open breaker stays open (until its new ``open_for``
        from when it opened), and the calls already seen are judged by the new thresholds
        at once rather than at the next call."""
        self.failure_rate = failure_rate
        self.min_calls = min_calls
        self.open_for = open_for
        self.half_open_calls = half_open_calls
        if self.state == OPEN:
            self._arm()  # from when it opened, for the new open_for
        if window != self.outcomes.maxlen:
            self.outcomes = deque(self.outcomes, maxlen=window)  # keeps the newest
            self.failures = sum(1 for ok in self.outcomes if not ok)
        if self.state == CLOSED:
            if len(self.outcomes) >= min_calls and self.rate() >= failure_rate:
                self._set(OPEN, now)
        elif self.state == HALF_OPEN and self.trial_succeeded >= half_open_calls:
            self._set(CLOSED, now)

    def _set(self, state: str, now: float) -> None:
        self.state = state
        if state == OPEN:
            self.opened_at = now
            self._arm()
        if state in (CLOSED, HALF_OPEN):
            self.trial_started = self.trial_succeeded = 0
        if state == CLOSED:
            self.outcomes.clear()
            self.failures = 0
        if self._on_change is not None:
            self._on_change(state, self.rate())

    def _arm(self) -> None:
        self.stop()
        if self._clock is not None:
            self._timer = self._clock.at(self.opened_at + self.open_for, self._open_for_ended)

    def _open_for_ended(self) -> None:
        self._timer = None
        clock = self._clock
        assert clock is not None
        if self.state == OPEN and clock.reached(self.opened_at + self.open_for):
            self._set(HALF_OPEN, clock.loop.now)

    def stop(self) -> None:
        """Forgets its timer (a breaker removed by a `set`)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def rate(self) -> float:
        return self.failures / len(self.outcomes) if self.outcomes else 0.0

    def allow(self, now: float) -> bool:
        """Whether a call may go through now (counts a short circuit when not)."""
        if self.state == OPEN and now >= self.opened_at + self.open_for:
            self._set(HALF_OPEN, now)
        if self.state == CLOSED:
            return True
        if self.state == HALF_OPEN and self.trial_started < self.half_open_calls:
            self.trial_started += 1
            return True
        self.short_circuited += 1
        return False

    def record(self, ok: bool, now: float) -> None:
        if self.state == HALF_OPEN:
            if not ok:
                self._set(OPEN, now)
                return
            self.trial_succeeded += 1
            if self.trial_succeeded >= self.half_open_calls:
                self._set(CLOSED, now)
            return
        if self.state == OPEN:
            return  # a late answer from before it opened
        outcomes = self.outcomes
        if len(outcomes) == outcomes.maxlen and not outcomes[0]:
            self.failures -= 1
        outcomes.append(ok)
        if not ok:
            self.failures += 1
        if len(outcomes) >= self.min_calls and self.rate() >= self.failure_rate:
            self._set(OPEN, now)


def tuned_breaker(spec: m.Breaker | None, breaker: Breaker | None,
                  on_change: Callable[[str, float], None], clock: Clock) -> Breaker | None:
    """The breaker ``spec`` asks for: the one there already, retuned, or a new one."""
    if spec is None:
        if breaker is not None:
            breaker.stop()
        return None
    if breaker is None:
        return Breaker(spec.failure_rate, spec.window, spec.min_calls, spec.open_for,
                       spec.half_open_calls, on_change, clock)
    breaker.retune(spec.failure_rate, spec.window, spec.min_calls, spec.open_for,
                   spec.half_open_calls, clock.loop.now)
    return breaker
