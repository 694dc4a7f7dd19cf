"""Many deadlines, one timer.

A queue holds a visibility deadline per batch in flight and a retention deadline per
message. Giving each its own loop timer costs a timer per message on the hot path; here
they wait in a heap and the loop's single timer is set for the earliest. Items that no
longer matter (a deleted message) are skipped when they come up, and the heap is rebuilt
when such leftovers outnumber the live entries.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import operator
from collections.abc import Callable
from typing import Any

from playground.engine.clock import Clock, on_grid

_item_of = operator.itemgetter(2)


class Deadlines:
    """``on_due(item)`` when an item's deadline comes, unless ``alive(item)`` is false by
    then (any truthy value is alive); ``live()`` counts the items alive."""

    def __init__(self, clock: Clock, on_due: Callable[[Any], None],
                 alive: Callable[[Any], object], live: Callable[[], int]) -> None:
        self._clock = clock
        self._on_due = on_due
        self._alive = alive
        self._live = live
        self._heap: list[tuple[float, int, Any]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        # when the timer fires (math.inf: none set); a plain attribute, read twice a message
        # by add and before every hand-over by a queue (retention)
        self.due_at = math.inf

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, due: float, item: Any) -> None:
        due = on_grid(due)  # the timer is set on the grid; the heap must agree with it
        heap = self._heap
        if len(heap) > 2 * self._live() + 64:
            alive = map(self._alive, map(_item_of, heap))
            self._heap = heap = list(itertools.compress(heap, alive))  # in C, if alive is
            heapq.heapify(heap)
        heapq.heappush(heap, (due, next(self._order), item))
        if not self._alive(heap[0][2]):  # seldom: the head is mostly one still to come
            heap = self._drop_dead_heads()
            if not heap:
                return
        earliest = heap[0][0]
        if earliest < self.due_at:
            if self._timer is not None:
                self._timer.cancel()
            self._set_timer(earliest)

    def _set_timer(self, when: float) -> None:
        self._timer = timer = self._clock.late_at(when, self._fire)
        self.due_at = timer.when()

    def fire_due(self) -> None:
        """Deals with the deadlines due now at once, rather than after what ends at this
        instant (their timer's place): before something would start on an item whose
        deadline has come."""
        if self._timer is not None:
            self._timer.cancel()
        self._fire()

    def _fire(self) -> None:
        self._timer = None
        self.due_at = math.inf
        now = self._clock.loop.now
        heap = self._heap
        due_items = []
        while heap and heap[0][0] <= now:
            item = heapq.heappop(heap)[2]
            if self._alive(item):
                due_items.append(item)
        handled = 0
        try:
            for item in due_items:
                handled += 1
                self._on_due(item)
        finally:
            # one that raised (reported by the clock) must not take the others with it:
            # those still due go back, and the timer is set again
            for item in due_items[handled:]:
                heapq.heappush(self._heap, (now, next(self._order), item))
            heap = self._drop_dead_heads()
            if heap and self._timer is None:
                self._set_timer(heap[0][0])

    def _drop_dead_heads(self) -> list[tuple[float, int, Any]]:
        # most deadlines die before they come (a message is deleted long before its
        # visibility timeout): no timer is ever set for those
        heap = self._heap
        alive = self._alive
        while heap and not alive(heap[0][2]):
            heapq.heappop(heap)
        return heap

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            # when the timer fires (``math.inf`` with none set): add compares with it twice a
        # message, and a queue before each hand-over, so a plain attribute
        self.due_at = math.inf
        self._heap.clear()
