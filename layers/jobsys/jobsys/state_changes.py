"""The changes of jobs' states, read from the jobs table's stream.

The stream holds every write of the table, once, in the order of the writes to each item: a job's
creation (INSERT) and each write that moved its state (MODIFY, its old image in another state) are
its changes, whoever wrote them and whatever became of the writer afterwards. The other writes of
a job (its heartbeat, its progress, its run's end), the other items (queues, locks, fires) and the
deletions are none. A job's creation and deletion also write and delete its search items.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jobsys.events import Change, JobEvents, PageUrl
from jobsys.models import JobState
from jobsys.settings import Settings
from jobsys.store.items import ITEM_SK, _deserialized, _from_item
from jobsys.store.search_index import SearchIndex
from jobsys.store.usage import UsageDays


def created_and_deleted(records: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The job items that a stream batch created and those it deleted, as the resource reads them."""
    created, deleted = [], []
    for record in records:
        data = record.get("dynamodb") or {}
        if data.get("Keys", {}).get("sk") != {"S": ITEM_SK}:
            continue
        if record.get("eventName") == "INSERT":
            created.append(_deserialized(data["NewImage"]))
        elif record.get("eventName") == "REMOVE" and "OldImage" in data:
            deleted.append(_deserialized(data["OldImage"]))
    return created, deleted


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
        job = _from_item(_deserialized(new))
        found.append((data["SequenceNumber"], (job, JobState(old_state) if old_state else None)))
    return found


class ChangesFollowed:
    """What follows a stream batch's changes: the search items of the jobs created and deleted,
    each change's event, and each closed run's usage added to its day. Returns the stream records
    to deliver again (ReportBatchItemFailures' shape)."""

    def __init__(self, events: JobEvents, usage: UsageDays, search: SearchIndex):
        self.events = events
        self.usage = usage
        self.search = search

    def follow(self, records: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
        records = list(records)
        # First, as writing them again is harmless: a failure fails the batch, which comes again whole.
        self.search.follow(*created_and_deleted(records))
        changes = state_changes(records)
        unsent = self.events.put([change for _, change in changes])
        first = next((i for i, (_, change) in enumerate(changes) if unsent and change is unsent[0]), len(changes))
        # The runs closed before the first change not put: those after it come again. A usage write
        # that fails fails the batch, which comes again whole (its events put again, and a day's
        # total may count a run twice: at least once, as the stream delivers).
        self.usage.add_runs([job for _, (job, _) in changes[:first] if job.usage is not None])
        if not unsent:
            return {"batchItemFailures": []}
        # From the first record not put on: the records before it are done, and the mapping sends
        # the rest again, in order.
        return {"batchItemFailures": [{"itemIdentifier": changes[first][0]}]}


def changes_followed_for(env: Settings, aws: Any) -> ChangesFollowed:
    """What JobEventsFunction follows the changes with, on the AWS that `aws` reaches (boto3)."""
    events = JobEvents(aws.client("events"), env.event_source, PageUrl(aws.client("ssm"), env.page_url_parameter))
    table = aws.resource("dynamodb").Table(env.jobs_table)
    return ChangesFollowed(events, UsageDays(table), SearchIndex(table))
