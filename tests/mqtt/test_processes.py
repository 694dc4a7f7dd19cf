"""One topology over two processes (``sim --broker --nodes``) through a mosquitto the test
starts on a free port: every message is delivered, each process's ledger balances, and a
broker restart in the middle of the run loses nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.mqtt.conftest import (
    ROOT,
    Mosquitto,
    needs_mosquitto,
    report_of,
    sim,
    wait_for_line,
    write_topology,
)

TOPOLOGY = {
    "name": "split-shop",
    "duration": "8s",
    "nodes": {
        "clients": {"kind": "producer", "rate": 25, "pattern": "constant", "limit": 150,
                    "payload": {"order": "{seq}"}, "to": "api"},
        "api": {"kind": "gateway", "to": "orders"},
        "orders": {"kind": "queue", "to": "save"},
        "save": {"kind": "function", "concurrency": 4, "batch_size": 5, "duration": "20ms",
                 "to": "db"},
        "db": {"kind": "store"},
    },
}
SENT = 150  # in 6 of the 8 simulated seconds


def split_run(tmp_path: Path, broker: Mosquitto, here: str, there: str, *,
              during: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    spec = write_topology(tmp_path / "split-shop.yaml", TOPOLOGY)
    common = ["--speed", "4", "--broker", broker.url, "--tap-rate", "0"]
    # the consuming side first, and for longer: it must outlive the producing side's drain
    second = sim(spec, *common, "--nodes", there, "--duration", "24s",
                 "--db", str(tmp_path / "there.sqlite"))
    first = sim(spec, *common, "--nodes", here, "--drain", "20s",
                "--db", str(tmp_path / "here.sqlite"))
    if during is not None:
        during()
    mine, said = report_of(first, timeout=90)
    assert "(tap off; send: publish JSON" in said  # nothing to watch: no mosquitto_sub line
    theirs, _ = report_of(second, timeout=90)
    return mine, theirs


def assert_every_message_delivered(mine: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert mine["ledger"]["lost"] == 0 and theirs["ledger"]["lost"] == 0
    assert mine["ledger"]["created"] == SENT
    assert mine["client"]["ok"] == SENT and mine["client"]["errors"] == 0
    assert mine["ledger"]["failed"] == 0 and mine["ledger"]["pending"] == 0
    assert mine["ledger"]["exported"] == SENT == theirs["ledger"]["imported"]
    assert theirs["ledger"]["delivered"] == SENT
    assert theirs["nodes"]["db"]["out"] == SENT and theirs["nodes"]["db"]["duplicates"] == 0


@needs_mosquitto
def test_a_topology_split_over_two_processes_delivers_every_message(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    mine, theirs = split_run(tmp_path, mosquitto, "clients,api,orders", "save,db")
    assert_every_message_delivered(mine, theirs)
    assert theirs["nodes"]["save"]["throttled"] == 0  # credits held across processes
    assert mine["mqtt"]["nodes"] == ["api", "clients", "orders"]
    assert theirs["mqtt"]["in_flight"] == 0 and mine["mqtt"]["in_flight"] == 0


@needs_mosquitto
def test_restarting_the_broker_mid_run_loses_nothing(tmp_path: Path,
                                                     mosquitto: Mosquitto) -> None:
    def restart() -> None:
        # both processes linked first: a process slow to start (a busy machine) would
        # otherwise connect after the outage, with nothing to reconnect
        deadline = time.monotonic() + 60
        while mosquitto.log.read_text(errors="replace").count("New client connected") < 2:
            assert time.monotonic() < deadline, "the two processes never connected"
            time.sleep(0.05)
        time.sleep(1.0)  # simulated traffic on both sides of a 1 s outage
        mosquitto.stop()
        time.sleep(1.0)
        mosquitto.start()

    mine, theirs = split_run(tmp_path, mosquitto, "clients,api", "orders,save,db",
                             during=restart)
    assert_every_message_delivered(mine, theirs)
    assert mine["mqtt"]["reconnects"] >= 1 and theirs["mqtt"]["reconnects"] >= 1


@needs_mosquitto
def test_a_process_that_claims_nodes_another_runs_stops_and_says_so(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    spec = write_topology(tmp_path / "split-shop.yaml", TOPOLOGY)
    common = ["--speed", "4", "--broker", mosquitto.url, "--tap-rate", "0"]
    second = sim(spec, *common, "--nodes", "save,db", "--duration", "24s",
                 "--db", str(tmp_path / "there.sqlite"))
    wait_for_line(second, "MQTT broker")
    deadline = time.monotonic() + 30
    while "New client connected" not in mosquitto.log.read_text(errors="replace"):
        assert time.monotonic() < deadline, "the first process never connected"
        time.sleep(0.05)
    again = sim(spec, *common, "--nodes", "db,save", "--duration", "24s",
                "--db", str(tmp_path / "again.sqlite"))
    first = sim(spec, *common, "--nodes", "clients,api,orders", "--drain", "20s",
                "--db", str(tmp_path / "here.sqlite"))
    out, said = again.communicate(timeout=60)
    assert again.returncode == 1 and out == "", said
    assert "runs db, save already, and so would this process" in said
    assert "playground sim: stopped: another process runs the same nodes" in said
    assert "Traceback" not in said
    mine, _ = report_of(first, timeout=90)
    theirs, their_said = report_of(second, timeout=90)
    assert_every_message_delivered(mine, theirs)  # not one row twice
    assert "also runs db, save, which this process" in their_said
    assert mine["mqtt"]["missing"] == [] and mine["mqtt"]["processes"] == 3


@needs_mosquitto
def test_nodes_that_no_process_runs_are_named(tmp_path: Path, mosquitto: Mosquitto) -> None:
    spec = write_topology(tmp_path / "split-shop.yaml", TOPOLOGY)
    run = sim(spec, "--speed", "4", "--broker", mosquitto.url, "--tap-rate", "0",
              "--nodes", "clients,api,orders", "--duration", "28s",
              "--db", str(tmp_path / "here.sqlite"))
    report, said = report_of(run, timeout=60)
    assert report["mqtt"]["missing"] == ["db", "save"]
    assert f"MQTT: no process on {mosquitto.url} has said it runs db, save (so far)" in said


@needs_mosquitto
def test_a_link_that_drops_for_good_shows_in_the_summary_and_fails_the_run(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    spec = write_topology(tmp_path / "split-shop.yaml", TOPOLOGY)
    # the readable summary, as a user sees it (wide: rich would wrap the mqtt line)
    run = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "sim", str(spec), "--clock", "real",
         "--broker", mosquitto.url, "--tap-rate", "0", "--nodes", "clients,api,orders",
         "--duration", "4s", "--db", str(tmp_path / "here.sqlite")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "COLUMNS": "400"})
    try:
        deadline = time.monotonic() + 30
        while "New client connected" not in mosquitto.log.read_text(errors="replace"):
            assert time.monotonic() < deadline, "the process never connected"
            time.sleep(0.05)
        mosquitto.stop()  # for good
        out, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 1, err
    line = next(line for line in out.splitlines() if line.startswith("mqtt: "))
    assert re.match(rf"mqtt: {mosquitto.url}, link down for the last \d+\.\d s of the run "
                    r"\(.+\), 0 reconnects; ", line), line
    last = err.strip().splitlines()[-1]
    assert re.match(rf"playground sim: the link to the MQTT broker at {mosquitto.url} dropped "
                    r"\d+\.\d s \(wall\) before the run ended and did not come back, so from "
                    "then on nothing went to or came from other processes: .+", last), last
