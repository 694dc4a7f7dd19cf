"""What the engine reports: one typed, immutable event per thing that happens.

Every hop of every message is an event carrying the node, the message (copy) id, its trace
and the simulated time, so a trace can be followed end to end. Metrics, the UI, the recorder
and the MQTT tap are all built from these.

``Kind(...)`` makes an event; so does ``Kind.new(...)``, for half the price (see
:func:`_builder`): the engine's nodes use that.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields


@dataclass(frozen=True, slots=True)
class Event:
    t: float
    node: str


@dataclass(frozen=True, slots=True)
class MessageEvent(Event):
    msg: str
    trace: str


# --- a message's life --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageCreated(MessageEvent):
    """A producer made a new message (a new trace)."""


@dataclass(frozen=True, slots=True)
class MessageSent(MessageEvent):
    """``node`` sent the message to ``target``."""

    target: str
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class MessageAccepted(MessageEvent):
    """A queue stored the message, or a topic or function took it for asynchronous work."""

    source: str = ""


@dataclass(frozen=True, slots=True)
class MessageRefused(MessageEvent):
    """``node`` turned the message away: full, in an outage, throttled..."""

    reason: str
    status: int


@dataclass(frozen=True, slots=True)
class MessageBlocked(MessageEvent):
    """A full queue with ``on_full: block`` keeps the sender waiting."""


@dataclass(frozen=True, slots=True)
class MessageReceived(MessageEvent):
    """A consumer received the message from queue ``node`` after waiting ``wait``."""

    consumer: str
    receives: int
    wait: float


@dataclass(frozen=True, slots=True)
class MessageDeleted(MessageEvent):
    """The consumer succeeded: the queue deleted the message."""


@dataclass(frozen=True, slots=True)
class MessageRedelivered(MessageEvent):
    """The visibility timeout ended without a delete: the message is visible again."""

    receives: int


@dataclass(frozen=True, slots=True)
class MessageDeadLettered(MessageEvent):
    """Moved to ``dlq`` (a queue's dlq, a topic's dlq or a function's on_failure)."""

    dlq: str
    reason: str


@dataclass(frozen=True, slots=True)
class MessageRedriven(MessageEvent):
    """Moved out of DLQ ``node`` back into ``target``."""

    target: str


@dataclass(frozen=True, slots=True)
class MessageExpired(MessageEvent):
    """Dropped by ``retention`` or ``max_event_age``."""

    reason: str


@dataclass(frozen=True, slots=True)
class MessageUnmatched(MessageEvent):
    """A topic found no subscription whose filter matches."""


@dataclass(frozen=True, slots=True)
class MessageRetried(MessageEvent):
    """A retry is scheduled after ``delay``: ``attempt`` is the attempt that failed."""

    attempt: int
    delay: float
    reason: str


@dataclass(frozen=True, slots=True)
class MessageFailed(MessageEvent):
    """The message failed at ``node`` and nothing will try it again."""

    reason: str


@dataclass(frozen=True, slots=True)
class MessageWritten(MessageEvent):
    """A store wrote a row (``duplicate``: the copy had been written before)."""

    payload: object
    attempt: int
    duplicate: bool
    deduplicated: bool


@dataclass(frozen=True, slots=True)
class MessageDelivered(MessageEvent):
    """The copy reached its end for the first time (the ledger's ``delivered``)."""

    end_to_end: float


@dataclass(frozen=True, slots=True)
class MessageThrottled(MessageEvent):
    """A token bucket or a concurrency limit refused the message (429)."""

    reason: str


# --- invocations and instances -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvocationStarted(Event):
    msgs: tuple[str, ...]
    trace: str
    attempt: int
    cold: bool
    source: str


@dataclass(frozen=True, slots=True)
class InvocationFinished(Event):
    msgs: tuple[str, ...]
    trace: str
    ok: bool
    duration: float
    reason: str = ""
    failed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class InstanceStarted(Event):
    """A new instance: its first invocation is a cold start of ``cold_start`` seconds."""

    cold_start: float


@dataclass(frozen=True, slots=True)
class InstanceReclaimed(Event):
    pass


# --- the client (producer) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientAnswered(MessageEvent):
    """A producer got its answer: ``status`` 2xx is ok; ``latency`` from its send."""

    status: int
    latency: float
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ClientTimedOut(MessageEvent):
    latency: float


@dataclass(frozen=True, slots=True)
class ClientBlocked(Event):
    """A producer stopped making messages for ``seconds`` because its send was blocked."""

    seconds: float


# --- gateways, breakers, caches -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CacheHit(MessageEvent):
    key: str


@dataclass(frozen=True, slots=True)
class BreakerChanged(Event):
    state: str  # closed, open, half_open
    failure_rate: float


@dataclass(frozen=True, slots=True)
class ShortCircuited(MessageEvent):
    target: str


# --- the run -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScenarioStepFired(Event):
    """A scenario step (or the same action from a live control) took effect."""

    action: str
    say: str
    detail: str


@dataclass(frozen=True, slots=True)
class NodeChanged(Event):
    """A field changed live (``set``), or a control changed the node's state."""

    detail: str


@dataclass(frozen=True, slots=True)
class NodeFailed(Event):
    """A node's own code raised; its supervisor restarted it."""

    error: str


@dataclass(frozen=True, slots=True)
class RunFinished(Event):
    reason: str


def _set_through_slots(cls: type[Event]) -> None:
    """Gives a frozen event class an ``__init__`` that sets each slot through its
    descriptor. The dataclass's own goes through ``object.__setattr__`` by name for every
    field (the price of ``frozen``), and a dozen events are made per message; what the
    class is - fields, defaults, equality, hashing, immutability - does not change."""
    if any(f.default_factory is not MISSING for f in fields(cls)):
        return  # no event has one; the dataclass's own handles them
    names = [f.name for f in fields(cls)]
    scope: dict[str, object] = {}
    params = ["self"]
    for f in fields(cls):
        scope[f"_set_{f.name}"] = getattr(cls, f.name).__set__
        if f.default is MISSING:
            params.append(f.name)
        else:
            scope[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
    body = "".join(f"    _set_{name}(self, {name})\n" for name in names)
    exec(f"def __init__({', '.join(params)}):\n{body}", scope)
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    cls.__init__ = init  # type: ignore[misc]


def _builder(cls: type[Event]) -> type:
    """A class that makes ``cls``'s events for half the price: ``cls.new(...)`` takes what
    ``cls(...)`` takes and returns the same event, an instance of ``cls``.

    It is ``cls`` without the frozen guard (its slots, in the same layout): its
    ``__init__`` sets each field as a plain attribute, the cheapest way there is, then
    makes the instance what it is meant to be, a ``cls`` (a change of class Python allows
    between classes of the same layout). Nothing ever sees an instance of the builder, and
    no event can be changed after it is made. Nodes make a dozen events a message: they
    use it."""
    scope: dict[str, object] = {"_cls": cls}
    params = ["self"]
    for f in fields(cls):
        if f.default is MISSING:
            params.append(f.name)
        else:
            scope[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
    body = "".join(f"    self.{f.name} = {f.name}\n" for f in fields(cls))
    exec(f"def __init__({', '.join(params)}):\n{body}    self.__class__ = _cls\n", scope)
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.new.__init__"  # type: ignore[attr-defined]
    # both of the frozen guard's methods go: either one keeps attributes set the slow way
    return type(cls.__name__, (cls.__base__,), {
        "__slots__": cls.__dict__.get("__slots__", ()), "__init__": init,
        "__setattr__": object.__setattr__, "__delattr__": object.__delattr__,
        "__module__": cls.__module__, "__qualname__": f"{cls.__qualname__}.new",
        "_builds": cls})


def is_builder(kind: type) -> bool:
    """Whether ``kind`` is one of the ``new`` classes (no event is ever one)."""
    return "_builds" in kind.__dict__


for _kind in [k for k in list(globals().values())
              if isinstance(k, type) and issubclass(k, Event)]:
    _set_through_slots(_kind)
    _kind.new = _builder(_kind)  # type: ignore[attr-defined]
