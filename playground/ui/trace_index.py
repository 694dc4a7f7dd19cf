"""A bounded index of recent events per trace, to follow one message hop by hop."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from playground.engine import events as ev


class TraceIndex:
    """The newest ``traces`` traces, each with at most ``hops`` events (oldest kept)."""

    def __init__(self, traces: int = 4_000, hops: int = 64) -> None:
        self._traces: OrderedDict[str, list[ev.Event]] = OrderedDict()
        self._max_traces = traces
        self._max_hops = hops

    def __len__(self) -> int:
        return len(self._traces)

    def add(self, events: Iterable[ev.Event]) -> None:
        traces = self._traces
        max_hops = self._max_hops
        for event in events:
            trace = getattr(event, "trace", None)
            if trace is None:
                continue
            hops = traces.get(trace)
            if hops is None:
                hops = traces[trace] = []
                if len(traces) > self._max_traces:
                    traces.popitem(last=False)
            if len(hops) < max_hops:
                hops.append(event)

    def hops(self, trace: str) -> list[ev.Event]:
        return list(self._traces.get(trace, ()))

    def clear(self) -> None:
        self._traces.clear()
