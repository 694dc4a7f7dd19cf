"""Any valid topology, any faults: the engine keeps its books.

Hypothesis builds topologies of every kind by the spec's edge rules, with random fields and a
random scenario (bursts, outages, degradations, pauses, redrives from real DLQs, live `set`s).
Each one must load without a problem, then run headless on the virtual clock with a drain,
and after the run:

- the ledger balances: ``lost`` is 0 and the states add up to ``created``;
- each store's table holds exactly the rows the engine wrote, every row whole; every copy a
  store delivered has its row, one row per key in an idempotent store;
- no node failed (``NodeFailed``), nothing reached the loop's exception handler, and no task
  is left once the run has stopped;
- a drain that ended early left nothing pending.

A failure shrinks to a minimal topology, printed as YAML.

Profiles (environment variable ``PLAYGROUND_HYPOTHESIS``): ``ci`` (the default) runs a fixed
set of examples, the same every time; ``nightly`` runs many more, new ones each time:
``PLAYGROUND_HYPOTHESIS=nightly python run.py test tests/reliability``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, note, settings

from playground.spec import load_text

from .checks import assert_sound, run_watched
from .strategies import DRAIN, to_yaml, topologies

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile("ci", max_examples=250, derandomize=True, database=None,
                          deadline=None, suppress_health_check=_QUIET, print_blob=True)
settings.register_profile("nightly", max_examples=2_500, deadline=None,
                          suppress_health_check=_QUIET, print_blob=True)
PROFILE = settings.get_profile(os.environ.get("PLAYGROUND_HYPOTHESIS", "ci"))


def _check(data: dict) -> None:
    text = to_yaml(data)
    note(text)
    loaded = load_text(text, "random.yaml")
    assert loaded.errors == [], "\n".join(map(str, loaded.errors))
    topology = loaded.require()
    outcome = run_watched(topology, drain=DRAIN)
    note(f"ledger: {outcome.ledger}")
    assert_sound(outcome, topology)
    if outcome.engine.sim_seconds < topology.duration + DRAIN:
        assert outcome.ledger["pending"] == 0, outcome.ledger


# Two tests, so two workers share the examples: any topology, and one where things fail.
@PROFILE
@given(topologies())
def test_any_topology_keeps_its_books(data: dict) -> None:
    _check(data)


@PROFILE
@given(topologies(faults=True))
def test_any_topology_under_faults_keeps_its_books(data: dict) -> None:
    _check(data)
