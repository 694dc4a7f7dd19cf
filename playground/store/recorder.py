"""Rows in SQLite for every store write, written behind the engine in batches.

The recorder listens to ``MessageWritten`` events and appends rows to a buffer; a flusher
task hands them to aiosqlite (which works in a thread of its own) in transactions of up to
``BATCH`` rows. The simulated clock never waits for the disk: it only waits at the very end,
when :meth:`Recorder.close` flushes what is left. WAL mode keeps the file readable, with
every committed row whole, even if the process is killed mid-run.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from playground.engine import events as ev

BATCH = 5_000
RUNS_DIR = Path(".playground") / "runs"

Row = tuple[str, str, Any, float, int]


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def default_path(topology: str, seed: int, directory: Path = RUNS_DIR) -> Path:
    """A new file under ``.playground/runs/``: never one that exists already."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in topology) or "run"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = directory / f"{stem}-{seed}-{stamp}.sqlite"
    counter = 1
    while path.exists():
        counter += 1
        path = directory / f"{stem}-{seed}-{stamp}-{counter}.sqlite"
    return path


class Recorder:
    """Subscribe an instance to the engine's bus for ``MessageWritten``."""

    def __init__(self, path: str | Path, stores: Iterable[str]) -> None:
        self.path = Path(path)
        self.stores = list(stores)
        self._buffer: list[tuple[str, Row]] = []
        self._db: aiosqlite.Connection | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.rows = 0
        self.flushes = 0
        self._closing = False

    async def open(self) -> Recorder:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self.path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA synchronous=NORMAL")
        for store in self.stores:
            await self._db.execute(f"DROP TABLE IF EXISTS {quote(store)}")
            await self._db.execute(
                f"CREATE TABLE {quote(store)} (row INTEGER PRIMARY KEY, id TEXT NOT NULL, "
                "trace TEXT NOT NULL, payload TEXT NOT NULL, written_at REAL NOT NULL, "
                "attempt INTEGER NOT NULL)")
        await self._db.commit()
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._flusher(),
                                                            name="recorder")
        return self

    def __call__(self, event: ev.MessageWritten) -> None:
        if event.deduplicated:
            return
        self._buffer.append((event.node, (event.msg, event.trace, event.payload, event.t,
                                          event.attempt)))
        if len(self._buffer) >= BATCH and self._wake is not None:
            self._wake.set()

    async def _flusher(self) -> None:
        assert self._wake is not None
        while not self._closing:
            await self._wake.wait()
            self._wake.clear()
            await self._flush()

    async def _flush(self) -> None:
        if not self._buffer or self._db is None:
            return
        rows, self._buffer = self._buffer, []
        by_store: dict[str, list[Row]] = {}
        for store, row in rows:
            by_store.setdefault(store, []).append(row)
        for store, store_rows in by_store.items():
            await self._db.executemany(
                f"INSERT INTO {quote(store)} (id, trace, payload, written_at, attempt) "
                "VALUES (?, ?, ?, ?, ?)", _encoded(store_rows))
        await self._db.commit()
        self.rows += len(rows)
        self.flushes += 1

    async def flush(self) -> None:
        """Write everything buffered so far (the UI calls this before reading the file)."""
        await self._flush()

    async def close(self) -> None:
        """Flushes what is left and closes the file (never cancels a flush half-way)."""
        if self._task is not None and self._wake is not None:
            self._closing = True
            self._wake.set()
            await self._task
            self._task = None
        await self._flush()
        if self._db is not None:
            await self._db.close()
            self._db = None


def _encoded(rows: list[Row]) -> Iterator[tuple[str, str, str, float, int]]:
    # a generator: aiosqlite consumes it in its own thread, so the JSON is made there
    for msg_id, trace, payload, written_at, attempt in rows:
        yield msg_id, trace, json.dumps(payload, separators=(",", ":"), default=str), \
            written_at, attempt
