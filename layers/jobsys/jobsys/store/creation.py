"""New jobs in the table: a start's tree, and a job's next attempt; each written only if new."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError

from jobsys.errors import InvalidRequest
from jobsys.lifecycle import ABSENT, job_transition
from jobsys.models import Job, parse_iso
from jobsys.store.item_size import has_room_to_live
from jobsys.store.items import ITEM_SK, ITEM_TOO_LARGE, TableAccess, _item_too_large, _pk, _queue_key, _to_item
from jobsys.store.unique import UniqueLock


class QueuePaused(Exception):
    """The queue that a start's root would run in is paused: nothing was written."""


class LinkRefused(Exception):
    """A write that goes with a start (`with_writes`) found its item changed: nothing was written."""


class JobCreation(TableAccess):
    """Writes new jobs, all of a start at once."""

    def create(
        self,
        jobs: list[Job],
        ttl: timedelta | None = None,
        lock: UniqueLock | None = None,
        open_queue: str | None = None,
        with_writes: Sequence[dict[str, Any]] = (),
    ) -> bool:
        """Writes a whole tree of new jobs at once: all of them or, on any failure, none. With `lock`,
        the root takes its definition's lock in the same transaction: False, and nothing written,
        when another start took it first. With `open_queue`, the same transaction checks that the
        queue is not paused (QueuePaused, and nothing written, if it is): the root's runner then
        need not read its queue before it starts. `with_writes`: more writes of the transaction (a
        replay's link to its original, the audit record of the start); one whose condition fails
        is a LinkRefused, and nothing is written."""
        items = []
        for job in jobs:
            job_transition([ABSENT], job.state)
            item = _to_item(job)
            if not has_room_to_live(item):  # the caller's params: nothing is written
                raise InvalidRequest(ITEM_TOO_LARGE)
            if ttl is not None and job.closed_at:  # a job recorded closed, such as a skipped run
                item["expires_at"] = int((parse_iso(job.closed_at) + ttl).timestamp())
            items.append(item)
        checks = [lock.put(self.table.name, jobs[0].id)] if lock else []
        if open_queue is not None:
            checks.append(
                {
                    "ConditionCheck": {
                        "TableName": self.table.name,
                        "Key": _queue_key(open_queue),
                        "ConditionExpression": "attribute_not_exists(paused_at)",
                    }
                }
            )
        try:
            if len(items) == 1 and not checks and not with_writes:  # a transaction costs twice a put's units
                self.table.put_item(Item=items[0], ConditionExpression="attribute_not_exists(pk)")
                return True
            puts = [
                {"Put": {"TableName": self.table.name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
                for item in items
            ]
            self.client.transact_write_items(TransactItems=puts + checks + list(with_writes))
        except ClientError as exc:
            if _item_too_large(exc):  # the caller's params, not a fault of ours: nothing was written
                raise InvalidRequest(ITEM_TOO_LARGE) from None
            reasons = exc.response.get("CancellationReasons") or []
            failed = {i for i, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"}
            if open_queue is not None and len(items) + len(checks) - 1 in failed:
                raise QueuePaused(open_queue) from None
            if lock is not None and len(items) in failed:
                return False
            if failed & set(range(len(items) + len(checks), len(reasons))):
                raise LinkRefused("a write that goes with the start found its item changed") from None
            raise
        return True

    def replay_link(self, original: Job, replay_id: str, bulk_id: str | None = None) -> dict[str, Any]:
        """The write that lists a replay on its original (`replays`), for `create`'s `with_writes`:
        it holds while the original is closed and kept. A bulk action's replay also marks the
        original with the action (`bulk_actions`), and holds only if it is not marked yet: one
        action replays a job once, however often a page of it is done again."""
        update: dict[str, Any] = {
            "TableName": self.table.name,
            "Key": {"pk": _pk(original.id), "sk": ITEM_SK},
            "UpdateExpression": "SET replays = list_append(if_not_exists(replays, :none), :replay)",
            "ConditionExpression": "attribute_exists(closed_state)",
            "ExpressionAttributeValues": {":none": [], ":replay": [replay_id]},
        }
        if bulk_id is not None:
            update["UpdateExpression"] += " ADD bulk_actions :bulk"
            update["ConditionExpression"] += " AND NOT contains(bulk_actions, :bulk_id)"
            update["ExpressionAttributeValues"] |= {":bulk": {bulk_id}, ":bulk_id": bulk_id}
        return {"Update": update}

    def create_retry(self, failed: Job, retry: Job) -> None:
        """Records the next attempt of a job that ended, and links the two: both or, on a conflict, neither."""
        job_transition([ABSENT], retry.state)
        self.client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.table.name,
                        "Item": _to_item(retry),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Update": {
                        "TableName": self.table.name,
                        "Key": {"pk": _pk(failed.id), "sk": ITEM_SK},
                        "UpdateExpression": "SET retried_by = :retry",
                        "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(retried_by)"
                        " AND #state = :state",
                        "ExpressionAttributeNames": {"#state": "state"},
                        "ExpressionAttributeValues": {":retry": retry.id, ":state": failed.state.value},
                    }
                },
            ]
        )
