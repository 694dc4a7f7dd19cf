"""Engine speed beside its references, in one run (machines here are noisy: read the ratios).

    python tests/bench/bench_engine.py [--messages N] [--real] [--memory]

1. The reference chain producer -> gateway -> queue -> function -> store on the virtual
   clock: simulated messages per wall second.
2. SimPy on the equivalent M/M/c (same arrival rate, servers and service times): customers
   per wall second.
3. A raw chain of four asyncio queues: messages per second, the ceiling for Python tasks.
With --real: the highest rate the reference chain sustains on the real clock while staying
on schedule (simulated time within 5% of the wall clock), with the process held to one core.
With --memory: RSS with a million messages queued (RSS over a long steady run is
tests/bench/soak.py's).
Every loop here is bounded in count and in time.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from playground.engine.clock import SimLoop  # noqa: E402
from playground.runner import run_simulation, simulate  # noqa: E402
from playground.spec.model import Topology  # noqa: E402

RATE, SERVERS, SERVICE = 2000.0, 50, 0.02  # an M/M/50 at 80%


def chain(rate: float, duration: float, consumers: int = SERVERS) -> Topology:
    return Topology.model_validate({
        "version": 1, "name": "reference-chain", "seed": 1, "duration": duration,
        "nodes": {
            "clients": {"kind": "producer", "rate": rate, "to": "api"},
            "api": {"kind": "gateway", "to": "orders"},
            "orders": {"kind": "queue", "to": "worker"},
            "worker": {"kind": "function", "concurrency": consumers, "batch_size": 1,
                       "duration": {"dist": "exponential", "mean": SERVICE}, "to": "table"},
            "table": {"kind": "store", "latency": "0ms"},
        }})


def bench_chain(messages: int) -> float:
    duration = messages / RATE
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        report = run_simulation(chain(RATE, duration), db=Path(tmp) / "bench.sqlite")
        wall = time.perf_counter() - started
    assert report["ledger"]["lost"] == 0
    return report["ledger"]["created"] / wall


def bench_simpy(customers: int) -> float:
    import simpy

    env = simpy.Environment()
    servers = simpy.Resource(env, SERVERS)
    rng = random.Random(1)

    def customer() -> object:
        with servers.request() as request:
            yield request
            yield env.timeout(rng.expovariate(1 / SERVICE))

    def arrivals() -> object:
        for _ in range(customers):
            yield env.timeout(rng.expovariate(RATE))
            env.process(customer())

    env.process(arrivals())
    started = time.perf_counter()
    env.run()
    return customers / (time.perf_counter() - started)


def bench_raw_queues(messages: int) -> float:
    async def main() -> float:
        queues = [asyncio.Queue() for _ in range(5)]

        async def hop(source: asyncio.Queue, target: asyncio.Queue) -> None:
            while True:
                item = await source.get()
                target.put_nowait(item)

        tasks = [asyncio.create_task(hop(queues[i], queues[i + 1])) for i in range(4)]
        started = time.perf_counter()
        for index in range(messages):
            queues[0].put_nowait(index)
            if index % 1000 == 999:
                await asyncio.sleep(0)
        for _ in range(messages):
            await queues[4].get()
        wall = time.perf_counter() - started
        for task in tasks:
            task.cancel()
        return messages / wall

    return asyncio.run(main())


def on_schedule(rate: float, wall_seconds: float) -> float:
    """The achieved speed (simulated / wall seconds) of the chain at ``rate`` on the real
    clock at 1x, after a second of warm-up."""
    loop = SimLoop("real", 1.0)
    consumers = max(SERVERS, int(rate * SERVICE * 2))
    result: dict[str, float] = {}

    async def main() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            task = asyncio.ensure_future(simulate(chain(rate, wall_seconds + 1, consumers),
                                                  db=Path(tmp) / "real.sqlite"))
            await asyncio.sleep(1.0)
            wall, sim = time.monotonic(), loop.time()
            await asyncio.sleep(wall_seconds - 0.01)
            result["speed"] = (loop.time() - sim) / (time.monotonic() - wall)
            await task

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    return result["speed"]


def bench_real(wall_seconds: float = 3.0) -> tuple[float, str]:
    """The highest rate on schedule, on one core as the goal says: the engine, its database
    thread and everything else in the process share one CPU. Six halvings of the range
    (steps 6.7% apart), then three more to land within 0.8%."""
    cpus = os.sched_getaffinity(0)
    cpu = min(cpus)
    os.sched_setaffinity(0, {cpu})
    try:
        low, high = 1000.0, 64000.0
        if on_schedule(low, wall_seconds) < 0.95:
            return 0.0, f"CPU {cpu}"
        for _ in range(9):  # bounded search
            middle = (low * high) ** 0.5
            if on_schedule(middle, wall_seconds) >= 0.95:
                low = middle
            else:
                high = middle
        return low, f"CPU {cpu}"
    finally:
        os.sched_setaffinity(0, cpus)


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_memory() -> None:
    """RSS with a million messages queued (a long steady run's RSS is tests/bench/soak.py's)."""
    gc.collect()
    base = rss_mb()
    topo = Topology.model_validate({
        "version": 1, "name": "million", "duration": 100,
        "nodes": {"clients": {"kind": "producer", "rate": 10000, "pattern": "constant",
                              "payload": {"n": "{seq}"}, "to": "backlog"},
                  "backlog": {"kind": "queue"}}})
    with tempfile.TemporaryDirectory() as tmp:
        report = run_simulation(topo, db=Path(tmp) / "m.sqlite")
    print(f"memory: {report['nodes']['backlog']['depth']:,} messages queued: RSS "
          f"{rss_mb():.0f} MB (before: {base:.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--real", action="store_true")
    parser.add_argument("--memory", action="store_true")
    args = parser.parse_args()
    engine = bench_chain(args.messages)
    simpy_rate = bench_simpy(args.messages)
    raw = bench_raw_queues(args.messages)
    print(f"reference chain, virtual clock: {engine:10,.0f} messages/s")
    print(f"SimPy M/M/{SERVERS} at 80%:        {simpy_rate:10,.0f} customers/s")
    print(f"raw asyncio queues, 4 hops:     {raw:10,.0f} messages/s")
    print(f"ratio engine/SimPy: {engine / simpy_rate:.2f}; engine/raw: {engine / raw:.3f}")
    if args.real:
        rate, where = bench_real()
        print(f"real clock, on schedule (lag < 5%), one core ({where}): up to {rate:,.0f} "
              "messages/s")
    if args.memory:
        bench_memory()


if __name__ == "__main__":
    main()
