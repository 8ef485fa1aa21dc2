"""A Query on an index reads the partition it names, as DynamoDB does; moto's walked the whole table.

Replaces: moto's `Table.query` on an index, which looks at every item of the table
(`Table.all_items()`, each time sorted) for those of the partition asked for. Its cost grew with the
table's history: a runner's history read, the queue's line and every listing got slower as closed
jobs piled up, where DynamoDB reads the partition's items only.

Here each table keeps, for each of its indexes, its items by the values of the index's partition
key, each partition in the index's order. A query on an index gets the page it asks for (the
`Limit` items after its `ExclusiveStartKey`, and one more) in place of the whole table, or the
whole partition when a sort-key condition or a filter picks among its items; moto does the rest as
before: the key conditions, the sort, the filter, the limit and the pages. A write (PutItem,
UpdateItem, DeleteItem, and each item of a batch or a transaction, which go through them) notes the
key it wrote; the next query files each noted item again, as it is then. Every DynamoDB request
runs alone (jobs_local.dynamodb.atomic), so a query never sees a write half done.
"""

from __future__ import annotations

import bisect
import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any

from moto.dynamodb.comparisons import OpDefault
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

from jobs_local.patching import Patch, Wrap

ItemKey = tuple[DynamoType, DynamoType | None]
Order = tuple[Any, ...]  # an item's place in an index: its sort attributes' values, as Python values


class Partitions:
    """One table's index partitions: for each index, its items by the values of its partition key,
    each partition kept in the index's order."""

    def __init__(self, table: Table):
        self.table = table
        self.keys = _partition_keys(table)
        self.order = {name: _order_of(table, name) for name in self.keys}
        self.partitions: dict[str, dict[tuple[DynamoType, ...], _Partition]] = {name: {} for name in self.keys}
        self.filed: dict[str, dict[ItemKey, tuple[tuple[DynamoType, ...], Order]]] = {name: {} for name in self.keys}
        self.noted: set[ItemKey] = set()
        for item in table.all_items():
            self._file((item.hash_key, item.range_key), item)

    def note(self, key: ItemKey) -> None:
        self.noted.add(key)

    def partition(self, index: str, values: tuple[DynamoType, ...]) -> _Partition:
        for key in self.noted:
            self._file(key, self.table.get_item(*key) if self._keyed(key) else None)
        self.noted.clear()
        return self.partitions[index].get(values) or _Partition()

    def _keyed(self, key: ItemKey) -> bool:
        return key[1] is not None or not self.table.range_key_attr

    def _file(self, key: ItemKey, item: Item | None) -> None:
        for index, names in self.keys.items():
            old = self.filed[index].pop(key, None)
            if old is not None:
                self.partitions[index][old[0]].remove(old[1])
            if item is None:
                continue
            values = tuple(item.attrs.get(name) for name in names)
            placed = tuple(item.attrs.get(name) for name in self.order[index])
            # Sparse: an item is in an index only if it has all of the index's keys.
            if all(value is not None for value in values + placed):
                order = tuple(_sortable(value) for value in placed)  # type: ignore[arg-type]
                self.partitions[index].setdefault(values, _Partition()).add(order, item)  # type: ignore[arg-type]
                self.filed[index][key] = (values, order)  # type: ignore[assignment]


class _Partition:
    """A partition's items in the index's order (its sort key, then the table's keys, as moto sorts)."""

    def __init__(self) -> None:
        self.orders: list[Order] = []
        self.items: list[Item] = []

    def add(self, order: Order, item: Item) -> None:
        at = bisect.bisect_left(self.orders, order)
        self.orders.insert(at, order)
        self.items.insert(at, item)

    def remove(self, order: Order) -> None:
        at = bisect.bisect_left(self.orders, order)
        del self.orders[at], self.items[at]

    def window(self, start: Order | None, forward: bool, limit: int) -> list[Item]:
        """The `limit` items after `start` in the query's direction, and one more (so that moto sees
        that a next page exists): what DynamoDB reads for a page."""
        if forward:
            first = 0 if start is None else bisect.bisect_right(self.orders, start)
            return self.items[first : first + limit + 1]
        end = len(self.items) if start is None else bisect.bisect_left(self.orders, start)
        return self.items[max(0, end - limit - 1) : end]


def _sortable(value: DynamoType) -> Any:
    """What moto's DynamoType compares by, as a value that compares in C: a bisect in a partition of
    thousands compares a few dozen times."""
    return value.cast_value


def _order_of(table: Table, index_name: str) -> list[str]:
    """The attributes that moto's query sorts an index's items by."""
    index = table.get_index(index_name)
    hash_keys = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
    range_keys: list[str | None] = [key["AttributeName"] for key in index.schema if key["KeyType"] == "RANGE"]
    return table._generate_attr_to_sort_by([*hash_keys, table.hash_key_attr], [*range_keys, table.range_key_attr])


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
        partition = partitions.partition(index, tuple(conditions[name] for name in partitions.keys[index]))
        candidates = _read(partition, partitions.order[index], asked)
        self.__dict__["all_items"] = lambda: candidates  # for this query only
        try:
            return original(self, *args, **kwargs)
        finally:
            del self.__dict__["all_items"]

    return query


def _read(partition: _Partition, order: list[str], asked: dict[str, Any]) -> list[Item]:
    """A page's items and the next one, when the page is a run of the index's order; otherwise (a
    condition on the sort key, a filter) the whole partition, and moto picks."""
    limit, start = asked.get("limit"), asked.get("exclusive_start_key")
    filters = not isinstance(asked.get("filter_expression"), OpDefault | None)  # OpDefault: no FilterExpression
    picks = asked.get("range_comparison") or asked.get("range_key_conditions") or filters
    if picks or asked.get("filter_kwargs") or not limit:
        return list(partition.items)
    if start is not None and not all(name in start for name in order):
        return list(partition.items)
    after = tuple(_sortable(DynamoType(start[name])) for name in order) if start is not None else None
    return partition.window(after, asked.get("scan_index_forward") is not False, int(limit))


PATCH = Patch(
    "moto's Table.query on an index, which walks every item of the table",
    [
        (Table, "put_item", Wrap(_noting_puts)),
        (Table, "delete_item", Wrap(_noting_deletes)),
        (DynamoDBBackend, "update_item", Wrap(_noting_updates)),
        (Table, "query", Wrap(_reading_one_partition)),
    ],
)
