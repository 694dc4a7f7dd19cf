"""Fixtures for the MQTT tests: a mosquitto the test starts on a free port, commands in
subprocesses, topologies written to files. Everything is bounded in time; nothing uses a
fixed port. Without mosquitto (``apt-get install mosquitto mosquitto-clients``; CI installs
it) the tests that need it are skipped and say why."""

from __future__ import annotations

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
    """A mosquitto of the test's own, on 127.0.0.1 and a free port; can be restarted."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.config = directory / "mosquitto.conf"
        self.config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                               "persistence false\nset_tcp_nodelay true\n")
        self.log = directory / "mosquitto.log"
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
