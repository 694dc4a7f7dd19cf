"""Random valid topologies built by the spec's edge rules, with random parameters and faults.

Nodes are drawn in a row and every reference points forward - ``to``, ``dlq``,
``on_failure``, a topic's ``dlq`` - so there is no cycle of any kind (a loop through a queue is
legal but would multiply messages without end); only redrives go back, as they do in life.
Rates and durations are small, so one run takes a fraction of a second. Every field the
format has is drawn somewhere, and scenario steps use every action, on the right kinds of
node, with ``set`` changing any field a node has.

Draws shrink towards fewer nodes, fewer fields and fewer steps, so a failure is reported on
a minimal topology.
"""

from __future__ import annotations

import io
from typing import Any

from hypothesis import strategies as st
from ruamel.yaml import YAML

from playground.spec import model as m

# the kinds each kind may send to, from the spec's table "The edges allowed"
SENDS = {"producer": ("gateway", "queue", "topic", "function"),
         "gateway": ("queue", "topic", "function"), "queue": ("function",),
         "topic": ("queue", "function"), "function": ("queue", "topic", "function", "store"),
         "store": ()}
KINDS = tuple(SENDS)
DURATION = 5  # simulated seconds of traffic
DRAIN = 40  # simulated seconds a run may drain

# --- values --------------------------------------------------------------------------------

_TINY = st.sampled_from([0, "1ms", "5ms", "20ms", 0.05, "100ms"])
_SHORT = st.sampled_from(["50ms", "200ms", 0.5, "1s", "2s", "3s"])
_LONG = st.sampled_from(["1s", "5s", "30s", "1m", "1h"])
_RATE = st.sampled_from([1, 2.5, "5/s", "10/s", "20/s", "1200/min", "50/s"])
_PROB = st.sampled_from([0, 0.05, 0.2, 0.5])


def _dist(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        values,
        st.builds(lambda mean: {"dist": "exponential", "mean": mean}, values),
        st.builds(lambda low, extra: {"dist": "uniform", "min": low, "max": f"{extra}ms"},
                  st.just(0), st.sampled_from([0, 10, 100])),
        st.builds(lambda mean, sd: {"dist": "normal", "mean": mean, "sd": sd}, values, values),
        st.builds(lambda p50, spread: {"dist": "lognormal", "p50": f"{p50}ms",
                                       "p99": f"{p50 * spread}ms"},
                  st.sampled_from([1, 5, 20]), st.sampled_from([1, 4, 10])),
    )


# payload fields every producer's template may use, and patterns over them
_PAYLOAD_FIELDS = {
    "id": "{seq}", "n": "{int:1..5}", "region": "{choice:eu-west,us-east,ap-south}",
    "trace": "{uuid}", "at": "{now}", "label": "order {seq} of {choice:a,b}",
    "vip": True, "tags": ["x", 1, None], "meta": {"source": "test", "depth": {"n": 2}},
}
_PATTERNS = st.sampled_from([
    {"region": ["eu-west", {"prefix": "us-"}]}, {"n": [{"numeric": [">=", 2, "<", 4]}]},
    {"vip": [{"exists": True}]}, {"region": [{"anything-but": ["ap-south"]}]},
    {"meta": {"source": ["test"]}}, {"n": [5]}, {"missing": [{"exists": False}]},
    {"tags": [1]}, {"id": [{"numeric": [">", 3]}]},
])
_KEYS = st.sampled_from(["id", "n", "region", "missing"])


def _template() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(sorted(_PAYLOAD_FIELDS)), st.just(None),
                           max_size=5).map(lambda keys: {k: _PAYLOAD_FIELDS[k] for k in keys})


def _breaker() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={
        "failure_rate": st.sampled_from([0.1, 0.5, 1]), "window": st.integers(1, 20),
        "min_calls": st.integers(1, 10), "open_for": _SHORT,
        "half_open_calls": st.integers(1, 3)})


def _backoff() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={
        "base": _TINY, "factor": st.sampled_from([1, 2, 3.5]), "max": _SHORT,
        "jitter": st.sampled_from(["full", "none"])})


# --- fields of each kind, as `set` may change them too ----------------------------------------


def _producer_fields() -> dict[str, st.SearchStrategy[Any]]:
    return {"rate": _RATE, "pattern": st.sampled_from(["constant", "poisson"]),
            "payload": _template(), "limit": st.integers(0, 30), "timeout": _SHORT,
            "retries": st.integers(0, 3)}


def _gateway_fields() -> dict[str, st.SearchStrategy[Any]]:
    return {"throttle": st.fixed_dictionaries({"rate": _RATE},
                                              optional={"burst": st.integers(1, 10)}),
            "timeout": _SHORT, "latency": _dist(_TINY),
            "cache": st.fixed_dictionaries({"ttl": _SHORT, "key": _KEYS}),
            "breaker": _breaker()}


def _queue_fields() -> dict[str, st.SearchStrategy[Any]]:
    return {"capacity": st.integers(1, 30), "on_full": st.sampled_from(["reject", "block"]),
            "visibility_timeout": _SHORT, "retention": st.sampled_from(["2s", "10s", "1h"]),
            "delay": st.sampled_from([0, "100ms", "1s"])}


def _topic_fields() -> dict[str, st.SearchStrategy[Any]]:
    return {"retries": st.integers(0, 3), "backoff": _backoff()}


def _function_fields(behind_fifo: bool) -> dict[str, st.SearchStrategy[Any]]:
    fields = {"concurrency": st.integers(1, 4), "cold_start": _dist(_TINY),
              "idle_timeout": _SHORT, "duration": _dist(_TINY), "errors": _PROB,
              "fails_on": _PATTERNS, "timeout": _SHORT, "batch_size": st.integers(1, 6),
              "partial_batch": st.booleans(), "retries": st.integers(0, 2),
              "backoff": _backoff(), "max_event_age": _SHORT, "breaker": _breaker()}
    if not behind_fifo:
        fields["batch_window"] = st.sampled_from([0, "50ms", "300ms"])
    return fields


def _store_fields() -> dict[str, st.SearchStrategy[Any]]:
    return {"capacity": _RATE, "latency": _dist(_TINY),
            "idempotent": st.one_of(st.booleans(), st.builds(lambda k: {"key": k}, _KEYS))}


# --- topologies ----------------------------------------------------------------------------


@st.composite
def topologies(draw: st.DrawFn, faults: bool = False) -> dict[str, Any]:
    """A topology as the data a YAML file would hold; valid by construction. With
    ``faults``, things go wrong on purpose: consumers fail, queues have DLQs that fill up,
    clients give up early, and the scenario has more steps, redrives among them."""
    kinds = ["producer", *draw(st.lists(st.sampled_from(KINDS), max_size=7))]
    nodes: dict[str, dict[str, Any]] = {}

    def add(kind: str) -> str:
        node_id = f"{kind[0]}{len(kinds_of)}"
        kinds_of[node_id] = kind
        order.append(node_id)
        nodes[node_id] = {"kind": kind}
        return node_id

    kinds_of: dict[str, str] = {}
    order: list[str] = []
    for kind in kinds:
        add(kind)
    # `to`, forward only. A producer, gateway or topic with nothing after it gets a node to
    # send to, a queue a consumer, and a function often a table to write to: the flows
    # worth testing are the long ones.
    index = 0
    while index < len(order):
        node_id = order[index]
        kind = kinds_of[node_id]
        later = [n for n in order[index + 1:] if kinds_of[n] in SENDS[kind]]
        if kind in ("producer", "gateway"):
            if not later:
                later = [add(draw(st.sampled_from(SENDS[kind])))]
            nodes[node_id]["to"] = draw(st.sampled_from(later))
        elif kind in ("topic", "queue"):
            if not later:
                later = [add("queue" if kind == "topic" else "function")]
            chosen = draw(st.lists(st.sampled_from(later), min_size=1, max_size=3, unique=True))
            if kind == "topic":
                nodes[node_id]["to"] = [{"node": t, "filter": draw(_PATTERNS)}
                                        if draw(st.booleans()) else t for t in chosen]
            else:
                nodes[node_id]["to"] = chosen if len(chosen) > 1 else chosen[0]
        elif kind == "function":
            chosen = draw(st.lists(st.sampled_from(later), max_size=3, unique=True)) \
                if later else []
            if not any(kinds_of[t] == "store" for t in chosen) and draw(st.booleans()):
                chosen.append(add("store"))
            if chosen:
                nodes[node_id]["to"] = chosen if len(chosen) > 1 else chosen[0]
        index += 1

    def later_queue(node_id: str) -> str:
        """A queue after ``node_id`` to park failures in: an existing one or a new DLQ."""
        after = [n for n in order[order.index(node_id) + 1:] if kinds_of[n] == "queue"]
        if after and draw(st.booleans()):
            return draw(st.sampled_from(after))
        return add("queue")

    fifo_consumers: set[str] = set()
    for node_id in list(order):
        kind = kinds_of[node_id]
        node = nodes[node_id]
        if kind == "queue":
            if draw(st.booleans()):
                node["type"] = "fifo"
                fifo_consumers.update(_targets(node))
                if draw(st.booleans()):
                    node["group_by"] = draw(_KEYS)
            if (faults and node.get("to")) or draw(st.booleans()):
                node["dlq"] = {"queue": later_queue(node_id),
                               "max_receives": draw(st.integers(1, 4))}
        elif kind == "topic" and draw(st.booleans()):
            node["dlq"] = later_queue(node_id)
        elif kind == "function" and draw(st.booleans()):
            node["on_failure"] = later_queue(node_id)

    for node_id in order:
        kind = kinds_of[node_id]
        node = nodes[node_id]
        fields = _fields(kind, node_id in fifo_consumers)
        if kind == "producer":
            node["rate"] = draw(_RATE)
        if faults and kind == "function":
            node[draw(st.sampled_from(["errors", "fails_on"]))] = None  # drawn below
        if faults and kind == "producer":
            node.update(timeout=draw(_SHORT), retries=draw(st.integers(1, 3)))
        if faults and kind == "queue":
            node["visibility_timeout"] = draw(_SHORT)
        chosen = draw(st.lists(st.sampled_from(sorted(fields)), unique=True,
                               max_size=len(fields)))
        for name in [*chosen, *(n for n, v in node.items() if v is None)]:
            node[name] = draw(fields[name])
        if faults and node.get("errors") == 0:
            node["errors"] = 0.3
        if kind == "function" and "provisioned" not in node and draw(st.booleans()):
            node["provisioned"] = draw(st.integers(0, node.get("concurrency", 10)))
    scenario = draw(_scenario(nodes, kinds_of, fifo_consumers, faults))
    # the order of nodes in the file must not matter: write them in any order
    written = draw(st.permutations(order))
    return {"version": 1, "name": "random", "seed": draw(st.integers(0, 2**16)),
            "duration": DURATION, "nodes": {n: nodes[n] for n in written},
            "scenario": scenario}


def _fields(kind: str, behind_fifo: bool) -> dict[str, st.SearchStrategy[Any]]:
    if kind == "producer":
        return _producer_fields()
    if kind == "gateway":
        return _gateway_fields()
    if kind == "queue":
        return _queue_fields()
    if kind == "topic":
        return _topic_fields()
    if kind == "function":
        return _function_fields(behind_fifo)
    return _store_fields()


def _targets(node: dict[str, Any]) -> list[str]:
    to = node.get("to") or []
    if isinstance(to, str):
        return [to]
    return [t if isinstance(t, str) else t["node"] for t in to]


def dead_letter_queues(nodes: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Each queue that serves as a DLQ, topic dlq or on_failure -> the queues it serves."""
    found: dict[str, list[str]] = {}
    for node_id, node in nodes.items():
        if isinstance(node.get("dlq"), dict):
            found.setdefault(node["dlq"]["queue"], []).append(node_id)
        elif isinstance(node.get("dlq"), str):
            found.setdefault(node["dlq"], [])
        if node.get("on_failure"):
            found.setdefault(node["on_failure"], [])
    return found


@st.composite
def _scenario(draw: st.DrawFn, nodes: dict[str, dict[str, Any]], kinds_of: dict[str, str],
              fifo_consumers: set[str], faults: bool) -> list[dict[str, Any]]:
    ids = sorted(nodes)
    producers = [n for n in ids if kinds_of[n] == "producer"]
    functions = [n for n in ids if kinds_of[n] == "function"]
    queues = [n for n in ids if kinds_of[n] == "queue"]
    dlqs = dead_letter_queues(nodes)
    actions = ["outage", "degrade", "set"]
    actions += ["burst"] * bool(producers) + ["pause", "resume"] * bool(functions)
    actions += ["redrive"] * bool(dlqs)
    steps: list[dict[str, Any]] = []
    redrives = ["redrive"] * bool(dlqs) * faults  # late, once the DLQs have filled
    chosen = draw(st.lists(st.sampled_from(actions), min_size=3 * faults,
                           max_size=4 + 4 * faults))
    for number, action in enumerate([*redrives, *chosen]):
        late = number < len(redrives)
        at = draw(st.sampled_from([6, 15, 25] if late else [0, "500ms", 1, 2, "3.5s", 6, 15]))
        step: dict[str, Any] = {"at": at, "action": action}
        if action == "burst":
            step.update(node=draw(st.sampled_from(producers)),
                        factor=draw(st.sampled_from([0.5, 2, 5])), **{"for": draw(_SHORT)})
        elif action == "outage":
            step.update(node=draw(st.sampled_from(ids)), **{"for": draw(_SHORT)})
        elif action == "degrade":
            step.update(node=draw(st.sampled_from(ids)), errors=draw(_PROB),
                        slow=draw(st.sampled_from([1, 2, 5])), **{"for": draw(_SHORT)})
        elif action in ("pause", "resume"):
            step["node"] = draw(st.sampled_from(functions))
        elif action == "redrive":
            source = draw(st.sampled_from(sorted(dlqs)))
            serves = dlqs[source]
            step.update(rate=draw(_RATE), **{"from": source})
            if len(serves) != 1 or draw(st.booleans()):
                others = [q for q in queues if q != source]
                if not others:
                    continue
                step["to"] = draw(st.sampled_from(serves or others))
        else:
            node_id = draw(st.sampled_from(ids))
            kind = kinds_of[node_id]
            fields = {name: values for name, values in
                      _fields(kind, node_id in fifo_consumers).items()
                      if name not in m.FIXED_AT_START}  # a set cannot change those
            if kind == "function" and "provisioned" in nodes[node_id]:
                fields.pop("concurrency")  # keep provisioned <= concurrency
            names = draw(st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=2,
                                  unique=True))
            step["node"] = node_id
            for name in names:
                step[name] = draw(st.one_of(fields[name], st.just(None))
                                  if name in _NULLABLE else fields[name])
        if draw(st.booleans()):
            step["say"] = f"step {len(steps)}"
        steps.append(step)
    return steps


_NULLABLE = {"throttle", "cache", "breaker", "fails_on", "capacity", "limit"}


def to_yaml(data: dict[str, Any]) -> str:
    out = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # nodes in the order drawn
    yaml.dump(data, out)
    return out.getvalue()
