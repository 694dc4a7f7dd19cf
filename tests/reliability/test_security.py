"""What the README's security notes promise: templates are data, servers stay on 127.0.0.1.

(Unsafe YAML tags are refused by tests/reliability/test_loader_fuzz.py and tests/spec; the MQTT
password is never printed by tests/mqtt/test_options.py.)
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from playground.engine.clock import SimLoop
from playground.mqtt.embedded import EmbeddedBroker
from playground.runner import simulate
from playground.spec import load_text

# strings that would do something if a template were formatted or evaluated as code
HOSTILE = {
    "attribute": "{seq.__class__.__mro__}",
    "index": "{0}",
    "call": "{__import__('os').system('touch {marker}')}",
    "env": "${{HOME}} $HOME %(HOME)s",
    "nested": "{{seq}}",
    # text that looks like placeholders, near misses, stays text (check warns about {SEQ})
    "almost": "{seq }{SEQ}{int 1..2}",
}


def test_payload_templates_are_data_whatever_they_look_like(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    payload = {key: value.replace("{marker}", str(marker)) for key, value in HOSTILE.items()}
    payload["n"] = "{seq}"
    text = ("version: 1\nname: hostile\nduration: 1s\nnodes:\n"
            "  client: {kind: producer, rate: 5/s, pattern: constant, limit: 3, "
            f"payload: {json.dumps(payload)}, to: write}}\n"
            "  write: {kind: function, duration: 1ms, to: table}\n"
            "  table: {kind: store}\n")
    topology = load_text(text, "hostile.yaml").require()
    db = tmp_path / "hostile.sqlite"
    loop = SimLoop("virtual")
    try:
        report = loop.run_until_complete(simulate(topology, db=db, drain=1.0))
    finally:
        loop.close()
    assert report["ledger"]["lost"] == 0
    with sqlite3.connect(db) as conn:
        rows = [json.loads(p) for (p,) in conn.execute('SELECT payload FROM "table" ORDER BY row')]
    conn.close()
    assert [row.pop("n") for row in rows] == [1, 2, 3]
    expected = {key: value.replace("{marker}", str(marker)) for key, value in HOSTILE.items()}
    for row, seq in zip(rows, (1, 2, 3), strict=True):
        # the inner {seq} of "{{seq}}" is a placeholder; the braces around it are text
        assert row == {**expected, "nested": "{" + str(seq) + "}"}
    assert not marker.exists()


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a TCP socket listening on ``port`` (Linux's /proc/net/tcp)."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, state = fields[1], fields[3]
            host, _, hex_port = address.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(host)
    return found


async def test_the_embedded_broker_listens_on_the_loopback_address_only() -> None:
    async with EmbeddedBroker() as broker:
        listening = _listening_addresses(broker.port)
    assert listening == {"0100007F"}  # 127.0.0.1, little-endian hex; never 0.0.0.0 or ::
