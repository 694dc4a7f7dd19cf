"""The lessons of the examples, as a user would check them: the numbers in the report and
the rows in SQLite; and `sim` itself, run as a user runs it."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections import Counter

import pytest
from conftest import ROOT

from playground.spec import load_file

TOPOLOGIES = ROOT / "topologies"


def test_a_burst_beyond_the_table_hurts_clients_of_request_response_only(sim):
    sync = sim(load_file(TOPOLOGIES / "burst-request-response.yaml").require(),
               keep_events=False)
    queued = sim(load_file(TOPOLOGIES / "burst-event-driven.yaml").require(),
                 keep_events=False, drain=600)
    assert sync.report["client"]["errors"] > 100
    assert sync.node("orders")["throttled"] > 100
    assert queued.report["client"]["errors"] == 0
    assert queued.node("orders")["throttled"] == 0
    assert queued.node("order-queue")["max_depth"] > 100  # the queue took the burst...
    assert queued.node("order-queue")["depth"] == 0  # ...and gave it back
    assert queued.ledger["delivered"] == queued.ledger["created"]


def test_a_short_visibility_timeout_duplicates_rows_only_in_the_plain_table(sim):
    topo = load_file(TOPOLOGIES / "duplicates.yaml").require()
    run = sim(topo, keep_events=False, drain=300)
    plain = Counter(row[0] for row in run.rows("plain-rows", "id"))
    idempotent = Counter(row[0] for row in run.rows("idempotent-rows", "trace"))
    assert max(plain.values()) > 1
    assert sum(plain.values()) > len(plain)
    assert set(idempotent.values()) == {1}
    assert run.ledger["lost"] == 0


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "run.py", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=False)


def test_sim_json_prints_exactly_one_report_with_the_spec_keys(tmp_path):
    db = tmp_path / "rows.sqlite"
    done = run_cli("sim", "topologies/event-driven.yaml", "--json", "--duration", "20s",
                   "--seed", "3", "--drain", "1m", "--db", str(db))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert list(report) == ["version", "topology", "seed", "clock", "sim_seconds",
                            "wall_seconds", "db", "ledger", "client", "end_to_end", "nodes"]
    assert report["seed"] == 3 and report["clock"] == "virtual" and report["db"] == str(db)
    assert 20.0 <= report["sim_seconds"] <= 80.0
    assert set(report["ledger"]) >= {"created", "delivered", "failed", "dead_lettered",
                                     "expired", "unmatched", "pending", "lost"}
    assert report["ledger"]["lost"] == 0 and report["ledger"]["pending"] == 0
    with sqlite3.connect(db) as conn:
        rows = conn.execute('SELECT COUNT(DISTINCT id) FROM "orders"').fetchone()[0]
    assert rows == report["ledger"]["delivered"]


def test_sim_without_json_prints_the_ledger_and_a_table_per_node():
    done = run_cli("sim", "topologies/request-response.yaml", "--duration", "5s",
                   "--db", "/dev/null/not-writable.sqlite")
    assert done.returncode == 1  # an unwritable --db is said plainly
    assert "cannot write /dev/null/not-writable.sqlite" in done.stderr
    assert "Traceback" not in done.stderr
    done = run_cli("sim", "topologies/request-response.yaml", "--duration", "5s")
    assert done.returncode == 0, done.stderr
    for text in ("ledger:", "lost", "clients (producer)", "api (gateway)", "orders (store)"):
        assert text in done.stdout


GATEWAY_TIMEOUTS = """\
version: 1
name: gateway-timeouts
duration: 10s
nodes:
  p: {kind: producer, rate: 2/s, pattern: constant, to: api}
  api: {kind: gateway, timeout: 1s, to: f}
  f: {kind: function, concurrency: 100, duration: 20s, timeout: 30s}
"""


def _summary(tmp_path) -> str:
    """The readable summary of a run whose every client waits 1 s for a 504, as a pipe
    gets it."""
    spec = tmp_path / "gateway-timeouts.yaml"
    spec.write_text(GATEWAY_TIMEOUTS, encoding="utf-8")
    done = subprocess.run([sys.executable, "run.py", "sim", str(spec), "--db",
                           str(tmp_path / "rows.sqlite")], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=False,
                          env={k: v for k, v in os.environ.items() if k != "COLUMNS"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_summary_says_whose_latency_it_shows_and_a_dash_where_there_is_none(tmp_path):
    out = _summary(tmp_path)
    assert "client: sent 20, ok 0, errors 19 (504: 19), timeouts 0\n" in out
    assert ("  latency of ok answers -; of errors and timeouts p50 1000.0ms p99 1000.0ms\n"
            in out)
    assert "end to end: -\n" in out  # nothing was delivered
    assert re.search(r"\blatency +│ +- │", out)  # the producer's own row
    head = out.split("p (producer)")[0]  # the lines above the nodes' tables
    assert not re.search(r"(?<![\d.])0\.0ms", head)


def test_a_queue_nobody_received_from_and_a_function_never_invoked_read_a_dash(tmp_path):
    spec = tmp_path / "idle.yaml"
    spec.write_text("version: 1\nname: idle\nduration: 5s\nnodes:\n"
                    "  p: {kind: producer, rate: 2/s, to: q}\n"
                    "  q: {kind: queue, to: f}\n"
                    "  f: {kind: function}\n"
                    "scenario:\n  - {at: 0s, action: pause, node: f}\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "run.py", "sim", str(spec), "--db",
                           str(tmp_path / "rows.sqlite")], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    # an empty summary read "mean 0.0ms p50 0.0ms", as if every message went at once
    assert re.search(r"│ wait +│ +- │", done.stdout), done.stdout
    assert re.search(r"│ duration +│ +- │", done.stdout), done.stdout


def test_a_piped_summary_keeps_each_line_whole(tmp_path):
    lines = _summary(tmp_path).splitlines()
    assert lines[0].endswith(f"; rows in {tmp_path / 'rows.sqlite'}")
    assert lines[1].startswith("ledger: created 20,") and lines[1].endswith(", lost 0")
    assert lines[4].startswith("end to end:")


def test_sim_refuses_a_broken_file_with_its_position(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nname: x\nnodes:\n  p: {kind: producer, rate: fast, to: q}\n"
                   "  q: {kind: queue}\n")
    done = run_cli("sim", str(bad), "--json")
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"{bad}:4:" in done.stderr and "not a rate" in done.stderr
    assert "Traceback" not in done.stderr


def test_sim_on_the_real_clock_reports_the_speed_it_achieved(tmp_path):
    done = run_cli("sim", "topologies/request-response.yaml", "--clock", "real", "--speed",
                   "50", "--duration", "10s", "--json", "--db", str(tmp_path / "r.sqlite"))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["clock"] == "real" and report["speed"] == 50
    assert 0 < report["achieved_speed"] <= 50 * 1.01  # never ahead of the wall clock
    assert report["sim_seconds"] == 10.0 and report["ledger"]["lost"] == 0


def test_two_processes_with_the_same_seed_print_the_same_report(tmp_path):
    reports = []
    for hash_seed in ("1", "2"):  # string hashing differs between the processes
        done = subprocess.run(
            [sys.executable, "run.py", "sim", "topologies/fan-out.yaml", "--json",
             "--duration", "30s", "--db", str(tmp_path / f"{hash_seed}.sqlite")],
            capture_output=True, text=True, cwd=ROOT, timeout=300, check=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed})
        report = json.loads(done.stdout)
        report.pop("wall_seconds")
        report.pop("db")
        reports.append(report)
    assert reports[0] == reports[1]


def test_cold_starts_as_its_description_tells(sim):
    topo = load_file(TOPOLOGIES / "cold-starts.yaml").require()
    for seed in (None, 1, 2):  # the file's own seed, then two more: not a lucky draw
        calm = sim(topo, seed=seed, duration=39.9, keep_events=False)
        assert 2 <= calm.node("on-demand")["cold_starts"] <= 5  # its first second or two
        assert calm.node("pre-warmed")["cold_starts"] == 0
        whole = sim(topo, seed=seed, keep_events=False)
        assert whole.node("on-demand")["cold_starts"] >= 10  # the burst, and after the lull
        assert whole.node("pre-warmed")["cold_starts"] <= 1  # ten warm ones absorb the burst
        # what each API's clients see: the cold starts hardly move p50, they show in p99
        on_demand, pre_warmed = (whole.node(n)["latency"] for n in ("clients-a", "clients-b"))
        assert on_demand["p99"] > 1.5 * pre_warmed["p99"]
        assert 0.85 < on_demand["p50"] / pre_warmed["p50"] < 1.15


def test_batching_cuts_invocations_not_messages(sim):
    run = sim(load_file(TOPOLOGIES / "batch-size.yaml").require(), duration=100,
              keep_events=False)
    single, batched = run.node("one-by-one"), run.node("ten-at-once")
    assert abs(single["in"] - batched["in"]) < 0.05 * single["in"]
    assert batched["invocations"] < 0.15 * single["invocations"]
    # a tenth of the failed invocations, each sending back a whole batch: about as many
    # messages redelivered
    assert batched["failed_invocations"] < 0.2 * single["failed_invocations"]
    redelivered = run.node("q-single")["redelivered"], run.node("q-batched")["redelivered"]
    assert 0.5 < redelivered[1] / redelivered[0] < 2


def test_sim_takes_a_bare_number_of_seconds_as_the_file_does(tmp_path):
    done = run_cli("sim", "topologies/request-response.yaml", "--json", "--duration", "2.5",
                   "--db", str(tmp_path / "rows.sqlite"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sim_seconds"] == 2.5


@pytest.mark.parametrize(("flags", "words"), [
    (["--clock", "real", "--speed", "nan"], "--speed must be from 0.01 to 10000 (got nan)"),
    (["--clock", "real", "--speed", "inf"], "--speed must be from 0.01 to 10000 (got inf)"),
    (["--seed", "-5"], "--seed must be 0 or more (got -5)"),
    (["--db", ""], "--db needs a file name"),
    (["--db", "topologies"], "--db: topologies is a folder; name a file"),
])
def test_sim_refuses_flags_it_cannot_honour_in_one_line(flags, words):
    done = run_cli("sim", "topologies/request-response.yaml", "--json", *flags)
    assert done.returncode == 1
    assert done.stderr.startswith(f"playground sim: {words}")
    assert len(done.stderr.splitlines()) == 1 and done.stdout == ""


def test_sim_takes_a_number_of_seconds_written_with_an_exponent(tmp_path):
    done = run_cli("sim", "topologies/request-response.yaml", "--json", "--duration", "2e0",
                   "--db", str(tmp_path / "rows.sqlite"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sim_seconds"] == 2.0


def _sim_file(tmp_path, text: str) -> dict:
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run([sys.executable, "run.py", "sim", str(path), "--json", "--db",
                           str(tmp_path / "rows.sqlite")], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_visibility_timeout_of_0_redelivers_without_stopping_the_clock(tmp_path):
    # a poison message that fails in no time and is visible again at once: received
    # again at every instant, the clock moving on between two receives
    report = _sim_file(tmp_path, "version: 1\nname: t\nduration: 2s\nnodes:\n"
                                 "  p: {kind: producer, rate: 1, limit: 1, to: q}\n"
                                 "  q: {kind: queue, visibility_timeout: 0, to: f}\n"
                                 "  f: {kind: function, errors: 1, duration: 0}\n")
    assert report["sim_seconds"] == 2.0
    assert report["nodes"]["q"]["redelivered"] > 1000
    assert report["ledger"]["pending"] == 1 and report["ledger"]["lost"] == 0


def test_a_producer_degraded_to_no_gap_at_all_sends_at_most_a_million_per_second(tmp_path):
    report = _sim_file(tmp_path, "version: 1\nname: t\nduration: 2s\nnodes:\n"
                                 "  p: {kind: producer, rate: 10, pattern: constant, to: f}\n"
                                 "  f: {kind: function, duration: 0, concurrency: 1000}\n"
                                 "scenario:\n"
                                 "  - {at: 1s, action: degrade, node: p, slow: 1e-300, "
                                 "errors: 0, for: 10ms}\n")
    assert report["sim_seconds"] == 2.0
    # 20 at 10/s, and 10 ms at 1M/s
    assert 10_000 <= report["ledger"]["created"] <= 10_030
