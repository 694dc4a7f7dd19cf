"""The recorder's rows as a store sees them: what it has written, wherever the row is now."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from playground.engine.events import MessageWritten
from playground.store import recorder
from playground.store.recorder import Recorder, RecordingFailed, default_path


def _written(store: str, trace: str, payload: object) -> MessageWritten:
    return MessageWritten(1.0, store, f"{trace}-copy", trace, payload, 1, False, False)


async def test_a_store_hears_of_every_row_in_the_file_on_its_way_or_buffered(tmp_path):
    rec = await Recorder(tmp_path / "rows.sqlite", ["s", "other"]).open()
    try:
        rec(_written("s", "a", {"k": 1}))
        rec(_written("other", "x", {"k": 9}))
        await rec.flush()  # in the file
        rec(_written("s", "b", {"k": 2}))
        flushing = asyncio.create_task(rec.flush())
        await asyncio.sleep(0)  # the flush has taken the row and waits on the database
        rec(_written("s", "c", [3]))  # buffered
        seen = list(rec.written("s"))
        await flushing
    finally:
        await rec.close()
    assert {trace for trace, _ in seen} == {"a", "b", "c"}
    assert ("a", {"k": 1}) in seen and ("b", {"k": 2}) in seen and ("c", [3]) in seen


def test_a_file_that_cannot_be_opened_is_named_and_leaves_no_thread(tmp_path, monkeypatch):
    """What the app and ``sim`` say when the file cannot be made (here: the name is a
    folder's). The database's thread is gone when open() raises: one left to end by itself
    once answered a loop that ``sim`` had closed, with a traceback from that thread."""
    failures: list[object] = []
    monkeypatch.setattr(threading, "excepthook", failures.append)
    before = set(threading.enumerate())

    async def main() -> tuple[RecordingFailed, list[threading.Thread]]:
        with pytest.raises(RecordingFailed) as caught:
            await Recorder(tmp_path, ["s"]).open()
        return caught.value, [t for t in threading.enumerate() if t not in before]

    failure, left = asyncio.run(main())  # the loop closes at once, as sim's does
    for thread in left:
        thread.join(5)
    assert left == [] and failures == []
    assert str(failure) == f"cannot write {tmp_path}: unable to open database file (check " \
        "that its folder is there and writable, or choose another file with --db)"


def test_a_default_file_whose_folder_cannot_be_made_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path(".playground").write_text("a file where the runs' folder should be")
    with pytest.raises(RecordingFailed) as caught:
        default_path("shop", 3)
    assert str(caught.value).startswith("cannot write .playground/runs/shop-3-")
    assert "or choose another file with --db" in str(caught.value)


async def test_a_lock_never_let_go_ends_the_run_and_keeps_the_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(recorder, "BUSY_TIMEOUT", 0.05)
    monkeypatch.setattr(recorder, "LOCK_PATIENCE", 0.5)
    rec = await Recorder(tmp_path / "rows.sqlite", ["s"]).open()
    told: list[RecordingFailed] = []
    rec.on_failure = told.append
    rec(_written("s", "a", {"k": 1}))
    await rec.flush()
    other = sqlite3.connect(rec.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    rec(_written("s", "b", {"k": 2}))
    with pytest.raises(RecordingFailed) as caught:
        await rec.flush()
    assert told == [caught.value]
    assert "database is locked (another program kept it locked for" in str(caught.value)
    assert [trace for trace, _ in rec.written("s")] == ["a", "b"]  # b is kept, not lost
    other.execute("COMMIT")
    other.close()
    with pytest.raises(RecordingFailed):
        await rec.close()  # closed all the same
    assert rec._db is None


async def test_a_long_topology_name_makes_a_file_name_the_disk_takes(tmp_path):
    path = default_path("é" * 130, 7, tmp_path)
    # bytes, not characters; and room left for SQLite's "-wal" and a "-2" if taken
    assert len(path.name.encode()) + len("-wal-99") <= 255
    assert path.name.startswith("é" * 50) and path.name.endswith(".sqlite")
    rec = await Recorder(path, ["s"]).open()
    rec(_written("s", "a", {"k": 1}))
    await rec.close()
    assert [trace for trace, _ in rec.written("s")] == ["a"]


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def test_flushes_of_ever_new_sizes_keep_memory_flat(tmp_path):
    """A live run flushes every second, a different number of rows each time: the prepared
    statements, one placeholder list a row, must not pile up (the connection's cache of 128
    of them grew the app by 100 MB in a few minutes)."""
    rec = await Recorder(tmp_path / "rows.sqlite", ["s"]).open()
    try:
        for size in [2000, *range(1900, 2020)]:
            for index in range(size):
                rec(_written("s", f"t{index}", index))
            await rec.flush()
            if size == 2000:
                before = _rss_mb()  # one statement of this size made and run already
        grown = _rss_mb() - before
    finally:
        await rec.close()
    assert grown < 8, f"RSS grew {grown:.0f} MB over 120 flushes"  # it was 22
