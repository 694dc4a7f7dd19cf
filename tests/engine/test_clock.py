"""The clock's own shortcuts give what asyncio would give."""

from __future__ import annotations

import asyncio
import random

import pytest

from playground.engine.clock import SimLoop


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
