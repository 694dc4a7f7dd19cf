"""The engine against queueing theory: M/M/c waits against Erlang C and an M/D/1 against
Pollaczek-Khinchine (mean) and Erlang's distribution (p95).

Each setting is run on several seeds; the standard error comes from the spread of the
runs themselves. A run's mean and p95 are what the report's queue ``wait`` says. The check
is |observed - theory| <= min(3 standard errors, 5% of theory): statistics decide, but never
more loosely than 5%. The last test shows the check has teeth: a consumer that polls every
10 ms instead of receiving at once fails it.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import topology
from theory import md1_mean_wait, md1_wait_quantile, mmc_mean_wait, mmc_wait_quantile

from playground.engine import runtime
from playground.engine.nodes.queue import QueueNode
from playground.runner import run_simulation
from playground.spec.model import Topology

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Setting:
    name: str
    arrival_rate: float
    servers: int
    service_mean: float
    deterministic: bool
    duration: float
    seeds: tuple[int, ...]

    def mean(self) -> float:
        if self.deterministic:
            return md1_mean_wait(self.arrival_rate, self.service_mean)
        return mmc_mean_wait(self.servers, self.arrival_rate, 1 / self.service_mean)

    def p95(self) -> float:
        if self.deterministic:
            return md1_wait_quantile(0.95, self.arrival_rate, self.service_mean)
        return mmc_wait_quantile(0.95, self.servers, self.arrival_rate, 1 / self.service_mean)

    def topology(self, seed: int) -> Topology:
        duration = (self.service_mean if self.deterministic
                    else {"dist": "exponential", "mean": self.service_mean})
        return topology({
            "clients": {"kind": "producer", "rate": self.arrival_rate, "to": "q"},
            "q": {"kind": "queue", "visibility_timeout": "1h", "to": "servers"},
            "servers": {"kind": "function", "concurrency": self.servers, "batch_size": 1,
                        "duration": duration, "timeout": "1h"},
        }, name=self.name, seed=seed, duration=self.duration)


# Sixteen runs each: the standard error is itself estimated from the runs, and with fewer
# its own noise makes "three standard errors" an unreliable yardstick.
SEEDS = tuple(range(1, 17))
MM2 = Setting("M/M/2 at 60%", 24.0, 2, 0.05, False, 500.0, SEEDS)
MM5 = Setting("M/M/5 at 80%", 80.0, 5, 0.05, False, 750.0, SEEDS)
MD1 = Setting("M/D/1 at 70%", 14.0, 1, 0.05, True, 750.0, SEEDS)


def measure(setting: Setting, tmp_path: Path) -> tuple[list[float], list[float]]:
    means, p95s = [], []
    for seed in setting.seeds:
        report = run_simulation(setting.topology(seed), db=tmp_path / f"{seed}.sqlite")
        assert report["ledger"]["lost"] == 0
        wait = report["nodes"]["q"]["wait"]
        means.append(wait["mean"])
        p95s.append(wait["p95"])
    return means, p95s


def agrees(observed: list[float], theory: float) -> tuple[bool, str]:
    mean = statistics.fmean(observed)
    error = statistics.stdev(observed) / math.sqrt(len(observed))
    tolerance = min(3 * error, 0.05 * theory)
    verdict = abs(mean - theory) <= tolerance
    return verdict, (f"observed {mean * 1000:.3f} ms, theory {theory * 1000:.3f} ms, "
                     f"standard error {error * 1000:.3f} ms, tolerance {tolerance * 1000:.3f} ms")


@pytest.mark.parametrize("setting", [MM2, MM5, MD1], ids=lambda s: s.name)
def test_waits_agree_with_queueing_theory(setting, tmp_path):
    means, p95s = measure(setting, tmp_path)
    ok, detail = agrees(means, setting.mean())
    assert ok, f"mean wait: {detail}"
    ok, detail = agrees(p95s, setting.p95())
    assert ok, f"p95 wait: {detail}"


class PollingQueue(QueueNode):
    """A subtly wrong queue: it hands messages over only on 10 ms ticks (a polling
    consumer), instead of the moment one is visible and a consumer is free."""

    TICK = 0.010
    _tick_armed = False

    def _dispatch(self) -> None:
        if self._tick_armed:
            return
        now = self.clock.now()
        due = math.ceil(now / self.TICK + 1e-9) * self.TICK
        self._tick_armed = True
        self.clock.at(due, self._poll)

    def _poll(self) -> None:
        self._tick_armed = False
        QueueNode._dispatch(self)


def test_the_check_catches_a_consumer_that_polls_every_10ms(tmp_path, monkeypatch):
    monkeypatch.setitem(runtime.NODE_CLASSES, "queue", PollingQueue)
    mutant = Setting("polling M/M/5", 80.0, 5, 0.05, False, 500.0, (1, 2, 3))
    means, _ = measure(mutant, tmp_path)
    ok, detail = agrees(means, mutant.mean())
    assert not ok, f"a polling consumer went unnoticed: {detail}"
