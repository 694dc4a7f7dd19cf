"""The envelopes nodes exchange over the broker, and what their statuses mean.

Every exchange is a request with a correlation id and a reply topic. The answer to a request
is a :class:`Reply`; a non-final reply (``BLOCKED``) tells the sender it is being held back
by a full queue, and the final one follows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from playground.engine.message import Message

# operations
CALL = "call"  # a synchronous request: answered after the whole chain (functions, gateways)
SEND = "send"  # enqueue into a queue or publish to a topic: answered when stored
EVENT = "event"  # an asynchronous invocation of a function: answered when queued
WRITE = "write"  # a store write
BATCH = "batch"  # a queue hands a batch to one of its consumers
CREDIT = "credit"  # a consumer tells a queue how many batches it can take now
CANCEL = "cancel"  # the sender gave up on a request (its blocked send is withdrawn)

# statuses (HTTP-like, as the client sees them)
OK = 200
ACCEPTED = 202
BLOCKED = 102
INVALID = 400  # a store write without its key field (DynamoDB's ValidationException)
THROTTLED = 429
FAILED = 500
UNAVAILABLE = 503
TIMED_OUT = 504

STATUS_NAMES = {OK: "ok", ACCEPTED: "accepted", BLOCKED: "blocked", INVALID: "invalid",
                THROTTLED: "throttled",
                FAILED: "failed", UNAVAILABLE: "unavailable", TIMED_OUT: "timed out"}


@dataclass(slots=True)
class Request:
    op: str
    corr: int
    reply_to: str
    sender: str
    msg: Message | None = None
    fork_id: str | None = None  # accept as a new copy with this id (fan-out beyond the first)
    attempt: int = 0  # the invocation attempt a write belongs to
    keep_enqueued: bool = False  # a DLQ move keeps the message's enqueue time
    batch: list[Message] | None = None
    receipts: list[int] | None = None
    credit: int = 0
    deadline: float = math.inf


@dataclass(slots=True)
class Reply:
    corr: int
    status: int
    reason: str = ""
    final: bool = True
    results: list[bool] | None = None  # per message of a batch: succeeded?
    detail: Any = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300
