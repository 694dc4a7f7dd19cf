"""Messages per second through the engine over MQTT, beside raw aiomqtt on the same broker.

    python tests/bench/bench_mqtt.py [--messages N] [--broker mosquitto|amqtt] [--pack N]

One run, one broker (mosquitto on a free port when installed, else the embedded amqtt):

1. raw: one aiomqtt client publishes N messages of an envelope's size (QoS 1, up to 32 in
   flight, as the transport does), another receives them, in this process: the ceiling.
2. engine, request and answer: a producer here sends N messages to a queue in another
   process (``run.py sim --nodes q,work,db``), each a request envelope there and an answer
   back; from the first message made to the last answer.
3. engine, queue to consumer: the queue here, its consumer (batches of 10) and the table
   in another process; from the first message made to the last one deleted (its batch
   answered).
Both engine paths use the transport as ``sim --broker --nodes`` does: QoS 1 batches,
acknowledged by the receiving process. The other process's report must show every message
delivered. Every loop is bounded in count and in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import aiomqtt  # noqa: E402

from playground.engine import events as ev  # noqa: E402
from playground.engine.clock import SimLoop  # noqa: E402
from playground.engine.runtime import Engine  # noqa: E402
from playground.mqtt import link  # noqa: E402
from playground.mqtt.embedded import BackgroundBroker, free_port  # noqa: E402
from playground.mqtt.options import MqttOptions  # noqa: E402
from playground.runner import simulate  # noqa: E402
from playground.spec.endpoint import Endpoint  # noqa: E402
from playground.spec.model import Topology  # noqa: E402

WINDOW = 32
MOSQUITTO = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/sbin")
PAYLOAD = json.dumps({"pg": 1, "o": "bench", "b": 1, "e": [{
    "k": "rq", "op": "send", "corr": 1, "reply_to": "playground/bench/clients/reply",
    "sender": "clients", "msg": {"id": "clients-1", "trace": "clients-1", "age": 0.001,
                                 "attempt": 0, "receives": 0, "payload": {"order": 1}},
    "rt": "playground/bench/_proc/p1", "w": 1.0}]}).encode()


# --- the broker ------------------------------------------------------------------------------

class Mosquitto:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        config = directory / "mosquitto.conf"
        config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                          "persistence false\nmax_queued_messages 100000\nset_tcp_nodelay true\n")
        assert MOSQUITTO is not None
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


# --- 1. raw aiomqtt ------------------------------------------------------------------------

async def raw(port: int, messages: int, qos: int) -> float:
    async with aiomqtt.Client("127.0.0.1", port, identifier="bench-sub") as sub, \
            aiomqtt.Client("127.0.0.1", port, identifier="bench-pub",
                           max_inflight_messages=1000) as pub:
        pub.pending_calls_threshold = 1_000_000
        await sub.subscribe("bench/raw", qos=qos)
        window = asyncio.Semaphore(WINDOW)
        done = asyncio.Event()
        received = 0

        async def receive() -> None:
            nonlocal received
            async for _ in sub.messages:
                received += 1
                if received >= messages:
                    done.set()
                    return

        async def publish() -> None:
            try:
                await pub.publish("bench/raw", PAYLOAD, qos=qos)
            finally:
                window.release()

        async with asyncio.TaskGroup() as group:
            reader = group.create_task(receive())
            started = time.perf_counter()
            for _ in range(messages):
                await window.acquire()
                group.create_task(publish())
            await asyncio.wait_for(done.wait(), timeout=120)
            elapsed = time.perf_counter() - started
            reader.cancel()
    return messages / elapsed


# --- 2 and 3: the engine over MQTT -------------------------------------------------------------

def topology(messages: int) -> Topology:
    return Topology.model_validate({
        "version": 1, "name": "bench-mqtt", "duration": 1.0,
        "nodes": {
            "clients": {"kind": "producer", "rate": 100_000, "pattern": "constant",
                        "limit": messages, "timeout": "120s", "to": "q"},
            "q": {"kind": "queue", "to": "work", "visibility_timeout": "120s"},
            "work": {"kind": "function", "concurrency": 20, "batch_size": 10,
                     "duration": "1ms", "to": "db", "timeout": "60s"},
            "db": {"kind": "store", "latency": "0ms"},
        }})


def engine_over_mqtt(port: int, messages: int, queue_here: bool, tmp: Path) -> dict[str, Any]:
    topo = topology(messages)
    here = {"clients", "q"} if queue_here else {"clients"}
    there = sorted(set(topo.nodes) - here)
    spec = tmp / "bench-mqtt.yaml"
    spec.write_text(json.dumps(topo.model_dump(mode="json", by_alias=True, exclude_none=True)))
    other = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "sim", str(spec), "--clock", "real", "--broker",
         f"mqtt://127.0.0.1:{port}", "--nodes", ",".join(there), "--duration", "40s",
         "--tap-rate", "0", "--json", "--db", str(tmp / f"other-{queue_here}.sqlite")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    time.sleep(3.0)  # its broker connection and subscriptions
    marks: dict[str, float] = {}
    counts = {"done": 0, "failed": 0}

    def watch(engine: Engine) -> None:
        def on_event(event: ev.Event) -> None:
            if isinstance(event, ev.MessageCreated) and "first" not in marks:
                marks["first"] = time.perf_counter()
            elif (isinstance(event, ev.MessageDeleted) and queue_here) or \
                    (isinstance(event, ev.ClientAnswered) and not queue_here):
                counts["done"] += 1
                marks["last"] = time.perf_counter()
            elif isinstance(event, ev.MessageFailed | ev.ClientTimedOut):
                counts["failed"] += 1

        engine.bus.subscribe(on_event, [ev.MessageCreated, ev.MessageDeleted,
                                        ev.ClientAnswered, ev.MessageFailed,
                                        ev.ClientTimedOut])

    options = MqttOptions(Endpoint("127.0.0.1", port), frozenset(here), tap_rate=0)
    loop = SimLoop("real", 1.0)
    try:
        report = loop.run_until_complete(simulate(
            topo, drain=120.0, db=tmp / f"here-{queue_here}.sqlite", on_engine=watch,
            mqtt=options))
    finally:
        loop.close()
    out, err = other.communicate(timeout=120)
    if other.returncode != 0:
        raise RuntimeError(f"the other process failed: {err}")
    theirs = json.loads(out)
    assert report["ledger"]["lost"] == 0 and theirs["ledger"]["lost"] == 0, (report, theirs)
    if "last" not in marks:
        raise RuntimeError(f"nothing came back: {report}\n{theirs}")
    rate = counts["done"] / (marks["last"] - marks["first"])
    return {"rate": rate, "done": counts["done"], "failed": counts["failed"],
            "delivered_there": theirs["ledger"]["delivered"],
            "batches": report["mqtt"]["batches_sent"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--pack", type=int, default=link.MAX_PACK, metavar="N",
                        help="envelopes per MQTT message at most, here (1: no packing)")
    parser.add_argument("--broker", choices=("mosquitto", "amqtt"),
                        default="mosquitto" if MOSQUITTO else "amqtt")
    args = parser.parse_args()
    link.MAX_PACK = args.pack
    n = args.messages
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.broker == "mosquitto":
            broker: Any = Mosquitto(tmp)
            port, name = broker.port, "mosquitto"
        else:
            broker = BackgroundBroker().start()
            port, name = broker.endpoint.port, "amqtt (embedded, in this process)"
        try:
            raw1 = asyncio.run(raw(port, n, 1))
            raw0 = asyncio.run(raw(port, n, 0))
            sends = engine_over_mqtt(port, n, queue_here=False, tmp=tmp)
            batches = engine_over_mqtt(port, n, queue_here=True, tmp=tmp)
        finally:
            broker.stop()
    print(f"broker: {name}, {n:,} messages each, up to {args.pack} envelopes per MQTT "
          f"message from this process")
    print(f"raw aiomqtt publish/subscribe, QoS 1:        {raw1:8,.0f} messages/s")
    print(f"raw aiomqtt publish/subscribe, QoS 0:        {raw0:8,.0f} messages/s")
    for label, result in (("engine, producer -> remote queue:  ", sends),
                          ("engine, queue -> remote consumer:  ", batches)):
        print(f"{label}         {result['rate']:8,.0f} messages/s  "
              f"({result['rate'] / raw1:.0%} of raw QoS 1; {result['done']:,} answered, "
              f"{result['failed']} failed, {result['delivered_there']:,} delivered there, "
              f"{result['batches']:,} MQTT batches sent)")


if __name__ == "__main__":
    main()
