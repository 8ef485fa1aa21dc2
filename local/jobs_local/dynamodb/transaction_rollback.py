"""A DynamoDB transaction costs the same whatever the table holds; moto's copied the whole table.

Replaces: the rollback copy of moto's `DynamoDBBackend.transact_write_items`, which deep-copies
every table that the transaction names before it starts, so that a failed transaction can put the
copy back. Its cost grows with the table: it was 10 % of the local stack's busy time with a few
hundred jobs, and every start of a job is a transaction.

Here the copy is of the items that the transaction writes, and only those are put back when it
fails. That is exact because every DynamoDB request runs alone (jobs_local.dynamodb.atomic): nothing
else can have written to the table between the copy and the rollback.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

from jobs_local.patching import Patch, Wrap


class _TablesNotCopied:
    """`copy` as moto's module sees it: a table is not copied, anything else is."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _written(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[tuple[Table, Any, Any, Any]]:
    """(table, hash key, range key, a copy of the item or None) for each item the transaction writes."""
    found = []
    for entry in transact_items:
        try:
            _, op = next(iter(entry.items()))
            table = backend.tables[op["TableName"]]
            keys = op.get("Key") or {
                name: op["Item"][name] for name in (table.hash_key_attr, table.range_key_attr) if name
            }
            hash_key, range_key = backend.get_keys_value(table, keys)
        except Exception:  # noqa: BLE001 - malformed: moto refuses it before writing anything
            continue
        found.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    return found


def _put_back(written: list[tuple[Table, Any, Any, Any]]) -> None:
    for table, hash_key, range_key, item in reversed(written):
        table.delete_item(hash_key, range_key)
        if item is None:
            continue
        if range_key is not None:
            table.items[hash_key][range_key] = item
        else:
            table.items[hash_key] = item


def _puts_back_what_it_wrote(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        written = _written(self, transact_items)
        try:
            original(self, transact_items)
        except Exception:
            _put_back(written)
            raise

    return transact_write_items


PATCH = Patch(
    "moto's DynamoDBBackend.transact_write_items, which copies every table it names to roll back",
    [
        (dynamodb_models, "copy", _TablesNotCopied),
        (DynamoDBBackend, "transact_write_items", Wrap(_puts_back_what_it_wrote)),
    ],
)
