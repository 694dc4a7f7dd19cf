"""The JSON Schema of the topology format, generated from the model."""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from playground.spec.distribution import Fixed
from playground.spec.model import Topology

SCHEMA_ID = "https://playground.invalid/topology-v1.schema.json"


class _Generator(GenerateJsonSchema):
    def encode_default(self, dft: Any) -> Any:
        if isinstance(dft, Fixed):
            return dft.value  # a fixed distribution is written as a bare duration
        return super().encode_default(dft)


def json_schema() -> dict[str, Any]:
    schema = Topology.model_json_schema(by_alias=True, schema_generator=_Generator)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "playground topology, version 1",
    }


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=False) + "\n"
