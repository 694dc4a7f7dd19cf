"""How responsive the app stays under load (issue #4's targets).

Runs the app headless (``run_test``) on the real clock with a producer of 5,000 messages/s
(queue, function, table behind it) and prints:

- time to the first frame, from the app's start and from a new process (target: 1.5 s),
- frames/s: frames drawn (from a new sample of the engine, or moving the glyphs on when
  the engine's answer is late) and screen updates Textual actually wrote (target: 20),
- key latency: from a key press (speed up or down) until the frame the panes get shows it
  and the screen has been written after that (target: 100 ms),
- the engine's own rate, to show the load was really there.

    python tests/bench/bench_ui.py [--seconds 8] [--rate 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TOPOLOGY = """\
version: 1
name: bench
description: A steady firehose for the responsiveness benchmark.
seed: 1
duration: 1h
nodes:
  clients: {{kind: producer, rate: {rate}/s, pattern: constant, to: intake}}
  intake: {{kind: queue, to: work}}
  work: {{kind: function, concurrency: 50, batch_size: 10, duration: 5ms, to: rows}}
  rows: {{kind: store}}
"""


async def bench(seconds: float, rate: int) -> dict[str, Any]:
    from textual import events

    from playground.ui.app import PlaygroundApp
    from playground.ui.screens.run_screen import RunScreen

    work = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    path = work / "bench.yaml"
    path.write_text(TOPOLOGY.format(rate=rate))
    started = time.perf_counter()
    app = PlaygroundApp(path, mode="real", db=work / "bench.sqlite",
                        screenshots_dir=work / "shots")
    displays = 0
    display = app._display

    def counting_display(screen: Any, renderable: Any) -> None:  # counts screen updates
        nonlocal displays
        displays += 1
        display(screen, renderable)

    app._display = counting_display  # type: ignore[method-assign]
    result: dict[str, Any] = {}
    async with app.run_test(size=(120, 40)):
        while not (isinstance(app.screen, RunScreen) and app.screen.frames[0] is not None):
            await asyncio.sleep(0.005)
        result["first_frame_s"] = time.perf_counter() - started
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await asyncio.sleep(1.0)  # warm up: the run settles into its rate

        frames0, displays0, wall0 = screen.frame_count, displays, time.perf_counter()
        glides0 = screen.glides
        cpu0, ui0 = time.process_time(), time.thread_time()  # this is the app's thread
        frame = screen.frames[0]
        created0, sim0 = frame.ledger["created"], frame.t
        await asyncio.sleep(seconds)
        wall = time.perf_counter() - wall0
        result["cpu_share"] = (time.process_time() - cpu0) / wall
        result["ui_cpu_share"] = (time.thread_time() - ui0) / wall
        frame = screen.frames[0]
        result["frames_per_s"] = (screen.frame_count - frames0) / wall
        result["drawn_per_s"] = result["frames_per_s"] + (screen.glides - glides0) / wall
        result["screen_updates_per_s"] = (displays - displays0) / wall
        result["messages_per_s"] = (frame.ledger["created"] - created0) / wall
        result["sim_speed"] = (frame.t - sim0) / wall
        result["feed_dropped"] = screen.sessions[0].host.feed.dropped  # type: ignore[union-attr]

        latencies = []
        for i in range(30):
            key, char, speed = ("plus", "+", 2.0) if i % 2 == 0 else ("minus", "-", 1.0)
            pressed = time.perf_counter()
            # the key enters the app as the terminal driver would hand it over (Pilot.press
            # would also wait for the app to be idle, which a running app never quite is)
            app.post_message(events.Key(key, char))
            while True:  # the state the panes get shows it...
                shown = screen.frames[0]
                if shown is not None and shown.clock.speed == speed:
                    break
                await asyncio.sleep(0.001)
            written = displays
            while displays == written:  # ...and the screen has been written since
                await asyncio.sleep(0.001)
            latencies.append(time.perf_counter() - pressed)
            await asyncio.sleep(0.15)
        result["key_latency_median_ms"] = statistics.median(latencies) * 1000
        result["key_latency_p90_ms"] = statistics.quantiles(latencies, n=10)[-1] * 1000
        result["key_latency_max_ms"] = max(latencies) * 1000
    return result


COLD = """
import asyncio, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from playground.ui.app import PlaygroundApp
from playground.ui.screens.run_screen import RunScreen

async def run():
    app = PlaygroundApp(Path({path!r}), mode="real", db=Path({db!r}))
    async with app.run_test(size=(120, 40)):
        while not (isinstance(app.screen, RunScreen) and app.screen.frames[0] is not None):
            await asyncio.sleep(0.005)
        print("first frame", flush=True)

asyncio.run(run())
"""


def cold_start() -> float:
    """Seconds from starting a new Python process to the app's first frame (imports too)."""
    import subprocess

    work = Path(tempfile.mkdtemp(prefix="bench-ui-cold-"))
    code = COLD.format(root=str(ROOT), path=str(ROOT / "topologies" / "showcase.yaml"),
                       db=str(work / "cold.sqlite"))
    started = time.perf_counter()
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                          text=True) as child:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("first frame"):
                return time.perf_counter() - started
    raise RuntimeError("the app did not show a frame")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rate", type=int, default=5000)
    args = parser.parse_args()
    result = asyncio.run(bench(args.seconds, args.rate))
    result["cold_start_s"] = cold_start()
    print(f"load:             {result['messages_per_s']:,.0f} messages/s created "
          f"(target {args.rate:,}/s), simulated time at {result['sim_speed']:.2f}x")
    print(f"first frame:      {result['first_frame_s'] * 1000:.0f} ms after the app starts, "
          f"{result['cold_start_s'] * 1000:.0f} ms from a new process (target <= 1500 ms)")
    print(f"frames/s:         {result['drawn_per_s']:.1f} drawn "
          f"({result['frames_per_s']:.1f} from a new sample, the others moving the glyphs "
          f"on), {result['screen_updates_per_s']:.1f} screen updates (target >= 20)")
    print(f"key latency:      median {result['key_latency_median_ms']:.0f} ms, "
          f"90% under {result['key_latency_p90_ms']:.0f} ms, "
          f"max {result['key_latency_max_ms']:.0f} ms (target <= 100 ms)")
    print(f"events dropped:   {result['feed_dropped']:,} (by the bounded feed that trace following "
          "reads; counts and the log come from the snapshot and the tap, which lose none)")
    print(f"CPU:              {result['cpu_share']:.0%} of one core, engine and app together "
          f"({result['ui_cpu_share']:.0%} the app's own thread)")
    ok = (result["cold_start_s"] <= 1.5 and result["drawn_per_s"] >= 20
          and result["screen_updates_per_s"] >= 20
          and result["key_latency_max_ms"] <= 100)
    print("verdict:          " + ("meets the targets" if ok else "MISSES a target"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
