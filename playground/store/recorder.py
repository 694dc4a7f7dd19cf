"""Rows in SQLite for every store write, written behind the engine in batches.

The recorder listens to ``MessageWritten`` events and appends rows to a buffer; a flusher
task hands them to aiosqlite (which works in a thread of its own) in transactions of up to
``BATCH`` rows. The engine does not wait for the disk, until the disk falls ``HIGH_WATER``
rows behind: then simulated time is held (work due at the current instant still runs) until
a flush has caught up, so a slow disk costs wall time, never memory or simulated time. WAL
mode keeps the file readable, with every committed row whole, even if the process is killed
mid-run.

Rows go in as multi-row ``INSERT`` statements, a few thousand rows per statement: the
sqlite3 module lets go of the GIL around every statement it steps, and a thread that gives
the GIL back to a busy engine thread waits a whole switch interval (5 ms) to get it again. A
statement per row made a batch of 5,000 rows take tens of seconds beside a busy engine.

A write that fails leaves its rows buffered. When another program holds the file's lock, the
recorder tries again (waiting in wall time, in the database's thread) for up to
``LOCK_PATIENCE`` seconds, the ``HIGH_WATER`` hold bounding memory meanwhile; any other
failure (disk full, I/O error, the file gone or read-only) is lasting: the recorder stops,
lets simulated time go and tells ``on_failure``, and the run ends with
:class:`RecordingFailed`, every row committed before still in the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

import aiosqlite

from playground.engine import events as ev
from playground.paths import unused

BATCH = 5_000
HIGH_WATER = 100_000  # rows waiting for the disk before simulated time waits for it
COLUMNS = ("id", "trace", "payload", "written_at", "attempt")
# SQLite allows 32,766 bound values per statement since 3.32, 999 before
ROWS_PER_STATEMENT = (32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999) \
    // len(COLUMNS)
RUNS_DIR = Path(".playground") / "runs"
STATEMENTS_KEPT = 4  # prepared statements the connection keeps (see open)
BUSY_TIMEOUT = 5.0  # seconds SQLite itself waits for another program's lock, per try
RETRY_FIRST = 0.05  # wall seconds before trying a locked file again, doubled each time...
RETRY_MOST = 2.0  # ...up to this
LOCK_PATIENCE = 120.0  # wall seconds another program may keep the file locked
NAME_MAX = 255  # bytes in a file name on nearly every file system
# what SQLite adds to the file's name ("-wal"), and unused() to a name already taken
NAME_SPARE = len("-wal") + len("-99999")

Row = tuple[str, str, Any, float, int]


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class RecordingFailed(Exception):
    """The run's rows cannot be written: which file, why, and what to do about it."""

    def __init__(self, path: Path, reason: str, advice: str) -> None:
        super().__init__(f"cannot write {path}: {reason} ({advice})")
        self.path = path
        self.reason = reason


def _failed(path: Path, error: BaseException) -> RecordingFailed:
    if isinstance(error, RecordingFailed):
        return error
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    code = getattr(error, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_FULL or getattr(error, "errno", None) == errno.ENOSPC:
        advice = "free some space, or choose another file with --db"
    else:
        advice = "check that its folder is there and writable, or choose another file with --db"
    return RecordingFailed(path, reason, advice)


def _locked(error: BaseException) -> bool:
    """Another connection holds the lock: a wait, not a failure."""
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def default_path(topology: str, seed: int, directory: Path = RUNS_DIR) -> Path:
    """A new file under ``.playground/runs/``, made empty here: never one that exists
    already, nor one another run (in this process or another) is given too."""
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in topology) or "run"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    tail = f"-{seed}-{stamp}"
    room = NAME_MAX - NAME_SPARE - len(f"{tail}.sqlite".encode())
    # the limit is in bytes: a name of 130 "é" is 260 of them
    stem = stem.encode()[:max(room, 1)].decode(errors="ignore") or "run"
    try:
        return unused(directory, f"{stem}{tail}", ".sqlite", claim=True)
    except OSError as error:
        raise _failed(directory / f"{stem}{tail}.sqlite", error) from None


class Recorder:
    """Subscribe an instance to the engine's bus for ``MessageWritten``."""

    def __init__(self, path: str | Path, stores: Iterable[str]) -> None:
        self.path = Path(path)
        self.stores = list(stores)
        self._buffer: list[tuple[str, Row]] = []
        self._flushing: list[tuple[str, Row]] = []  # on their way into the file
        self._db: aiosqlite.Connection | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.rows = 0
        self.flushes = 0
        self.holds = 0  # times simulated time waited for the disk
        self._clock: Any = None
        self._held = False
        self._closing = False
        self.failure: RecordingFailed | None = None  # set: nothing more reaches the file
        # called once, in the loop's thread, when the failure is found
        self.on_failure: Callable[[RecordingFailed], None] | None = None

    async def open(self) -> Recorder:
        """Makes the file and its tables; raises :class:`RecordingFailed` if it cannot."""
        # a statement is cached per text, and ours hold one placeholder list per row: a live
        # run flushing every second makes a new size each time, and a cache of 128 such
        # statements grew the app by 100 MB in minutes. Making one anew is cheap beside the
        # thousands of rows it writes
        connection = aiosqlite.connect(self.path, timeout=BUSY_TIMEOUT,
                                       cached_statements=STATEMENTS_KEPT)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = await connection
            await self._db.execute("PRAGMA journal_mode=WAL")
            await self._db.execute("PRAGMA synchronous=NORMAL")
            for store in self.stores:
                await self._db.execute(f"DROP TABLE IF EXISTS {quote(store)}")
                await self._db.execute(
                    f"CREATE TABLE {quote(store)} (row INTEGER PRIMARY KEY, id TEXT NOT NULL, "
                    "trace TEXT NOT NULL, payload TEXT NOT NULL, written_at REAL NOT NULL, "
                    "attempt INTEGER NOT NULL)")
            await self._db.commit()
        except (OSError, sqlite3.Error) as error:
            await _shut(connection)
            self._db = None
            raise _failed(self.path, error) from None
        self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        if hasattr(loop, "hold"):  # the engine's SimLoop; a plain loop's time cannot wait
            self._clock = loop
        self._task = loop.create_task(self._flusher(), name="recorder")
        return self

    def __call__(self, event: ev.MessageWritten) -> None:
        if event.deduplicated:
            return
        self._buffer.append((event.node, (event.msg, event.trace, event.payload, event.t,
                                          event.attempt)))
        if len(self._buffer) >= BATCH and self._wake is not None:
            self._wake.set()
            if len(self._buffer) >= HIGH_WATER and self._clock is not None and not self._held:
                self._clock.hold()
                self._held = True
                self.holds += 1

    async def _flusher(self) -> None:
        assert self._wake is not None
        try:
            while not self._closing and self.failure is None:
                await self._wake.wait()
                self._wake.clear()
                await self._write()
                if self._held and len(self._buffer) < HIGH_WATER:
                    self._let_go()
        finally:
            self._let_go()

    async def _write(self) -> None:
        """Flushes, waiting out another program's lock; a lasting failure is kept in
        :attr:`failure` and told to :attr:`on_failure`, not raised."""
        assert self._db is not None
        delay = RETRY_FIRST
        locked_since: float | None = None
        while self.failure is None:
            try:
                await self._flush()
                return
            except (OSError, sqlite3.Error) as error:
                now = time.monotonic()
                if _locked(error):
                    locked_since = now if locked_since is None else locked_since
                    if now - locked_since < LOCK_PATIENCE:
                        # in the database's thread: wall time, which a held clock is not
                        await self._db._execute(time.sleep, delay)
                        delay = min(delay * 2, RETRY_MOST)
                        continue
                    error = RecordingFailed(
                        self.path, str(error), f"another program kept it locked for "
                        f"{now - locked_since:.0f} s; close it, or choose another file "
                        "with --db")
                self._fail(_failed(self.path, error))

    def _fail(self, failure: RecordingFailed) -> None:
        self.failure = failure
        self._let_go()
        self._clock = None  # rows that still come must not hold simulated time again
        if self.on_failure is not None:
            self.on_failure(failure)

    def _let_go(self) -> None:
        if self._held:
            self._held = False
            self._clock.release()

    async def _flush(self) -> None:
        if not self._buffer or self._db is None:
            return
        rows, self._buffer = self._buffer, []
        self._flushing = rows
        by_store: dict[str, list[Row]] = {}
        for store, row in rows:
            by_store.setdefault(store, []).append(row)
        try:
            for store, store_rows in by_store.items():
                for start in range(0, len(store_rows), ROWS_PER_STATEMENT):
                    chunk = store_rows[start:start + ROWS_PER_STATEMENT]
                    # private, but the only way to run our own code in its thread:
                    # pyproject.toml keeps aiosqlite to the versions that have it
                    await self._db._execute(_insert_rows, self._db._conn,
                                            _insert(store, len(chunk)), chunk)
            await self._db.commit()
        except Exception:  # a cancel is not caught: its rows may be going in still
            # none of them is in the file: a later try writes them, in their order
            self._buffer[:0] = rows
            with contextlib.suppress(sqlite3.Error, ValueError):
                await self._db.rollback()
            raise
        finally:
            self._flushing = []
        self.rows += len(rows)
        self.flushes += 1

    def written(self, store: str) -> Iterator[tuple[str, Any]]:
        """``(trace, payload)`` of every row ``store`` has written so far: those in the file
        and those still on their way (a row may come twice). Read in the engine's thread, at
        once: a store turned idempotent needs them before its next write."""
        with contextlib.closing(sqlite3.connect(self.path)) as db:
            cursor = db.execute(f"SELECT trace, payload FROM {quote(store)}")
            for trace, payload in cursor:
                yield trace, json.loads(payload)
        for name, row in [*self._flushing, *self._buffer]:
            if name == store:
                yield row[1], row[2]

    def flush_soon(self) -> None:
        """Lets the flusher write what is buffered now rather than at ``BATCH`` rows: a run
        watched live calls this every second, so that its file shows rows as they come."""
        if self._buffer and self._wake is not None:
            self._wake.set()

    async def flush(self) -> None:
        """Write everything buffered so far (the UI calls this before reading the file)."""
        if self.failure is None:
            await self._write()
        if self.failure is not None:
            raise self.failure

    async def close(self) -> None:
        """Flushes what is left and closes the file (never cancels a flush half-way);
        raises :attr:`failure` once the file is closed, if the rows could not all go in."""
        if self._task is not None and self._wake is not None:
            self._closing = True
            self._wake.set()
            await self._task
            self._task = None
        if self.failure is None and self._db is not None:
            await self._write()
        if self._db is not None:
            db, self._db = self._db, None
            try:
                await db.close()
            except (OSError, sqlite3.Error) as error:
                if self.failure is None:
                    self._fail(_failed(self.path, error))
        if self.failure is not None:
            raise self.failure


async def _shut(connection: aiosqlite.Connection) -> None:
    """Ends the database's thread of a connection that failed: left to end by itself, it
    may answer a loop that has closed meanwhile (a traceback from its thread)."""
    if connection._connection is not None:
        with contextlib.suppress(sqlite3.Error, ValueError):
            await connection.close()
    elif connection._thread.is_alive():
        # connect() failed and has told the thread to end: that takes it no time, and it
        # needs nothing from this loop to do it
        connection._thread.join(BUSY_TIMEOUT)


def _insert(store: str, rows: int) -> str:
    one = "(" + ", ".join("?" * len(COLUMNS)) + ")"
    return f"INSERT INTO {quote(store)} ({', '.join(COLUMNS)}) VALUES " + \
        ", ".join([one] * rows)


def _insert_rows(db: sqlite3.Connection, sql: str, rows: list[Row]) -> None:
    """Runs in the database's thread (aiosqlite's ``_execute``), so each payload is turned
    into JSON there, not in the engine's. The bound values are made in one list: a sequence
    of our own would cost sqlite3 a Python call per value, with the GIL held."""
    encode = _encoder()
    db.execute(sql, [value for msg, trace, payload, at, attempt in rows
                     for value in (msg, trace, encode(payload), at, attempt)])


def _json(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"), default=str)


def _encoder() -> Callable[[Any], str]:
    """What :func:`_json` does, for the rows of one statement. json.dumps makes a new
    encoder for each payload, half the time it takes; one C encoder serves them all (made
    per statement: the markers it keeps against cycles must not be shared by threads)."""
    if c_make_encoder is None:
        return _json
    chunks = c_make_encoder({}, str, encode_basestring_ascii, None, ":", ",", False, False,
                            True)
    join = "".join
    return lambda payload: join(chunks(payload, 0))
