"""What the MQTT options allow together, said before anything starts; the password never
shows; an app's engine host reports the link's state in its snapshots."""

from __future__ import annotations

import argparse
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from playground.cli import main
from playground.mqtt.embedded import BackgroundBroker, free_port
from playground.mqtt.options import MqttOptions, tls_problem
from playground.runner import EngineHost
from playground.spec.model import Topology
from tests.mqtt.conftest import (
    Mosquitto,
    needs_mosquitto,
    report_of,
    sim,
    wait_for_line,
    write_topology,
)

SHOP = {"name": "shop", "duration": "2s", "nodes": {
    "clients": {"kind": "producer", "rate": 5, "to": "orders"},
    "orders": {"kind": "queue"}}}


@pytest.mark.parametrize(("options", "says"), [
    (["--clock", "real", "--nodes", "orders"], "add --broker mqtt://HOST:PORT (or --mqtt)"),
    (["--clock", "real", "--mqtt", "--broker", "mqtt://h:1"], "choose one"),
    (["--mqtt"], "MQTT runs on the wall clock: add --clock real"),
    (["--clock", "real", "--broker", "mqtt://h:1", "--nodes", "orders,nope"],
     "--nodes: no node 'nope' in 'shop' (nodes: clients, orders)"),
    (["--clock", "real", "--broker", "http://h:1"], "--broker: 'http://h:1' is not an MQTT"),
    (["--clock", "real", "--broker", "h:1"], "write mqtt://HOST:PORT (mqtts:// for TLS"),
    (["--clock", "real", "--broker", "mqtt://h:1/t"], "no topic"),
    (["--clock", "real", "--broker", "mqtt://127.0.0.1:18840?x=1"],
     "--broker: 'mqtt://127.0.0.1:18840?x=1': '?x=1' is no part of an MQTT address: write "
     "mqtt://HOST:PORT (mqtts:// for TLS, USER:PASSWORD@ before HOST)"),
    (["--clock", "real", "--broker", "mqtt://h#top"], "'#top' is no part of an MQTT address"),
    (["--clock", "real", "--broker", "mqtt://h:1", "--mqtt-ca", "ca.pem"], "mqtts://"),
    (["--clock", "real", "--broker", "mqtts://h:1", "--mqtt-ca", "no/such/ca.pem"],
     "--mqtt-ca: cannot read 'no/such/ca.pem'"),
    (["--clock", "real", "--mqtt-port", "1883"], "add --mqtt"),
    (["--clock", "real", "--mqtt", "--mqtt-username", "ann"], "are for --broker"),
    (["--clock", "real", "--mqtt", "--tap-rate", "-1"], "--tap-rate cannot be negative"),
    (["--clock", "real", "--broker", ""], "--broker is empty: write --broker mqtt://HOST:PORT"),
    (["--clock", "real", "--broker", "  "], "--broker is empty"),
    (["--clock", "real", "--mqtt", "--nodes", ""], "--nodes '' has an empty name: write the"),
    (["--clock", "real", "--mqtt", "--nodes", ","], "--nodes ',' has an empty name"),
    (["--clock", "real", "--mqtt", "--nodes", "orders,,clients"], "has an empty name"),
    (["--nodes", ""], "--nodes '' has an empty name"),
    (["--clock", "real", "--mqtt", "--tap-rate", "nan"],
     "--tap-rate must be a number of events a second, 0 or more (got nan)"),
    (["--clock", "real", "--mqtt", "--tap-rate", "inf"], "0 or more (got inf)"),
    (["--clock", "real", "--broker", "mqtt://127.0.0.1:1", "--mqtt-password", "pw"],
     "--mqtt-password needs a user name: add --mqtt-username NAME (or write "
     "mqtt://USER@HOST:PORT)"),
    (["--clock", "real", "--broker", "mqtt://:pw@127.0.0.1:1"],
     "the --broker URL has a password but no user name"),
    (["--clock", "real", "--broker", "mqtt://alice:s3cret@h:1", "--mqtt-password", "other"],
     "the password is given twice, in the --broker URL and by --mqtt-password: keep one"),
    (["--clock", "real", "--broker", "mqtt://alice@h:1", "--mqtt-username", "bob"],
     "the user name is given twice, in the --broker URL and by --mqtt-username: keep one"),
])
def test_combinations_that_cannot_work_are_refused_with_what_to_do(
        tmp_path: Path, options: list[str], says: str) -> None:
    spec = write_topology(tmp_path / "shop.yaml", SHOP)
    with pytest.raises(SystemExit) as refused:
        main(["sim", str(spec), *options])
    assert says in str(refused.value)
    assert str(refused.value).startswith("playground sim: ")


@pytest.mark.parametrize("given", [["ann:hunter2@"], ["ann@", "--mqtt-password", "hunter2"]],
                         ids=["in-the-url", "as-an-option"])
def test_the_password_is_never_printed(tmp_path: Path, given: list[str]) -> None:
    spec = write_topology(tmp_path / "shop.yaml", SHOP)
    port = free_port()  # nobody listens there: the link says so, and goes on trying
    run = sim(spec, "--speed", "4", "--broker", f"mqtt://{given[0]}127.0.0.1:{port}",
              *given[1:], "--db", str(tmp_path / "shop.sqlite"))
    report, err = report_of(run, timeout=60, status=1)  # never connected: see below
    assert "not connected yet to mqtt://ann@127.0.0.1" in err
    assert "hunter2" not in err and "hunter2" not in str(report)
    assert report["mqtt"]["state"] == "closed" and report["ledger"]["lost"] == 0


def test_a_password_in_the_environment_without_a_user_name_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = write_topology(tmp_path / "shop.yaml", SHOP)
    monkeypatch.setenv("PLAYGROUND_MQTT_PASSWORD", "hunter2")
    with pytest.raises(SystemExit) as refused:
        main(["sim", str(spec), "--clock", "real", "--broker", "mqtt://127.0.0.1:1"])
    assert str(refused.value) == (
        "playground sim: PLAYGROUND_MQTT_PASSWORD is set but no user name is given: add "
        "--mqtt-username NAME (or write mqtt://USER@HOST:PORT), or unset "
        "PLAYGROUND_MQTT_PASSWORD")


def test_a_broker_that_never_answers_is_said_at_the_end_and_fails_the_run(tmp_path: Path
                                                                          ) -> None:
    spec = write_topology(tmp_path / "shop.yaml", SHOP)
    port = free_port()
    run = sim(spec, "--speed", "4", "--broker", f"mqtt://127.0.0.1:{port}", "--nodes",
              "clients", "--db", str(tmp_path / "shop.sqlite"))
    report, err = report_of(run, timeout=60, status=1)
    assert report["mqtt"]["ever_connected"] is False
    last = err.strip().splitlines()[-1]
    assert last == (f"playground sim: never connected to the MQTT broker at mqtt://127.0.0.1:"
                    f"{port}, so nothing went to or came from other processes: [Errno 111] "
                    "Connection refused")


def test_a_broker_that_refuses_the_connection_is_said_at_once(tmp_path: Path) -> None:
    spec = write_topology(tmp_path / "shop.yaml", SHOP)
    port = free_port()  # nobody listens: refused in a millisecond
    run = sim(spec, "--speed", "4", "--broker", f"mqtt://127.0.0.1:{port}",
              "--db", str(tmp_path / "shop.sqlite"))
    try:
        wait_for_line(run, "MQTT broker mqtt://")
        announced = time.monotonic()
        line = wait_for_line(run, "MQTT: not connected yet to")
        said_after = time.monotonic() - announced
    finally:
        run.kill()
        run.communicate()
    assert "Connection refused" in line
    assert said_after < 2.0  # not after waiting for an answer that cannot come


def test_ctrl_c_while_waiting_for_the_broker_ends_the_run_at_once(tmp_path: Path) -> None:
    spec = write_topology(tmp_path / "shop.yaml", SHOP)
    with socket.socket() as silent:  # takes the connection and never answers it
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        run = sim(spec, "--speed", "4", "--broker",
                  f"mqtt://127.0.0.1:{silent.getsockname()[1]}",
                  "--db", str(tmp_path / "shop.sqlite"))
        try:
            wait_for_line(run, "MQTT broker mqtt://")
            time.sleep(0.5)  # waiting for the broker's answer by now
            run.send_signal(signal.SIGINT)
            interrupted = time.monotonic()
            _, err = run.communicate(timeout=30)
            took = time.monotonic() - interrupted
        finally:
            if run.poll() is None:
                run.kill()
                run.communicate()
    assert run.returncode == 130, err
    assert took < 2.0, err
    assert err.strip().splitlines()[-1] == \
        "playground sim: interrupted before the run started; no rows were written"


def test_an_engine_host_shows_the_brokers_state_in_its_snapshots(tmp_path: Path) -> None:
    topology = Topology.model_validate({"version": 1, **SHOP})
    with BackgroundBroker() as broker:
        host = EngineHost(topology, mode="real", speed=1.0, db=tmp_path / "shop.sqlite",
                          mqtt=MqttOptions(broker.endpoint)).start()
        try:
            state = host.snapshot()["mqtt"]
        finally:
            host.stop()
    assert state["state"] == "connected"
    assert state["url"] == broker.endpoint.url()
    assert state["tap_dropped"] == 0 and state["nodes"] == "all"


def test_arguments_parse_for_run_and_sim() -> None:
    from playground.cli import _parser

    args = _parser().parse_args(["run", "x.yaml", "--mqtt", "--mqtt-port", "0"])
    assert isinstance(args, argparse.Namespace) and args.mqtt and args.mqtt_port == 0
    args = _parser().parse_args(["sim", "x.yaml", "--broker", "mqtt://h:1", "--nodes", "a,b",
                                 "--tap-rate", "50"])
    assert (args.broker, args.nodes, args.tap_rate) == ("mqtt://h:1", "a,b", 50.0)


def test_a_url_that_names_the_user_takes_the_password_from_the_options() -> None:
    from playground.mqtt.connection import credentials
    from playground.mqtt.options import Security
    from playground.spec.endpoint import parse_endpoint

    given = Security(None, "from-the-environment")
    assert credentials(parse_endpoint("mqtt://alice@broker:1883"), given) == \
        ("alice", "from-the-environment")
    assert credentials(parse_endpoint("mqtt://alice:in-url@broker:1883"), given) == \
        ("alice", "in-url")
    assert credentials(parse_endpoint("mqtt://broker:1883"), Security("bob", "pw")) == \
        ("bob", "pw")


@needs_mosquitto
def test_a_broker_that_answers_late_leaves_no_old_error_in_the_report(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path)
    spec = write_topology(tmp_path / "shop.yaml", SHOP)
    # a refused broker no longer holds the start: the run outlasts the outage (6 s of wall)
    run = sim(spec, "--speed", "4", "--broker", broker.url, "--duration", "24s",
              "--db", str(tmp_path / "s.sqlite"))
    try:
        time.sleep(2.5)  # refused meanwhile: [Errno 111] Connection refused
        broker.start()
        report, _ = report_of(run, timeout=60)
    finally:
        broker.stop()
    assert report["mqtt"]["state"] == "closed" and report["mqtt"]["reconnects"] == 0
    assert "error" not in report["mqtt"], report["mqtt"]


NOT_PEM = "not a cert\n"
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None,
                                   reason="openssl is not installed (it makes the test keys)")


def make_pair(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}-cert.pem", folder / f"{name}-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.mark.parametrize(("files", "says"), [
    ({"--mqtt-ca": NOT_PEM}, "--mqtt-ca: '{--mqtt-ca}' holds no CA certificate: give the "
                             "certificate authority's certificates as -----BEGIN "
                             "CERTIFICATE----- blocks (PEM)"),
    ({"--mqtt-cert": NOT_PEM, "--mqtt-key": NOT_PEM},
     "--mqtt-cert: '{--mqtt-cert}' holds no certificate: give the client certificate as "
     "-----BEGIN CERTIFICATE----- blocks (PEM)"),
    ({"--mqtt-key": NOT_PEM}, "--mqtt-key is the key of a client certificate: add "
                              "--mqtt-cert FILE"),
])
def test_tls_files_that_hold_no_certificate_or_key_are_refused_before_the_run(
        tmp_path: Path, files: dict[str, str], says: str) -> None:
    spec = write_topology(tmp_path / "shop.yaml", SHOP)
    flags, named = [], {}
    for flag, text in files.items():
        path = tmp_path / f"{flag.strip('-')}.pem"
        path.write_text(text)
        flags += [flag, str(path)]
        named[flag] = str(path)
    with pytest.raises(SystemExit) as refused:
        main(["sim", str(spec), "--clock", "real", "--broker", "mqtts://127.0.0.1:1", *flags])
    expected = says
    for flag, path in named.items():
        expected = expected.replace("{" + flag + "}", path)
    assert str(refused.value) == f"playground sim: {expected}"


@needs_openssl
def test_a_client_certificate_goes_with_its_own_unencrypted_key(tmp_path: Path) -> None:
    cert, key = make_pair(tmp_path, "one")
    _, other = make_pair(tmp_path, "two")
    locked = tmp_path / "locked-key.pem"
    subprocess.run(["openssl", "pkey", "-in", str(key), "-aes256", "-passout", "pass:x",
                    "-out", str(locked)], check=True, capture_output=True, timeout=60)
    bad = tmp_path / "bad.pem"
    bad.write_text(NOT_PEM)
    assert tls_problem(str(cert), str(cert), str(key)) is None
    assert tls_problem(None, str(cert), None) == (
        f"--mqtt-cert: {str(cert)!r} holds no private key: give it with --mqtt-key FILE (a "
        "-----BEGIN PRIVATE KEY----- block, PEM)")
    assert tls_problem(None, str(cert), str(other)) == (
        f"--mqtt-key: {str(other)!r} is not the key of the certificate in {str(cert)!r}: give "
        "the private key that goes with it")
    assert tls_problem(None, str(cert), str(bad)) == (
        f"--mqtt-key: {str(bad)!r} holds no private key: give the client certificate's key as "
        "a -----BEGIN PRIVATE KEY----- block (PEM)")
    assert tls_problem(None, str(cert), str(locked)) == (
        f"--mqtt-key: {str(locked)!r} is protected by a pass phrase: give the key without one "
        f"(openssl pkey -in {locked} -out plain-key.pem)")
    assert tls_problem(str(tmp_path), None, None) == (
        f"--mqtt-ca: {str(tmp_path)!r} holds no CA certificate (Is a directory): give the "
        "certificate authority's certificates as -----BEGIN CERTIFICATE----- blocks (PEM)")
