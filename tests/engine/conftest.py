"""Helpers for engine tests: topologies from dicts, runs on the virtual clock, events kept."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from playground.engine import events as ev
from playground.engine.clock import SimLoop
from playground.engine.runtime import Engine
from playground.runner import simulate
from playground.spec.model import Topology

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "topologies").glob("*.yaml"))


def topology(nodes: dict[str, Any], **top: Any) -> Topology:
    return Topology.model_validate({"version": 1, "name": top.pop("name", "test"),
                                    "duration": top.pop("duration", 10), "nodes": nodes, **top})


class Run:
    """A finished run: the report, the engine (stopped) and every event, in order."""

    def __init__(self, report: dict[str, Any], engine: Engine, events: list[ev.Event],
                 db: Path) -> None:
        self.report = report
        self.engine = engine
        self.events = events
        self.db = db

    @property
    def ledger(self) -> dict[str, int]:
        return self.report["ledger"]

    def node(self, node_id: str) -> dict[str, Any]:
        return self.report["nodes"][node_id]

    def of(self, kind: type, **fields: Any) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)
                and all(getattr(e, k) == v for k, v in fields.items())]

    def rows(self, store: str, columns: str = "id, trace, payload, written_at, attempt"
             ) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db) as db:
            return db.execute(f'SELECT {columns} FROM "{store}" ORDER BY row').fetchall()


def run(tmp_path: Path, topo: Topology, *, duration: float | None = None,
        drain: float | None = None, seed: int | None = None,
        setup: Callable[[Engine], None] | None = None, keep_events: bool = True) -> Run:
    """Runs ``topo`` on the virtual clock with its rows in ``tmp_path``."""
    events: list[ev.Event] = []
    holder: dict[str, Engine] = {}
    db = tmp_path / f"run-{len(list(tmp_path.glob('run-*.sqlite')))}.sqlite"

    def on_engine(engine: Engine) -> None:
        holder["engine"] = engine
        if keep_events:
            engine.bus.subscribe(events.append)
        if setup is not None:
            setup(engine)

    loop = SimLoop("virtual")
    try:
        report = loop.run_until_complete(simulate(topo, duration=duration, drain=drain,
                                                  seed=seed, db=db, on_engine=on_engine))
    finally:
        loop.close()
    return Run(report, holder["engine"], events, db)


@pytest.fixture
def sim(tmp_path: Path) -> Callable[..., Run]:
    def go(topo: Topology, **options: Any) -> Run:
        return run(tmp_path, topo, **options)

    return go
