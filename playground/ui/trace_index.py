"""The recent events kept to follow one message hop by hop.

The feed brings tens of thousands of events a second under load, so indexing each one as
it arrives would cost the screen more than drawing it. Instead the newest events are kept
as they come (whole chunks, at most ``keep`` events), a trace's hops are looked up in them
when someone asks, and the trace being followed is kept up to date chunk by chunk.

What is kept is bounded by more than memory: every kept event is an object the collector's
full passes walk, and those stop the screen and the engine together. With 200,000 kept,
under 5,000 messages/s, a full pass took 130-180 ms about once a second; with 50,000, 30-50
ms. 50,000 events are a second of history at that rate, minutes at the rates of a demo.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from playground.engine import events as ev


class TraceIndex:
    def __init__(self, keep: int = 50_000, hops: int = 200) -> None:
        self._chunks: deque[Sequence[ev.Event]] = deque()
        self._size = 0
        self._keep = keep
        self._max_hops = hops
        self._followed: str | None = None
        self._hops: list[ev.Event] = []

    def __len__(self) -> int:
        """Events kept."""
        return self._size

    def add(self, events: Sequence[ev.Event]) -> None:
        if not events:
            return
        self._chunks.append(events)
        self._size += len(events)
        while self._size - len(self._chunks[0]) >= self._keep:
            self._size -= len(self._chunks.popleft())
        if self._followed is not None and len(self._hops) < self._max_hops:
            self._hops.extend(self._matching(events, self._followed))
            del self._hops[self._max_hops:]

    @staticmethod
    def _matching(events: Iterable[ev.Event], trace: str) -> list[ev.Event]:
        return [e for e in events if getattr(e, "trace", None) == trace]

    def hops(self, trace: str) -> list[ev.Event]:
        """The kept events of ``trace``, oldest first."""
        if trace == self._followed:
            return list(self._hops)
        found: list[ev.Event] = []
        for chunk in self._chunks:
            found.extend(self._matching(chunk, trace))
        return found[:self._max_hops]

    def follow(self, trace: str | None) -> None:
        """Keeps ``trace``'s hops up to date as events come (None: stop)."""
        self._followed = None
        self._hops = self.hops(trace) if trace is not None else []
        self._followed = trace

    def clear(self) -> None:
        self._chunks.clear()
        self._size = 0
        self.follow(None)
