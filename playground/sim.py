"""`playground sim`: run a topology headless and print the report (JSON or tables)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

from playground.engine.clock import MAX_SPEED, MIN_SPEED, SimLoop
from playground.mqtt.command import mqtt_run
from playground.mqtt.options import ClaimConflict
from playground.paths import db_problem
from playground.runner import simulate
from playground.spec import load_file
from playground.spec.model import Topology
from playground.spec.units import parse_duration
from playground.store.recorder import RecordingFailed, default_path

STOP_WAIT = 10.0  # wall seconds an interrupted run gets to stop and write its rows
NONE = "-"  # a figure of no values: a 0.0ms there would read as answers that took no time


def _duration_arg(name: str, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        # on the command line every value is text: a bare number is seconds, as in a file
        return parse_duration(_number(value))
    except ValueError as error:
        raise SystemExit(f"playground sim: {name}: {error}") from None


def _number(text: str) -> float | str:
    """``text`` as a number when it is one (``10``, ``1e3``), else as it is (``10s``)."""
    try:
        return float(text)
    except ValueError:
        return text


def run_sim(args: argparse.Namespace) -> int:
    loaded = load_file(args.file, lint=False)
    if not loaded.ok:
        for problem in loaded.errors:
            print(problem, file=sys.stderr)
        return 1
    topology = loaded.require()
    duration = _duration_arg("--duration", args.duration)
    drain = _duration_arg("--drain", args.drain)
    if not MIN_SPEED <= args.speed <= MAX_SPEED:  # NaN fails this too
        raise SystemExit(f"playground sim: --speed must be from {MIN_SPEED:g} to "
                         f"{MAX_SPEED:g} (got {args.speed:g})")
    if args.seed is not None and args.seed < 0:
        raise SystemExit(f"playground sim: --seed must be 0 or more (got {args.seed})")
    if args.db is not None and (problem := db_problem(args.db)):
        raise SystemExit(f"playground sim: {problem}")
    interrupted = False
    with mqtt_run(args, topology, prog="playground sim", clock=args.clock) as mqtt:
        try:
            # named here, not by the run, so that an interrupted run can say where its rows are
            db = Path(args.db) if args.db is not None else default_path(
                topology.name, topology.seed if args.seed is None else args.seed)
        except RecordingFailed as error:  # names the file, the reason, what to do
            print(f"playground sim: {error}", file=sys.stderr)
            return 1
        loop = SimLoop(args.clock, args.speed)
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                task = outcome["task"] = loop.create_task(simulate(
                    topology, duration=duration, drain=drain, seed=args.seed, db=db,
                    mqtt=mqtt, on_engine=lambda engine: outcome.setdefault("started", engine)))
                outcome["report"] = loop.run_until_complete(task)
            except BaseException as error:  # shown below, in the main thread
                outcome["error"] = error
            finally:
                loop.close()
                finished.set()

        finished = threading.Event()
        thread = threading.Thread(target=work, name="sim", daemon=True)
        thread.start()
        total = (duration if duration is not None else topology.duration) + (drain or 0.0)
        try:
            if args.json:
                thread.join()
            else:
                _wait_with_progress(thread, loop, total)
        except KeyboardInterrupt:
            interrupted = True
            stopped_at = loop.time()  # before stopping: the idle clock may jump on meanwhile
            _stop(loop, outcome.get("task"), finished)
    if interrupted:
        if "started" not in outcome:  # still waiting for the MQTT broker, say
            print("playground sim: interrupted before the run started; no rows were written",
                  file=sys.stderr)
            return 130
        # the progress bar is gone and the default file's name was never shown
        rows = f"the rows written so far are in {db}" if db.exists() else "no rows were written"
        print(f"playground sim: interrupted at {stopped_at:.1f} s of {total:.10g} s simulated; "
              f"{rows}", file=sys.stderr)
        return 130
    error = outcome.get("error")
    if isinstance(error, ClaimConflict):  # the link's own line said which nodes, and why
        print("playground sim: stopped: another process runs the same nodes", file=sys.stderr)
        return 1
    if isinstance(error, RecordingFailed):  # names the file, the reason, what to do
        print(f"playground sim: {error}", file=sys.stderr)
        return 1
    if isinstance(error, OSError | sqlite3.Error):
        where = db
        print(f"playground sim: cannot write {where}: {error}", file=sys.stderr)
        return 1
    if error is not None:
        raise error
    report = outcome["report"]
    for failure in outcome["started"].scenario.failures:
        print(f"playground sim: {failure}", file=sys.stderr)
    if args.json:
        sys.stdout.write(json.dumps(report) + "\n")
    else:
        print_summary(topology, report)
    if (broken := _link_problem(report)) is not None:
        # the figures are not the whole run's (what went to or came from other processes
        # stopped, or never started): a script must not take them for it
        print(f"playground sim: {broken}", file=sys.stderr)
        return 1
    return 0


def _stop(loop: SimLoop, task: asyncio.Task[Any] | None, finished: threading.Event) -> None:
    """Ctrl+C: the run is cancelled in its own thread, which stops the engine and writes
    the rows still buffered (up to 5,000 and more, simulated seconds' worth) before the file
    closes. A second Ctrl+C, or a run that takes over ten seconds to end, leaves them.

    Waits for an event, not Thread.join: a join that Ctrl+C interrupted may take the thread
    for ended while it runs (CPython 3.11), and the next join returns at once."""
    if task is None:
        return
    with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: the run ended
        loop.call_soon_threadsafe(task.cancel)
    with contextlib.suppress(KeyboardInterrupt):
        finished.wait(STOP_WAIT)


def _never_connected(report: dict[str, Any]) -> str | None:
    mqtt = report.get("mqtt")
    if not mqtt or not mqtt.get("url") or mqtt.get("ever_connected", True):
        return None
    error = f": {mqtt['error']}" if mqtt.get("error") else ""
    return (f"never connected to the MQTT broker at {mqtt['url']}, so nothing went to or "
            f"came from other processes{error}")


def _link_problem(report: dict[str, Any]) -> str | None:
    """Why the --broker link leaves the run's figures short, or None."""
    if (unreached := _never_connected(report)) is not None:
        return unreached
    mqtt = report.get("mqtt")
    if not mqtt or "down_for" not in mqtt:
        return None
    error = f": {mqtt['error']}" if mqtt.get("error") else ""
    return (f"the link to the MQTT broker at {mqtt['url']} dropped {mqtt['down_for']:.1f} s "
            f"(wall) before the run ended and did not come back, so from then on nothing "
            f"went to or came from other processes{error}")


def _wait_with_progress(thread: threading.Thread, loop: SimLoop, total: float) -> None:
    thread.join(1.0)
    if not thread.is_alive():
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("simulating"), BarColumn(),
                  TextColumn("{task.completed:.1f}/{task.total:.0f} s simulated"),
                  TimeElapsedColumn(), transient=True) as progress:
        task = progress.add_task("sim", total=max(total, 1e-9))
        while thread.is_alive():
            progress.update(task, completed=min(total, loop.time()))
            thread.join(0.1)
            time.sleep(0)


def print_summary(topology: Topology, report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    # a pipe or a file has no width: lines cut at rich's default 80 columns there break
    # mid-phrase, where a terminal would have wrapped them at its own width anyway
    console.soft_wrap = not console.is_terminal
    console.print(f"[bold]{report['topology']}[/] seed {report['seed']}, "
                  f"{report['sim_seconds']:.1f} s simulated in {report['wall_seconds']:.2f} s "
                  f"({report['clock']} clock); rows in {report['db']}")
    ledger = report["ledger"]
    parts = [f"{key} [bold]{value}[/]" for key, value in ledger.items() if key != "lost"]
    lost = ledger["lost"]
    parts.append(f"[bold red]lost {lost}[/]" if lost else "lost [bold]0[/]")
    console.print("ledger: " + ", ".join(parts))
    client = report["client"]
    not_ok = client["errors"] + client["timeouts"]
    statuses = ", ".join(f"{status}: {count}" for status, count in client["statuses"].items()
                         if not status.startswith("2"))
    console.print(f"client: sent {client['sent']}, ok {client['ok']}, errors {client['errors']}"
                  + (f" ({statuses})" if statuses else "") + f", timeouts {client['timeouts']}")
    # ok answers only: a 504 after a gateway's timeout took its own time, shown apart
    latency = f"  latency of ok answers {_p50_p99(client['latency'], client['ok'])}"
    if not_ok:
        latency += f"; of errors and timeouts {_p50_p99(client['error_latency'], not_ok)}"
    console.print(latency)
    e2e = report["end_to_end"]
    console.print("end to end: " + (
        f"mean {_ms(e2e['mean'])} p50 {_ms(e2e['p50'])} p95 {_ms(e2e['p95'])} "
        f"p99 {_ms(e2e['p99'])} max {_ms(e2e['max'])}" if report["ledger"]["delivered"]
        else NONE))
    mqtt = report.get("mqtt")
    if mqtt is not None:
        unreached = _never_connected(report)
        if unreached is not None:
            console.print(f"mqtt: {unreached}", markup=False)
        down = ""
        if "down_for" in mqtt:  # the state reads closed once the run ended: say how it ended
            down = f"link down for the last {mqtt['down_for']:.1f} s of the run" + (
                f" ({mqtt['error']})" if mqtt.get("error") else "") + ", "
        console.print(f"mqtt: {mqtt['url'] or 'sources only'}, {down}"
                      f"{mqtt.get('reconnects', 0)} reconnects; {mqtt['batches_sent']} "
                      f"batches sent ({mqtt['resent']} resent), "
                      f"{mqtt['received']} messages received, {mqtt['injected']} injected, "
                      f"{mqtt['refused']} refused; tap: {mqtt['tap_published']} published, "
                      f"{mqtt['tap_dropped']} left out or dropped"
                      + (f"; no process ran {', '.join(mqtt['missing'])}"
                         if mqtt.get("missing") else ""), markup=False)
    from rich.columns import Columns

    tables = []
    for node_id, entry in report["nodes"].items():
        table = Table(title=f"{node_id} ({entry['kind']})", show_header=False,
                      title_justify="left", min_width=24)
        table.add_column("figure")
        table.add_column("value", justify="right")
        counted = _populations(entry)
        for key, value in entry.items():
            if key != "kind":
                table.add_row(key, NONE if counted.get(key, 1) == 0 else _cell(value))
        tables.append(table)
    console.print(Columns(tables), soft_wrap=False)  # laid out side by side within a width


def _p50_p99(summary: dict[str, float], count: int) -> str:
    return f"p50 {_ms(summary['p50'])} p99 {_ms(summary['p99'])}" if count else NONE


def _populations(entry: dict[str, Any]) -> dict[str, int]:
    """How many values a node's summaries hold, where the entry tells: an empty one reads
    0.0ms, as if answers had come at once."""
    kind = entry["kind"]
    if kind == "producer":
        return {"latency": entry["ok"], "error_latency": entry["errors"] + entry["timeouts"]}
    if kind == "queue" and "received" in entry:
        return {"wait": entry["received"]}
    if kind == "function" and "invocations" in entry:
        return {"duration": entry["invocations"]}
    return {}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}ms" if seconds < 10 else f"{seconds:.1f}s"


def _cell(value: Any) -> str:
    if isinstance(value, dict) and "p50" in value:
        return f"mean {_ms(value['mean'])} p50 {_ms(value['p50'])}\np95 {_ms(value['p95'])} " \
               f"p99 {_ms(value['p99'])}"
    if isinstance(value, float):
        return f"{value:.3g}"
    return "" if value is None else str(value)
