"""Fixtures for the MQTT tests: a mosquitto the test starts on a free port, commands in
subprocesses, topologies written to files. Everything is bounded in time; nothing uses a
fixed port. Without mosquitto (``apt-get install mosquitto mosquitto-clients``; CI installs
it) the tests that need it are skipped and say why."""

from __future__ import annotations

import getpass
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from playground.mqtt.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]
# Debian installs the broker in /usr/sbin, which a user's PATH may lack
MOSQUITTO = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/sbin")
CLIENTS = shutil.which("mosquitto_sub") and shutil.which("mosquitto_pub")
needs_mosquitto = pytest.mark.skipif(
    MOSQUITTO is None, reason="mosquitto is not installed (apt-get install mosquitto)")
needs_clients = pytest.mark.skipif(
    not CLIENTS, reason="mosquitto_sub/mosquitto_pub are not installed "
                        "(apt-get install mosquitto-clients)")


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class Mosquitto:
    """A mosquitto of the test's own, on 127.0.0.1 and a free port; can be restarted.
    ``settings``: the listener's own lines (who it takes, TLS)."""

    def __init__(self, directory: Path, settings: str = "allow_anonymous true\n",
                 name: str = "mosquitto") -> None:
        self.port = free_port()
        self.config = directory / f"{name}.conf"
        # as whoever runs the tests: started as root, mosquitto would read its files as the
        # user mosquitto, which cannot enter a test's own folder
        self.config.write_text(f"user {getpass.getuser()}\nlistener {self.port} 127.0.0.1\n"
                               f"{settings}persistence false\nset_tcp_nodelay true\n")
        self.log = directory / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert MOSQUITTO is not None
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.config)],
                                            stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    broker = Mosquitto(tmp_path)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None,
                                   reason="openssl is not installed (it makes the test keys)")


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def signed_pair(folder: Path, name: str, ca: tuple[Path, Path] | None,
                ip: str | None = None) -> tuple[Path, Path]:
    """A certificate and its key (EC: quick to make), signed by ``ca`` (None: by itself,
    a certificate authority); ``ip``: the address it is issued for."""
    cert, key = folder / f"{name}.pem", folder / f"{name}-key.pem"
    new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
               "-keyout", str(key), "-subj", f"/CN={name}"]
    if ca is None:
        _openssl("req", "-x509", *new_key, "-out", str(cert), "-days", "2")
        return cert, key
    request = folder / f"{name}.csr"
    _openssl("req", *new_key, "-out", str(request))
    extensions = folder / f"{name}.ext"
    extensions.write_text(f"subjectAltName=IP:{ip}\n" if ip else "basicConstraints=CA:FALSE\n")
    _openssl("x509", "-req", "-in", str(request), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
             "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(extensions))
    return cert, key


def write_topology(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"version": 1, **data}))  # JSON is YAML
    return path


def sim(topology: Path, *args: str) -> subprocess.Popen[str]:
    """``run.py sim TOPOLOGY --clock real --json ARGS`` in a subprocess."""
    return subprocess.Popen([sys.executable, str(ROOT / "run.py"), "sim", str(topology),
                             "--clock", "real", "--json", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def report_of(process: subprocess.Popen[str], timeout: float = 60.0, status: int = 0
              ) -> tuple[dict[str, Any], str]:
    """The JSON report a ``sim`` printed, and what it said on stderr (it must exit with
    ``status``)."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"sim did not finish in {timeout}s:\n{err}") from None
    assert process.returncode == status, err
    return json.loads(out), err


def wait_for_line(process: subprocess.Popen[str], needle: str, timeout: float = 15.0) -> str:
    """Reads the process's stderr until a line holds ``needle`` (the rest stays unread)."""
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if needle in line:
            return line
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"no line with {needle!r} within {timeout}s")
