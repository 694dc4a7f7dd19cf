"""Soak: memory over a long steady run (issue #6's goal: RSS grows less than 10%).

    python tests/bench/soak.py [--minutes 60] [--rate 2000] [--warmup 5]
    python tests/bench/soak.py --tui 10 [--rate 2000] [--warmup 2]

The first form runs the reference chain - producer -> gateway -> queue -> function ->
store, an M/M/50 at 80% - for ``--minutes`` of simulated time on the virtual clock, as
fast as the machine allows, and samples this process's RSS (VmRSS in /proc/self/status) at
every simulated minute. Every row is really written to a SQLite file (in a temporary
directory, deleted at the end). The second runs the same chain in the app (headless, through
Textual's ``run_test``) on the real clock for ``--tui`` wall minutes, sampling every wall
minute. Each prints the samples and the growth from the end of the warm-up to the end.

Not a test: it takes as long as it says (the virtual hour about twelve minutes here).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GOAL = 10.0  # per cent of RSS growth after the warm-up
SERVERS, SERVICE = 50, 0.02  # 2,000/s x 20 ms over 50 instances: 80% busy

TOPOLOGY = """\
version: 1
name: soak
description: The reference chain at a steady rate, for the soak.
seed: 1
duration: {duration}
nodes:
  clients:
    kind: producer
    rate: {rate}/s
    payload: {{order: "{{seq}}", customer: "c{{int:1..500}}", total: "{{int:5..300}}"}}
    to: api
  api: {{kind: gateway, to: orders}}
  orders: {{kind: queue, to: worker}}
  worker:
    kind: function
    concurrency: {servers}
    batch_size: 1
    duration: {{dist: exponential, mean: {service}}}
    to: table
  table: {{kind: store, latency: 0ms}}
"""


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def topology_text(rate: float, duration: float) -> str:
    return TOPOLOGY.format(rate=rate, duration=duration, servers=SERVERS, service=SERVICE)


# --- the virtual clock -------------------------------------------------------------------------


def soak_virtual(minutes: int, rate: float) -> list[dict[str, Any]]:
    from playground.engine.clock import SimLoop
    from playground.engine.runtime import Engine
    from playground.runner import simulate
    from playground.spec import load_text

    topology = load_text(topology_text(rate, minutes * 60.0), "soak.yaml").require()
    samples: list[dict[str, Any]] = []
    loop = SimLoop("virtual")
    started = time.perf_counter()
    engines: list[Engine] = []

    def sample(minute: int) -> None:
        ledger = engines[0].ledger
        samples.append({"minute": minute, "wall_s": time.perf_counter() - started,
                        "rss_mb": rss_mb(), "created": ledger.created})
        print(f"  minute {minute:3d}: RSS {samples[-1]['rss_mb']:7.1f} MB, "
              f"{ledger.created:>10,} messages, {samples[-1]['wall_s']:7.1f} s of wall time",
              flush=True)

    def on_engine(engine: Engine) -> None:
        engines.append(engine)
        for minute in range(1, minutes + 1):  # timers at the simulated minutes, in order
            engine.clock.at(minute * 60.0 - 1e-3, sample, minute)

    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        report = loop.run_until_complete(simulate(topology, db=Path(tmp) / "soak.sqlite",
                                                  on_engine=on_engine))
        loop.close()
    ledger = report["ledger"]
    assert ledger["lost"] == 0, ledger
    print(f"  ledger at the end: {ledger}")
    return samples


# --- the app on the real clock --------------------------------------------------------------


def soak_tui(minutes: int, rate: float) -> list[dict[str, Any]]:
    from playground.ui.app import PlaygroundApp
    from playground.ui.screens.run_screen import RunScreen

    samples: list[dict[str, Any]] = []

    async def run(work: Path) -> None:
        path = work / "soak.yaml"
        path.write_text(topology_text(rate, 24 * 3600.0))
        app = PlaygroundApp(path, mode="real", db=work / "soak.sqlite",
                            screenshots_dir=work / "shots")
        async with app.run_test(size=(120, 40)):
            for _ in range(600):  # the first frame, within a minute
                if isinstance(app.screen, RunScreen) and app.screen.frames[0] is not None:
                    break
                await asyncio.sleep(0.1)
            screen = app.screen
            assert isinstance(screen, RunScreen), "the app did not open the run"
            started = time.perf_counter()
            for minute in range(1, minutes + 1):
                await asyncio.sleep(max(0.0, started + minute * 60.0 - time.perf_counter()))
                frame = screen.frames[0]
                samples.append({"minute": minute, "wall_s": time.perf_counter() - started,
                                "rss_mb": rss_mb(), "created": frame.ledger["created"],
                                "sim_t": frame.t, "lost": frame.ledger["lost"]})
                print(f"  minute {minute:3d}: RSS {samples[-1]['rss_mb']:7.1f} MB, "
                      f"{frame.ledger['created']:>10,} messages, simulated t = {frame.t:7.1f} s, "
                      f"lost {frame.ledger['lost']}", flush=True)

    with tempfile.TemporaryDirectory(prefix="soak-tui-") as tmp:
        asyncio.run(run(Path(tmp)))
    return samples


def verdict(samples: list[dict[str, Any]], warmup: int) -> bool:
    base = next(s for s in samples if s["minute"] == warmup)
    end = samples[-1]
    growth = (end["rss_mb"] - base["rss_mb"]) / base["rss_mb"] * 100
    rate = (end["created"] - base["created"]) / max(1e-9, end["wall_s"] - base["wall_s"])
    print(f"RSS: {base['rss_mb']:.1f} MB at minute {warmup}, {end['rss_mb']:.1f} MB at minute "
          f"{end['minute']}: {growth:+.1f}% (goal: under {GOAL:.0f}%); "
          f"peak {max(s['rss_mb'] for s in samples):.1f} MB; "
          f"{end['created']:,} messages, {rate:,.0f} per wall second after the warm-up")
    return growth < GOAL


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=60, help="simulated minutes (virtual)")
    parser.add_argument("--rate", type=float, default=2000.0, help="messages per second")
    parser.add_argument("--tui", type=int, metavar="MINUTES",
                        help="run the app on the real clock for MINUTES wall minutes instead")
    parser.add_argument("--warmup", type=int, help="minutes before growth is measured "
                        "(default 5 of the virtual run, 2 of the app's)")
    args = parser.parse_args()
    if args.tui:
        warmup = args.warmup or 2
        print(f"soak: the app, real clock, {args.tui} wall minutes at {args.rate:,.0f}/s")
        samples = soak_tui(args.tui, args.rate)
    else:
        warmup = args.warmup or 5
        print(f"soak: virtual clock, {args.minutes} simulated minutes at {args.rate:,.0f}/s")
        samples = soak_virtual(args.minutes, args.rate)
    if len(samples) <= warmup:
        print("too short to measure growth after the warm-up")
        return 1
    ok = verdict(samples, warmup)
    print("verdict: " + ("meets the goal" if ok else "MISSES the goal"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
