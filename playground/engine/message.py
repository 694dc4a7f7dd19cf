"""Messages: the ledger's copies, and the physical messages nodes hold.

A *copy* is what the ledger counts: a producer's message, or one more copy made by fan-out.
A *message* is one physical instance of a copy held by one owner (a queue, a topic delivery,
a function's event queue, a producer waiting for an answer). At-least-once delivery can make
several physical messages of the same copy (a queue redelivers while the first invocation
still runs and both send it on), so the ledger's state lives on the shared :class:`Copy`:

- ``live`` counts the physical messages of the copy still held somewhere;
- ``outcome`` is how its last holder let it go (failed, expired, unmatched) and
  ``delivered`` is final once set.

:class:`Ledger` keeps counts per state as copies change, so ``lost`` - copies still counted
as alive that no container holds at the end, or copies that ended without an outcome - is
the engine's own bug detector.
"""

from __future__ import annotations

from typing import Any

ALIVE = "alive"
DELIVERED = "delivered"
FAILED = "failed"
EXPIRED = "expired"
UNMATCHED = "unmatched"
# Across processes (an MQTT transport): the copy went on to a node in another process,
# whose own ledger counts it from there (as created and ``imported``).
EXPORTED = "exported"
_NO_OUTCOME = None
LEDGER_KEYS = ("created", "delivered", "failed", "dead_lettered", "expired", "unmatched",
               "pending", "lost")


class Ledger:
    """Counts of copies by state, kept up to date as copies change."""

    __slots__ = ("counts", "created", "imported")

    def __init__(self) -> None:
        self.created = 0
        self.imported = 0  # of ``created``: copies that arrived from another process
        self.counts: dict[str | None, int] = {ALIVE: 0, DELIVERED: 0, FAILED: 0, EXPIRED: 0,
                                              UNMATCHED: 0, EXPORTED: 0, _NO_OUTCOME: 0}

    def in_system(self) -> int:
        """Copies neither delivered nor ended: what a drain waits for (DLQs included)."""
        return self.counts[ALIVE]


class Copy:
    """One copy in the ledger's sense; shared by all physical messages of it."""

    __slots__ = ("created", "delivered", "forks", "id", "ledger", "live", "outcome", "trace")

    def __init__(self, ledger: Ledger, copy_id: str, trace: str, created: float) -> None:
        self.ledger = ledger
        self.id = copy_id
        self.trace = trace
        self.created = created
        self.live = 0
        self.outcome: str | None = None
        self.delivered = False
        self.forks: dict[str, Copy] | None = None  # copies made from this one, by id
        ledger.created += 1
        ledger.counts[_NO_OUTCOME] += 1  # until its first physical message exists

    def _state(self) -> str | None:
        if self.delivered:
            return DELIVERED
        if self.live > 0:
            return ALIVE
        return self.outcome

    def _change(self, live: int = 0, outcome: str | None = None, delivered: bool = False
                ) -> None:
        counts = self.ledger.counts
        # _state, inline twice (three changes a message)
        counts[DELIVERED if self.delivered else ALIVE if self.live > 0 else self.outcome] -= 1
        self.live += live
        if outcome is not None:
            self.outcome = outcome
        if delivered:
            self.delivered = True
        counts[DELIVERED if self.delivered else ALIVE if self.live > 0 else self.outcome] += 1

    # held and released come twice or more per message, and almost always leave the copy
    # in the state it was in (alive, or delivered): then no count moves

    def held(self) -> None:
        if self.delivered or self.live > 0:
            self.live += 1
        else:
            self._change(live=1)

    def released(self, outcome: str | None = None) -> None:
        """A physical message of this copy is gone; ``outcome`` says how, if it ended here."""
        if self.delivered or self.live > 1:
            self.live -= 1
            if outcome is not None:
                self.outcome = outcome
        else:
            self._change(live=-1, outcome=outcome)

    def deliver(self) -> bool:
        """Marks the copy delivered; False if it already was (a duplicate)."""
        if self.delivered:
            return False
        self._change(delivered=True)
        return True

    def set_outcome(self, outcome: str) -> None:
        self._change(outcome=outcome)


class Message:
    """A physical message. Nodes keep their own bookkeeping in the slots they own."""

    __slots__ = (
        "attempt", "copy", "enqueued_at", "group", "handle", "id", "payload", "receives",
        "seq", "state", "trace", "visible_since",
    )

    def __init__(self, copy: Copy, payload: Any, attempt: int = 0) -> None:
        self.copy = copy
        self.id = copy.id
        self.trace = copy.trace
        self.payload = payload
        self.attempt = attempt  # invocations so far; the next one is attempt + 1
        self.receives = 0
        self.enqueued_at = 0.0
        self.visible_since = 0.0
        self.group: str | None = None
        self.handle: Any = None
        self.seq = 0
        self.state = 0
        # held's own first test, inline (two messages are made a message)
        if copy.delivered or copy.live > 0:
            copy.live += 1
        else:
            copy.held()

    @property
    def created(self) -> float:
        return self.copy.created

    def clone(self) -> Message:
        """Another physical message of the same copy (a new owner takes it)."""
        return Message(self.copy, self.payload, self.attempt)

    def fork(self, copy_id: str) -> Message:
        """A copy for one more target of a fan-out (its id derives from this one's). The same
        message handled twice (at-least-once) forks the same copy again, as it does for its
        first target: a duplicate, not one more copy for the ledger."""
        parent = self.copy
        forks = parent.forks
        if forks is None:
            forks = parent.forks = {}
        copy = forks.get(copy_id)
        if copy is None:
            copy = forks[copy_id] = Copy(parent.ledger, copy_id, self.trace, parent.created)
        return Message(copy, self.payload, self.attempt)

    def release(self, outcome: str | None = None) -> None:
        self.copy.released(outcome)

    def __repr__(self) -> str:
        return f"Message({self.id!r}, attempt={self.attempt}, receives={self.receives})"


def payload_field(payload: Any, field: str) -> Any:
    """The payload's value of ``field``; None if it has none, or is no JSON object. What a
    FIFO queue's ``group_by``, a gateway's cache key and a keyed table read."""
    return payload.get(field) if isinstance(payload, dict) else None
