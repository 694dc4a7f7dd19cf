"""Durations that vary: a fixed duration or one of four named distributions."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Tag,
    WithJsonSchema,
    model_validator,
)

from playground.spec.units import _DURATION_JSON, Duration, parse_duration

# The 99th percentile of the standard normal: turns a lognormal's p50/p99 into mu/sigma.
Z99 = 2.3263478740408408


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @property
    def expected(self) -> float:  # pragma: no cover - every subclass overrides
        """The mean duration, used by lint's capacity estimates."""
        raise NotImplementedError


class Fixed(_Dist):
    """Always the same duration (written as a bare duration)."""

    dist: Literal["fixed"] = "fixed"
    value: float

    @model_validator(mode="before")
    @classmethod
    def _from_duration(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return data
        return {"value": parse_duration(data)}

    @property
    def expected(self) -> float:
        return self.value


class Exponential(_Dist):
    dist: Literal["exponential"]
    mean: Duration

    @property
    def expected(self) -> float:
        return self.mean


class Uniform(_Dist):
    dist: Literal["uniform"]
    min: Duration
    max: Duration

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.max < self.min:
            raise ValueError(f"max ({self.max:g}s) is below min ({self.min:g}s)")
        return self

    @property
    def expected(self) -> float:
        return (self.min + self.max) / 2


class Normal(_Dist):
    """Normal, truncated at 0 (negative draws are drawn again)."""

    dist: Literal["normal"]
    mean: Duration
    sd: Duration

    @property
    def expected(self) -> float:
        """The mean of the truncated distribution, near ``mean`` when ``sd`` is small."""
        if self.sd == 0:
            return self.mean
        alpha = -self.mean / self.sd
        pdf = math.exp(-alpha * alpha / 2) / math.sqrt(2 * math.pi)
        survival = 0.5 * math.erfc(alpha / math.sqrt(2))
        return self.mean + self.sd * pdf / survival if survival > 0 else 0.0


class Lognormal(_Dist):
    """Lognormal given by its median and 99th percentile, as latencies are usually quoted."""

    dist: Literal["lognormal"]
    p50: Duration
    p99: Duration

    @model_validator(mode="after")
    def _ordered(self) -> Lognormal:
        if self.p50 <= 0:
            raise ValueError("p50 must be above 0")
        if self.p99 < self.p50:
            raise ValueError(f"p99 ({self.p99:g}s) is below p50 ({self.p50:g}s)")
        return self

    @property
    def mu(self) -> float:
        return math.log(self.p50)

    @property
    def sigma(self) -> float:
        return (math.log(self.p99) - math.log(self.p50)) / Z99

    @property
    def expected(self) -> float:
        try:
            return math.exp(self.mu + self.sigma**2 / 2)
        except OverflowError:  # a tail this long has a mean beyond any float
            return math.inf


DIST_NAMES = ("exponential", "uniform", "normal", "lognormal")


def _tag(value: Any) -> str | None:
    if isinstance(value, _Dist):
        return value.dist
    if isinstance(value, dict):
        name = value.get("dist")
        return name if isinstance(name, str) else None
    return "fixed"


_DIST_JSON = {
    "anyOf": [
        _DURATION_JSON,
        {"type": "object", "required": ["dist", "mean"], "additionalProperties": False,
         "properties": {"dist": {"const": "exponential"}, "mean": _DURATION_JSON}},
        {"type": "object", "required": ["dist", "min", "max"], "additionalProperties": False,
         "properties": {"dist": {"const": "uniform"}, "min": _DURATION_JSON,
                        "max": _DURATION_JSON}},
        {"type": "object", "required": ["dist", "mean", "sd"], "additionalProperties": False,
         "properties": {"dist": {"const": "normal"}, "mean": _DURATION_JSON,
                        "sd": _DURATION_JSON}},
        {"type": "object", "required": ["dist", "p50", "p99"], "additionalProperties": False,
         "properties": {"dist": {"const": "lognormal"}, "p50": _DURATION_JSON,
                        "p99": _DURATION_JSON}},
    ],
    "description": "A duration that varies: a fixed duration, or {dist: exponential, mean}, "
    "{dist: uniform, min, max}, {dist: normal, mean, sd} or {dist: lognormal, p50, p99}.",
}

Distribution = Annotated[
    Annotated[Fixed, Tag("fixed")]
    | Annotated[Exponential, Tag("exponential")]
    | Annotated[Uniform, Tag("uniform")]
    | Annotated[Normal, Tag("normal")]
    | Annotated[Lognormal, Tag("lognormal")],
    Discriminator(
        _tag,
        custom_error_type="distribution",
        custom_error_message="not a distribution: use a duration (such as 20ms) or "
        "{dist: exponential|uniform|normal|lognormal, ...}",
    ),
    WithJsonSchema(_DIST_JSON),
]
