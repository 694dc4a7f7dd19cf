"""Metrics derived from events: counters, per-second rates, and latency histograms.

:class:`Histogram` is a log-bucketed histogram: a positive value x falls in bucket
floor(log(x) / log(GAMMA)) and a quantile is reported as the bucket's middle, so every
quantile is within ``RELATIVE_ERROR`` (0.1%) of a value the data really holds; zeros are
counted exactly, and the mean and max are exact.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from playground.engine import events as ev

GAMMA = 1.002
_LOG_GAMMA = math.log(GAMMA)
_log, _floor = math.log, math.floor  # four histogram adds per message
RELATIVE_ERROR = (GAMMA - 1) / (GAMMA + 1)
_MID = 2 * GAMMA / (GAMMA + 1)
RATE_WINDOW = 60  # seconds of per-second counts kept for sparklines and rates


class Histogram:
    __slots__ = ("buckets", "count", "max", "sum", "zeros")

    def __init__(self) -> None:
        self.buckets: dict[int, int] = {}
        self.zeros = 0
        self.count = 0
        self.sum = 0.0
        self.max = 0.0

    def add(self, value: float) -> None:
        self.count += 1
        self.sum += value
        if value > self.max:
            self.max = value
        if value <= 1e-12:
            self.zeros += 1
            return
        index = _floor(_log(value) / _LOG_GAMMA)
        buckets = self.buckets
        buckets[index] = buckets.get(index, 0) + 1

    @property
    def mean(self) -> float:
        return self.sum / self.count if self.count else 0.0

    def quantile(self, q: float) -> float:
        """The nearest-rank quantile: the smallest value with at least q of the data at or
        below it (within the histogram's relative error)."""
        if self.count == 0:
            return 0.0
        rank = max(1, math.ceil(q * self.count))
        if rank <= self.zeros:
            return 0.0
        seen = self.zeros
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                return min(self.max, GAMMA**index * _MID)
        return self.max

    def summary(self) -> dict[str, float]:
        return {"mean": self.mean, "p50": self.quantile(0.50), "p95": self.quantile(0.95),
                "p99": self.quantile(0.99), "max": self.max}

    @classmethod
    def merged(cls, parts: list[Histogram]) -> Histogram:
        """One histogram of all of ``parts``' values (the part itself when there is one): the
        buckets are the same in every histogram, so the quantiles are exactly those of one
        histogram that every value had been added to."""
        if len(parts) == 1:
            return parts[0]
        whole = cls()
        buckets = whole.buckets
        for part in parts:
            whole.zeros += part.zeros
            whole.count += part.count
            whole.sum += part.sum
            whole.max = max(whole.max, part.max)
            for index, count in part.buckets.items():
                buckets[index] = buckets.get(index, 0) + count
        return whole


_SLOTS = RATE_WINDOW + 1


class RateWindow:
    """Counts per simulated second over the last ``RATE_WINDOW`` complete seconds, and the
    second under way (a ring of one slot more: the current second must not overwrite the
    oldest complete one)."""

    __slots__ = ("counts", "second")

    def __init__(self) -> None:
        self.counts = [0] * _SLOTS
        self.second = 0

    def add(self, t: float, amount: int = 1) -> None:
        second = int(t)
        if second != self.second:
            self._roll(second)
        self.counts[second % _SLOTS] += amount

    def _roll(self, second: int) -> None:
        if second < self.second:
            return
        gap = min(second - self.second, _SLOTS)
        for step in range(1, gap + 1):
            self.counts[(self.second + step) % _SLOTS] = 0
        self.second = second

    def series(self, now: float) -> list[int]:
        """The last ``RATE_WINDOW`` complete seconds, oldest first."""
        self._roll(int(now))
        current = self.second
        return [self.counts[(current - RATE_WINDOW + i) % _SLOTS] for i in range(RATE_WINDOW)]

    def rate(self, now: float, seconds: int = 5) -> float:
        """Per second, over the last ``seconds`` complete seconds - or over those the run has
        had so far (a run starts at 0): a 5/s flow reads 5/s from its first second on."""
        span = min(seconds, int(now))
        if span <= 0:
            return 0.0
        return sum(self.series(now)[-span:]) / span


class NodeStats:
    __slots__ = ("counters", "duration", "rate_in", "rate_out", "wait")

    def __init__(self) -> None:
        self.counters: dict[str, int] = defaultdict(int)
        self.wait = Histogram()
        self.duration = Histogram()
        self.rate_in = RateWindow()
        self.rate_out = RateWindow()


class AnswerStats:
    """What one producer's clients saw. ``latency`` holds ok answers only; an error or a
    timeout took its own time (a gateway's timeout, the client's), kept in
    ``error_latency`` rather than mixed in."""

    __slots__ = ("error_latency", "errors", "latency", "ok", "timeouts")

    def __init__(self) -> None:
        self.ok = 0
        self.errors = 0
        self.timeouts = 0
        self.latency = Histogram()
        self.error_latency = Histogram()

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "errors": self.errors, "timeouts": self.timeouts,
                "latency": self.latency.summary(),
                "error_latency": self.error_latency.summary()}


class ClientStats:
    """What all producers' clients saw. Answers are counted per producer only, so that an
    answer costs one histogram add, and summed here when read."""

    def __init__(self, producers: dict[str, AnswerStats]) -> None:
        self.producers = producers
        self.sent = 0
        self.statuses: dict[str, int] = defaultdict(int)
        self.rate_ok = RateWindow()
        self.rate_errors = RateWindow()

    @property
    def ok(self) -> int:
        return sum(p.ok for p in self.producers.values())

    @property
    def errors(self) -> int:
        return sum(p.errors for p in self.producers.values())

    @property
    def timeouts(self) -> int:
        return sum(p.timeouts for p in self.producers.values())

    @property
    def latency(self) -> Histogram:
        return Histogram.merged([p.latency for p in self.producers.values()] or [Histogram()])

    @property
    def error_latency(self) -> Histogram:
        return Histogram.merged([p.error_latency for p in self.producers.values()]
                                or [Histogram()])

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "ok": self.ok, "errors": self.errors,
                "timeouts": self.timeouts, "statuses": dict(sorted(self.statuses.items())),
                "latency": self.latency.summary(),
                "error_latency": self.error_latency.summary()}


class Metrics:
    """Subscribes to every event and keeps the figures the report and the UI show."""

    def __init__(self, kinds: dict[str, str]) -> None:
        self.kinds = kinds
        self.nodes: defaultdict[str, NodeStats] = defaultdict(NodeStats)
        for node in kinds:
            self.nodes[node] = NodeStats()
        self.answers = {node: AnswerStats() for node, kind in kinds.items()
                        if kind == "producer"}
        self.client = ClientStats(self.answers)
        self.end_to_end = Histogram()
        self.events = 0
        self._handlers = {
            ev.MessageCreated: self._created, ev.MessageSent: self._sent,
            ev.MessageAccepted: self._accepted, ev.MessageRefused: self._refused,
            ev.MessageThrottled: self._throttled, ev.MessageReceived: self._received,
            ev.MessageDeleted: self._deleted, ev.MessageRedelivered: self._redelivered,
            ev.MessageDeadLettered: self._dead_lettered, ev.MessageRedriven: self._redriven,
            ev.MessageExpired: self._expired, ev.MessageUnmatched: self._unmatched,
            ev.MessageRetried: self._retried, ev.MessageFailed: self._failed,
            ev.MessageWritten: self._written, ev.MessageDelivered: self._delivered,
            ev.InvocationStarted: self._invoked, ev.InvocationFinished: self._invocation_done,
            ev.ClientAnswered: self._answered, ev.ClientTimedOut: self._timed_out,
            ev.CacheHit: self._cache_hit, ev.ShortCircuited: self._short_circuited,
            ev.MessageBlocked: self._blocked,
        }

    def attach(self, bus: Any) -> None:
        """Subscribes one handler per event type (no dispatch of our own per event)."""
        for kind, handler in self._handlers.items():
            bus.subscribe(handler, [kind])

    def stats(self, node: str) -> NodeStats:
        return self.nodes[node]

    def _count_in(self, node: str, t: float) -> None:
        stats = self.nodes[node]
        stats.counters["in"] += 1
        stats.rate_in.add(t)

    def _count_out(self, node: str, t: float, amount: int = 1) -> None:
        stats = self.nodes[node]
        stats.counters["out"] += amount
        stats.rate_out.add(t, amount)

    # one handler per event type ------------------------------------------------------------

    def _created(self, e: ev.MessageCreated) -> None:
        self.nodes[e.node].counters["created"] += 1

    # the handlers of the events every message makes count in and out inline: a call of
    # _count_in / _count_out and one more lookup of the node's stats per event add up. So
    # does RateWindow.add, ten a message: within the second under way (the rule), they
    # add to its slot themselves.

    def _sent(self, e: ev.MessageSent) -> None:
        t = e.t
        second = int(t)
        sender = self.nodes[e.node]
        counters = sender.counters
        kind = self.kinds.get(e.node)
        if kind == "producer" or kind == "gateway":
            if kind == "producer":
                self.client.sent += 1
            counters["out"] += 1
            rate = sender.rate_out
            if rate.second == second:
                rate.counts[second % _SLOTS] += 1
            else:
                rate.add(t)
        counters["sent"] += 1
        if e.attempt > 1:
            counters["resent"] += 1
        target = self.nodes[e.target]
        target.counters["in"] += 1
        rate = target.rate_in
        if rate.second == second:
            rate.counts[second % _SLOTS] += 1
        else:
            rate.add(t)

    def _accepted(self, e: ev.MessageAccepted) -> None:
        self.nodes[e.node].counters["accepted"] += 1
        if self.kinds.get(e.source) == "topic":
            self._count_out(e.source, e.t)

    def _refused(self, e: ev.MessageRefused) -> None:
        stats = self.nodes[e.node]
        stats.counters["errors"] += 1
        stats.counters[f"refused_{e.reason}"] += 1

    def _throttled(self, e: ev.MessageThrottled) -> None:
        self.nodes[e.node].counters["throttled"] += 1

    def _received(self, e: ev.MessageReceived) -> None:
        stats = self.nodes[e.node]
        stats.counters["received"] += 1
        stats.wait.add(e.wait)
        consumer = self.nodes[e.consumer]
        consumer.counters["in"] += 1
        rate, second = consumer.rate_in, int(e.t)
        if rate.second == second:
            rate.counts[second % _SLOTS] += 1
        else:
            rate.add(e.t)

    def _deleted(self, e: ev.MessageDeleted) -> None:
        stats = self.nodes[e.node]
        stats.counters["out"] += 1
        rate, second = stats.rate_out, int(e.t)
        if rate.second == second:
            rate.counts[second % _SLOTS] += 1
        else:
            rate.add(e.t)

    def _redelivered(self, e: ev.MessageRedelivered) -> None:
        self.nodes[e.node].counters["redelivered"] += 1

    # a move into a DLQ and a redrive out of one send nothing (no MessageSent): what they
    # bring counts as in where it arrives

    def _dead_lettered(self, e: ev.MessageDeadLettered) -> None:
        self.nodes[e.node].counters["dead_lettered"] += 1
        self._count_in(e.dlq, e.t)

    def _redriven(self, e: ev.MessageRedriven) -> None:
        self.nodes[e.node].counters["redriven"] += 1
        self._count_out(e.node, e.t)
        self._count_in(e.target, e.t)

    def _expired(self, e: ev.MessageExpired) -> None:
        self.nodes[e.node].counters["expired"] += 1

    def _unmatched(self, e: ev.MessageUnmatched) -> None:
        self.nodes[e.node].counters["unmatched"] += 1

    def _retried(self, e: ev.MessageRetried) -> None:
        self.nodes[e.node].counters["retries"] += 1

    def _failed(self, e: ev.MessageFailed) -> None:
        self.nodes[e.node].counters["failed"] += 1

    def _written(self, e: ev.MessageWritten) -> None:
        stats = self.nodes[e.node]
        if e.deduplicated:
            stats.counters["deduplicated"] += 1
        else:
            stats.counters["out"] += 1
            rate, second = stats.rate_out, int(e.t)
            if rate.second == second:
                rate.counts[second % _SLOTS] += 1
            else:
                rate.add(e.t)
        if e.duplicate or e.deduplicated:
            stats.counters["duplicates"] += 1

    def _delivered(self, e: ev.MessageDelivered) -> None:
        self.nodes[e.node].counters["delivered"] += 1
        self.end_to_end.add(e.end_to_end)

    def _invoked(self, e: ev.InvocationStarted) -> None:
        stats = self.nodes[e.node]
        stats.counters["invocations"] += 1
        stats.counters["messages"] += len(e.msgs)

    def _invocation_done(self, e: ev.InvocationFinished) -> None:
        stats = self.nodes[e.node]
        stats.duration.add(e.duration)
        ok = len(e.msgs) - len(e.failed)
        if ok:
            stats.counters["out"] += ok
            rate, second = stats.rate_out, int(e.t)
            if rate.second == second:
                rate.counts[second % _SLOTS] += ok
            else:
                rate.add(e.t, ok)
        if e.failed:
            stats.counters["errors"] += len(e.failed)
            stats.counters["failed_invocations"] += 1

    def _answered(self, e: ev.ClientAnswered) -> None:
        answers = self.answers.get(e.node)
        if answers is None:  # injected from outside: not a client's view
            self.nodes[e.node].counters["ok" if 200 <= e.status < 300 else "errors"] += 1
            return
        client = self.client
        client.statuses[str(e.status)] += 1
        if 200 <= e.status < 300:
            answers.ok += 1
            answers.latency.add(e.latency)
            rate, second = client.rate_ok, int(e.t)
            if rate.second == second:
                rate.counts[second % _SLOTS] += 1
            else:
                rate.add(e.t)
        else:
            answers.errors += 1
            answers.error_latency.add(e.latency)
            client.rate_errors.add(e.t)
            self.nodes[e.node].counters["errors"] += 1

    def _timed_out(self, e: ev.ClientTimedOut) -> None:
        answers = self.answers[e.node]
        answers.timeouts += 1
        answers.error_latency.add(e.latency)
        self.client.rate_errors.add(e.t)
        self.nodes[e.node].counters["timeouts"] += 1

    def _cache_hit(self, e: ev.CacheHit) -> None:
        self.nodes[e.node].counters["cache_hits"] += 1

    def _short_circuited(self, e: ev.ShortCircuited) -> None:
        self.nodes[e.node].counters["short_circuited"] += 1

    def _blocked(self, e: ev.MessageBlocked) -> None:
        self.nodes[e.node].counters["blocked"] += 1
