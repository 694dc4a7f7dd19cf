"""The embedded broker (``--mqtt``): amqtt, inside the app, on 127.0.0.1 only.

What amqtt 0.12 needs said (measured): it listens on 0.0.0.0:1883 unless told otherwise, so
the listener is always bound to 127.0.0.1; with no authentication plugin listed it refuses
every connection, so the anonymous one is listed; its default plugins (event and packet
loggers, ``$SYS`` topics) cost 12-32% of throughput, so none of them is loaded; its
``Broker`` must be made inside the running loop; it speaks MQTT 3.1.1 only.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import functools
import logging
import socket
from typing import Any, Self

from playground.mqtt.network import NetworkThread
from playground.spec.endpoint import Endpoint

HOST = "127.0.0.1"
log = logging.getLogger("playground.mqtt")
# amqtt logs what it cannot serve (a port in use, an MQTT 5 or 3.1 client) with a whole
# traceback, again at every retry of the client; what a user needs is said by our own lines
logging.getLogger("amqtt").setLevel(logging.CRITICAL)


def free_port(host: str = HOST) -> int:
    """A TCP port the OS says is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def broker_config(port: int) -> dict[str, Any]:
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{HOST}:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin":
                    {"allow_anonymous": True}},
        "timeout_disconnect_delay": 0,
    }


class EmbeddedBroker:
    """``async with EmbeddedBroker(port) as broker``: serving on ``broker.endpoint`` inside.

    Port 0 asks the OS for a free port (another program could take it between the question
    and the bind: then another free port is tried, a few times).
    """

    def __init__(self, port: int = 0) -> None:
        self.requested = port
        self.port = port
        self._broker: Any = None

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(HOST, self.port)

    async def __aenter__(self) -> Self:
        from amqtt.errors import BrokerError

        for attempt in range(5):
            self.port = self.requested or free_port()
            # made inside the running loop, as amqtt needs
            broker = _broker_class()(broker_config(self.port))
            try:
                await broker.start()
            except BrokerError as error:
                in_use = isinstance(error.__cause__, OSError) and \
                    error.__cause__.errno == errno.EADDRINUSE
                if self.requested or not in_use or attempt == 4:
                    raise OSError(f"the embedded MQTT broker cannot listen on "
                                  f"{HOST}:{self.port}: {error.__cause__ or error}") from None
                continue
            self._broker = broker
            return self
        raise AssertionError("unreachable")

    async def __aexit__(self, *exc: object) -> None:
        broker, self._broker = self._broker, None
        if broker is not None:
            await broker.shutdown()


class BackgroundBroker:
    """An :class:`EmbeddedBroker` kept open in a network thread of its own, for code that is
    not async (the command line): ``start()`` returns once it listens, ``stop()`` closes it."""

    def __init__(self, port: int = 0) -> None:
        self._broker = EmbeddedBroker(port)
        self._thread = NetworkThread("mqtt-broker")
        self._stop: asyncio.Event | None = None
        self._serving: concurrent.futures.Future[None] | None = None
        self._ready: concurrent.futures.Future[Endpoint] = concurrent.futures.Future()

    @property
    def endpoint(self) -> Endpoint:
        return self._broker.endpoint

    def start(self, timeout: float = 10.0) -> Self:
        self._thread.start()
        self._serving = self._thread.submit(self._serve())
        try:
            self._ready.result(timeout)
        except BaseException:
            self._thread.stop()
            raise
        log.info("embedded MQTT broker on %s", self.endpoint)
        return self

    async def _serve(self) -> None:
        # the loop is this thread's own: whatever else fails unwatched on it is a line, not a
        # traceback from asyncio's default handler
        asyncio.get_running_loop().set_exception_handler(_client_failed)
        self._stop = asyncio.Event()
        try:
            async with self._broker:
                self._ready.set_result(self._broker.endpoint)
                await self._stop.wait()
        except Exception as error:
            if not self._ready.done():
                self._ready.set_exception(error)
            raise

    def stop(self, timeout: float = 10.0) -> None:
        if self._stop is not None:
            self._thread.call(self._stop.set)
            if self._serving is not None:
                try:
                    self._serving.result(timeout)
                except Exception as error:  # shutting down: say it, do not fail the run
                    log.warning("the embedded MQTT broker stopped badly: %r", error)
        self._thread.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@functools.cache
def _broker_class() -> type[Any]:
    # made on first use: importing amqtt takes ~80 ms, which only a run with a broker pays
    from amqtt.broker import Broker

    class GuardedBroker(Broker):
        """amqtt's broker, where a client's connection that fails is one line of ours.

        asyncio reports the failure of a connection's task itself only from 3.11.7
        (gh-110894, which also closes the transport); before that (Debian's 3.11.2) the task
        is dropped, its exception printed as 'Task exception was never retrieved' whenever the
        garbage collector reaches it, and the socket stays open until then.
        """

        async def stream_connected(self, reader: asyncio.StreamReader,
                                   writer: asyncio.StreamWriter, listener_name: str) -> None:
            try:
                await super().stream_connected(reader, writer, listener_name=listener_name)
            except Exception as error:
                writer.close()
                _client_could_not_connect(error)

    return GuardedBroker


def _client_could_not_connect(error: Exception) -> None:
    # amqtt neither answers nor names the cause when it cannot read a CONNECT: it waits for
    # the rest of what it misreads, and its refusal fails on a socket the client has left
    # (OSError ENOTCONN); the usual client is one speaking MQTT 5, which hangs without a word
    log.warning("embedded MQTT broker: a client could not connect (%r): the embedded broker "
                "speaks MQTT 3.1.1 only, and an MQTT 5 client is not understood "
                "(mosquitto_sub and mosquitto_pub: -V mqttv311)", error)


def _client_failed(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    error = context.get("exception")
    message = context.get("message", "a client failed")
    log.warning("embedded MQTT broker: %s%s", message,
                f" ({error!r})" if error is not None else "")
