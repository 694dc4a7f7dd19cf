"""Requests, replies and messages as JSON-ready dicts, and back.

A message travels with what its receiver needs to carry on with it: ``id``, ``trace``,
``attempt``, ``receives``, ``payload``, ``group``, and its ``age`` in simulated seconds
rather than its creation time (each process has a simulated clock of its own), plus the age
since it was enqueued when a DLQ move must keep it. What the receiver makes of the dict - a
physical message of one of its own copies - is the ``materialise`` function's business:
this module keeps no state.

Every envelope batch the transport sends is marked ``"pg": 1`` and has exactly the keys
``pg o b e``: anything else published on an inbox topic is a payload from outside (see
:mod:`playground.mqtt.link`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from playground.engine.message import Message
from playground.engine.protocol import Reply, Request

MARK = "pg"
# One MQTT message (a batch of envelopes) is at most this big: AWS IoT takes 128 KB, EMQX
# 1 MB, mosquitto and HiveMQ more by default; a batch the broker refuses drops the connection
MAX_MQTT_BYTES = 64 * 1024
MAX_ENVELOPE_BYTES = MAX_MQTT_BYTES - 256  # room for the batch's own fields


class TooLarge(ValueError):
    """An envelope that could never travel in one MQTT message."""


def dump(data: Any) -> bytes:
    """An envelope as compact JSON; :class:`TooLarge` beyond :data:`MAX_ENVELOPE_BYTES`."""
    raw = json.dumps(data, separators=(",", ":"), default=str).encode()
    if len(raw) > MAX_ENVELOPE_BYTES:
        raise TooLarge(f"{len(raw):,} bytes as JSON, more than the {MAX_ENVELOPE_BYTES:,} "
                       f"one MQTT message between processes may carry")
    return raw


def loads(payload: bytes | str) -> Any:
    """A payload from the network as JSON the tap can publish again: strict (no NaN or
    Infinity, which JSON parsers elsewhere refuse), and nesting too deep for Python's parser
    is a ValueError like any other payload that is not JSON (a RecursionError used to end
    the link's session for the rest of the run)."""
    try:
        return json.loads(payload, parse_constant=_not_a_number, parse_float=_finite)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _not_a_number(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is too large for a number")
    return value
REQUEST, REPLY = "rq", "rp"
Materialise = Callable[[dict[str, Any]], Message]


class EnvelopeError(ValueError):
    """A marked envelope that does not decode (a foreign or corrupt publisher)."""


def encode_message(msg: Message, now: float, *, enqueued: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"id": msg.id, "trace": msg.trace, "age": now - msg.created,
                            "attempt": msg.attempt, "receives": msg.receives,
                            "payload": msg.payload}
    if msg.group is not None:
        data["group"] = msg.group
    if enqueued:
        data["enqueued_age"] = now - msg.enqueued_at
    return data


def encode_request(request: Request, now: float) -> dict[str, Any]:
    data: dict[str, Any] = {"k": REQUEST, "op": request.op, "corr": request.corr,
                            "reply_to": request.reply_to, "sender": request.sender}
    if request.msg is not None:
        data["msg"] = encode_message(request.msg, now, enqueued=request.keep_enqueued)
    if request.fork_id:
        data["fork"] = request.fork_id
    if request.attempt:
        data["attempt"] = request.attempt
    if request.keep_enqueued:
        data["keep"] = True
    if request.batch is not None:
        data["batch"] = [encode_message(msg, now) for msg in request.batch]
    if request.receipts is not None:
        data["receipts"] = list(request.receipts)
    if request.credit:
        data["credit"] = request.credit
    return data


def encode_reply(reply: Reply, to: str, attempts: list[int] | None = None) -> dict[str, Any]:
    """``to``: the reply topic of the node that asked; ``attempts``: the attempts of the
    messages the request carried, as the receiver left them (an invocation counts one)."""
    data: dict[str, Any] = {"k": REPLY, "corr": reply.corr, "to": to, "status": reply.status}
    if reply.reason:
        data["reason"] = reply.reason
    if not reply.final:
        data["final"] = False
    if reply.results is not None:
        data["results"] = list(reply.results)
    if attempts:
        data["attempts"] = attempts
    return data


def decode_request(data: dict[str, Any], materialise: Materialise) -> Request:
    try:
        msg = data.get("msg")
        batch = data.get("batch")
        receipts = data.get("receipts")
        request = Request(
            op=str(data["op"]), corr=int(data["corr"]), reply_to=str(data["reply_to"]),
            sender=str(data["sender"]),
            fork_id=str(data["fork"]) if data.get("fork") else None,
            attempt=int(data.get("attempt", 0)), keep_enqueued=bool(data.get("keep", False)),
            receipts=[int(r) for r in receipts] if receipts is not None else None,
            credit=int(data.get("credit", 0)))
        if msg is not None:
            request.msg = materialise(_message_fields(msg))
        if batch is not None:
            request.batch = [materialise(_message_fields(item)) for item in batch]
    except (KeyError, TypeError, ValueError) as error:
        raise EnvelopeError(f"a request that does not decode: {_why(error)}") from None
    return request


def decode_reply(data: dict[str, Any]) -> tuple[Reply, str, list[int] | None]:
    """The reply, the topic to deliver it on, and the attempts it carries back."""
    try:
        results = data.get("results")
        attempts = data.get("attempts")
        reply = Reply(int(data["corr"]), int(data["status"]), str(data.get("reason", "")),
                      bool(data.get("final", True)),
                      [bool(r) for r in results] if results is not None else None)
        return reply, str(data["to"]), [int(a) for a in attempts] if attempts else None
    except (KeyError, TypeError, ValueError) as error:
        raise EnvelopeError(f"a reply that does not decode: {_why(error)}") from None


def _why(error: Exception) -> str:
    """What is wrong, in words (a KeyError says only the key: ``KeyError('op')``)."""
    if isinstance(error, KeyError):
        return f"it has no {error.args[0]!r} field"
    return str(error)


def _message_fields(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise TypeError("a message must be a mapping")
    missing = [key for key in ("id", "trace", "age") if key not in data]
    if missing:
        raise ValueError(f"its message has no {missing[0]!r} field")
    fields = {"id": str(data["id"]), "trace": str(data["trace"]), "age": float(data["age"]),
              "attempt": int(data.get("attempt", 0)), "receives": int(data.get("receives", 0)),
              "payload": data.get("payload"),
              "group": None if data.get("group") is None else str(data["group"])}
    if "enqueued_age" in data:
        fields["enqueued_age"] = float(data["enqueued_age"])
    return fields


def apply_fields(msg: Message, fields: dict[str, Any], now: float, transit: float) -> Message:
    """Sets on ``msg`` what travelled with it (``transit``: simulated seconds it was on the
    way, which count towards its ages)."""
    msg.attempt = fields["attempt"]
    msg.receives = fields["receives"]
    msg.group = fields["group"]
    if "enqueued_age" in fields:
        msg.enqueued_at = now - fields["enqueued_age"] - transit
    return msg
