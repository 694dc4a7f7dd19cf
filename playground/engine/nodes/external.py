"""external: messages that enter from outside the topology (MQTT injection, the app).

It acts as a client with no arrival loop of its own: each injected message is a new trace,
counted in the ledger as created by ``external``, sent to the node it names, and released
when that node answers (failed if the answer is an error).

Ids are numbered per receiving node, ``external:api-1``: in a topology split over processes
every process has an ``external``, but a node runs in one process only, so the ids stay
unique across them (a ``:`` is in no node id, so none of them is a producer's).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from playground.engine import events as ev
from playground.engine.message import FAILED, Copy, Message
from playground.engine.node import Node
from playground.engine.protocol import CALL, EVENT, SEND, Reply, Request
from playground.spec import model as m

if TYPE_CHECKING:
    from playground.engine.runtime import Engine

EXTERNAL = "external"
_OPS = {"gateway": CALL, "function": CALL, "queue": SEND, "topic": SEND, "store": None,
        "producer": None}


class ExternalNode(Node):
    kind = "external"

    def __init__(self, engine: Engine) -> None:
        spec = m.NodeSpec(kind=EXTERNAL)
        super().__init__(engine, EXTERNAL, spec)
        self._numbers: Counter[str] = Counter()  # per target node
        self.waiting: dict[int, tuple[Message, float]] = {}

    def inject(self, target: str, payload: Any, asynchronous: bool = False) -> str:
        """Sends ``payload`` to ``target`` as a new message; returns its id."""
        kind = self.engine.topology.nodes[target].kind
        op = EVENT if asynchronous and kind == "function" else _OPS[kind]
        if op is None:
            raise ValueError(f"messages cannot be injected into {kind} {target!r}")
        now = self.clock.loop.now
        self._numbers[target] += 1
        msg_id = f"{EXTERNAL}:{target}-{self._numbers[target]}"
        msg = Message(Copy(self.engine.ledger, msg_id, msg_id, now), payload)
        self.emit(ev.MessageCreated.new(now, self.id, msg_id, msg_id))
        self.emit(ev.MessageSent.new(now, self.id, msg_id, msg_id, target, 1))
        corr = self.expect(target, self._answered, None)
        self.waiting[corr] = (msg, now)
        self.post(target, Request(op, 0, "", "", msg), corr)
        return msg_id

    def _answered(self, reply: Reply, _context: Any) -> None:
        if not reply.final:
            return
        msg, sent_at = self.waiting.pop(reply.corr)
        now = self.clock.loop.now
        self.emit(ev.ClientAnswered.new(now, self.id, msg.id, msg.trace, reply.status,
                                        now - sent_at, reply.reason))
        if reply.ok:
            msg.release()
        else:
            self.emit(ev.MessageFailed.new(now, self.id, msg.id, msg.trace,
                                           f"{reply.status} {reply.reason}".strip()))
            msg.release(FAILED)

    def on_request(self, request: Request) -> None:
        """Nothing is sent to ``external``."""

    def holdings(self) -> list[Message]:
        return [msg for msg, _ in self.waiting.values()]

    def gauges(self) -> dict[str, Any]:
        return {"waiting_answers": len(self.waiting)}
