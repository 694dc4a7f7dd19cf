"""The "watch:" command a run prints reaches the broker as the run does: TLS files, user
name, and the password as something to fill in, never itself."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from playground.mqtt.command import announce
from playground.mqtt.options import MqttOptions, Security
from playground.spec.endpoint import parse_endpoint
from tests.mqtt.conftest import (
    MOSQUITTO,
    Mosquitto,
    needs_clients,
    needs_openssl,
    signed_pair,
    sim,
    wait_for_line,
    write_topology,
)

SHOP = {"name": "shop", "duration": "30s", "nodes": {
    "clients": {"kind": "producer", "rate": 5, "to": "orders"},
    "orders": {"kind": "queue"}}}
PASSWD = shutil.which("mosquitto_passwd")


@needs_clients
@needs_openssl
def test_the_printed_watch_command_reaches_a_tls_broker_that_wants_a_user(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if MOSQUITTO is None or PASSWD is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    ca = signed_pair(tmp_path, "ca", None)
    server = signed_pair(tmp_path, "server", ca, ip="127.0.0.1")
    client = signed_pair(tmp_path, "client", ca)
    passwords = tmp_path / "passwd"
    passwords.touch(0o600)
    subprocess.run([PASSWD, "-b", str(passwords), "alice", "s3cret"], check=True,
                   capture_output=True, timeout=30)
    broker = Mosquitto(tmp_path, f"allow_anonymous false\npassword_file {passwords}\n"
                                 f"cafile {ca[0]}\ncertfile {server[0]}\nkeyfile {server[1]}\n"
                                 "require_certificate true\n")
    monkeypatch.setenv("PLAYGROUND_MQTT_PASSWORD", "s3cret")
    broker.start()
    run = None
    try:
        run = sim(write_topology(tmp_path / "shop.yaml", SHOP), "--broker",
                  f"mqtts://alice@127.0.0.1:{broker.port}", "--mqtt-ca", str(ca[0]),
                  "--mqtt-cert", str(client[0]), "--mqtt-key", str(client[1]),
                  "--db", str(tmp_path / "shop.sqlite"))
        line = wait_for_line(run, "(watch: ")
        command = re.search(r"\(watch: (.+?); send: ", line)
        assert command is not None, line
        assert "s3cret" not in line
        # as a user would: pasted into a shell where the variable is set
        seen = subprocess.run(["bash", "-c", f"{command[1]} -C 3 -W 20"], capture_output=True,
                              text=True, timeout=30)
    finally:
        if run is not None:
            run.kill()
            run.communicate()
        broker.stop()
    assert seen.returncode == 0, (command[1], seen.stderr)
    assert seen.stdout.count("playground/shop/tap/") == 3


def test_a_password_given_as_an_option_is_a_placeholder_in_the_watch_command(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLAYGROUND_MQTT_PASSWORD", raising=False)
    options = MqttOptions(parse_endpoint("mqtt://127.0.0.1:1883"),
                          security=Security("alice", "s3cret"))
    announce(options, None, "playground sim", embedded=False)
    said = capsys.readouterr().err
    assert "(watch: mosquitto_sub -h 127.0.0.1 -p 1883 -u alice -t 'playground/<topology>/" \
           "tap/#' -v -P PASSWORD; send: " in said
    assert "s3cret" not in said
