"""A thread with a plain asyncio loop for the network side (wall-clock time, never simulated).

Whoever owns one starts it, hands it coroutines with :meth:`NetworkThread.submit`, and stops
it; stopping cancels whatever still runs there and waits for it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger("playground.mqtt")


class NetworkThread:
    def __init__(self, name: str = "mqtt") -> None:
        self.name = name
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def start(self) -> NetworkThread:
        if self._thread is None:
            self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
            self._thread.start()
            self._ready.wait()
        return self

    def _main(self) -> None:
        loop = self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(_unhandled)
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Runs ``coro`` in the network loop; the future holds its result."""
        assert self.loop is not None, "the network thread is not running"
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, callback: Any, *args: Any) -> None:
        """``callback(*args)`` soon in the network loop (a no-op once it has stopped)."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed meanwhile
                loop.call_soon_threadsafe(callback, *args)

    def stop(self, timeout: float = 10.0) -> None:
        loop, thread = self.loop, self._thread
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def _unhandled(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """What asyncio would print as a traceback, as one line of ours. A socket closed under
    paho's reader or writer when a broker drops the connection (EBADF) is said already, by
    the connection's own line about the drop."""
    error = context.get("exception")
    message = context.get("message", "unexpected error")
    if isinstance(error, OSError):
        log.debug("MQTT network: %s (%r)", message, error)
    else:
        log.warning("MQTT network: %s%s", message, f" ({error!r})" if error else "")
