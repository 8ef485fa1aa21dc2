"""A table's stream holds what DynamoDB Streams holds: each committed write once, for 24 hours.

Replaces: moto's `StreamShard.add` and `StreamShard.get`.
- moto calls each event source mapping of the table inside the write itself, synchronously, with
  every record the shard ever held, and then forgets them all (and restarts its sequence numbers).
  On AWS, Lambda's pollers read the stream apart from the write, in batches, from where they
  stopped (`jobs_local.lambda_.stream_pollers` does that here).
- A `TransactWriteItems` that fails part-way leaves in moto's stream the writes it made before the
  failure, though the table no longer holds them: on AWS a transaction that fails writes no record.
- moto keeps every record for ever; DynamoDB Streams drops those older than 24 hours.

Here a write appends its record (within a transaction, once the transaction succeeds) and wakes the
pollers; records older than 24 hours are dropped, and a read that starts before them finds the
oldest one kept, as a TRIM_HORIZON iterator does.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamRecord, StreamShard

from jobs_local.dynamodb import atomic
from jobs_local.patching import Patch, Wrap

RETENTION = 24 * 3600.0  # seconds: how long DynamoDB Streams keeps a record

# Woken at each record: the pollers wait on it between reads, rather than reading an idle stream.
written = threading.Condition()
# The writes of a transaction under way, kept out of the stream until it succeeds: every DynamoDB
# request runs alone (jobs_local.dynamodb.atomic), so one list is enough.
_in_transaction: list[tuple[StreamShard, Any, Any]] | None = None


def _append(shard: StreamShard, old: Any, new: Any) -> None:
    kind = shard.table.stream_specification["StreamViewType"]  # type: ignore[index]
    event = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    sequence = shard.starting_sequence_number + len(shard.items)
    record = StreamRecord(shard.table, kind, event, old, new, sequence)
    record.written_at = time.monotonic()  # type: ignore[attr-defined]
    shard.items.append(record)
    _drop_expired(shard)
    with written:
        written.notify_all()


def _drop_expired(shard: StreamShard) -> None:
    """Records past the retention leave from the front; the sequence numbers stay as they were."""
    horizon = time.monotonic() - RETENTION
    expired = 0
    while expired < len(shard.items) and getattr(shard.items[expired], "written_at", horizon) < horizon:
        expired += 1
    if expired:
        del shard.items[:expired]
        shard.starting_sequence_number += expired


def add(self: StreamShard, old: Any, new: Any) -> None:
    if _in_transaction is not None:
        _in_transaction.append((self, old, new))
    else:
        _append(self, old, new)


def get(self: StreamShard, start: int, quantity: int) -> list[dict[str, Any]]:
    with atomic._lock:  # not while a write drops expired records
        first = max(0, start - self.starting_sequence_number)
        return [record.to_json() for record in self.items[first : first + quantity]]


def _records_only_what_commits(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        global _in_transaction
        _in_transaction = []
        try:
            original(self, transact_items)
            pending = _in_transaction
        finally:
            _in_transaction = None
        for shard, old, new in pending:
            _append(shard, old, new)

    return transact_write_items


def forget_what_is_there(backend: DynamoDBBackend, table_name: str) -> None:
    """The stream of a table filled by a restore starts after it: the items a restart loads were
    written, and their changes told, before it (`jobs_local.persistence`)."""
    shard = backend.get_table(table_name).stream_shard
    if shard is not None:
        with atomic._lock:
            shard.starting_sequence_number += len(shard.items)
            shard.items.clear()


PATCH = Patch(
    "moto's StreamShard.add and .get, which deliver to event source mappings inside the write, keep "
    "a failed transaction's writes and every record for ever",
    [
        (StreamShard, "add", add),
        (StreamShard, "get", get),
        (DynamoDBBackend, "transact_write_items", Wrap(_records_only_what_commits)),
    ],
)
