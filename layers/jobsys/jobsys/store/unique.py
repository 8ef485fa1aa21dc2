"""The lock of a `unique: true` definition: one item that names the root of its last start. A
start takes it in the same transaction that records its jobs, on the condition that it still names
the run the start found closed, so that of two starts at once only one records its jobs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobsys.store.items import TableAccess, _unique_key


@dataclass(frozen=True)
class UniqueLock:
    """Take the lock of `definition` for a new run, if it still names `free_holder` (None: nobody)."""

    definition: str
    free_holder: str | None

    def put(self, table_name: str, holder: str) -> dict[str, Any]:
        """The transaction's item that takes the lock for `holder`."""
        put: dict[str, Any] = {
            "TableName": table_name,
            "Item": {**_unique_key(self.definition), "holder": holder},
        }
        if self.free_holder is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "holder = :free"
            put["ExpressionAttributeValues"] = {":free": self.free_holder}
        return {"Put": put}


class UniqueLocks(TableAccess):
    def unique_holder(self, definition: str) -> str | None:
        """The root id of the last start of a unique definition, if any."""
        item = self.table.get_item(Key=_unique_key(definition), ConsistentRead=True).get("Item") or {}
        holder: str | None = item.get("holder")
        return holder
