"""The event bus: every event goes to the subscribers of its type, at once and in order.

Subscribers that must never slow the engine (a UI on a slow terminal) take a
:class:`BoundedFeed`: a fixed-size buffer that keeps the newest events and counts what it
dropped. Metrics subscribe directly, as plain callbacks.
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from playground.engine import events as ev

Handler = Callable[[Any], None]


def _all_event_types() -> list[type[ev.Event]]:
    found: list[type[ev.Event]] = []
    pending = [ev.Event]
    while pending:
        kind = pending.pop()
        if not ev.is_builder(kind):
            found.append(kind)
        pending.extend(kind.__subclasses__())
    return found


class EventBus:
    def __init__(self) -> None:
        self._by_type: dict[type, list[Handler]] = {}
        # what emit calls per type: the one handler itself (the rule: metrics alone), or
        # a loop over a copy of the list; a dozen events a message make the loop's own
        # cost show
        self._deliver: dict[type, Handler] = {}
        # the same, by the type's name, for every event type (``bus.to.MessageSent(event)``):
        # the nodes' events of every message go straight to their handlers, without emit's
        # frame (a dozen a message). One object per bus, changed in place on every
        # (un)subscribe, so holders of it see subscribers that come later
        self.to = _Deliveries()
        self._rebuild()
        self.counts: dict[str, int] = {}

    def subscribe(self, handler: Handler, types: Iterable[type] | None = None) -> None:
        """Calls ``handler(event)`` for events of ``types`` (and their subclasses)."""
        wanted = list(types) if types is not None else [ev.Event]
        for kind in _all_event_types():
            if any(issubclass(kind, w) for w in wanted):
                self._by_type.setdefault(kind, []).append(handler)
        self._rebuild()

    def unsubscribe(self, handler: Handler) -> None:
        for handlers in self._by_type.values():
            while handler in handlers:
                handlers.remove(handler)
        self._rebuild()

    def _rebuild(self) -> None:
        self._deliver = {kind: handlers[0] if len(handlers) == 1 else _each(tuple(handlers))
                         for kind, handlers in self._by_type.items() if handlers}
        for kind in _all_event_types():
            # the class its module names, not one a dataclass replaced (slots=True makes a
            # new class; the old one, of the same name, lingers among the subclasses)
            if getattr(sys.modules[kind.__module__], kind.__qualname__, None) is kind:
                setattr(self.to, kind.__name__, self._deliver.get(kind, _ignore))

    def wants(self, kind: type) -> bool:
        return bool(self._by_type.get(kind))

    def emit(self, event: ev.Event) -> None:
        deliver = self._deliver.get(type(event))
        if deliver is not None:
            deliver(event)


class _Deliveries:
    """An attribute per event type: what an event of that type is handed to."""


# an event nobody listens to goes here: a builtin that takes any object and keeps nothing
# (a function of ours would be the very frame the deliveries save)
_ignore = id


def _each(handlers: tuple[Handler, ...]) -> Handler:
    def deliver(event: ev.Event) -> None:
        for handler in handlers:
            handler(event)
    return deliver


class BoundedFeed:
    """A buffer of the newest events for a consumer in another thread or at frame rate."""

    def __init__(self, size: int = 10_000) -> None:
        self._items: deque[ev.Event] = deque(maxlen=size)
        self.dropped = 0
        self._lock = threading.Lock()

    def __call__(self, event: ev.Event) -> None:
        items = self._items
        if len(items) == items.maxlen:
            self.dropped += 1
        items.append(event)

    def drain(self, limit: int | None = None) -> list[ev.Event]:
        """Everything buffered so far (oldest first), emptying the buffer."""
        out: list[ev.Event] = []
        items = self._items
        with self._lock:
            while items and (limit is None or len(out) < limit):
                out.append(items.popleft())
        return out
