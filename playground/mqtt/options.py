"""MQTT on the command line: the options, what they allow together, and what they make.

``--mqtt`` starts the embedded broker (``--mqtt-port``, default a free port); ``--broker
mqtt://HOST:PORT`` uses an external one instead; either way every hop is tapped there and
JSON published to a node's inbox enters it. ``--nodes a,b`` runs only those nodes here, the
others in whichever processes run them on the same broker. The password comes from
``--mqtt-password`` or the ``PLAYGROUND_MQTT_PASSWORD`` environment variable, and is never
printed or logged.
"""

from __future__ import annotations

import argparse
import math
import os
import ssl
from dataclasses import dataclass, field

from playground.mqtt.tap import DEFAULT_RATE
from playground.spec import model as m
from playground.spec.endpoint import Endpoint, parse_endpoint

PASSWORD_VARIABLE = "PLAYGROUND_MQTT_PASSWORD"
MAX_IN_FLIGHT = 20_000  # envelopes sent and not yet acknowledged, before sends are refused


class ClaimConflict(RuntimeError):
    """Another process on the broker runs a node this one runs, and started first."""


@dataclass(frozen=True)
class Security:
    """Credentials and TLS for a broker (the password is never shown)."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure: bool = False

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.cert_file:
            context.load_cert_chain(self.cert_file, self.key_file)
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


@dataclass(frozen=True)
class MqttOptions:
    """What one engine's MQTT link does. ``broker`` None: only producers' sources."""

    broker: Endpoint | None = None
    nodes: frozenset[str] | None = None  # None: every node runs here
    security: Security = field(default_factory=Security)
    tap_rate: float = DEFAULT_RATE  # 0: no tap
    max_in_flight: int = MAX_IN_FLIGHT


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("MQTT")
    group.add_argument("--mqtt", action="store_true",
                       help="start an embedded MQTT broker on 127.0.0.1: every hop is "
                            "published there, JSON sent to playground/<topology>/<node>/in "
                            "enters that node")
    group.add_argument("--mqtt-port", type=int, metavar="PORT",
                       help="the embedded broker's port (default: a free one, printed)")
    group.add_argument("--broker", metavar="URL",
                       help="use the MQTT broker at mqtt://HOST:PORT (mqtts:// for TLS) "
                            "instead; with --nodes, nodes in other processes are reached "
                            "through it")
    group.add_argument("--nodes", metavar="A,B,...",
                       help="run only these nodes in this process (needs --broker or --mqtt)")
    group.add_argument("--mqtt-username", metavar="NAME", help="user name for --broker")
    group.add_argument("--mqtt-password", metavar="SECRET",
                       help=f"password for --broker (or set {PASSWORD_VARIABLE})")
    group.add_argument("--mqtt-ca", metavar="FILE", help="CA certificates for mqtts://")
    group.add_argument("--mqtt-cert", metavar="FILE", help="client certificate for mqtts://")
    group.add_argument("--mqtt-key", metavar="FILE", help="client key for mqtts://")
    group.add_argument("--mqtt-insecure", action="store_true",
                       help="mqtts:// without checking the broker's certificate")
    group.add_argument("--tap-rate", type=float, metavar="N", default=DEFAULT_RATE,
                       help=f"publish at most N events a second to the tap, counting the "
                            f"rest (default {DEFAULT_RATE:g}; 0 turns the tap off)")


def wanted(args: argparse.Namespace, topology: m.Topology | None = None) -> bool:
    """Whether this run needs MQTT at all (an option, or a producer fed by a source)."""
    # an empty --broker or --nodes is a mistake to say, not an option left out
    given = any(getattr(args, name, None) not in (None, False)
                for name in ("mqtt", "broker", "nodes", "mqtt_port"))
    return given or (topology is not None and bool(_sources(topology, _nodes(args))))


def _nodes(args: argparse.Namespace) -> frozenset[str] | None:
    text = getattr(args, "nodes", None)
    if text is None:
        return None
    return frozenset(part.strip() for part in text.split(","))


def _sources(topology: m.Topology, nodes: frozenset[str] | None) -> list[str]:
    return [i for i, n in topology.nodes.items() if isinstance(n, m.ProducerSpec)
            and n.source is not None and (nodes is None or i in nodes)]


def problem(args: argparse.Namespace, topology: m.Topology | None, *, clock: str = "real",
            compare: bool = False) -> str | None:
    """What is wrong with this combination of options, said to the user, or None."""
    nodes = _nodes(args)
    if args.broker is not None and not args.broker.strip():
        return "--broker is empty: write --broker mqtt://HOST:PORT (mqtts:// for TLS)"
    if nodes is not None and "" in nodes:
        return f"--nodes {args.nodes!r} has an empty name: write the nodes to run here " \
               f"separated by commas, e.g. --nodes api,orders"
    if args.mqtt and args.broker:
        return "--mqtt starts a broker and --broker names one: choose one"
    if args.mqtt_port is not None and not args.mqtt:
        return "--mqtt-port is the embedded broker's port: add --mqtt"
    if args.mqtt_port is not None and not 0 <= args.mqtt_port <= 65535:
        return f"--mqtt-port must be from 0 to 65535 (got {args.mqtt_port})"
    if nodes is not None and not (args.mqtt or args.broker):
        return "--nodes runs part of a topology: the other parts are reached through an " \
               "MQTT broker, so add --broker mqtt://HOST:PORT (or --mqtt)"
    if nodes is not None and topology is None:
        return "--nodes needs the topology's FILE"
    if nodes is not None and topology is not None:
        unknown = sorted(nodes - set(topology.nodes))
        if unknown:
            return f"--nodes: no node {', '.join(map(repr, unknown))} in " \
                   f"{topology.name!r} (nodes: {', '.join(topology.nodes)})"
    if args.broker:
        try:
            endpoint = parse_endpoint(args.broker, topic="forbidden")
        except ValueError as error:
            return f"--broker: {error}"
        if (refused := _credentials_problem(args, endpoint)) is not None:
            return refused
        if not endpoint.tls and (args.mqtt_ca or args.mqtt_cert or args.mqtt_key
                                 or args.mqtt_insecure):
            return "TLS options need a TLS broker: write --broker mqtts://HOST:PORT"
        for flag, name in (("--mqtt-ca", args.mqtt_ca), ("--mqtt-cert", args.mqtt_cert),
                           ("--mqtt-key", args.mqtt_key)):
            # said now: the connection would retry for ever on a file that is not there
            if name and not os.access(name, os.R_OK):
                return f"{flag}: cannot read {name!r}"
        if args.mqtt_key and not args.mqtt_cert:
            return "--mqtt-key is the key of a client certificate: add --mqtt-cert FILE"
        if endpoint.tls and (refused := tls_problem(args.mqtt_ca, args.mqtt_cert,
                                                    args.mqtt_key)):
            return refused
    elif args.mqtt_username or args.mqtt_password:
        return "--mqtt-username and --mqtt-password are for --broker (the embedded broker " \
               "takes anyone on 127.0.0.1)"
    if not math.isfinite(args.tap_rate):  # nan turned the tap off, inf is no JSON number
        return f"--tap-rate must be a number of events a second, 0 or more (got " \
               f"{args.tap_rate:g})"
    if args.tap_rate < 0:
        return f"--tap-rate cannot be negative (got {args.tap_rate:g})"
    if wanted(args, topology) and clock != "real":
        return "MQTT runs on the wall clock: add --clock real (a broker's keepalives cannot " \
               "follow simulated time)"
    if wanted(args, topology) and compare:
        return "MQTT serves one topology per process: drop --compare or the MQTT options"
    return None


def _credentials_problem(args: argparse.Namespace, endpoint: Endpoint) -> str | None:
    """A password without a user name (MQTT sends none then: the broker would refuse the
    link as not authorized, for a reason the user cannot see), or a user name or password
    given both in the URL and as an option (one of them would be dropped unsaid)."""
    if endpoint.username and args.mqtt_username:
        return "the user name is given twice, in the --broker URL and by --mqtt-username: " \
               "keep one"
    if endpoint.password is not None and args.mqtt_password:
        return "the password is given twice, in the --broker URL and by --mqtt-password: " \
               "keep one"
    if endpoint.username or args.mqtt_username:
        return None
    if endpoint.password:
        return "the --broker URL has a password but no user name: write " \
               "mqtt://USER:PASSWORD@HOST:PORT"
    if args.mqtt_password:
        return "--mqtt-password needs a user name: add --mqtt-username NAME (or write " \
               "mqtt://USER@HOST:PORT)"
    if os.environ.get(PASSWORD_VARIABLE):
        return f"{PASSWORD_VARIABLE} is set but no user name is given: add --mqtt-username " \
               f"NAME (or write mqtt://USER@HOST:PORT), or unset {PASSWORD_VARIABLE}"
    return None


class _Encrypted(Exception):
    """The key asks for a pass phrase (OpenSSL would ask for it on the terminal)."""


def _no_pass_phrase() -> str:
    raise _Encrypted


def tls_problem(ca: str | None, cert: str | None, key: str | None) -> str | None:
    """What is wrong with the TLS files, found by loading them as the connection will.
    Loaded now: otherwise a file that is no certificate shows only at the end of the run,
    as a broker never connected to."""
    pem = "-----BEGIN CERTIFICATE----- blocks (PEM)"
    if ca:
        try:
            ssl.create_default_context().load_verify_locations(cafile=ca)
        except (ssl.SSLError, OSError) as error:
            return f"--mqtt-ca: {ca!r} holds no CA certificate{_why(error)}: give the " \
                   f"certificate authority's certificates as {pem}"
    if not cert:
        return None
    try:  # the certificates alone, to tell a bad certificate from a bad key
        ssl.create_default_context().load_verify_locations(cafile=cert)
    except (ssl.SSLError, OSError) as error:
        return f"--mqtt-cert: {cert!r} holds no certificate{_why(error)}: give the client " \
               f"certificate as {pem}"
    try:
        ssl.create_default_context().load_cert_chain(cert, key, password=_no_pass_phrase)
    except _Encrypted:
        return f"--mqtt-key: {key or cert!r} is protected by a pass phrase: give the key " \
               f"without one (openssl pkey -in {key or cert} -out plain-key.pem)"
    except (ssl.SSLError, OSError) as error:
        if not key:
            return f"--mqtt-cert: {cert!r} holds no private key: give it with --mqtt-key " \
                   "FILE (a -----BEGIN PRIVATE KEY----- block, PEM)"
        if getattr(error, "reason", None) == "KEY_VALUES_MISMATCH":
            return f"--mqtt-key: {key!r} is not the key of the certificate in {cert!r}: " \
                   "give the private key that goes with it"
        return f"--mqtt-key: {key!r} holds no private key{_why(error)}: give the client " \
               "certificate's key as a -----BEGIN PRIVATE KEY----- block (PEM)"
    return None


def _why(error: Exception) -> str:
    if isinstance(error, OSError) and not isinstance(error, ssl.SSLError):
        return f" ({error.strerror or error})"
    return ""


def options(args: argparse.Namespace, embedded: Endpoint | None = None) -> MqttOptions:
    """The options for a run (after :func:`problem` found nothing wrong)."""
    broker = embedded if embedded is not None else (
        parse_endpoint(args.broker, topic="forbidden") if args.broker else None)
    password = args.mqtt_password or os.environ.get(PASSWORD_VARIABLE) or None
    security = Security(args.mqtt_username, password if args.broker else None, args.mqtt_ca,
                        args.mqtt_cert, args.mqtt_key, args.mqtt_insecure)
    return MqttOptions(broker, _nodes(args), security, args.tap_rate)
