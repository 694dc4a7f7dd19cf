"""The tap: every hop of every message, published as JSON for anyone to watch.

Topics: ``playground/<topology>/tap/<node>/<event>`` (``<event>`` is the engine event's name
in snake case: ``message_sent``, ``message_written``, ``invocation_finished`` ...), one JSON
object each with ``event``, ``t`` (simulated seconds), ``node`` and the event's own fields
(``msg``, ``trace``, ``target``, ``payload`` ...). Every second a summary goes to
``playground/<topology>/tap/_summary``: what was published, what sampling left out, what the
buffer dropped.

Watching must never slow the engine, so the engine's side (:class:`TapFeed`, called by the
bus in the engine's thread) only counts and appends: at most ``rate`` events per wall second
are kept (a token bucket; the rest are *left out* and counted), into a bounded buffer that
the network thread drains (when it is full, new events are *dropped* and counted).
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from playground.engine import events as ev
from playground.mqtt.topics import tap_topic

DEFAULT_RATE = 2000.0  # events per wall second
BUFFER = 4096
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_NAMES: dict[type, tuple[str, tuple[str, ...]]] = {}


def event_name(kind: type) -> str:
    return _describe(kind)[0]


def _describe(kind: type) -> tuple[str, tuple[str, ...]]:
    found = _NAMES.get(kind)
    if found is None:
        name = _CAMEL.sub("_", kind.__name__).lower()
        fields = tuple(f.name for f in dataclasses.fields(kind))
        found = _NAMES[kind] = (name, fields)
    return found


def tap_item(base: str, event: ev.Event) -> tuple[str, bytes]:
    """The topic and JSON body of one event."""
    name, fields = _describe(type(event))
    body: dict[str, Any] = {"event": name}
    for field in fields:
        body[field] = getattr(event, field)
    return (tap_topic(base, event.node, name),
            json.dumps(body, separators=(",", ":"), default=str).encode())


class TapFeed:
    """The engine's side of the tap: subscribe an instance to the engine's bus."""

    def __init__(self, rate: float, wake: Callable[[], None], size: int = BUFFER,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(1.0, rate / 10)
        self._tokens = self.burst
        self._last = clock()
        self._clock = clock
        self._wake = wake
        self.buffer: deque[ev.Event] = deque()
        self.size = size
        self.kept = 0
        self.left_out = 0
        self.dropped = 0
        self.woken = False

    def __call__(self, event: ev.Event) -> None:
        now = self._clock()
        tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if tokens < 1.0:
            self._tokens = tokens
            self.left_out += 1
            return
        self._tokens = tokens - 1.0
        if len(self.buffer) >= self.size:
            self.dropped += 1
            return
        self.buffer.append(event)
        self.kept += 1
        if not self.woken:
            self.woken = True
            self._wake()

    def take(self) -> ev.Event | None:
        """The oldest kept event (network thread), or None."""
        try:
            return self.buffer.popleft()
        except IndexError:
            self.woken = False
            return None
