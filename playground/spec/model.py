"""The topology format, version 1, as pydantic models.

Field names, defaults and units follow ``spec/topology.md``. These models check shapes and
units; checks that need the whole topology (edges, cycles, names) live in ``checks.py``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from playground.spec.distribution import Distribution, Fixed
from playground.spec.endpoint import parse_endpoint
from playground.spec.units import Duration, PositiveNumber, Probability, Rate

NODE_ID_PATTERN = r"^[a-z][a-z0-9_-]*$"
NodeId = Annotated[str, StringConstraints(pattern=NODE_ID_PATTERN)]
KINDS = ("producer", "gateway", "queue", "topic", "function", "store")
# Fields a running engine takes once, when it starts (a node's kind and edges, a queue's
# type, a producer's pattern and source, a function's warm instances): a `set` cannot
# change them, and an edit of one in the app restarts the run.
FIXED_AT_START = ("kind", "to", "source", "type", "pattern", "provisioned")


class Spec(BaseModel):
    """Base of every part of a topology: unknown fields are refused, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


FIELDS_ONLY = "fields_only"  # in a validation context: skip the rules between fields


def fields_only(info: ValidationInfo) -> bool:
    """Whether the rules between a part's fields are to be skipped: the checks validate a
    part that broke one again without them, so that its other problems are still found."""
    return bool(info.context and info.context.get(FIELDS_ONLY))


# --- targets and filters -------------------------------------------------------------------

class Subscription(Spec):
    """One entry of ``to`` written as a mapping: a node, optionally with a filter (topics)."""

    node: NodeId
    filter: dict[str, Any] | None = None  # checked in checks.py, where positions are known


def _target_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return "id"
    if isinstance(value, dict | Subscription):
        return "subscription"
    return None


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


_TARGETS_JSON = {
    "anyOf": [
        {"type": "string", "pattern": NODE_ID_PATTERN},
        {"type": "array", "items": {"anyOf": [
            {"type": "string", "pattern": NODE_ID_PATTERN},
            {"type": "object", "required": ["node"], "additionalProperties": False,
             "properties": {"node": {"type": "string", "pattern": NODE_ID_PATTERN},
                            "filter": {"type": "object"}}},
        ]}},
    ],
    "description": "A node id, a list of ids, or a list of {node: id, filter: PATTERN}.",
}

Target = Annotated[
    Annotated[NodeId, Tag("id")] | Annotated[Subscription, Tag("subscription")],
    Discriminator(_target_tag, custom_error_type="target",
                  custom_error_message="a target is a node id or {node: id, filter: PATTERN}"),
]
Targets = Annotated[list[Target], BeforeValidator(_as_list), WithJsonSchema(_TARGETS_JSON)]


def target_ids(to: list[str | Subscription] | None) -> list[str]:
    """The node ids a ``to`` field names, in order."""
    return [t if isinstance(t, str) else t.node for t in to or ()]


def subscriptions(to: list[str | Subscription] | None) -> list[Subscription]:
    """``to`` as a list of subscriptions, plain ids given no filter."""
    return [Subscription(node=t) if isinstance(t, str) else t for t in to or ()]


def _mqtt_source(value: str) -> str:
    parse_endpoint(value, topic="required")
    return value


MqttSource = Annotated[str, AfterValidator(_mqtt_source), WithJsonSchema({
    "type": "string", "pattern": "^mqtts?://[^/]+/.+",
    "description": "mqtt://[USER:PASSWORD@]HOST:PORT/TOPIC (mqtts:// for TLS): the producer's "
                   "messages are the JSON payloads published on TOPIC, not generated.",
})]


# --- shared parts --------------------------------------------------------------------------


class Backoff(Spec):
    """Retry k waits min(max, base x factor^(k-1)); ``full`` jitter draws from 0 to that."""

    base: Duration = 60.0
    factor: PositiveNumber = 2.0
    max: Duration = 300.0
    jitter: Literal["full", "none"] = "none"

    def delay(self, retry: int) -> float:
        return min(self.max, self.base * self.factor ** (retry - 1))


class Throttle(Spec):
    rate: Rate
    burst: Annotated[int, Field(ge=1, strict=True)] | None = None

    @property
    def bucket(self) -> float:
        """Tokens the bucket holds: ``burst``, or one second of ``rate``."""
        return float(self.burst) if self.burst is not None else max(1.0, self.rate)


class Cache(Spec):
    ttl: Duration
    key: str


class Breaker(Spec):
    failure_rate: Probability = 0.5
    window: Annotated[int, Field(ge=1, strict=True)] = 100
    min_calls: Annotated[int, Field(ge=1, strict=True)] = 20
    open_for: Duration = 30.0
    half_open_calls: Annotated[int, Field(ge=1, strict=True)] = 5


class DeadLetter(Spec):
    queue: NodeId
    max_receives: Annotated[int, Field(ge=1, strict=True)]


# --- the six kinds -------------------------------------------------------------------------


class NodeSpec(Spec):
    kind: str
    to: Targets | None = None

    @property
    def targets(self) -> list[str]:
        return target_ids(self.to)


class ProducerSpec(NodeSpec):
    kind: Literal["producer"]
    # An extension of version 1: messages taken from an MQTT topic instead of generated
    # (payloads as published there); `rate` is then optional and caps what is taken.
    source: MqttSource | None = None
    rate: Rate | None = Field(default=None, validate_default=True)
    pattern: Literal["constant", "poisson"] = "poisson"
    payload: dict[str, Any] = Field(default_factory=dict)
    limit: Annotated[int, Field(ge=0, strict=True)] | None = None
    timeout: Duration = 30.0
    retries: Annotated[int, Field(ge=0, strict=True)] = 0
    to: Targets

    @field_validator("rate", mode="after")
    @classmethod
    def _rate_or_source(cls, rate: float | None, info: ValidationInfo) -> float | None:
        # only when `source` itself is valid and absent: a broken source is its own problem
        if rate is None and "source" in info.data and info.data["source"] is None:
            raise PydanticCustomError("missing", "Field required")
        return rate


class GatewaySpec(NodeSpec):
    kind: Literal["gateway"]
    to: Targets
    throttle: Throttle | None = None
    timeout: Duration = 29.0
    latency: Distribution = Fixed(value=0.0)
    cache: Cache | None = None
    breaker: Breaker | None = None


class QueueSpec(NodeSpec):
    kind: Literal["queue"]
    type: Literal["standard", "fifo"] = "standard"
    group_by: str | None = None
    capacity: Annotated[int, Field(ge=1, strict=True)] | None = None
    on_full: Literal["reject", "block"] = "reject"
    visibility_timeout: Duration = 30.0
    dlq: DeadLetter | None = None
    retention: Duration = 4 * 86400.0
    delay: Duration = 0.0


class TopicSpec(NodeSpec):
    kind: Literal["topic"]
    to: Targets
    retries: Annotated[int, Field(ge=0, strict=True)] = 3
    backoff: Backoff = Backoff(base=1.0, factor=2.0, max=20.0, jitter="none")
    dlq: NodeId | None = None


class FunctionSpec(NodeSpec):
    kind: Literal["function"]
    concurrency: Annotated[int, Field(ge=1, strict=True)] = 10
    provisioned: Annotated[int, Field(ge=0, strict=True)] = 0
    cold_start: Distribution = Fixed(value=0.0)
    idle_timeout: Duration = 300.0
    duration: Distribution = Fixed(value=0.010)
    errors: Probability = 0.0
    # An extension of version 1: messages whose payload matches this pattern always fail
    # (a poison message), so lessons about DLQs need no randomness.
    fails_on: dict[str, Any] | None = None
    timeout: Duration = 3.0
    batch_size: Annotated[int, Field(ge=1, le=10000, strict=True)] = 10
    batch_window: Duration = 0.0
    partial_batch: StrictBool = False
    retries: Annotated[int, Field(ge=0, strict=True)] = 2
    backoff: Backoff = Backoff()
    max_event_age: Duration = 6 * 3600.0
    on_failure: NodeId | None = None
    breaker: Breaker | None = None

    @model_validator(mode="after")
    def _provisioned_fits(self, info: ValidationInfo) -> FunctionSpec:
        if self.provisioned > self.concurrency and not fields_only(info):
            raise ValueError(
                f"provisioned ({self.provisioned}) cannot exceed concurrency ({self.concurrency})"
            )
        return self


class IdempotencyKey(Spec):
    key: str


class StoreSpec(NodeSpec):
    kind: Literal["store"]
    capacity: Rate | None = None
    latency: Distribution = Fixed(value=0.005)
    idempotent: StrictBool | IdempotencyKey = False


Node = Annotated[
    ProducerSpec | GatewaySpec | QueueSpec | TopicSpec | FunctionSpec | StoreSpec,
    Field(discriminator="kind"),
]
SPEC_BY_KIND: dict[str, type[NodeSpec]] = {
    "producer": ProducerSpec, "gateway": GatewaySpec, "queue": QueueSpec,
    "topic": TopicSpec, "function": FunctionSpec, "store": StoreSpec,
}


# --- scenario ------------------------------------------------------------------------------


class Step(Spec):
    at: Duration
    action: str
    say: str | None = None


class BurstStep(Step):
    action: Literal["burst"]
    node: NodeId
    factor: PositiveNumber
    for_: Duration = Field(alias="for")


class OutageStep(Step):
    action: Literal["outage"]
    node: NodeId
    for_: Duration = Field(alias="for")


class DegradeStep(Step):
    action: Literal["degrade"]
    node: NodeId
    errors: Probability = 0.0
    slow: PositiveNumber = 1.0
    for_: Duration = Field(alias="for")


class PauseStep(Step):
    action: Literal["pause"]
    node: NodeId


class ResumeStep(Step):
    action: Literal["resume"]
    node: NodeId


class RedriveStep(Step):
    action: Literal["redrive"]
    from_: NodeId = Field(alias="from")
    to: NodeId | None = None
    rate: Rate


class SetStep(Step):
    """Change fields of a node live; the fields are checked against the node's kind."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)
    action: Literal["set"]
    node: NodeId

    @property
    def fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


ScenarioStep = Annotated[
    BurstStep | OutageStep | DegradeStep | PauseStep | ResumeStep | RedriveStep | SetStep,
    Field(discriminator="action"),
]
ACTIONS = ("burst", "outage", "degrade", "pause", "resume", "redrive", "set")
STEP_BY_ACTION: dict[str, type[Step]] = {
    "burst": BurstStep, "outage": OutageStep, "degrade": DegradeStep, "pause": PauseStep,
    "resume": ResumeStep, "redrive": RedriveStep, "set": SetStep,
}


# --- the file ------------------------------------------------------------------------------


class Topology(Spec):
    version: Literal[1]
    name: Annotated[str, StringConstraints(min_length=1)]
    description: str = ""
    seed: Annotated[int, Field(ge=0, strict=True)] = 0
    duration: Duration = 60.0
    nodes: Annotated[dict[NodeId, Node], Field(min_length=1)]
    scenario: list[ScenarioStep] = Field(default_factory=list)
    layout: dict[NodeId, tuple[StrictInt, StrictInt]] = Field(default_factory=dict)

    def consumers_of(self, node_id: str) -> list[str]:
        """Functions that receive from queue ``node_id``."""
        node = self.nodes.get(node_id)
        if not isinstance(node, QueueSpec):
            return []
        return [t for t in node.targets if isinstance(self.nodes.get(t), FunctionSpec)]

    def dlq_sources(self, node_id: str) -> list[str]:
        """Queues whose ``dlq`` is ``node_id``."""
        return [i for i, n in self.nodes.items()
                if isinstance(n, QueueSpec) and n.dlq is not None and n.dlq.queue == node_id]

    def is_dead_letter_queue(self, node_id: str) -> bool:
        """Whether ``node_id`` serves as a DLQ, a topic's DLQ or a function's ``on_failure``."""
        for node in self.nodes.values():
            if isinstance(node, QueueSpec) and node.dlq and node.dlq.queue == node_id:
                return True
            if isinstance(node, TopicSpec) and node.dlq == node_id:
                return True
            if isinstance(node, FunctionSpec) and node.on_failure == node_id:
                return True
        return False
