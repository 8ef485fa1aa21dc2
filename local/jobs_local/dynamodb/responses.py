"""DynamoDB answers an item read in microseconds; moto's answer took most of a job's time in moto.

Replaces: moto's model-driven `JSONSerializer` for DynamoDB's responses and its streams' records. It walks every
`AttributeValue` of every item member by member, trying each of its ten members (S, N, B, M, L, ...)
under several spellings: 40 ms of a 60 ms `Query` of 20 jobs, and about 70 % of the time of a
job's DynamoDB calls.

An `AttributeValue` that moto hands to the serializer is already in its wire form, `{type: value}`
(nested ones may still be moto's `DynamoType`, and binary ones bytes). Here it is written out
directly, with what the generic serializer does to it: binary values base64-encoded, numbers
and strings as strings. Every other part of a response still goes through moto's serializer.
tests/unit/test_dynamodb_responses.py checks that both give the same JSON.
"""

from __future__ import annotations

import base64
from typing import Any

from moto.core.serialize import SERVICE_SPECIFIC_SERIALIZERS, JSONSerializer
from moto.dynamodb.models.dynamo_type import DynamoType

from jobs_local.patching import Patch

_STRINGS = ("S", "N")
_STRING_SETS = ("SS", "NS")


def _binary(value: Any) -> str:
    return base64.b64encode(value).decode() if isinstance(value, bytes | bytearray) else str(value)


def wire_form(value: Any) -> Any:
    """An AttributeValue as DynamoDB's JSON carries it."""
    if isinstance(value, DynamoType):
        value = value.to_json()
    out = {}
    for kind, inner in value.items():
        if inner is None:
            continue
        if kind in _STRINGS:
            out[kind] = str(inner)
        elif kind in _STRING_SETS:
            out[kind] = [str(item) for item in inner]
        elif kind == "B":
            out[kind] = _binary(inner)
        elif kind == "BS":
            out[kind] = [_binary(item) for item in inner]
        elif kind == "M":
            out[kind] = {name: wire_form(item) for name, item in inner.items()}
        elif kind == "L":
            out[kind] = [wire_form(item) for item in inner]
        else:  # NULL, BOOL
            out[kind] = inner
    return out


class DynamoDBJSONSerializer(JSONSerializer):
    def _serialize(self, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if shape.name == "AttributeValue" and isinstance(value, dict | DynamoType):
            self._default_serialize(serialized, wire_form(value), shape, key)
            return
        super()._serialize(serialized, value, shape, key)


PATCH = Patch(
    "moto's generic JSON serializer for DynamoDB and its streams, which walks every attribute value",
    [  # moto has none of its own for either
        (SERVICE_SPECIFIC_SERIALIZERS, "dynamodb", {"json": DynamoDBJSONSerializer}),
        # GetRecords: each record's keys and images. The stream pollers read every write's: in a
        # fuzz run, 21 % of the stack's busy time was moto's serializer on them (py-spy --gil).
        (SERVICE_SPECIFIC_SERIALIZERS, "dynamodbstreams", {"json": DynamoDBJSONSerializer}),
    ],
)
