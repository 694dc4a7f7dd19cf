"""Randomness, always from a seeded generator: distributions and payload templates.

Each node and purpose gets a generator of its own, derived from the run's seed and names
(never Python's ``hash``), so changing one node's behaviour does not change another's
random stream, and two topologies with the same producer see the same traffic.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable
from typing import Any

from playground.spec.distribution import Exponential, Fixed, Lognormal, Normal, Uniform
from playground.spec.template import PLACEHOLDER

Sampler = Callable[[], float]


def rng_for(seed: int, *names: str) -> random.Random:
    return random.Random(":".join([str(seed), *names]))


def sampler(dist: Any, rng: random.Random) -> Sampler:
    """A function drawing durations (seconds) from a spec distribution."""
    if isinstance(dist, Fixed):
        value = dist.value
        return lambda: value
    if isinstance(dist, Exponential):
        if dist.mean <= 0:
            return lambda: 0.0
        rate = 1.0 / dist.mean
        expovariate = rng.expovariate
        return lambda: expovariate(rate)
    if isinstance(dist, Uniform):
        low, high = dist.min, dist.max
        uniform = rng.uniform
        return lambda: uniform(low, high)
    if isinstance(dist, Normal):
        mean, sd = dist.mean, dist.sd
        gauss = rng.gauss

        def truncated() -> float:
            for _ in range(64):  # truncation at 0: draw again (bounded, then clamp)
                value = gauss(mean, sd)
                if value >= 0:
                    return value
            return 0.0

        return truncated
    if isinstance(dist, Lognormal):
        mu, sigma = dist.mu, dist.sigma
        lognormvariate = rng.lognormvariate
        return lambda: lognormvariate(mu, sigma)
    raise TypeError(f"not a distribution: {dist!r}")


# --- payload templates -------------------------------------------------------------------


Part = Callable[["TemplateContext"], Any]


class TemplateContext:
    __slots__ = ("now", "rng", "seq")

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seq = 0
        self.now = 0.0


def _part(match: re.Match[str]) -> Part:
    name = match.group(1)
    if name == "seq":
        return lambda c: c.seq
    if name == "now":
        return lambda c: c.now
    if name == "uuid":
        return lambda c: str(uuid.UUID(int=c.rng.getrandbits(128), version=4))
    if name.startswith("int:"):
        low, high = int(match.group(2)), int(match.group(3))  # checked: low <= high
        return lambda c: c.rng.randint(low, high)
    choices = [c.strip() for c in match.group(4).split(",")]
    return lambda c: c.rng.choice(choices)


def _compile_string(text: str) -> Callable[[TemplateContext], Any]:
    matches = list(PLACEHOLDER.finditer(text))
    if not matches:
        return lambda c: text
    whole = len(matches) == 1 and matches[0].span() == (0, len(text))
    if whole:
        part = _part(matches[0])
        if matches[0].group(1) in ("seq", "now") or matches[0].group(1).startswith("int:"):
            return part  # a lone number placeholder is a JSON number
        return lambda c: str(part(c))
    pieces: list[Any] = []
    last = 0
    for match in matches:
        if match.start() > last:
            pieces.append(text[last:match.start()])
        pieces.append(_part(match))
        last = match.end()
    if last < len(text):
        pieces.append(text[last:])

    def render(c: TemplateContext) -> str:
        return "".join(p if isinstance(p, str) else str(p(c)) for p in pieces)

    return render


def _compile(value: Any) -> Callable[[TemplateContext], Any]:
    if isinstance(value, str):
        return _compile_string(value)
    return lambda c: value  # numbers, booleans, lists and mappings are kept as they are


def compile_template(template: dict[str, Any], rng: random.Random
                     ) -> Callable[[int, float], dict[str, Any]]:
    """``render(seq, now)`` -> a payload; string values may hold placeholders (never code)."""
    context = TemplateContext(rng)
    fields = [(key, _compile(value)) for key, value in template.items()]

    def render(seq: int, now: float) -> dict[str, Any]:
        context.seq = seq
        context.now = now
        return {key: part(context) for key, part in fields}

    return render
