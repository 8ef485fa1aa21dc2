"""A Query on an index reads the partition it names, as DynamoDB does; moto's walked the whole table.

Replaces: moto's `Table.query` on an index, which looks at every item of the table
(`Table.all_items()`, each time sorted) for those of the partition asked for. Its cost grew with the
table's history: a runner's history read, the queue's line and every listing got slower as closed
jobs piled up, where DynamoDB reads the partition's items only.

Here each table keeps, for each of its indexes, its items by the values of the index's partition
key. A query on an index gets that partition's items in place of the whole table, and moto does
the rest as before: the key conditions, the sort, the filter, the limit and the pages. A write
(PutItem, UpdateItem, DeleteItem, and each item of a batch or a transaction, which go through them)
notes the key it wrote; the next query files each noted item again, as it is then. Every DynamoDB
request runs alone (jobs_local.dynamodb.atomic), so a query never sees a write half done.
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

from jobs_local.patching import Patch, Wrap

ItemKey = tuple[DynamoType, DynamoType | None]


class Partitions:
    """One table's index partitions: for each index, its items by the values of its partition key."""

    def __init__(self, table: Table):
        self.table = table
        self.keys = _partition_keys(table)
        self.items: dict[str, dict[tuple[DynamoType, ...], dict[ItemKey, Item]]] = {name: {} for name in self.keys}
        self.filed: dict[str, dict[ItemKey, tuple[DynamoType, ...]]] = {name: {} for name in self.keys}
        self.noted: set[ItemKey] = set()
        for item in table.all_items():
            self._file((item.hash_key, item.range_key), item)

    def note(self, key: ItemKey) -> None:
        self.noted.add(key)

    def partition(self, index: str, values: tuple[DynamoType, ...]) -> list[Item]:
        """The partition's items, in the order of `Table.all_items()`, which moto's query expects."""
        for key in self.noted:
            self._file(key, self.table.get_item(*key) if self._keyed(key) else None)
        self.noted.clear()
        found = self.items[index].get(values, {})
        return sorted(found.values(), key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)

    def _keyed(self, key: ItemKey) -> bool:
        return key[1] is not None or not self.table.range_key_attr

    def _file(self, key: ItemKey, item: Item | None) -> None:
        for index, names in self.keys.items():
            old = self.filed[index].pop(key, None)
            if old is not None:
                partition = self.items[index][old]
                partition.pop(key, None)
                if not partition:
                    del self.items[index][old]
            values = tuple(item.attrs.get(name) for name in names) if item is not None else ()
            if values and all(value is not None for value in values):  # sparse: only items with its keys
                self.items[index].setdefault(values, {})[key] = item  # type: ignore[assignment]
                self.filed[index][key] = values  # type: ignore[assignment]


def _partition_keys(table: Table) -> dict[str, list[str]]:
    return {
        index.name: [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
        for index in table.all_indexes()
    }


_partitions: weakref.WeakKeyDictionary[Table, Partitions] = weakref.WeakKeyDictionary()


def partitions_of(table: Table) -> Partitions:
    found = _partitions.get(table)
    if found is None or found.keys != _partition_keys(table):  # new, or its indexes changed
        found = _partitions[table] = Partitions(table)
    return found


def _note(table: Table, key: ItemKey) -> None:
    found = _partitions.get(table)
    if found is not None:  # a table never queried on an index is filed at its first such query
        found.note(key)


def _noting_puts(original: Callable[..., Item]) -> Callable[..., Item]:
    @functools.wraps(original)
    def put_item(self: Table, *args: Any, **kwargs: Any) -> Item:
        item = original(self, *args, **kwargs)
        _note(self, (item.hash_key, item.range_key))
        return item

    return put_item


def _noting_deletes(original: Callable[..., Item | None]) -> Callable[..., Item | None]:
    @functools.wraps(original)
    def delete_item(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
        try:
            return original(self, hash_key, range_key)
        finally:
            _note(self, (hash_key, range_key))

    return delete_item


def _noting_updates(original: Callable[..., Item]) -> Callable[..., Item]:
    """moto's UpdateItem changes the item in place: its partition may change without a put."""

    @functools.wraps(original)
    def update_item(self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Item:
        try:
            return original(self, table_name, key, *args, **kwargs)
        finally:
            try:
                table = self.get_table(table_name)
                _note(table, self.get_keys_value(table, key))
            except Exception:  # noqa: BLE001 - no such table or key: moto refused it, and nothing was written
                pass

    return update_item


def _reading_one_partition(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    @functools.wraps(original)
    def query(self: Table, *args: Any, **kwargs: Any) -> Any:
        asked = signature.bind(self, *args, **kwargs).arguments
        index, conditions = asked.get("index_name"), dict(asked.get("hash_key_conditions") or ())
        partitions = partitions_of(self) if index else None
        if partitions is None or index not in partitions.keys or set(conditions) != set(partitions.keys[index]):
            return original(self, *args, **kwargs)  # moto refuses it, or it is no index query
        candidates = partitions.partition(index, tuple(conditions[name] for name in partitions.keys[index]))
        self.__dict__["all_items"] = lambda: candidates  # for this query only
        try:
            return original(self, *args, **kwargs)
        finally:
            del self.__dict__["all_items"]

    return query


PATCH = Patch(
    "moto's Table.query on an index, which walks every item of the table",
    [
        (Table, "put_item", Wrap(_noting_puts)),
        (Table, "delete_item", Wrap(_noting_deletes)),
        (DynamoDBBackend, "update_item", Wrap(_noting_updates)),
        (Table, "query", Wrap(_reading_one_partition)),
    ],
)
