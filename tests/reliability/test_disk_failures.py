"""A disk that refuses the rows: the run says so and ends, with what was committed kept.

A lasting failure (here a full disk, injected with SQLite's ``max_page_count``, which fails
as a full disk does) used to end the recorder's flusher silently: ``sim`` then waited for ever
with simulated time held, and the app showed a run at 0x. Another program's lock is not
such a failure: the rows wait for it, in memory bounded by the high-water hold.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import aiosqlite
import pytest

from playground.cli import main
from playground.runner import EngineHost
from playground.spec.model import Topology
from playground.store import recorder

from .checks import assert_sound, run_watched

BUSY = Topology.model_validate({"version": 1, "name": "busy", "duration": 30, "nodes": {
    "client": {"kind": "producer", "rate": "500/s", "pattern": "constant", "to": "work"},
    "work": {"kind": "function", "concurrency": 50, "duration": "5ms", "to": "table"},
    "table": {"kind": "store", "latency": 0},
}})


def _small_disk(monkeypatch: pytest.MonkeyPatch, pages: int = 12) -> None:
    """Every recorder's file can grow by ``pages`` pages after its tables are made."""
    monkeypatch.setattr(recorder, "BATCH", 200)
    monkeypatch.setattr(recorder, "HIGH_WATER", 1_000)  # soon reached, with nothing written
    opened = recorder.Recorder.open

    async def open_small(self: recorder.Recorder) -> recorder.Recorder:
        await opened(self)
        assert self._db is not None
        async with self._db.execute("PRAGMA page_count") as cursor:
            row = await cursor.fetchone()
        assert row is not None
        await self._db.execute(f"PRAGMA max_page_count={row[0] + pages}")
        return self

    monkeypatch.setattr(recorder.Recorder, "open", open_small)


def _rows(path: Path, table: str) -> tuple[int, int, str]:
    with sqlite3.connect(path) as db:
        count, distinct = db.execute(f'SELECT count(*), count(DISTINCT id) FROM "{table}"'
                                     ).fetchone()
        check = db.execute("PRAGMA integrity_check").fetchone()[0]
    db.close()
    return count, distinct, check


def test_a_full_disk_ends_sim_at_once_naming_the_file(tmp_path, monkeypatch, capsys) -> None:
    _small_disk(monkeypatch)
    source = tmp_path / "busy.yaml"
    source.write_text(BUSY.model_dump_json())
    db = tmp_path / "rows.sqlite"
    outcome: dict[str, int] = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("rc", main(
        ["sim", str(source), "--db", str(db), "--json"])), daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "sim still runs a minute after the disk filled up"
    out, err = capsys.readouterr()
    assert outcome["rc"] == 1 and out == ""
    assert err == f"playground sim: cannot write {db}: database or disk is full (free some " \
        "space, or choose another file with --db)\n"
    count, distinct, check = _rows(db, "table")
    assert check == "ok" and 0 < count == distinct  # the batches committed before are whole


def test_a_full_disk_stops_the_apps_engine_and_says_which_file(tmp_path, monkeypatch) -> None:
    _small_disk(monkeypatch)
    db = tmp_path / "app.sqlite"
    host = EngineHost(BUSY, mode="virtual", db=db, stop_at=None).start(limit=0)
    try:
        host.release()
        deadline = time.monotonic() + 60
        while host.error is None and time.monotonic() < deadline:
            time.sleep(0.1)
        # the app's frame shows `error` as "The engine of busy stopped"
        assert isinstance(host.error, recorder.RecordingFailed), host.error
        assert str(host.error).startswith(f"cannot write {db}: database or disk is full")
        assert host.recorder is not None and not host.recorder._held
        host.stop(timeout=10)
        assert not host.running
    finally:
        host.stop()
    count, distinct, check = _rows(db, "table")
    assert check == "ok" and 0 < count == distinct


def test_a_lock_held_by_another_program_is_waited_out(monkeypatch) -> None:
    monkeypatch.setattr(recorder, "BATCH", 200)
    monkeypatch.setattr(recorder, "HIGH_WATER", 1_000)
    connect = aiosqlite.connect
    # SQLite's own wait for a lock, shorter than the lock: the recorder's retries wait it out
    monkeypatch.setattr(aiosqlite, "connect", lambda path, **options: connect(
        path, **{**options, "timeout": 0.05}))
    opened = recorder.Recorder.open
    locks: list[threading.Thread] = []
    instances: list[recorder.Recorder] = []

    async def open_then_lock(self: recorder.Recorder) -> recorder.Recorder:
        await opened(self)
        instances.append(self)
        taken = threading.Event()

        def other_program() -> None:
            with sqlite3.connect(self.path, isolation_level=None) as db:
                db.execute("BEGIN IMMEDIATE")
                taken.set()
                time.sleep(2.0)
                db.execute("COMMIT")
            db.close()

        locks.append(threading.Thread(target=other_program))
        locks[0].start()
        taken.wait(10)
        return self

    monkeypatch.setattr(recorder.Recorder, "open", open_then_lock)
    topology = BUSY.model_copy(update={"duration": 10.0})
    outcome = run_watched(topology, drain=5, wall_limit=60)
    locks[0].join()
    assert_sound(outcome, topology)
    assert len(outcome.rows["table"]) == 5_000  # every row, none twice
    assert instances[0].holds >= 1  # memory stayed bounded while the file was locked


async def test_the_apps_status_line_says_the_engine_stopped_and_why(tmp_path, monkeypatch
                                                                    ) -> None:
    from playground.ui.app import PlaygroundApp
    from playground.ui.widgets.status_bar import StatusBar

    _small_disk(monkeypatch)
    source = tmp_path / "busy.yaml"
    source.write_text(BUSY.model_dump_json())
    db = tmp_path / "app.sqlite"
    app = PlaygroundApp(source, screenshots_dir=tmp_path / "shots", mode="virtual", db=db)
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")  # the virtual clock runs on its own
        host = app.screen.sessions[0].host  # type: ignore[attr-defined]
        for _ in range(300):  # the disk fills within a second or two
            await pilot.pause(0.1)
            if host.error is not None:
                break
        await pilot.pause(0.5)  # a few frames
        line = app.screen.query_one(StatusBar).line().plain
        assert f"■ stopped: cannot write {db}: database or disk is full" in line, line
        assert "running" not in line
