"""Envelopes survive JSON: what a receiver rebuilds is what was sent."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from playground.engine.message import Copy, Ledger, Message
from playground.engine.protocol import (
    BATCH,
    CALL,
    CANCEL,
    CREDIT,
    EVENT,
    SEND,
    WRITE,
    Reply,
    Request,
)
from playground.mqtt import codec

ids = st.from_regex(r"[a-z][a-z0-9_>#-]{0,15}", fullmatch=True)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)
payloads = st.dictionaries(st.text(max_size=8), json_values, max_size=5) | json_values


@st.composite
def messages(draw: Any) -> Message:
    copy = Copy(Ledger(), draw(ids), draw(ids), draw(st.floats(0, 1e6)))
    msg = Message(copy, draw(payloads), attempt=draw(st.integers(0, 50)))
    msg.receives = draw(st.integers(0, 50))
    msg.group = draw(st.none() | st.text(max_size=10))
    msg.enqueued_at = draw(st.floats(0, 1e6))
    return msg


def wire(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data))


def materialiser(now: float) -> tuple[Ledger, Any]:
    ledger = Ledger()

    def materialise(fields: dict[str, Any]) -> Message:
        copy = Copy(ledger, fields["id"], fields["trace"], now - fields["age"])
        return codec.apply_fields(Message(copy, fields["payload"]), fields, now, 0.0)

    return ledger, materialise


def same_message(got: Message, sent: Message) -> None:
    assert (got.id, got.trace, got.attempt, got.receives, got.group) == \
        (sent.id, sent.trace, sent.attempt, sent.receives, sent.group)
    assert got.payload == wire({"p": sent.payload})["p"]
    assert math.isclose(got.created, sent.created, rel_tol=1e-9, abs_tol=1e-6)


@given(msg=messages(), op=st.sampled_from([CALL, SEND, EVENT, WRITE]),
       corr=st.integers(1, 2**40), fork=st.none() | ids, attempt=st.integers(0, 9),
       keep=st.booleans())
def test_a_request_with_a_message_round_trips(msg: Message, op: str, corr: int,
                                              fork: str | None, attempt: int,
                                              keep: bool) -> None:
    now = msg.created + 5.0
    sent = Request(op, corr, "playground/t/p/reply", "p", msg, fork_id=fork, attempt=attempt,
                   keep_enqueued=keep)
    ledger, materialise = materialiser(now)
    got = codec.decode_request(wire(codec.encode_request(sent, now)), materialise)
    assert (got.op, got.corr, got.reply_to, got.sender, got.fork_id, got.attempt,
            got.keep_enqueued) == (op, corr, sent.reply_to, "p", fork, attempt, keep)
    assert got.msg is not None
    same_message(got.msg, msg)
    if keep:
        assert math.isclose(got.msg.enqueued_at, msg.enqueued_at, rel_tol=1e-9, abs_tol=1e-6)
    assert ledger.created == 1


@given(batch=st.lists(messages(), min_size=1, max_size=6))
def test_a_batch_round_trips_in_order_with_its_receipts(batch: list[Message]) -> None:
    now = max(m.created for m in batch) + 1.0
    receipts = [m.receives for m in batch]
    sent = Request(BATCH, 7, "playground/t/q/reply", "q", batch=batch, receipts=receipts)
    ledger, materialise = materialiser(now)
    got = codec.decode_request(wire(codec.encode_request(sent, now)), materialise)
    assert got.receipts == receipts and got.batch is not None and len(got.batch) == len(batch)
    for mine, theirs in zip(got.batch, batch, strict=True):
        same_message(mine, theirs)
    assert ledger.created == len(batch)


@given(op=st.sampled_from([CREDIT, CANCEL]), credit=st.integers(0, 10_000),
       corr=st.integers(0, 2**40))
def test_notifications_round_trip(op: str, credit: int, corr: int) -> None:
    sent = Request(op, corr, "", "fn", credit=credit)
    got = codec.decode_request(wire(codec.encode_request(sent, 0.0)), materialiser(0.0)[1])
    assert (got.op, got.corr, got.sender, got.credit, got.msg, got.batch) == \
        (op, corr, "fn", credit, None, None)


@given(corr=st.integers(0, 2**40), status=st.sampled_from([102, 200, 202, 429, 500, 503, 504]),
       reason=st.text(max_size=30), final=st.booleans(),
       results=st.none() | st.lists(st.booleans(), max_size=10),
       attempts=st.none() | st.lists(st.integers(1, 9), min_size=1, max_size=10))
def test_a_reply_round_trips_with_the_attempts_it_carries_back(
        corr: int, status: int, reason: str, final: bool, results: list[bool] | None,
        attempts: list[int] | None) -> None:
    sent = Reply(corr, status, reason, final, results)
    got, to, back = codec.decode_reply(wire(codec.encode_reply(sent, "playground/t/p/reply",
                                                               attempts)))
    assert (got.corr, got.status, got.reason, got.final, got.results) == \
        (corr, status, reason, final, results)
    assert to == "playground/t/p/reply" and back == attempts


@pytest.mark.parametrize("data", [
    {"k": "rq"}, {"k": "rq", "op": "send", "corr": "x", "reply_to": "r", "sender": "s"},
    {"k": "rq", "op": "send", "corr": 1, "reply_to": "r", "sender": "s", "msg": [1]},
    {"k": "rq", "op": "send", "corr": 1, "reply_to": "r", "sender": "s", "msg": {"id": "a"}},
])
def test_an_envelope_that_does_not_decode_says_so(data: dict[str, Any]) -> None:
    with pytest.raises(codec.EnvelopeError):
        codec.decode_request(data, materialiser(0.0)[1])
    with pytest.raises(codec.EnvelopeError):
        codec.decode_reply({"k": "rp", "corr": "?"})


@pytest.mark.parametrize(("payload", "why"), [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"reading": NaN}', "NaN is not a JSON number"),
    ('{"reading": -Infinity}', "-Infinity is not a JSON number"),
    ('{"reading": 1e999}', "1e999 is too large for a number"),
])
def test_a_payload_the_tap_could_not_publish_again_is_not_json(payload: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        codec.loads(payload.encode())
    assert codec.loads(b'{"reading": 1.5e3, "deep": [[[1]]]}') == {"reading": 1500.0,
                                                                   "deep": [[[1]]]}
