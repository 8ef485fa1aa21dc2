"""An item's size as DynamoDB counts it against its 400 KB: each attribute's name and value in
UTF-8 bytes; a number about one byte per two digits; a list or map 3 bytes and 1 per element.

A job is recorded only if it has room for its whole life: running and closing add about 0.5 KB
(its times, output location, progress, usage, reason), and a job that could not take them could
never run nor close."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jobsys.spec.limits import ITEM_LIMIT, LIFE_HEADROOM


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: Any) -> int:
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, int | float | Decimal):
        return len(str(value)) // 2 + 2
    if isinstance(value, dict):
        return 3 + sum(len(str(k).encode()) + _value_size(v) + 1 for k, v in value.items())
    if isinstance(value, list | tuple):
        return 3 + sum(_value_size(v) + 1 for v in value)
    if isinstance(value, set | frozenset):
        return sum(_value_size(v) for v in value)
    return len(str(value).encode())


def has_room_to_live(item: dict[str, Any]) -> bool:
    return item_size(item) + LIFE_HEADROOM <= ITEM_LIMIT
