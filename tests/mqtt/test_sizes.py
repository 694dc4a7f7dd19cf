"""Messages between processes and a broker's largest packet: batches stay small enough for
any broker the README names, an envelope too large for any is refused to its sender, and a
broker that drops the link at once is not asked again ten times a second."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from playground.mqtt.codec import MAX_ENVELOPE_BYTES
from tests.mqtt.conftest import (
    MOSQUITTO,
    Mosquitto,
    needs_mosquitto,
    report_of,
    sim,
    wait_for_line,
    write_topology,
)

PAD = "x" * 2000


def shop(limit: int, payload: dict[str, Any], duration: str = "4s") -> dict[str, Any]:
    return {"name": "sizes", "duration": duration, "nodes": {
        "clients": {"kind": "producer", "rate": 200, "pattern": "constant", "limit": limit,
                    "timeout": "30s", "retries": 0, "payload": payload, "to": "orders"},
        "orders": {"kind": "queue", "to": "save"},
        "save": {"kind": "function", "concurrency": 10, "duration": "1ms", "to": "db"},
        "db": {"kind": "store"}}}


def mosquitto_taking(tmp_path: Path, max_packet: int) -> Mosquitto:
    broker = Mosquitto(tmp_path)
    with broker.config.open("a") as config:
        config.write(f"max_packet_size {max_packet}\n")
    return broker


def assert_no_traceback(err: str) -> None:
    assert "Traceback" not in err and "Exception in callback" not in err, err


@needs_mosquitto
def test_a_backlog_after_an_outage_goes_out_in_batches_the_broker_takes(tmp_path: Path) -> None:
    assert MOSQUITTO is not None
    broker = mosquitto_taking(tmp_path, 100_000)  # 300 messages of 2 KB are 600 KB
    spec = write_topology(tmp_path / "sizes.yaml", shop(300, {"n": "{seq}", "pad": PAD}))
    common = ["--speed", "2", "--broker", broker.url, "--tap-rate", "0"]
    there = sim(spec, *common, "--nodes", "orders,save,db", "--duration", "30s",
                "--db", str(tmp_path / "there.sqlite"))
    here = sim(spec, *common, "--nodes", "clients", "--drain", "20s",
               "--db", str(tmp_path / "here.sqlite"))
    try:
        # it gives up waiting for the broker and runs: everything it sends piles up
        wait_for_line(here, "not connected yet", timeout=30)
        time.sleep(1.5)
        broker.start()
        mine, my_err = report_of(here, timeout=90)
        theirs, their_err = report_of(there, timeout=90)
    finally:
        broker.stop()
    assert theirs["nodes"]["db"]["out"] == 300 and mine["client"]["ok"] == 300
    assert mine["mqtt"]["reconnects"] == 0 and mine["mqtt"]["batches_sent"] >= 10
    assert_no_traceback(my_err + their_err)


@needs_mosquitto
def test_an_envelope_too_large_for_any_broker_is_refused_to_its_sender(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    big = {"pad": "y" * (MAX_ENVELOPE_BYTES + 1)}
    spec = write_topology(tmp_path / "sizes.yaml", shop(3, big, duration="2s"))
    run = sim(spec, "--speed", "4", "--broker", mosquitto.url, "--nodes", "clients",
              "--tap-rate", "0", "--db", str(tmp_path / "here.sqlite"))
    report, err = report_of(run, timeout=60)
    assert report["client"]["statuses"] == {"500": 3} and report["client"]["ok"] == 0
    assert report["mqtt"]["too_large"] == 3 and report["mqtt"]["batches_sent"] == 0
    assert report["mqtt"]["reconnects"] == 0 and report["ledger"]["lost"] == 0
    assert "MQTT: a request from clients to orders is refused: " in err
    assert f"more than the {MAX_ENVELOPE_BYTES:,} one MQTT message between processes" in err
    assert_no_traceback(err)


@needs_mosquitto
def test_a_broker_that_drops_the_link_at_once_is_asked_again_ever_more_slowly(
        tmp_path: Path) -> None:
    broker = mosquitto_taking(tmp_path, 1_000)  # below one 2 KB envelope: dropped each time
    spec = write_topology(tmp_path / "sizes.yaml", shop(1, {"pad": PAD}, duration="6s"))
    broker.start()
    try:
        run = sim(spec, "--speed", "1", "--broker", broker.url, "--nodes", "clients",
                  "--tap-rate", "0", "--db", str(tmp_path / "here.sqlite"))
        out, err = run.communicate(timeout=60)
    finally:
        broker.stop()
    # the run ends with the link down (status 1, said last) or just back (0), by timing
    assert run.returncode in (0, 1), err
    report = json.loads(out)
    # 0.1 + 0.2 + 0.4 + 0.8 + 1.6 + 3.2 s: at most 6 in 6 s (it was one every 0.1 s)
    assert 1 <= report["mqtt"]["reconnects"] <= 6, report["mqtt"]
    assert_no_traceback(err)
    # said once, with what to look at
    assert err.count("dropped the link 3 times in a row soon after accepting it") == 1, err
    assert "max_packet_size must be at least 65536" in err
