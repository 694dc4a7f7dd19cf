"""The clock's own shortcuts give what asyncio and round would give."""

from __future__ import annotations

import asyncio
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


def _order_of_ties(loop: asyncio.AbstractEventLoop) -> list[int]:
    """The order in which timers fire, many of them due at the same instants."""
    rng = random.Random(5)
    fired: list[int] = []
    base = loop.time() - 1000.0  # all due at once: only their order is left to compare
    handles = []
    for index in range(500):
        handles.append(loop.call_at(base + rng.choice([1.0, 2.0, 3.0, rng.random()]),
                                    fired.append, index))
    for handle in handles[::7]:
        handle.cancel()
    loop.call_at(base + 10.0, loop.stop)
    loop.run_forever()
    return fired


@pytest.mark.parametrize("debug", [False, True])
def test_timers_due_at_one_instant_fire_in_asyncios_order(debug: bool) -> None:
    plain = asyncio.SelectorEventLoop()
    simulated = SimLoop("virtual")
    simulated.set_debug(debug)
    try:
        assert _order_of_ties(simulated) == _order_of_ties(plain)
    finally:
        plain.close()
        simulated.close()
