"""A run on the virtual clock with everything that can go wrong watched: the ledger, the rows,
the tasks, the loop's own error handler and the engine's NodeFailed events."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playground.engine import events as ev
from playground.engine.clock import SimLoop
from playground.engine.nodes.function import FunctionNode
from playground.engine.nodes.queue import VISIBLE, QueueNode
from playground.engine.runtime import Engine
from playground.runner import simulate
from playground.spec import model as m

WALL_LIMIT = 30.0


@dataclass
class Outcome:
    report: dict[str, Any]
    engine: Engine
    events: list[ev.Event]
    rows: dict[str, list[tuple[Any, ...]]]
    tasks_left: list[str] = field(default_factory=list)
    loop_errors: list[str] = field(default_factory=list)

    @property
    def ledger(self) -> dict[str, int]:
        return self.report["ledger"]

    def of(self, kind: type, **fields: Any) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)
                and all(getattr(e, k) == v for k, v in fields.items())]


def run_watched(topology: m.Topology, *, duration: float | None = None,
                drain: float | None = None, setup: Any = None,
                db_dir: Path | None = None, wall_limit: float = WALL_LIMIT) -> Outcome:
    """Runs ``topology`` headless (``simulate``, as ``sim`` does) on a fresh virtual clock;
    a run still going after ``wall_limit`` seconds of wall time fails."""
    events: list[ev.Event] = []
    loop_errors: list[str] = []
    holder: dict[str, Engine] = {}

    def on_engine(engine: Engine) -> None:
        holder["engine"] = engine
        engine.bus.subscribe(events.append)
        if setup is not None:
            setup(engine)

    def on_loop_error(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # an exception in a timer callback or an unretrieved task error: asyncio would only
        # log it and go on, so a run could look fine with a message stranded
        loop_errors.append(f"{context.get('message')}: {context.get('exception')!r}")

    async def main(db: Path) -> tuple[dict[str, Any], list[str]]:
        loop = asyncio.get_running_loop()
        run = loop.create_task(simulate(topology, duration=duration, drain=drain, db=db,
                                        on_engine=on_engine), name="simulate")
        watchdog = loop.create_future()
        timer = threading.Timer(wall_limit, loop.call_soon_threadsafe, (_settle, watchdog))
        timer.start()
        try:
            await asyncio.wait({run, watchdog}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
        if not run.done():  # stuck (spinning at one instant, say): stop it and say so
            stuck_at = loop.time()
            run.cancel()
            await holder["engine"].stop()
            await asyncio.gather(run, return_exceptions=True)
            raise AssertionError(f"the run did not end within {wall_limit} s of wall time "
                                 f"(simulated time stood at {stuck_at})")
        others = [t.get_name() for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        return run.result(), others

    with tempfile.TemporaryDirectory(dir=db_dir) as directory:
        db = Path(directory) / "run.sqlite"
        loop = SimLoop("virtual")
        loop.set_exception_handler(on_loop_error)
        try:
            report, left = loop.run_until_complete(main(db))
        finally:
            loop.close()
        rows: dict[str, list[tuple[Any, ...]]] = {}
        with sqlite3.connect(db) as conn:
            for store, spec in topology.nodes.items():
                if isinstance(spec, m.StoreSpec):
                    rows[store] = conn.execute(
                        f'SELECT id, trace, payload, written_at, attempt FROM "{store}" '
                        "ORDER BY row").fetchall()
        conn.close()
    engine = holder["engine"]
    left += [t.get_name() for t in engine.tasks]
    return Outcome(report, engine, events, rows, left, loop_errors)


def assert_sound(outcome: Outcome, topology: m.Topology, *, failures_expected: bool = False
                 ) -> None:
    """What must hold after any run: see the module docstring of test_properties."""
    ledger = outcome.ledger
    assert ledger["lost"] == 0, ledger
    accounted = sum(v for k, v in ledger.items() if k not in ("created", "lost"))
    assert accounted == ledger["created"], ledger
    assert all(v >= 0 for v in ledger.values()), ledger
    assert outcome.loop_errors == [], outcome.loop_errors
    assert outcome.tasks_left == [], outcome.tasks_left
    if not failures_expected:
        failed = [(e.node, e.error) for e in outcome.of(ev.NodeFailed)]
        assert failed == [], failed
    for node_id, entry in outcome.report["nodes"].items():
        for key, value in entry.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                assert value >= 0, (node_id, key, value)
    _assert_rows(outcome, topology)
    _assert_no_idle_consumer(outcome)


def _assert_no_idle_consumer(outcome: Outcome) -> None:
    """No queue keeps a message waiting while one of its consumers could take it: free,
    not paused, and with no asynchronous event of its own waiting (a second's grace covers a
    batch window)."""
    engine = outcome.engine
    end = engine.sim_seconds
    for queue in engine.nodes.values():
        if not isinstance(queue, QueueNode) or not queue.consumers:
            continue
        waiting = [queue.groups[g][0] for g in queue.ready] if queue.fifo else \
            [m for m in queue.visible if m.state == VISIBLE]
        stale = [m for m in waiting if m.visible_since < end - 1.0]
        if not stale:
            continue
        for consumer in queue.consumers:
            function = engine.nodes[consumer]
            assert isinstance(function, FunctionNode)
            idle = function.free > 0 and not function.paused and not function.events
            assert not idle, (f"{queue.id} has kept {stale[0].id} waiting since "
                              f"t={stale[0].visible_since} while {consumer} was free")


def _assert_rows(outcome: Outcome, topology: m.Topology) -> None:
    """The rows are the writes, and each write was the delivery of its copy or a duplicate."""
    delivered: dict[str, str] = {}  # copy -> where it was delivered
    previous: ev.Event | None = None
    for event in outcome.events:
        if isinstance(event, ev.MessageDelivered):
            assert event.msg not in delivered, f"{event.msg} delivered twice"
            delivered[event.msg] = event.node
        elif isinstance(event, ev.MessageWritten):
            # a copy's first write delivers it (and says so just before); any later write,
            # or one of a copy already delivered elsewhere, is a duplicate
            assert event.msg in delivered, f"{event.msg} written but never delivered"
            first = isinstance(previous, ev.MessageDelivered) and previous.msg == event.msg \
                and previous.node == event.node
            assert event.duplicate == (not first), event
        previous = event
    changed = {s.node for s in topology.scenario
               if isinstance(s, m.SetStep) and "idempotent" in s.fields}
    for store, rows in outcome.rows.items():
        spec = topology.nodes[store]
        assert isinstance(spec, m.StoreSpec)
        entry = outcome.report["nodes"][store]
        writes = outcome.of(ev.MessageWritten, node=store)
        kept = [e for e in writes if not e.deduplicated]
        # the file holds exactly the writes the engine made, each row whole
        assert len(rows) == len(kept) == entry["out"], (store, len(rows), entry)
        assert sorted(r[0] for r in rows) == sorted(e.msg for e in kept), store
        for msg_id, trace, payload, written_at, attempt in rows:
            assert msg_id and trace and isinstance(json.loads(payload), dict), store
            assert written_at >= 0 and attempt >= 1, (store, written_at, attempt)
        here = {msg for msg, node in delivered.items() if node == store}
        assert entry["delivered"] == len(here), (store, entry)
        if store in changed:  # made idempotent or not during the run
            continue
        if spec.idempotent:
            # one row per key, and every key written (deduplicated or not) has its row
            key = spec.idempotent.key if isinstance(spec.idempotent, m.IdempotencyKey) else None
            keys = [r[1] if key is None else repr(json.loads(r[2]).get(key)) for r in rows]
            assert len(keys) == len(set(keys)), f"{store}: a key written twice"
            every = {e.trace if key is None else repr(_field(e.payload, key)) for e in writes}
            assert every == set(keys), store
        else:
            # every copy delivered here has its row; the other rows are duplicates (above)
            assert len(kept) == len(writes), store
            assert here <= {r[0] for r in rows}, store


def _field(payload: Any, key: str) -> Any:
    return payload.get(key) if isinstance(payload, dict) else None


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
