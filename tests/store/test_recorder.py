"""The recorder's rows as a store sees them: what it has written, wherever the row is now."""

from __future__ import annotations

import asyncio

from playground.engine.events import MessageWritten
from playground.store.recorder import Recorder, default_path


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


async def test_a_long_topology_name_makes_a_file_name_the_disk_takes(tmp_path):
    path = default_path("é" * 130, 7, tmp_path)
    # bytes, not characters; and room left for SQLite's "-wal" and a "-2" if taken
    assert len(path.name.encode()) + len("-wal-99") <= 255
    assert path.name.startswith("é" * 50) and path.name.endswith(".sqlite")
    rec = await Recorder(path, ["s"]).open()
    rec(_written("s", "a", {"k": 1}))
    await rec.close()
    assert [trace for trace, _ in rec.written("s")] == ["a"]
