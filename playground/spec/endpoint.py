"""MQTT endpoints as the format and the command line write them.

``mqtt://[USER[:PASSWORD]@]HOST[:PORT][/TOPIC]`` (``mqtts://`` for TLS). The topic is taken
literally, wildcards included (``mqtt://host:1883/sensors/+/temperature``, ``.../#``): it is
not a URL path, so ``#`` starts no fragment. User and password may be percent-encoded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote

SCHEMES = {"mqtt": 1883, "mqtts": 8883}
ENDPOINT_HINT = "write mqtt://HOST:PORT/TOPIC (mqtts:// for TLS, USER:PASSWORD@ before HOST)"


def _hint(topic: TopicRule) -> str:
    """How to write an address where ``topic`` says whether one may name a topic."""
    return ENDPOINT_HINT.replace("/TOPIC", "") if topic == "forbidden" else ENDPOINT_HINT
_SECRET = re.compile(r"(://[^/@:]*:)[^/@]*@")
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)$")
TopicRule = Literal["required", "forbidden", "optional"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where an MQTT broker is, and optionally a topic on it. The password is never shown."""

    host: str
    port: int
    topic: str = ""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False

    def url(self, *, topic: bool = True) -> str:
        """The endpoint as a URL without its password (safe to print or log)."""
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}@" if self.username else ""
        path = f"/{self.topic}" if topic and self.topic else ""
        return f"{scheme}://{user}{self.host}:{self.port}{path}"

    @property
    def address(self) -> tuple[str, int, str | None, bool]:
        """What makes two endpoints the same connection (the topic aside)."""
        return self.host.strip("[]"), self.port, self.username, self.tls

    def __str__(self) -> str:
        return self.url()


def topic_filter_problem(topic: str) -> str | None:
    """Why ``topic`` is no valid MQTT subscription filter, or None."""
    if not topic:
        return "the topic is empty"
    if "\x00" in topic:
        return "a topic cannot hold a NUL character"
    levels = topic.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            return "'#' must be a whole level, and the last one"
        if "+" in level and level != "+":
            return "'+' must be a whole level"
    return None


def redacted(text: str) -> str:
    """``text`` with the password of a URL in it replaced by ``***``."""
    return _SECRET.sub(r"\1***@", text)


def parse_endpoint(text: object, *, topic: TopicRule = "optional") -> Endpoint:
    """An :class:`Endpoint` from its URL; ``ValueError`` says what is wrong and what is valid
    (never showing the password)."""
    if not isinstance(text, str):
        raise ValueError(f"{redacted(repr(text))} is not an MQTT address: {_hint(topic)}")
    return _parse(text, topic)


def _parse(text: str, topic: TopicRule) -> Endpoint:
    shown = repr(redacted(text))  # only the user's text: our hint says USER:PASSWORD@
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise ValueError(f"{shown} is not an MQTT address: {_hint(topic)}")
    authority, slash, path = rest.partition("/")
    userinfo, at, hostport = authority.rpartition("@")
    if not at:
        hostport, userinfo = authority, ""
    if (cut := min((hostport.find(c) for c in "?#" if c in hostport), default=-1)) >= 0:
        # a URL's query or fragment: here it would read as part of the port
        raise ValueError(f"{shown}: {hostport[cut:]!r} is no part of an MQTT address: "
                         f"{_hint(topic)}")
    username = password = None
    if at:
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    host, port_text = hostport, ""
    if hostport.startswith("["):
        close = hostport.find("]")
        host, port_text = hostport[:close + 1], hostport[close + 1:].removeprefix(":")
    elif ":" in hostport:
        host, port_text = hostport.rsplit(":", 1)
    if not host or not _HOST.match(host):
        raise ValueError(f"{shown} names no host: {_hint(topic)}")
    port = SCHEMES[scheme.lower()]
    if port_text:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise ValueError(f"{shown}: the port must be a number from 1 to 65535")
        port = int(port_text)
    if topic == "required" and not (slash and path):
        raise ValueError(f"{shown} names no topic: {ENDPOINT_HINT}")
    if topic == "forbidden" and slash and path:
        raise ValueError(f"{shown}: give only the broker here (mqtt://HOST:PORT), no topic")
    if slash and path:
        problem = topic_filter_problem(path)
        if problem is not None:
            raise ValueError(f"{shown}: {problem}")
    return Endpoint(host, port, path, username, password, scheme.lower() == "mqtts")
