"""What a saved edit means for the running engine: fields it can change live, or a restart."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playground.spec import model as m

STRUCTURAL = m.FIXED_AT_START


@dataclass(frozen=True)
class ReloadPlan:
    live: bool
    """True: apply ``changes`` with ``set_fields``; False: restart on the new topology."""
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Node id -> the fields that changed, with their new values."""
    reason: str = ""
    """Why a restart is needed, in words."""

    def summary(self) -> str:
        if not self.live:
            return self.reason
        if not self.changes:
            return "nothing the engine uses changed"
        parts = [f"{node}.{name}" for node, fields in self.changes.items() for name in fields]
        return "changed live: " + ", ".join(parts)


def _fields(spec: m.NodeSpec) -> dict[str, Any]:
    return spec.model_dump(by_alias=True, exclude=set(STRUCTURAL))


def plan(old: m.Topology, new: m.Topology) -> ReloadPlan:
    if set(old.nodes) != set(new.nodes):
        added = sorted(set(new.nodes) - set(old.nodes))
        removed = sorted(set(old.nodes) - set(new.nodes))
        words = [f"added {', '.join(added)}" if added else "",
                 f"removed {', '.join(removed)}" if removed else ""]
        return ReloadPlan(False, reason="nodes " + "; ".join(w for w in words if w))
    for node_id, spec in new.nodes.items():
        before = old.nodes[node_id]
        if before.kind != spec.kind:
            return ReloadPlan(False, reason=f"{node_id} changed kind")
        if before.to != spec.to:
            return ReloadPlan(False, reason=f"{node_id} changed its `to`")
        for name in STRUCTURAL:
            if getattr(before, name, None) != getattr(spec, name, None):
                return ReloadPlan(False, reason=f"{node_id} changed `{name}`, which a run "
                                                "takes when it starts")
    if old.scenario != new.scenario:
        return ReloadPlan(False, reason="the scenario changed")
    if old.seed != new.seed:
        return ReloadPlan(False, reason="the seed changed")
    # the duration is a headless run's length: the app's run goes on past it (only the
    # timeline shows it), so a new one needs no restart
    changes: dict[str, dict[str, Any]] = {}
    for node_id, spec in new.nodes.items():
        before, after = _fields(old.nodes[node_id]), _fields(spec)
        changed = {k: v for k, v in after.items() if before.get(k) != v}
        if changed:
            changes[node_id] = changed
    return ReloadPlan(True, changes)
