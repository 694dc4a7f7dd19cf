"""The headless report (spec "Headless run and its report") and the UI's snapshots."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from playground.engine.message import (
    ALIVE,
    DELIVERED,
    EXPIRED,
    EXPORTED,
    FAILED,
    UNMATCHED,
    Copy,
)
from playground.engine.metrics import Histogram
from playground.engine.nodes.queue import QueueNode

if TYPE_CHECKING:
    from playground.engine.runtime import Engine

REPORT_VERSION = 1


def ledger(engine: Engine) -> dict[str, int]:
    """The ledger, with ``pending`` and ``dead_lettered`` found by looking in every node.

    A copy still counted alive that no node holds, or a copy that ended without an outcome,
    shows as ``lost``: the engine's bug detector.
    """
    counts = engine.ledger.counts
    pending: set[Copy] = set()
    parked: set[Copy] = set()
    for node in engine.nodes.values():
        into = parked if engine.parks(node) else pending
        for msg in node.holdings():
            if not msg.copy.delivered:
                into.add(msg.copy)
    for holder in engine.holders:  # an MQTT transport holding messages for remote senders
        pending.update(msg.copy for msg in holder.holdings() if not msg.copy.delivered)
    dead_lettered = len(parked - pending)
    result = {
        "created": engine.ledger.created,
        "delivered": counts[DELIVERED],
        "failed": counts[FAILED],
        "dead_lettered": dead_lettered,
        "expired": counts[EXPIRED],
        "unmatched": counts[UNMATCHED],
        "pending": len(pending),
    }
    if engine.spans_processes:
        result["exported"] = counts[EXPORTED]
    result["lost"] = result["created"] - sum(v for k, v in result.items() if k != "created")
    if engine.spans_processes:
        result["imported"] = engine.ledger.imported  # of created: not a final state
    return result


def live_ledger(engine: Engine) -> dict[str, int]:
    """The ledger without the scan (cheap enough for every frame): ``pending`` includes
    copies parked in DLQs, which are shown apart as ``in_dlqs``."""
    counts = engine.ledger.counts
    in_dlqs = sum(node.held for node in engine.nodes.values()
                  if isinstance(node, QueueNode) and engine.parks(node))
    return {"created": engine.ledger.created, "delivered": counts[DELIVERED],
            "failed": counts[FAILED], "expired": counts[EXPIRED],
            "unmatched": counts[UNMATCHED], "in_system": counts[ALIVE], "in_dlqs": in_dlqs,
            **({"exported": counts[EXPORTED], "imported": engine.ledger.imported}
               if engine.spans_processes else {}),
            "lost": counts[None]}


def _node_report(engine: Engine, node_id: str) -> dict[str, Any]:
    node = engine.nodes[node_id]
    stats = engine.metrics.stats(node_id)
    counters = stats.counters
    gauges = node.gauges()
    kind = node.kind
    entry: dict[str, Any] = {
        "kind": kind,
        "in": counters.get("in", 0),
        "out": counters.get("out", 0),
        "errors": counters.get("errors", 0),
        "throttled": counters.get("throttled", 0),
        "retries": counters.get("retries", 0),
    }
    if kind == "queue":
        entry.update({
            "depth": gauges["depth"], "max_depth": gauges["max_depth"],
            "in_flight": gauges["in_flight"], "visible": gauges["visible"],
            "delayed": gauges["delayed"], "wait": stats.wait.summary(),
            "received": counters.get("received", 0),
            "redelivered": counters.get("redelivered", 0),
            "dead_lettered": counters.get("dead_lettered", 0),
            "expired": counters.get("expired", 0), "redriven": counters.get("redriven", 0),
        })
    elif kind == "function":
        entry.update({
            "in_flight": gauges["busy"], "invocations": counters.get("invocations", 0),
            "failed_invocations": counters.get("failed_invocations", 0),
            "duration": stats.duration.summary(), "cold_starts": gauges["cold_starts"],
            "instances": gauges["instances"], "events_waiting": gauges["events_waiting"],
            "dead_lettered": counters.get("dead_lettered", 0),
            "failed": counters.get("failed", 0),
        })
        if gauges["breaker"] is not None:
            entry["breaker_state"] = gauges["breaker"]
            entry["short_circuited"] = counters.get("short_circuited", 0)
    elif kind == "store":
        entry.update({"duplicates": counters.get("duplicates", 0),
                      "deduplicated": counters.get("deduplicated", 0),
                      "delivered": counters.get("delivered", 0)})
    elif kind == "gateway":
        entry.update({"cache_hits": counters.get("cache_hits", 0)})
        if gauges["breaker"] is not None:
            entry["breaker_state"] = gauges["breaker"]
            entry["short_circuited"] = counters.get("short_circuited", 0)
    elif kind == "topic":
        entry.update({"unmatched": counters.get("unmatched", 0),
                      "dead_lettered": counters.get("dead_lettered", 0),
                      "failed": counters.get("failed", 0)})
    elif kind == "external":
        entry.update({"created": counters.get("created", 0), "ok": counters.get("ok", 0)})
    elif kind == "producer":
        # what this producer's clients saw (ok, errors, timeouts, latency, error_latency):
        # the client block merges every producer's
        entry.update({"sent": counters.get("sent", 0), "created": counters.get("created", 0),
                      "blocked_seconds": round(gauges["blocked_seconds"], 9),
                      **engine.metrics.answers[node_id].as_dict()})
    return entry


def build_report(engine: Engine, *, clock: str = "virtual", db: str | None = None
                 ) -> dict[str, Any]:
    loop = engine.loop
    wall_started = getattr(loop, "wall_started", None)
    wall = time.monotonic() - wall_started if wall_started is not None else 0.0
    report = {
        "version": REPORT_VERSION,
        "topology": engine.topology.name,
        "seed": engine.seed,
        "clock": getattr(loop, "mode", clock),
        "sim_seconds": engine.sim_seconds,
        "wall_seconds": round(wall, 3),
        "db": db,
        "ledger": ledger(engine),
        "client": engine.metrics.client.as_dict(),
        "end_to_end": engine.metrics.end_to_end.summary(),
        "nodes": {node_id: _node_report(engine, node_id) for node_id in engine.nodes},
    }
    if getattr(loop, "mode", None) == "real":
        # the real clock falls behind rather than squeeze events: say how fast it really ran
        report["speed"] = loop.speed  # type: ignore[attr-defined]
        report["achieved_speed"] = round(engine.sim_seconds / wall, 3) if wall > 0 else None
    return report


def snapshot(engine: Engine) -> dict[str, Any]:
    """Everything a UI shows, sampled at once; cheap enough to take at frame rate."""
    now = engine.loop.time()
    metrics = engine.metrics
    nodes: dict[str, Any] = {}
    for node_id, node in engine.nodes.items():
        stats = metrics.stats(node_id)
        nodes[node_id] = {
            "kind": node.kind,
            "counters": dict(stats.counters),
            "gauges": node.gauges(),
            "rate_in": stats.rate_in.rate(now),
            "rate_out": stats.rate_out.rate(now),
            "series_in": stats.rate_in.series(now),
            "series_out": stats.rate_out.series(now),
            # None before the first sample: a queue nobody has received from has no wait
            # to show, and 0ms would read as an instant one
            **_percentiles(stats.wait if node.kind == "queue" else stats.duration),
            "outage": node.in_outage(),
            "degraded": now < node.degrade_until,
        }
    client = metrics.client
    return {
        "t": now,
        "ledger": live_ledger(engine),
        "client": {**client.as_dict(), "rate_ok": client.rate_ok.rate(now),
                   "rate_errors": client.rate_errors.rate(now),
                   "series_ok": client.rate_ok.series(now),
                   "series_errors": client.rate_errors.series(now)},
        "end_to_end": metrics.end_to_end.summary(),
        "nodes": nodes,
        "scenario_next": getattr(engine.scenario.next_step(), "at", None),
        **{key: read() for key, read in engine.status.items()},
    }


def _percentiles(histogram: Histogram) -> dict[str, float | None]:
    if not histogram.count:
        return {"p50": None, "p99": None}
    return {"p50": histogram.quantile(0.5), "p99": histogram.quantile(0.99)}
