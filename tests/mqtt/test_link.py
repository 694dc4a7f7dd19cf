"""The link to MQTT on its own, against listeners the test opens on 127.0.0.1: what it sends
where, and what it says."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

from playground.mqtt.link import MqttLink
from playground.mqtt.options import MqttOptions, Security
from playground.spec.model import Topology


def topology(**nodes: Any) -> Topology:
    return Topology.model_validate({"version": 1, "name": "t", "duration": "1s",
                                    "nodes": nodes})


def first_packet(listener: socket.socket, into: list[bytes]) -> None:
    """What the first client that connects sends first (its CONNECT)."""
    listener.settimeout(10)
    try:
        client, _ = listener.accept()
    except OSError:
        return
    with client:
        client.settimeout(5)
        with contextlib.suppress(OSError):
            into.append(client.recv(4096))


def test_a_source_gets_only_the_credentials_of_its_own_url() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        got: list[bytes] = []
        reader = threading.Thread(target=first_packet, args=(listener, got), daemon=True)
        reader.start()
        plan = topology(sensors={"kind": "producer", "to": "q",
                                 "source": f"mqtt://127.0.0.1:{port}/devices/#"},
                        q={"kind": "queue"})
        # the options' credentials are the --broker's: another server must never see them
        link = MqttLink(MqttOptions(security=Security("broker-user", "broker-secret")), plan)
        link.start()
        reader.join(10)
        link.close(linger=0.0)
    assert got and got[0][0] >> 4 == 1  # a CONNECT came
    assert b"broker-user" not in got[0] and b"broker-secret" not in got[0]
