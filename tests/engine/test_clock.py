"""The clock: its own shortcuts give what round would give, and what is due at one instant
comes in a stated order."""

from __future__ import annotations

import math
import random

import pytest

from playground.engine.clock import GRID, SimLoop, on_grid


def test_on_grid_is_round_to_the_grid() -> None:
    rng = random.Random(3)
    values = [0.0, -0.0, 1e-7, 5e-7, 1.5e-6, 0.1 + 0.2, -1.5, 1e9, 1e12, math.inf]
    for _ in range(50_000):
        k = rng.randrange(10**12)
        half = (k + 0.5) / 10**GRID  # the hard cases: next to a half, either side
        values += [rng.uniform(0, 10), rng.uniform(0, 1e6), k / 10**GRID, half,
                   math.nextafter(half, 0), math.nextafter(half, math.inf)]
    for value in values:
        expected = round(value, GRID)
        got = on_grid(value)
        assert got == expected and math.copysign(1, got) == math.copysign(1, expected), value
    assert math.isnan(on_grid(math.nan))


def _order_of_ties(loop: SimLoop) -> list[int]:
    """The order in which timers fire, many of them due at the same instants, some of
    rank 1, after those of rank 0 at theirs (numbered from 1000)."""
    rng = random.Random(5)
    fired: list[int] = []
    handles = []
    for index in range(500):
        when = loop.time() + rng.choice([1.0, 2.0, 3.0, rng.random()])
        if index % 5 == 0:
            handles.append(loop.call_ranked_at(when, 1, fired.append, 1000 + index))
        else:
            handles.append(loop.call_at(when, fired.append, index))
    for handle in handles[::7]:
        handle.cancel()
    loop.call_at(loop.time() + 10.0, loop.stop)
    loop.run_forever()
    return fired


@pytest.mark.parametrize("debug", [False, True])
def test_timers_due_at_one_instant_fire_in_the_order_they_were_set(debug: bool) -> None:
    # asyncio leaves that order to chance: a scenario's steps at one instant came in any
    # order, and a call arriving as an instance freed could find it busy
    rng = random.Random(5)
    expected = []
    for index in range(500):
        when = rng.choice([1.0, 2.0, 3.0, rng.random()])
        if index % 7:
            expected.append((when, index % 5 == 0, index))
    expected.sort(key=lambda entry: entry[:2])  # stable: the order set, among equals
    loop = SimLoop("virtual")
    loop.set_debug(debug)
    try:
        fired = _order_of_ties(loop)
    finally:
        loop.close()
    assert fired == [1000 + index if last else index for _, last, index in expected]


def test_what_a_timer_sets_off_at_its_instant_comes_before_the_next_timer() -> None:
    loop = SimLoop("virtual")
    seen: list[str] = []

    def first() -> None:
        seen.append("first")
        loop.call_soon(lambda: loop.call_soon(seen.append, "first's consequence"))

    loop.call_at(1.0, first)
    loop.call_at(1.0, seen.append, "second")
    loop.call_at(2.0, loop.stop)
    try:
        loop.run_forever()
    finally:
        loop.close()
    assert seen == ["first", "first's consequence", "second"]
