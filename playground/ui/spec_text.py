"""A node's values as a user writes them in the file: the spec holds seconds and per-second
floats and a fixed distribution as a model, the file says ``5m``, ``20/s`` and ``0``."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, BeforeValidator

from playground.spec.distribution import Fixed
from playground.spec.units import format_duration, format_rate, parse_duration, parse_rate


def written_values(spec: BaseModel) -> dict[str, Any]:
    """``spec``'s fields, keyed as in the file, each as the YAML data a user would write."""
    values: dict[str, Any] = {}
    for name, field in type(spec).model_fields.items():
        parsers = set(_parsers(field.annotation)) | set(_parsers(*field.metadata))
        values[field.alias or name] = _written(getattr(spec, name), parsers)
    return values


def _written(value: Any, parsers: set[Any]) -> Any:
    if isinstance(value, Fixed):  # written as a plain duration
        return _duration(value.value)
    if isinstance(value, BaseModel):
        return written_values(value)
    if isinstance(value, list | tuple):
        return [_written(item, parsers) for item in value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if parse_duration in parsers:
        return _duration(value)
    if parse_rate in parsers:
        return format_rate(value)
    return int(value) if float(value).is_integer() else value


def _duration(seconds: float) -> str:
    # as the README's tables write it (format_duration spells it 0s)
    return "0" if seconds == 0 else format_duration(seconds)


def _parsers(*annotations: Any) -> Iterator[Any]:
    """The functions of the BeforeValidators found in ``annotations`` (``Duration``,
    ``Rate | None`` ...)."""
    for annotation in annotations:
        if isinstance(annotation, BeforeValidator):
            yield annotation.func
        yield from _parsers(*typing.get_args(annotation))  # Annotated's metadata included
