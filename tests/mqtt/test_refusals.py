"""A broker that refuses the link says why in words, with the option to change: a wrong
password, a client certificate it wants, a certificate it does not trust, a port that speaks
TLS or does not. Against mosquittos the test starts on free ports with the test's own
certificates; never the libraries' raw lines."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiomqtt.exceptions import MqttCodeError, MqttConnectError

from playground.mqtt.options import Security
from playground.mqtt.refusal import explain
from playground.spec.endpoint import parse_endpoint
from tests.mqtt.conftest import (
    MOSQUITTO,
    Mosquitto,
    needs_mosquitto,
    needs_openssl,
    report_of,
    signed_pair,
    sim,
    write_topology,
)

SHOP = {"name": "shop", "duration": "2s", "nodes": {
    "clients": {"kind": "producer", "rate": 5, "to": "orders"},
    "orders": {"kind": "queue"}}}
PASSWD = shutil.which("mosquitto_passwd")


class Brokers:
    """One mosquitto with a password, one that speaks TLS and one that also wants a client
    certificate, and the files to reach them."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir()
        self.ca = signed_pair(folder, "ca", None)
        self.server = signed_pair(folder, "server", self.ca, ip="127.0.0.1")
        self.client = signed_pair(folder, "client", self.ca)
        self.stranger = signed_pair(folder, "stranger-ca", None)
        passwords = folder / "passwd"
        passwords.touch(0o600)
        assert PASSWD is not None
        subprocess.run([PASSWD, "-b", str(passwords), "alice", "s3cret"], check=True,
                       capture_output=True, timeout=30)
        tls = (f"allow_anonymous true\ncafile {self.ca[0]}\ncertfile {self.server[0]}\n"
               f"keyfile {self.server[1]}\n")
        self.password = Mosquitto(folder, f"allow_anonymous false\npassword_file {passwords}\n",
                                  name="password")
        self.tls = Mosquitto(folder, tls, name="tls")
        self.mutual = Mosquitto(folder, tls + "require_certificate true\n", name="mutual")
        self.all = (self.password, self.tls, self.mutual)

    def port(self, name: str) -> int:
        return {"password": self.password, "tls": self.tls, "mutual": self.mutual}[name].port


@pytest.fixture
def brokers(tmp_path: Path) -> Iterator[Brokers]:
    if MOSQUITTO is None or PASSWD is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    made = Brokers(tmp_path / "brokers")
    try:
        for broker in made.all:
            broker.start()
        yield made
    finally:
        for broker in made.all:
            broker.stop()


CASES = [
    ("mqtt://alice@127.0.0.1:{password}", ["--mqtt-password", "wrong"],
     "the broker refused the user name or password (not authorized); check --mqtt-username "
     "and --mqtt-password (or PLAYGROUND_MQTT_PASSWORD)"),
    ("mqtts://127.0.0.1:{mutual}", ["--mqtt-ca", "{ca}"],
     "the broker wants a client certificate; add --mqtt-cert FILE --mqtt-key FILE"),
    ("mqtt://127.0.0.1:{tls}", [], "this port speaks TLS; use mqtts://127.0.0.1:{tls}"),
    ("mqtts://127.0.0.1:{password}", ["--mqtt-ca", "{ca}"],
     "this port speaks plain MQTT, not TLS; use mqtt://127.0.0.1:{password}"),
    ("mqtts://127.0.0.1:{tls}", ["--mqtt-ca", "{stranger}"],
     "the broker's certificate is not trusted by --mqtt-ca {stranger} (self-signed "
     "certificate in certificate chain); give the certificate authority that signed it, or "
     "skip the check with --mqtt-insecure"),
    ("mqtts://127.0.0.1:{mutual}", ["--mqtt-ca", "{ca}", "--mqtt-cert", "{stranger}",
                                    "--mqtt-key", "{stranger_key}"],
     "the broker does not take the client certificate (tlsv1 alert unknown ca); give "
     "--mqtt-cert (and --mqtt-key) signed by a certificate authority it trusts"),
]


@needs_mosquitto
@needs_openssl
@pytest.mark.parametrize(("url", "options", "says"), CASES,
                         ids=["password", "client-certificate", "tls-port", "plain-port",
                              "untrusted-broker", "untrusted-client"])
def test_a_refused_link_says_what_is_wrong_and_what_to_do(
        tmp_path: Path, brokers: Brokers, url: str, options: list[str], says: str) -> None:
    names = {"password": brokers.port("password"), "tls": brokers.port("tls"),
             "mutual": brokers.port("mutual"), "ca": brokers.ca[0],
             "stranger": brokers.stranger[0], "stranger_key": brokers.stranger[1]}
    url, says = url.format(**names), says.format(**names)
    spec = write_topology(tmp_path / "shop.yaml", SHOP)
    run = sim(spec, "--speed", "4", "--broker", url,
              *(option.format(**names) for option in options),
              "--db", str(tmp_path / "shop.sqlite"))
    report, err = report_of(run, timeout=60, status=1)
    assert f"MQTT: not connected yet to {url}, retrying in the background: {says}\n" in err
    assert err.strip().splitlines()[-1] == (
        f"playground sim: never connected to the MQTT broker at {url}, so nothing went to or "
        f"came from other processes: {says}")
    assert report["mqtt"]["error"] == says
    # paho said "failed to receive on socket: [SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] ..."
    # on a line of its own: only lines of ours
    strangers = [line for line in err.splitlines()
                 if not line.startswith(("playground sim: ", "MQTT: "))]
    assert strangers == [], err


def test_a_source_is_told_what_its_own_url_must_say() -> None:
    """A source takes no --mqtt-* option: the advice names its URL, never the options."""
    source = parse_endpoint("mqtts://sensors.example:8883/t/#")
    refused = MqttConnectError(5)
    assert explain([refused], "", source, Security(), source=True) == (
        "the broker refused the source's user name or password (not authorized); give them "
        "in its URL, mqtts://USER:PASSWORD@HOST:PORT/TOPIC")
    alert = MqttCodeError(7, "closed")
    assert explain([alert], "failed to receive on socket: [SSL: "
                   "TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required",
                   source, Security(), source=True) == (
        "the broker wants a client certificate, which a source cannot give; use a listener "
        "of the broker that needs none")
