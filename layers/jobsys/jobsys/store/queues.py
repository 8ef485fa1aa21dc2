"""A queue's item and its line of waiting jobs (a sparse index). A limited queue's item holds its
slots (a counter with the ids of its holders, so that taking and giving back are idempotent); any
queue's item says whether, and by whom, it is paused."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

from boto3.dynamodb.conditions import Key

from jobsys.errors import JobNotFound
from jobsys.lifecycle import job_transition
from jobsys.models import Job, JobState, QueueState
from jobsys.store.items import (
    INDEX_BY_WAITING,
    ITEM_SK,
    TableAccess,
    _from_item,
    _pk,
    _queue_key,
    wait_order,
)


class QueueSlots(TableAccess):
    """The waiting lines of the queues, the slots of the limited ones, and their pauses."""

    def mark_waiting(self, job: Job, token: str, reason: str, still: bool = False) -> bool:
        """Puts a pending job in line for a slot of its queue, with the task token that starts it;
        `still` only updates the reason of a job still in line with that token."""
        return self._update_if(
            Key={"pk": _pk(job.id), "sk": ITEM_SK},
            UpdateExpression="SET waiting_queue = :queue, wait_order = :order, wait_token = :token, waiting = :why",
            ConditionExpression="#state = :pending" + (" AND wait_token = :token" if still else ""),
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":queue": job.queue,
                ":order": wait_order(job),
                ":token": token,
                ":why": reason,
                ":pending": JobState.PENDING.value,
            },
        )

    def waiting_in(self, queue: str, limit: int) -> list[tuple[Job, str]]:
        """The jobs next in line in a queue, each with its task token: highest priority, then oldest, first."""
        response = self.table.query(
            IndexName=INDEX_BY_WAITING,
            KeyConditionExpression=Key("waiting_queue").eq(queue),
            ScanIndexForward=True,
            Limit=limit,
        )
        return [(_from_item(item), item["wait_token"]) for item in response.get("Items", []) if "wait_token" in item]

    def line(self, queue: str, page_size: int) -> Iterator[tuple[Job, str]]:
        """Every job in a queue's line, in its order, read a page at a time as the caller goes on."""
        query: dict[str, Any] = {
            "IndexName": INDEX_BY_WAITING,
            "KeyConditionExpression": Key("waiting_queue").eq(queue),
            "Limit": page_size,
        }
        while True:
            response = self.table.query(**query)
            yield from ((_from_item(item), item["wait_token"]) for item in response["Items"] if "wait_token" in item)
            if "LastEvaluatedKey" not in response:
                return
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def move_execution(self, job: Job, execution_arn: str) -> bool:
        """Points a pending job at the execution it continues in; False once it is not pending."""
        job_transition([JobState.PENDING], JobState.PENDING)
        return self._update_if(
            Key={"pk": _pk(job.id), "sk": ITEM_SK},
            UpdateExpression="SET execution_arn = :new",
            ConditionExpression="#state = :pending",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":new": execution_arn, ":pending": JobState.PENDING.value},
        )

    def claim(self, job: Job, token: str) -> bool:
        """Takes a waiting job out of the line; only one waker wins, and never for a job closed meanwhile."""
        return self._update_if(
            Key={"pk": _pk(job.id), "sk": ITEM_SK},
            UpdateExpression="REMOVE waiting_queue, wait_order, wait_token, waiting",
            ConditionExpression="#state = :pending AND wait_token = :token",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":pending": JobState.PENDING.value, ":token": token},
        )

    def is_claimed(self, job_id: str) -> bool:
        """Out of the line and still open: a waker claimed it, and it runs in the slot it holds."""
        item = self._place_in_line(job_id)
        return item is not None and JobState(item["state"]).is_open and "wait_token" not in item

    def wait_token(self, job_id: str) -> str | None:
        return (self._place_in_line(job_id) or {}).get("wait_token")

    def _place_in_line(self, job_id: str) -> dict[str, Any] | None:
        """A job's state and, while it waits in line, its task token."""
        item: dict[str, Any] | None = self.table.get_item(
            Key={"pk": _pk(job_id), "sk": ITEM_SK},
            ConsistentRead=True,
            ProjectionExpression="#state, wait_token",
            ExpressionAttributeNames={"#state": "state"},
        ).get("Item")
        return item

    def take_slot(self, queue: str, job_id: str, limit: int) -> Literal["new", "held", False]:
        """ "new" for a slot taken now, "held" for one the job holds already, False when the queue is full."""
        if self._update_if(
            Key=_queue_key(queue),
            UpdateExpression="ADD running :one, holders :job",
            ConditionExpression="(attribute_not_exists(running) OR running < :limit) AND NOT contains(holders, :id)",
            ExpressionAttributeValues={":one": 1, ":job": {job_id}, ":id": job_id, ":limit": limit},
        ):
            return "new"
        return "held" if job_id in self.queue_counter(queue)[1] else False

    def release_slot(self, queue: str, job_id: str) -> bool:
        """False when the job holds no slot: given back already, or never taken."""
        return self._update_if(
            Key=_queue_key(queue),
            UpdateExpression="ADD running :minus_one DELETE holders :job",
            ConditionExpression="contains(holders, :id)",
            ExpressionAttributeValues={":minus_one": -1, ":job": {job_id}, ":id": job_id},
        )

    def queue_counter(self, queue: str) -> tuple[int, set[str]]:
        item = self.queue_item(queue)
        return item.running, set(item.holders)

    def queue_item(self, queue: str) -> QueueState:
        return _queue_state(self.table.get_item(Key=_queue_key(queue), ConsistentRead=True).get("Item") or {})

    def job_and_queue(self, job_id: str, queue: str) -> tuple[Job, QueueState]:
        """A job and its queue in one read: a Lambda runner needs both before it starts the command
        (the state machine leaves the paused queue's check to it, and saves a state transition)."""
        items = self._get_items([{"pk": _pk(job_id), "sk": ITEM_SK}, _queue_key(queue)])
        job = next((item for item in items if item["sk"] == ITEM_SK), None)
        if job is None:
            raise JobNotFound(f"no job '{job_id}'")
        return _from_item(job), _queue_state(next((item for item in items if item["sk"] != ITEM_SK), {}))

    def jobs_and_paused_queues(self, job_ids: list[str], queues: set[str]) -> tuple[dict[str, Job], set[str]]:
        """Jobs, and which of `queues` are paused, in one read: whoever starts dependents learns
        whether each one's runner must read its queue before it starts (RunStart.check_queue)."""
        keys = [{"pk": _pk(job_id), "sk": ITEM_SK} for job_id in dict.fromkeys(job_ids)]
        items = self._get_items(keys + [_queue_key(queue) for queue in sorted(queues)])
        jobs = {job.id: job for job in (_from_item(item) for item in items if item["sk"] == ITEM_SK)}
        paused = {item["pk"].removeprefix("QUEUE#") for item in items if item["sk"] != ITEM_SK and "paused_at" in item}
        return jobs, paused

    def pause(self, queue: str, by: str, at: str, with_writes: Sequence[dict[str, Any]] = ()) -> bool:
        """False when it is paused already: the first pause, and who made it, stand."""
        return self._update_if(
            with_writes,
            Key=_queue_key(queue),
            UpdateExpression="SET paused_by = :by, paused_at = :at",
            ConditionExpression="attribute_not_exists(paused_at)",
            ExpressionAttributeValues={":by": by, ":at": at},
        )

    def resume(self, queue: str, with_writes: Sequence[dict[str, Any]] = ()) -> bool:
        """False when it was not paused."""
        return self._update_if(
            with_writes,
            Key=_queue_key(queue),
            UpdateExpression="REMOVE paused_by, paused_at",
            ConditionExpression="attribute_exists(paused_at)",
        )

    def set_counter(self, queue: str, expected: tuple[int, set[str]], running: int, holders: set[str]) -> bool:
        """Repairs a counter, if nobody changed it since it was read as `expected`."""
        old_running, old_holders = expected
        names = {"#running": "running", "#holders": "holders"}
        values: dict[str, Any] = {":running": running}
        condition = "#running = :old_running" if old_running or old_holders else "attribute_not_exists(#running)"
        if old_running or old_holders:
            values[":old_running"] = old_running
        if old_holders:
            condition += " AND #holders = :old_holders"
            values[":old_holders"] = old_holders
        update = "SET #running = :running"
        if holders:
            update += ", #holders = :holders"
            values[":holders"] = holders
        else:
            update += " REMOVE #holders"
        return self._update_if(
            Key=_queue_key(queue),
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )


def _queue_state(item: dict[str, Any]) -> QueueState:
    return QueueState(
        running=int(item.get("running", 0)),
        holders=frozenset(item.get("holders") or ()),
        paused_by=item.get("paused_by"),
        paused_at=item.get("paused_at"),
    )
