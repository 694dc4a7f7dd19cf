"""Which events matter to a person watching, and how they read: one line each."""

from __future__ import annotations

from dataclasses import dataclass

from playground.engine import events as ev
from playground.spec.units import format_duration

# The kinds of line; each is drawn in the colour of the state it stands for.
FILTERS = ("all", "error", "retry", "throttle", "dlq", "scenario")
STATE_OF_CATEGORY = {"error": "failed", "retry": "retried", "throttle": "throttled",
                     "dlq": "dead-lettered", "scenario": "redriven", "hop": "delivered"}


@dataclass(frozen=True, slots=True)
class EventLine:
    t: float
    category: str
    node: str
    text: str
    trace: str | None = None

    def matches(self, category: str, text: str) -> bool:
        if category != "all" and self.category != category:
            return False
        return not text or text.lower() in f"{self.node} {self.text}".lower()


def category(event: ev.Event) -> str:
    if isinstance(event, ev.MessageThrottled):
        return "throttle"
    if isinstance(event, ev.MessageRetried | ev.MessageRedelivered):
        return "retry"
    if isinstance(event, ev.MessageDeadLettered | ev.MessageRedriven):
        return "dlq"
    if isinstance(event, ev.ScenarioStepFired | ev.NodeChanged | ev.RunFinished):
        return "scenario"
    if isinstance(event, ev.MessageRefused | ev.MessageFailed | ev.MessageExpired
                  | ev.ClientTimedOut | ev.NodeFailed | ev.BreakerChanged):
        return "error"
    if isinstance(event, ev.InvocationFinished) and not event.ok:
        return "error"
    return "hop"


def describe(event: ev.Event) -> str:
    """What happened, in a few words (without the time or node)."""
    match event:
        case ev.MessageThrottled(reason=reason):
            return f"throttled ({reason})"
        case ev.MessageRefused(reason=reason, status=status):
            return f"refused {status} ({reason})"
        case ev.MessageFailed(reason=reason):
            return f"failed: {reason}"
        case ev.MessageRetried(attempt=attempt, delay=delay, reason=reason):
            return f"retry after attempt {attempt} in {format_duration(delay)} ({reason})"
        case ev.MessageRedelivered(receives=receives):
            return f"visible again (received {receives}x)"
        case ev.MessageDeadLettered(dlq=dlq, reason=reason):
            return f"-> {dlq} ({reason})"
        case ev.MessageRedriven(target=target):
            return f"redriven -> {target}"
        case ev.MessageExpired(reason=reason):
            return f"expired ({reason})"
        case ev.ClientTimedOut(latency=latency):
            return f"client timed out after {format_duration(latency)}"
        case ev.ScenarioStepFired(say=say, detail=detail):
            return f"{detail}: {say}" if say else detail
        case ev.NodeChanged(detail=detail):
            return detail
        case ev.NodeFailed(error=error):
            return f"node crashed, restarted: {error}"
        case ev.BreakerChanged(state=state, failure_rate=rate):
            return f"breaker {state} (failure rate {rate:.0%})"
        case ev.RunFinished(reason=reason):
            return f"run finished ({reason})"
        case ev.MessageCreated():
            return "created"
        case ev.MessageSent(target=target, attempt=attempt):
            return f"sent -> {target}" + (f" (attempt {attempt})" if attempt > 1 else "")
        case ev.MessageAccepted(source=source):
            return f"accepted from {source}" if source else "accepted"
        case ev.MessageReceived(consumer=consumer, receives=receives, wait=wait):
            return f"received by {consumer} (#{receives}, waited {format_duration(wait)})"
        case ev.MessageDeleted():
            return "deleted (done)"
        case ev.MessageWritten(duplicate=duplicate, deduplicated=deduplicated):
            return "written" + (" (duplicate)" if duplicate else "") + (
                " (deduplicated)" if deduplicated else "")
        case ev.MessageDelivered(end_to_end=e2e):
            return f"delivered, end to end {format_duration(e2e)}"
        case ev.MessageBlocked():
            return "blocked: queue full"
        case ev.MessageUnmatched():
            return "matched no subscription"
        case ev.ClientAnswered(status=status, latency=latency, reason=reason):
            return f"client got {status} after {format_duration(latency)}" + (
                f" ({reason})" if reason else "")
        case ev.CacheHit(key=key):
            return f"cache hit ({key})"
        case ev.ShortCircuited(target=target):
            return f"short-circuited (breaker open to {target})"
        case ev.InvocationStarted(cold=cold, attempt=attempt):
            return "invocation started" + (" (cold)" if cold else "") + (
                f" attempt {attempt}" if attempt > 1 else "")
        case ev.InvocationFinished(ok=ok, duration=duration, reason=reason):
            verdict = "ok" if ok else f"failed ({reason})"
            return f"invocation {verdict} in {format_duration(duration)}"
    return type(event).__name__


def line(event: ev.Event) -> EventLine:
    return EventLine(event.t, category(event), event.node, describe(event),
                     getattr(event, "trace", None))
