"""One MQTT connection that comes back: reconnects with exponential backoff and resubscribes.

``async with Connection(...)`` starts it; for every session that gets connected and
subscribed, it runs the owner's ``session(client)`` coroutine (its reader and writer loops)
until the connection drops, then tries again after 0.1 s, 0.2 s, 0.4 s ... up to 5 s (from
0.1 s again only once a session lasted 10 s). Leaving
the block cancels whatever runs and waits for it. The state (``connecting``, ``connected``,
``reconnecting``, ``closed``) is plain data, safe to read from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Self

import aiomqtt

from playground.mqtt.options import Security
from playground.mqtt.refusal import closed_early, diagnose, explain
from playground.spec.endpoint import Endpoint

log = logging.getLogger("playground.mqtt")
# paho's and aiomqtt's own lines ("failed to receive on socket: ...") at debug level: what
# they mean is said in lines of ours, with the broker's address and what to do
LIBRARY_LOG = logging.getLogger("playground.mqtt.library")
BACKOFF_MIN, BACKOFF_MAX = 0.1, 5.0
STABLE = 10.0  # wall seconds connected before the backoff starts again from BACKOFF_MIN
QUICK_DROPS_SAID = 3  # links dropped soon after connecting, in a row, before saying why
KEEPALIVE = 10  # wall seconds: a dead broker is noticed within 1.5x this
CONNECTING, CONNECTED, RECONNECTING, CLOSED = "connecting", "connected", "reconnecting", "closed"
Session = Callable[[aiomqtt.Client], Awaitable[None]]


def credentials(endpoint: Endpoint, security: Security) -> tuple[str | None, str | None]:
    """User and password for the broker: the URL's, else the options' (a URL may name the
    user and leave the password to --mqtt-password or the environment, as the README says).
    A producer's source gets an empty ``security``: the options are the --broker's."""
    username = endpoint.username or security.username
    password = endpoint.password if endpoint.password is not None else security.password
    return username, password


class _LibraryLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The libraries' log for one connection: every line goes to LIBRARY_LOG at debug
    level, and the last error is kept (the reason for a connection the broker closed)."""

    def __init__(self) -> None:
        super().__init__(LIBRARY_LOG, {})
        self.last_error = ""

    def log(self, level: int, msg: object, *args: object, **kwargs: object) -> None:
        if level >= logging.ERROR:
            with contextlib.suppress(TypeError, ValueError):
                self.last_error = str(msg) % args if args else str(msg)
        super().log(logging.DEBUG, msg, *args, **kwargs)  # type: ignore[arg-type]


class _Client(aiomqtt.Client):
    """aiomqtt's client, except that a connection the broker closes before it answered
    fails at once: aiomqtt ignores that close and waits out its timeout (10 s), then says
    only that it timed out."""

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason_code: Any,
                       properties: Any = None) -> None:
        if not self._connected.done():
            self._connected.set_exception(aiomqtt.MqttCodeError(
                reason_code, "the broker closed the connection before answering"))
            return
        super()._on_disconnect(client, userdata, flags, reason_code, properties)


class Connection:
    def __init__(self, endpoint: Endpoint, *, client_id: str, subscriptions: Sequence[str],
                 session: Session, security: Security | None = None, qos: int = 1,
                 source: bool = False) -> None:
        self.endpoint = endpoint
        self.client_id = client_id
        self.subscriptions = list(subscriptions)
        self.session = session
        self.security = security or Security()
        self.source = source  # a producer's source: only its own URL's credentials
        self._library = _LibraryLog()
        self._speaks: str | None = None  # what the port answered to a probe, once known
        self.qos = qos
        self.state = CONNECTING
        self.connects = 0
        self.failures = 0  # attempts to connect that failed, and sessions that dropped
        self.last_error = ""
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # monotonic seconds: a link that drops and stays down must show in the report, where
        # the state always reads closed
        self._down_since: float | None = None
        self._closed_at: float | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run(), name=f"mqtt:{self.client_id}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.state = CLOSED
        self._closed_at = time.monotonic()
        self.connected.clear()

    def down_for(self) -> float | None:
        """Wall seconds since the link dropped without coming back (until it was closed),
        or None while it is up, and before it ever was."""
        if self._down_since is None:
            return None
        return (self._closed_at or time.monotonic()) - self._down_since

    def _client(self) -> aiomqtt.Client:
        endpoint, security = self.endpoint, self.security
        tls = security.tls_context() if endpoint.tls else None
        username, password = credentials(endpoint, security)
        client = _Client(
            endpoint.host.strip("[]"), endpoint.port, identifier=self.client_id,
            username=username, password=password,
            keepalive=KEEPALIVE, clean_session=True, tls_context=tls,
            tls_insecure=security.insecure if tls is not None else None,
            max_inflight_messages=1000, timeout=10,
            logger=self._library,  # type: ignore[arg-type]
            # small messages at once: Nagle's algorithm would hold them for an ACK (40 ms)
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        # writers here bound what they have in flight themselves; no warning per publish
        client.pending_calls_threshold = 1_000_000
        return client

    async def _explained(self, errors: list[BaseException]) -> str:
        library = self._library.last_error
        if self._speaks is None and closed_early(errors, library, self.endpoint):
            self._speaks = await diagnose(self.endpoint)  # asked until it tells
        return explain(errors, library, self.endpoint, self.security, source=self.source,
                       speaks=self._speaks)

    async def _run(self) -> None:
        backoff = BACKOFF_MIN
        loop = asyncio.get_running_loop()
        quick_drops = 0  # in a row: links dropped before they were STABLE
        while True:
            since: float | None = None
            errors: list[BaseException] = []
            self._library.last_error = ""
            try:
                async with self._client() as client:
                    for topic in self.subscriptions:
                        await client.subscribe(topic, qos=self.qos)
                    self.state = CONNECTED
                    self.connects += 1
                    self.last_error = ""  # what failed before is history now
                    self._down_since = None
                    since = loop.time()
                    self.connected.set()
                    log.info("MQTT %s connected to %s", self.client_id, self.endpoint)
                    await self.session(client)
                    return  # the owner's session ended on its own: nothing more to do
            except* (aiomqtt.MqttError, OSError) as group:
                errors = list(group.exceptions)
            if since is None:  # refused, or no answer: why, in words
                self.last_error = (await self._explained(errors))[:400]
            else:  # a writer's publishes all fail alike when the link drops: said once
                self.last_error = "; ".join(dict.fromkeys(str(e) for e in errors))[:200]
            self.failures += 1  # after last_error: whoever counts failures reads why
            self.connected.clear()
            was = self.state
            self.state = RECONNECTING if self.connects else CONNECTING
            if was == CONNECTED:
                self._down_since = time.monotonic()
                log.warning("MQTT %s lost %s (%s); reconnecting", self.client_id,
                            self.endpoint, self.last_error)
            if since is not None and loop.time() - since >= STABLE:
                backoff = BACKOFF_MIN
                quick_drops = 0
            elif since is not None:
                quick_drops += 1
                if quick_drops == QUICK_DROPS_SAID:
                    log.warning("MQTT %s: %s dropped the link %d times in a row soon after "
                                "accepting it: it may refuse what is sent (a batch larger "
                                "than its largest packet: mosquitto's max_packet_size must "
                                "be at least 65536), this client id or its rights",
                                self.client_id, self.endpoint, quick_drops)
            # else a broker that accepts and then drops us at once (a message larger than it
            # takes, a client id it refuses ...) is not asked again ten times a second
            await asyncio.sleep(backoff)
            backoff = min(BACKOFF_MAX, backoff * 2)
