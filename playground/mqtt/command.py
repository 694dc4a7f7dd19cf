"""What ``sim`` and ``run`` do with the MQTT options: check them, start the embedded broker,
say where to watch, and stop it again."""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
from collections.abc import Iterator

from playground.mqtt import options as mqtt_options
from playground.mqtt.options import MqttOptions
from playground.mqtt.topics import base_topic
from playground.spec import model as m
from playground.spec.endpoint import Endpoint


@contextlib.contextmanager
def mqtt_run(args: argparse.Namespace, topology: m.Topology | None, *, prog: str,
             clock: str = "real", compare: bool = False) -> Iterator[MqttOptions | None]:
    """The run's MQTT options (None: no MQTT), the embedded broker serving meanwhile.
    A combination of options that cannot work ends the command with what to do instead."""
    if not mqtt_options.wanted(args, topology):
        yield None
        return
    message = mqtt_options.problem(args, topology, clock=clock, compare=compare)
    if message is not None:
        raise SystemExit(f"{prog}: {message}")
    embedded = None
    if args.mqtt:
        from playground.mqtt.embedded import BackgroundBroker

        try:
            embedded = BackgroundBroker(args.mqtt_port or 0).start()
        except OSError as error:
            raise SystemExit(f"{prog}: {error}") from None
    try:
        options = mqtt_options.options(args, embedded.endpoint if embedded else None)
        announce(options, topology, prog, embedded=embedded is not None)
        yield options
    finally:
        if embedded is not None:
            embedded.stop()


def announce(options: MqttOptions, topology: m.Topology | None, prog: str, *,
             embedded: bool) -> None:
    """Where the broker is and how to watch (on stderr: stdout may be a JSON report)."""
    broker = options.broker
    if broker is None:
        return
    base = base_topic(topology.name) if topology is not None else "playground/<topology>"
    what = "embedded MQTT broker on" if embedded else "MQTT broker"
    watch = ["mosquitto_sub", "-h", broker.host.strip("[]"), "-p", str(broker.port),
             *_client_options(options), "-t", f"{base}/tap/#", "-v"]
    command = shlex.join(watch)
    if options.security.password is not None or broker.password is not None:
        command += f" -P {_password_hint(options, broker)}"
    # with the tap off (--tap-rate 0) there is nothing to watch but refusals and summaries
    watching = f"watch: {command}; " if options.tap_rate != 0 else "tap off; "
    print(f"{prog}: {what} {broker.url()} ({watching}send: publish JSON "
          f"to {base}/<node>/in)", file=sys.stderr, flush=True)


def _client_options(options: MqttOptions) -> list[str]:
    """mosquitto_sub's options to reach the broker as the run does (the password aside)."""
    broker, security = options.broker, options.security
    assert broker is not None
    said: list[str] = []
    username = broker.username or security.username
    if username:
        said += ["-u", username]
    if broker.tls:
        # mosquitto_sub speaks TLS only when told where its CA certificates are
        said += ["--cafile", security.ca_file] if security.ca_file else ["--tls-use-os-certs"]
        if security.cert_file:
            said += ["--cert", security.cert_file, "--key", security.key_file
                     or security.cert_file]
        if security.insecure:
            said.append("--insecure")
    return said


def _password_hint(options: MqttOptions, broker: Endpoint) -> str:
    """The password as something to fill in, never itself: the variable when it came from
    there (the command then runs as printed), else a placeholder."""
    from_variable = broker.password is None and options.security.password is not None \
        and options.security.password == os.environ.get(mqtt_options.PASSWORD_VARIABLE)
    return f'"${mqtt_options.PASSWORD_VARIABLE}"' if from_variable else "PASSWORD"
