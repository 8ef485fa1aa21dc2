"""The changes of jobs' states, read from the jobs table's stream.

The stream holds every write of the table, once, in the order of the writes to each item: a job's
creation (INSERT) and each write that moved its state (MODIFY, its old image in another state) are
its changes, whoever wrote them and whatever became of the writer afterwards. The other writes of
a job (its heartbeat, its progress, its run's end), the other items (queues, locks, fires) and the
deletions are none.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from jobsys.events import Change
from jobsys.models import JobState
from jobsys.store.items import ITEM_SK, _from_item

_DESERIALIZER = TypeDeserializer()


def _image(image: dict[str, Any]) -> dict[str, Any]:
    return {name: _DESERIALIZER.deserialize(value) for name, value in image.items()}


def state_changes(records: Iterable[dict[str, Any]]) -> list[tuple[str, Change]]:
    """(sequence number, (the job after the change, its state before or None)) for each record of a
    stream batch that changed a job's state, in the batch's order."""
    found = []
    for record in records:
        data = record.get("dynamodb") or {}
        if record.get("eventName") not in ("INSERT", "MODIFY") or data.get("Keys", {}).get("sk") != {"S": ITEM_SK}:
            continue
        new = data["NewImage"]
        old_state = (data.get("OldImage") or {}).get("state", {}).get("S")
        if old_state == new["state"]["S"]:
            continue
        job = _from_item(_image(new))
        found.append((data["SequenceNumber"], (job, JobState(old_state) if old_state else None)))
    return found
