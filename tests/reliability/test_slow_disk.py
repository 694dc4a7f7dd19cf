"""A disk slower than the engine: simulated time waits for it, memory does not grow.

On the virtual clock the engine makes rows as fast as it can; the recorder writes them in a
thread of its own. When the writes fall far behind, the rows waiting would pile up in memory
for as long as the run lasts (the soak saw RSS grow fivefold on a busy machine). Here every
row takes a millisecond to encode (a slow disk, injected), and the rows waiting must stay
near the recorder's high-water mark while every row still reaches the file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from playground.engine import events as ev
from playground.spec.model import Topology
from playground.store import recorder

from .checks import assert_sound, run_watched


def test_rows_waiting_for_a_slow_disk_stay_bounded(monkeypatch) -> None:
    monkeypatch.setattr(recorder, "BATCH", 500)
    monkeypatch.setattr(recorder, "HIGH_WATER", 1_000)
    encoder = recorder._encoder

    def slow_encoder() -> Callable[[Any], str]:
        encode = encoder()

        def slowly(payload: Any) -> str:  # runs in the database's thread, row by row
            time.sleep(0.001)
            return encode(payload)
        return slowly

    monkeypatch.setattr(recorder, "_encoder", slow_encoder)
    waiting: list[int] = []
    instances: list[recorder.Recorder] = []
    original = recorder.Recorder.__call__

    def watched(self: recorder.Recorder, event: ev.MessageWritten) -> None:
        original(self, event)
        waiting.append(len(self._buffer))
        if not instances:
            instances.append(self)

    monkeypatch.setattr(recorder.Recorder, "__call__", watched)
    topology = Topology.model_validate({"version": 1, "name": "slow-disk", "duration": 3,
                                        "nodes": {
        "client": {"kind": "producer", "rate": "2000/s", "pattern": "constant", "to": "work"},
        "work": {"kind": "function", "concurrency": 50, "duration": "5ms", "to": "table"},
        "table": {"kind": "store", "latency": 0},
    }})
    outcome = run_watched(topology, drain=5, wall_limit=120)
    assert_sound(outcome, topology)
    assert len(outcome.rows["table"]) == 6_000
    assert instances[0].holds >= 1  # simulated time did wait for the disk
    # never much more than the high-water mark: what is due at one instant, at most
    assert max(waiting) <= 1_000 + 50
