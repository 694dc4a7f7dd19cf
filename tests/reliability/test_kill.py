"""`sim` killed with SIGKILL in the middle of heavy writes leaves a database that is whole.

The rows are written behind the engine in transactions, in WAL mode: a kill can cut a
transaction short, never a row. The test starts `python run.py sim` on a table written
20,000 times a (simulated) second, waits - polling the file, for a bounded time - until
some batches are committed, kills the process, and opens what is left. Then the next run on
the same file starts and finishes normally.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = """\
version: 1
name: heavy-writes
duration: 1h
nodes:
  client:
    kind: producer
    rate: 20k/s
    pattern: constant
    payload: {order: "{seq}", customer: "c{int:1..500}", note: "{uuid}"}
    to: orders
  orders:
    kind: queue
    to: write
  write:
    kind: function
    concurrency: 20
    batch_size: 100
    duration: 1ms
    to: table
  table:
    kind: store
    latency: 0
"""
ENOUGH = 20_000  # rows committed before the kill: a few of the recorder's transactions
PATIENCE = 90.0  # wall seconds to wait for them at most


def _committed(db: Path) -> int:
    """Rows a reader sees committed now (0 while the table does not exist yet)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1.0) as conn:
            return conn.execute('SELECT count(*) FROM "table"').fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _wait_for_rows(process: subprocess.Popen[bytes], db: Path) -> int:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        seen = _committed(db)
        if seen >= ENOUGH:
            return seen
        try:  # the pause between two looks, which also notices a process that ended
            process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        _, errors = process.communicate()
        pytest.fail(f"sim ended before it was killed: {errors.decode()[-2000:]}")
    pytest.fail(f"fewer than {ENOUGH} rows committed after {PATIENCE} s")


@pytest.fixture
def topology(tmp_path: Path) -> Path:
    path = tmp_path / "heavy.yaml"
    path.write_text(HEAVY)
    return path


def _sim(topology: Path, db: Path, *more: str) -> list[str]:
    return [sys.executable, "run.py", "sim", str(topology), "--db", str(db), "--json", *more]


def _killed_mid_write(topology: Path, db: Path) -> int:
    """Runs `sim` on ``db`` until rows are committed, kills it; the rows seen committed."""
    process = subprocess.Popen(_sim(topology, db), cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        seen = _wait_for_rows(process, db)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        process.stderr.close()  # type: ignore[union-attr]
    assert process.returncode == -signal.SIGKILL
    return seen


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX only")
def test_a_run_killed_mid_write_leaves_every_committed_row_whole(topology, tmp_path):
    db = tmp_path / "run.sqlite"
    seen = _killed_mid_write(topology, db)

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = conn.execute('SELECT row, id, trace, payload, written_at, attempt '
                            'FROM "table" ORDER BY row').fetchall()
    conn.close()
    # everything a reader saw committed is still there, in order, with no gap
    assert len(rows) >= seen
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    for _, msg_id, trace, payload, written_at, attempt in rows:
        assert re.fullmatch(r"client-\d+", msg_id) and trace == msg_id
        body = json.loads(payload)
        assert body["order"] == int(msg_id.removeprefix("client-"))
        assert re.fullmatch(r"c\d+", body["customer"]) and len(body["note"]) == 36
        assert isinstance(written_at, float) and written_at >= 0 and attempt == 1


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX only")
def test_the_next_run_on_a_killed_runs_file_starts_and_finishes(topology, tmp_path):
    db = tmp_path / "run.sqlite"
    _killed_mid_write(topology, db)
    assert Path(f"{db}-wal").exists()  # killed: the log was never checkpointed away

    done = subprocess.run(_sim(topology, db, "--duration", "1s", "--drain", "10s"), cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["db"] == str(db)
    assert report["ledger"]["lost"] == 0
    assert report["ledger"]["delivered"] == report["ledger"]["created"] == 20_000
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        count = conn.execute('SELECT count(*) FROM "table"').fetchone()[0]
    conn.close()
    assert count == report["nodes"]["table"]["out"] == 20_000  # this run's rows only
