"""Why a broker did not take a connection, said as what is wrong and what to do.

The libraries report a refusal as a code (``[code:135] Not authorized``), a TLS failure as
OpenSSL's text, and a connection closed before the broker answered as a timeout ten seconds
later. :func:`explain` turns them into a sentence naming the option to change; for a
connection closed at once, :func:`diagnose` first asks the port itself whether it speaks
TLS or plain MQTT.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import ssl

import aiomqtt

from playground.mqtt.options import PASSWORD_VARIABLE, Security
from playground.spec.endpoint import Endpoint

PROBE_TIMEOUT = 2.0  # wall seconds for one look at what a port speaks
# CONNACK codes: MQTT 3.1.1's "bad user name or password" and "not authorized", and
# MQTT 5's, which paho reports for both protocols
_AUTH_CODES = frozenset((4, 5, 134, 135))
_CERT_REQUIRED = ("CERTIFICATE_REQUIRED", "certificate required")
_CLIENT_CERT_REFUSED = ("ALERT_UNKNOWN_CA", "ALERT_BAD_CERTIFICATE", "ALERT_CERTIFICATE_UNKNOWN",
                        "ALERT_UNSUPPORTED_CERTIFICATE", "ALERT_CERTIFICATE_EXPIRED",
                        "ALERT_CERTIFICATE_REVOKED", "ALERT_DECRYPT_ERROR")
_NO_TLS = ("WRONG_VERSION_NUMBER", "Connection reset", "EOF occurred", "UNEXPECTED_EOF",
           "record layer failure", "PACKET_LENGTH_TOO_LONG")
PLAIN, TLS = "plain", "tls"


def explain(errors: list[BaseException], library: str, endpoint: Endpoint,
            security: Security, *, source: bool = False, speaks: str | None = None) -> str:
    """What is wrong with an attempt to connect that failed with ``errors`` (``library``:
    the last error line paho logged meanwhile; ``speaks``: what the port answered to a
    probe, ``plain`` or ``tls``), and what to do; the libraries' text if nothing is known.
    ``source``: a producer's source, which takes only what its own URL says."""
    lines = [*(str(e) for e in errors), library]
    said = "; ".join(lines[:-1])
    text = " ".join(lines)
    codes = {_code(e) for e in errors}
    where = endpoint.url(topic=False)
    if codes & _AUTH_CODES:
        if source:
            return ("the broker refused the source's user name or password (not "
                    "authorized); give them in its URL, mqtts://USER:PASSWORD@HOST:PORT/TOPIC")
        if endpoint.username is None and security.username is None:
            return (f"the broker takes no client without a user name (not authorized); add "
                    f"--mqtt-username NAME and a password (--mqtt-password or "
                    f"{PASSWORD_VARIABLE})")
        return ("the broker refused the user name or password (not authorized); check "
                f"--mqtt-username and --mqtt-password (or {PASSWORD_VARIABLE})")
    if endpoint.tls:
        if any(mark in text for mark in _CERT_REQUIRED):
            if source:
                return ("the broker wants a client certificate, which a source cannot give; "
                        "use a listener of the broker that needs none")
            return "the broker wants a client certificate; add --mqtt-cert FILE --mqtt-key FILE"
        if any(mark in text for mark in _CLIENT_CERT_REFUSED):
            return (f"the broker does not take the client certificate ({_reason(lines)}); give "
                    "--mqtt-cert (and --mqtt-key) signed by a certificate authority it trusts")
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return _untrusted(_reason(lines), endpoint, security, source)
        if speaks == PLAIN:
            return f"this port speaks plain MQTT, not TLS; use {_other_scheme(endpoint)}"
    elif speaks == TLS:
        return f"this port speaks TLS; use {_other_scheme(endpoint)}"
    if speaks is not None:  # closed before answering, for no reason the port would say
        return f"the broker at {where} closed the connection before answering ({said})"
    return said


def _untrusted(why: str, endpoint: Endpoint, security: Security, source: bool) -> str:
    if "mismatch" in why:
        return (f"the broker's certificate is not issued for {endpoint.host} ({why}); "
                "connect by a name it is issued for"
                + ("" if source else ", or skip the check with --mqtt-insecure"))
    if source:
        return (f"the broker's certificate is not trusted ({why}): a source checks it against "
                "the system's certificate authorities only")
    if security.ca_file:
        return (f"the broker's certificate is not trusted by --mqtt-ca {security.ca_file} "
                f"({why}); give the certificate authority that signed it, or skip the check "
                "with --mqtt-insecure")
    return (f"the broker's certificate is not trusted ({why}); give its certificate "
            "authority with --mqtt-ca FILE, or skip the check with --mqtt-insecure")


def _reason(lines: list[str]) -> str:
    """OpenSSL's reason without its codes: ``self-signed certificate in certificate chain``
    from ``[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed ...
    (_ssl.c:1006)``."""
    text = next((line for line in lines if "[SSL" in line), "; ".join(filter(None, lines)))
    text = text.split("] ", 1)[-1].split(" (_ssl.c", 1)[0]
    return text.removeprefix("certificate verify failed: ").strip().rstrip(".")


def _code(error: BaseException) -> int | None:
    if isinstance(error, aiomqtt.MqttCodeError):
        rc = error.rc
        return rc if isinstance(rc, int) else getattr(rc, "value", None)
    return None


def _other_scheme(endpoint: Endpoint) -> str:
    scheme = "mqtt" if endpoint.tls else "mqtts"
    return f"{scheme}://{endpoint.host}:{endpoint.port}"


def closed_early(errors: list[BaseException], library: str, endpoint: Endpoint) -> bool:
    """Whether the broker closed the connection before it answered, as a port of the other
    kind would: a TLS handshake cut short, or a plain CONNECT met by a TLS listener."""
    text = "; ".join(str(e) for e in errors) + " " + library
    if any(_code(e) in _AUTH_CODES for e in errors) or "CERTIFICATE" in text \
            or "ALERT" in text:
        return False  # the broker answered: it speaks what we spoke
    if endpoint.tls:
        return any(mark in text for mark in _NO_TLS)
    return any(isinstance(e, aiomqtt.MqttCodeError) for e in errors) \
        or "Connection reset" in text or "timed out" in text


async def diagnose(endpoint: Endpoint) -> str | None:
    """What the port answers: ``tls`` to a TLS handshake, ``plain`` to an MQTT CONNECT, or
    None (it answers neither, within PROBE_TIMEOUT each)."""
    host = endpoint.host.strip("[]")
    if endpoint.tls:
        return PLAIN if await _answers_plain(host, endpoint.port) else None
    return TLS if await _answers_tls(host, endpoint.port) else None


async def _answers_tls(host: str, port: int) -> bool:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # only whether it speaks TLS at all
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(
            host, port, ssl=context, ssl_handshake_timeout=PROBE_TIMEOUT), PROBE_TIMEOUT)
    except ssl.SSLError as error:
        return "ALERT" in str(error)  # a TLS alert is TLS speaking (it wants a certificate)
    except (OSError, TimeoutError):
        return False
    await _close(writer)
    return True


async def _answers_plain(host: str, port: int) -> bool:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port),
                                                PROBE_TIMEOUT)
    except (OSError, TimeoutError):
        return False
    try:
        writer.write(_connect_packet(f"pg-probe-{secrets.token_hex(4)}"))
        first = await asyncio.wait_for(reader.read(1), PROBE_TIMEOUT)
    except (OSError, TimeoutError):
        return False
    finally:
        await _close(writer)
    return first == b"\x20"  # CONNACK, whatever it says


def _connect_packet(client_id: str) -> bytes:
    """An MQTT 3.1.1 CONNECT: clean session, keepalive 10 s (an id of its own: a broker
    drops an older client of the same id)."""
    name = client_id.encode()
    body = b"\x00\x04MQTT" + bytes((4, 2, 0, 10)) + len(name).to_bytes(2, "big") + name
    return bytes((0x10, len(body))) + body


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), PROBE_TIMEOUT)
