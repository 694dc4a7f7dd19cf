"""``--mqtt``: the embedded broker that a real ``mosquitto_sub`` can watch and a real
``mosquitto_pub`` can feed, while a topology runs (``sim --clock real``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from playground.mqtt.embedded import EmbeddedBroker, free_port
from tests.mqtt.conftest import needs_clients, report_of, sim, wait_for_line, write_topology

CHAIN = {
    "name": "shop",
    "duration": "12s",
    "nodes": {
        "clients": {"kind": "producer", "rate": 20, "pattern": "constant",
                    "payload": {"order": "{seq}"}, "to": "orders"},
        "orders": {"kind": "queue", "to": "save"},
        "save": {"kind": "function", "duration": "5ms", "to": "db"},
        "db": {"kind": "store"},
    },
}


def subscribe(port: int, topic: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", topic,
                             "-v", "-C", str(count), "-W", "20"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def publish(port: int, topic: str, message: str) -> None:
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-m",
                    message, "-q", "1"], check=True, timeout=10, capture_output=True)


def rows(db: Path, table: str) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(f'SELECT trace, payload FROM "{table}"').fetchall()


@needs_clients
def test_mosquitto_sub_sees_the_tap_and_mosquitto_pub_reaches_a_store(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "shop.sqlite"
    run = sim(write_topology(tmp_path / "shop.yaml", CHAIN), "--speed", "2", "--mqtt",
              "--mqtt-port", str(port), "--db", str(db))
    line = wait_for_line(run, "embedded MQTT broker on")
    assert f"mqtt://127.0.0.1:{port}" in line and "playground/shop/tap/#" in line
    watcher = subscribe(port, "playground/shop/tap/#", 30)
    first, _ = subscribe(port, "playground/shop/tap/db/message_written", 1).communicate(
        timeout=30)  # the engine runs: every subscription is in place
    assert first.startswith("playground/shop/tap/db/message_written {")
    # first what the link cannot take: it says so, and goes on taking what it can
    publish(port, "playground/shop/orders/in", "[" * 2000 + "]" * 2000)
    publish(port, "playground/shop/orders/in", '{"order": NaN}')
    publish(port, "playground/shop/orders/in", '{"order": "from outside"}')
    publish(port, "playground/shop/save/in", '{"direct": true}')
    publish(port, "playground/shop/orders/in", "this is not JSON")
    publish(port, "playground/shop/db/in", '{"x": 1}')  # a store takes no messages
    report, err = report_of(run)
    seen, _ = watcher.communicate(timeout=30)

    events = [line.split(" ", 1) for line in seen.splitlines()]
    assert len(events) == 30
    for topic, body in events:
        event = json.loads(body)
        assert topic.startswith("playground/shop/tap/")
        if not topic.startswith("playground/shop/tap/_"):
            assert topic == f"playground/shop/tap/{event['node']}/{event['event']}"
            assert isinstance(event["t"], float)

    payloads = {json.loads(payload)["order"] if "order" in payload else "direct"
                for trace, payload in rows(db, "db") if trace.startswith("external:")}
    assert payloads == {"from outside", "direct"}
    assert report["ledger"]["lost"] == 0
    assert report["nodes"]["external"]["created"] == 2
    mqtt = report["mqtt"]
    assert (mqtt["injected"], mqtt["refused"], mqtt["reconnects"]) == (2, 4, 0)
    assert mqtt["state"] == "closed"
    assert mqtt["tap_published"] > 0 and mqtt["tap_dropped"] == 0
    assert "the payload is not JSON" in err
    assert "refused: messages cannot be injected into store 'db'" in err  # words, no class
    assert "Traceback" not in err


@needs_clients
def test_a_producer_takes_its_messages_from_an_mqtt_topic(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "devices.sqlite"
    topology = {
        "name": "devices", "duration": "8s",
        "nodes": {
            "sensors": {"kind": "producer", "source": f"mqtt://127.0.0.1:{port}/devices/+/t",
                        "to": "readings"},
            "readings": {"kind": "queue", "to": "keep"},
            "keep": {"kind": "function", "to": "db"},
            "db": {"kind": "store"},
        },
    }
    run = sim(write_topology(tmp_path / "devices.yaml", topology), "--speed", "2", "--mqtt",
              "--mqtt-port", str(port), "--db", str(db))
    wait_for_line(run, "embedded MQTT broker on")
    subscribe(port, "playground/devices/tap/_summary", 1).communicate(timeout=30)
    for device, value in (("d1", 20.5), ("d2", 21), ("d1", 19.75)):
        publish(port, f"devices/{device}/t", json.dumps({"device": device, "celsius": value}))
    publish(port, "devices/d3/t", "{broken")
    report, err = report_of(run)
    written = sorted(json.loads(payload)["celsius"] for _, payload in rows(db, "db"))
    assert written == [19.75, 20.5, 21]
    assert report["nodes"]["sensors"]["created"] == 3
    assert report["ledger"]["created"] == 3 and report["ledger"]["lost"] == 0
    source = report["mqtt"]["sources"]["sensors"]
    assert source["received"] == 4 and source["url"] == f"mqtt://127.0.0.1:{port}/devices/+/t"
    assert "not JSON on the source topic devices/d3/t" in err


def test_a_port_in_use_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = sim(write_topology(tmp_path / "shop.yaml", CHAIN), "--mqtt", "--mqtt-port",
                  str(port), "--db", str(tmp_path / "shop.sqlite"))
        out, err = run.communicate(timeout=60)
    assert run.returncode != 0 and out == ""
    assert err.strip() == (f"playground sim: the embedded MQTT broker cannot listen on "
                           f"127.0.0.1:{port}: [Errno 98] error while attempting to bind on "
                           f"address ('127.0.0.1', {port}): address already in use")


@needs_clients
def test_json_that_merely_looks_like_an_envelope_is_injected(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "shop.sqlite"
    run = sim(write_topology(tmp_path / "shop.yaml", CHAIN), "--speed", "2", "--mqtt",
              "--mqtt-port", str(port), "--db", str(db))
    wait_for_line(run, "embedded MQTT broker on")
    subscribe(port, "playground/shop/tap/_summary", 1).communicate(timeout=30)
    # a field of the user's own called "pg" (a page, say): only our batches' exact shape is ours
    for body in ('{"pg": 1, "order": 1}', '{"pg": true, "order": 2}',
                 '{"pg": 1.0, "order": 3}', '{"pg": 1, "e": [1], "order": 4}',
                 '{"pg": 1, "o": "x", "b": 1, "e": [], "order": 5}'):
        publish(port, "playground/shop/orders/in", body)
    report, err = report_of(run)
    orders = sorted(json.loads(payload)["order"] for trace, payload in rows(db, "db")
                    if trace.startswith("external:"))
    assert orders == [1, 2, 3, 4, 5]
    assert report["mqtt"]["injected"] == 5 and report["mqtt"]["refused"] == 0
    assert "KeyError" not in err and "refused" not in err


@needs_clients
def test_json_for_a_node_the_topology_lacks_is_refused_with_a_line(tmp_path: Path) -> None:
    port = free_port()
    run = sim(write_topology(tmp_path / "shop.yaml", CHAIN), "--speed", "2", "--mqtt",
              "--mqtt-port", str(port), "--db", str(tmp_path / "shop.sqlite"))
    wait_for_line(run, "embedded MQTT broker on")
    # one subscription for both: a summary heard means the errors will be heard too
    watch = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-v",
                              "-t", "playground/shop/tap/_summary",
                              "-t", "playground/shop/tap/_errors", "-W", "30"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert watch.stdout is not None
        assert watch.stdout.readline().startswith("playground/shop/tap/_summary ")
        publish(port, "playground/shop/order/in", '{"order": 1}')  # orders, mistyped
        publish(port, "playground/shop//in", '{"order": 2}')  # no name at all
        said: list[str] = []
        while len(said) < 2:
            line = watch.stdout.readline()
            assert line, "no line on tap/_errors"
            if line.startswith("playground/shop/tap/_errors "):
                said.append(line)
    finally:
        watch.kill()
        watch.communicate()
    report, err = report_of(run)
    assert report["mqtt"]["refused"] == 2 and report["mqtt"]["injected"] == 0
    assert ("a message for 'order' is refused: the topology has no such node (nodes: "
            "clients, orders, save, db)") in err
    assert "a message for '' is refused: the topology has no such node" in err
    assert '"node": "order"' in said[0] and '"node": ""' in said[1]


# mosquitto_pub -V mqttv5's CONNECT: level 5, a receive-maximum property, no id
MQTT_5_CONNECT = b"\x10\x10\x00\x04MQTT\x05\x02\x00<\x03!\x00\x14\x00\x00"


def test_an_mqtt_5_client_is_told_the_broker_speaks_3_1_1(tmp_path: Path) -> None:
    run = sim(write_topology(tmp_path / "shop.yaml", CHAIN), "--mqtt",
              "--db", str(tmp_path / "shop.sqlite"))
    try:
        line = wait_for_line(run, "embedded MQTT broker on")
        port = int(line.split("127.0.0.1:")[1].split()[0])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            client.sendall(MQTT_5_CONNECT)
            # amqtt waits for the rest of a CONNECT it misreads: as mosquitto_pub does, the
            # client gives up
            time.sleep(0.5)
        said = wait_for_line(run, "embedded MQTT broker:", timeout=20)
    finally:
        run.kill()
        run.communicate()
    assert "speaks MQTT 3.1.1 only" in said and "-V mqttv311" in said
    assert "Traceback" not in said


def _open_sockets() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(FileNotFoundError):  # the listing's own descriptor
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    return count


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts sockets in /proc")
async def test_a_client_that_fails_is_our_line_and_its_socket_closed_on_any_python() -> None:
    # before 3.11.7 asyncio leaves a failed connection's task to the garbage collector (its
    # exception printed whenever that comes, the socket open until then); 3.11.7 hands it to
    # the loop's exception handler: on neither may that be what the user sees
    unhandled: list[str] = []
    asyncio.get_running_loop().set_exception_handler(
        lambda _loop, context: unhandled.append(context["message"]))
    said: list[str] = []
    heard_one = asyncio.Event()

    class Heard(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            said.append(record.getMessage())
            heard_one.set()

    heard = Heard(logging.WARNING)
    logging.getLogger("playground.mqtt").addHandler(heard)
    try:
        async with EmbeddedBroker() as broker:
            before = _open_sockets()
            # the client gives up before the broker answers, as mosquitto_pub -V mqttv5 does
            with socket.create_connection(("127.0.0.1", broker.port), timeout=10) as client:
                client.sendall(MQTT_5_CONNECT)
            async with asyncio.timeout(10):
                await heard_one.wait()
            left_open = _open_sockets() - before
    finally:
        logging.getLogger("playground.mqtt").removeHandler(heard)
    assert unhandled == [] and left_open == 0
    assert len(said) == 1 and "speaks MQTT 3.1.1 only" in said[0] and "-V mqttv311" in said[0]
