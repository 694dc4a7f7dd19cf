"""What clients saw, in the report: ok answers, errors and timeouts, how long each took, for
all producers together and for each one."""

from __future__ import annotations

import random

import pytest
from conftest import topology

from playground.engine.metrics import Histogram

SUMMARY = ("mean", "p50", "p95", "p99", "max")
CLOSE = 1e-3  # a histogram's quantile is within 0.1% of a value it holds


def test_a_504_after_a_gateway_timeout_shows_its_wait_as_error_latency(sim):
    # every client waits 1 s for a 504: before, the report said latency 0 and nothing more
    run = sim(topology({
        "p": {"kind": "producer", "rate": "2/s", "pattern": "constant", "to": "api"},
        "api": {"kind": "gateway", "timeout": "1s", "to": "f"},
        "f": {"kind": "function", "concurrency": 100, "duration": "2s"},
    }, duration=10))
    client = run.report["client"]
    assert (client["ok"], client["errors"], client["timeouts"]) == (0, 19, 0)
    assert client["latency"] == dict.fromkeys(SUMMARY, 0.0)  # of ok answers: there were none
    assert client["error_latency"] == pytest.approx(dict.fromkeys(SUMMARY, 1.0), rel=CLOSE)


def test_each_producer_reports_what_its_own_clients_saw(sim):
    run = sim(topology({
        "quick": {"kind": "producer", "rate": 5, "pattern": "constant", "to": "api-quick"},
        "api-quick": {"kind": "gateway", "to": "fast"},
        "fast": {"kind": "function", "concurrency": 100, "duration": "100ms"},
        "gated": {"kind": "producer", "rate": 5, "pattern": "constant", "to": "api-slow"},
        "api-slow": {"kind": "gateway", "timeout": "1s", "to": "slow"},
        "hasty": {"kind": "producer", "rate": 5, "pattern": "constant", "timeout": "500ms",
                  "to": "api-hasty"},
        "api-hasty": {"kind": "gateway", "to": "slow"},
        "slow": {"kind": "function", "concurrency": 100, "duration": "2s"},
    }, duration=10))
    quick, gated, hasty = (run.node(n) for n in ("quick", "gated", "hasty"))
    # 50 sends each, from 0 to 9.8 s: a 504 after 1 s answers those up to 9.0 s within the
    # run (46), a 0.5 s client timeout those up to 9.5 s (48)
    assert (quick["ok"], quick["errors"], quick["timeouts"]) == (50, 0, 0)
    assert quick["latency"]["p50"] == pytest.approx(0.1, rel=CLOSE)
    assert quick["error_latency"] == dict.fromkeys(SUMMARY, 0.0)
    assert (gated["ok"], gated["timeouts"]) == (0, 0) and gated["errors"] == 46
    assert gated["error_latency"] == pytest.approx(dict.fromkeys(SUMMARY, 1.0), rel=CLOSE)
    assert (hasty["ok"], hasty["errors"]) == (0, 0) and hasty["timeouts"] == 48
    assert hasty["error_latency"] == pytest.approx(dict.fromkeys(SUMMARY, 0.5), rel=CLOSE)
    # the client block is the three together
    client = run.report["client"]
    assert (client["ok"], client["errors"], client["timeouts"]) == (50, 46, 48)
    assert client["latency"] == quick["latency"]
    assert client["error_latency"]["p50"] == pytest.approx(0.5, rel=CLOSE)
    assert client["error_latency"]["max"] == pytest.approx(1.0, rel=CLOSE)
    assert client["error_latency"]["mean"] == pytest.approx((46 * 1.0 + 48 * 0.5) / 94)


def test_histograms_merged_read_as_one_that_had_every_value():
    rng = random.Random(3)
    values = [rng.lognormvariate(-2, 1) for _ in range(5000)] + [0.0] * 40
    parts = [Histogram() for _ in range(3)]
    whole = Histogram()
    for i, value in enumerate(values):
        parts[i % 3].add(value)
        whole.add(value)
    merged = Histogram.merged(parts)
    assert merged.summary() == pytest.approx(whole.summary(), rel=1e-12)
    assert merged.count == whole.count and merged.zeros == whole.zeros
