"""JobStore: the jobs table. Every state change is a conditional write; every read path is a Query.

Table layout (one table):
- a job:           pk = "JOB#<id>",        sk = "JOB"
- a queue's slots: pk = "QUEUE#<name>",    sk = "QUEUE"     running (a count) and holders (the job ids)
- a schedule:      pk = "SCHEDULE#<key>",  sk = "SCHEDULE"  its last fire, so that a repeat is refused
- index by_created:          list_pk ("JOB")               / id         - the newest jobs
- index by_state:            state                         / id         - filter by state, find running jobs
- index by_command:          command                       / id         - filter by command
- index by_command_state:    command_state                 / id         - both filters at once
- index by_queue:            queue                         / id         - filter by queue
- index by_queue_state:      queue_state                   / id         - queue and state at once
- index by_definition_state: definition_state (sparse)     / id         - is a run of a definition open?
- index by_definition:       definition (sparse)           / id         - a definition's last runs (statistics)
- index by_closed:           closed_state (sparse)         / closed_at  - clean-up candidates, oldest first
- index by_waiting:          waiting_queue (sparse)        / wait_order - the next job to start in a full queue
Ids are ULIDs, so sorting by id is sorting by creation time.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from jobsys.errors import InvalidRequest, JobNotFound, JobStateConflict, Unprocessable
from jobsys.models import CLOSED_STATES, OPEN_STATES, Job, JobOutputLocation, JobState, iso, parse_iso
from jobsys.spec.limits import MAX_PAGE
from jobsys.stats import Run

# How a job that waits for a slot sorts among those of its queue: higher priority first, then older.
PRIORITY_OFFSET = 10**6

ITEM_SK = "JOB"
LIST_PK = "JOB"
INDEX_BY_CREATED = "by_created"
INDEX_BY_STATE = "by_state"
INDEX_BY_COMMAND = "by_command"
INDEX_BY_COMMAND_STATE = "by_command_state"
INDEX_BY_CLOSED = "by_closed"
INDEX_BY_QUEUE = "by_queue"
INDEX_BY_QUEUE_STATE = "by_queue_state"
INDEX_BY_DEFINITION_STATE = "by_definition_state"
INDEX_BY_DEFINITION = "by_definition"
INDEX_BY_WAITING = "by_waiting"
QUEUE_SK = "QUEUE"
CLEAN_UP_PK = "CLEAN-UP"  # the clean-up's own notes, in no index
SCHEDULE_SK = "SCHEDULE"
_WAIT_ATTRIBUTES = ("waiting_queue", "wait_order", "wait_token")
_INTERNAL_ATTRIBUTES = (
    "pk", "sk", "list_pk", "command_state", "queue_state", "definition_state", "closed_state", "expires_at",
    *_WAIT_ATTRIBUTES,
)  # fmt: skip


def _pk(job_id: str) -> str:
    return f"JOB#{job_id}"


def _queue_key(queue: str) -> dict[str, str]:
    return {"pk": f"QUEUE#{queue}", "sk": QUEUE_SK}


def _state_keys(job: Job, state: JobState) -> dict[str, str]:
    """The composite index keys of a job in a state; its command, queue and definition never change."""
    keys = {"command_state": f"{job.command}#{state.value}", "queue_state": f"{job.queue}#{state.value}"}
    if job.definition:
        keys["definition_state"] = f"{job.definition}#{state.value}"
    return keys


def wait_order(job: Job) -> str:
    return f"{PRIORITY_OFFSET - job.priority:07d}#{job.id}"


def _to_item(job: Job) -> dict[str, Any]:
    item = job.model_dump(mode="json", exclude_none=True)
    for number in ("runtime", "peak_memory_mb", "cpu_seconds"):  # DynamoDB takes Decimals, not floats
        if getattr(job, number) is not None:
            item[number] = _number(getattr(job, number))
    item["retries"] = {k: _number(v) for k, v in job.retries.model_dump().items()}
    item.update(pk=_pk(job.id), sk=ITEM_SK, list_pk=LIST_PK, **_state_keys(job, job.state))
    if job.state in CLOSED_STATES:
        item["closed_state"] = job.state.value
    return item


def _from_item(item: dict[str, Any]) -> Job:
    data = {k: v for k, v in item.items() if k not in _INTERNAL_ATTRIBUTES}
    for number in ("exit_code", "max_runtime", "priority", "attempt"):
        if number in data:
            data[number] = int(data[number])
    for number in ("runtime", "peak_memory_mb", "cpu_seconds"):
        if number in data:
            data[number] = float(data[number])
    if "progress" in data:
        data["progress"] = {k: int(v) for k, v in data["progress"].items()}
    if "retries" in data:
        data["retries"] = {k: float(v) if k != "max_attempts" else int(v) for k, v in data["retries"].items()}
    return Job.model_validate(data)


def _run_of(item: dict[str, Any]) -> Run:
    numbers = {key: float(item[key]) for key in ("runtime", "peak_memory_mb") if key in item}
    return Run.model_validate({**item, **numbers})


def _number(value: float) -> Decimal:
    return Decimal(str(value))


def encode_cursor(last_key: dict[str, Any] | None, index: str) -> str | None:
    if not last_key:
        return None
    payload = json.dumps({"i": index, "k": last_key}, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


# The key attributes of each listing's index: a page's LastEvaluatedKey holds these and the table's.
LISTING_KEYS = {
    INDEX_BY_CREATED: ("list_pk", "id"),
    INDEX_BY_STATE: ("state", "id"),
    INDEX_BY_COMMAND: ("command", "id"),
    INDEX_BY_COMMAND_STATE: ("command_state", "id"),
    INDEX_BY_QUEUE: ("queue", "id"),
    INDEX_BY_QUEUE_STATE: ("queue_state", "id"),
}


def decode_cursor(cursor: str, index: str, partition: str | None = None) -> dict[str, Any]:
    """The ExclusiveStartKey that a cursor holds, if it is one that this listing could have given:
    exactly the table's and the index's key attributes, in the listing's partition (`partition`)
    and on a job item. DynamoDB would refuse any other with a ValidationException."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key = payload["k"]
        hash_key, range_key = LISTING_KEYS[payload["i"]]
        valid = (
            payload["i"] == index
            and isinstance(key, dict)
            and set(key) == {"pk", "sk", hash_key, range_key}
            and all(isinstance(v, str) and v for v in key.values())
            and key["sk"] == ITEM_SK
            and key["pk"] == _pk(key[range_key])
            and (partition is None or key[hash_key] == partition)
        )
    except (ValueError, KeyError, TypeError, binascii.Error):
        valid = False
    if not valid:
        raise Unprocessable("cursor is not valid for this listing; start again without it")
    return key


ITEM_TOO_LARGE = (
    "request body: a job's params and options are too large to record: DynamoDB keeps an item of at most 400 KB"
)


def _item_too_large(error: ClientError) -> bool:
    """DynamoDB refuses an item over 400 KB with a ValidationException, in a transaction as well."""
    message = str(error.response.get("Error", {}).get("Message", ""))
    return "Item size" in message and "maximum allowed size" in message


class JobStore:
    def __init__(self, table: Any):
        self.table = table  # a boto3 DynamoDB Table resource
        self.client = table.meta.client

    # --- writes -------------------------------------------------------------------------------

    def create(self, jobs: list[Job], ttl: timedelta | None = None) -> None:
        """Writes a whole tree of new jobs at once: all of them or, on any failure, none."""
        items = []
        for job in jobs:
            item = _to_item(job)
            if ttl is not None and job.closed_at:  # a job recorded closed, such as a skipped run
                item["expires_at"] = int((parse_iso(job.closed_at) + ttl).timestamp())
            items.append(item)
        try:
            if len(items) == 1:  # a transaction costs twice the write units of a conditional put
                self.table.put_item(Item=items[0], ConditionExpression="attribute_not_exists(pk)")
                return
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table.name,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    }
                    for item in items
                ]
            )
        except ClientError as exc:
            if _item_too_large(exc):  # the caller's params, not a fault of ours: nothing was written
                raise InvalidRequest(ITEM_TOO_LARGE) from None
            raise

    def create_retry(self, failed: Job, retry: Job) -> None:
        """Records the next attempt of a job that ended, and links the two: both or, on a conflict, neither."""
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

    def mark_running(
        self, job: Job, started_at: datetime, output: JobOutputLocation, expected_end_at: datetime | None = None
    ) -> Job:
        """`expected_end_at`: what its history says, until its own PROGRESS lines say better."""
        updates: dict[str, Any] = {"started_at": iso(started_at), "output": output.model_dump()}
        if expected_end_at is not None:
            updates |= {"expected_end_at": iso(expected_end_at), "expected_end_from": "history"}
        return self._transition(job, from_states=[JobState.PENDING], to_state=JobState.RUNNING, updates=updates)

    def set_progress(self, job_id: str, done: int, total: int, expected_end_at: datetime | None) -> bool:
        """The last PROGRESS line of a running job, and the end it points to; False once it is not running."""
        sets = "progress = :progress"
        values: dict[str, Any] = {":progress": {"done": done, "total": total}, ":running": JobState.RUNNING.value}
        if expected_end_at is not None:
            sets += ", expected_end_at = :end, expected_end_from = :from"
            values |= {":end": iso(expected_end_at), ":from": "progress"}
        return self._update_if(
            Key={"pk": _pk(job_id), "sk": ITEM_SK},
            UpdateExpression=f"SET {sets}",
            ConditionExpression="#state = :running",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=values,
        )

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

    def claim(self, job: Job, token: str) -> bool:
        """Takes a waiting job out of the line; only one waker wins, and never for a job closed meanwhile."""
        return self._update_if(
            Key={"pk": _pk(job.id), "sk": ITEM_SK},
            UpdateExpression="REMOVE waiting_queue, wait_order, wait_token, waiting",
            ConditionExpression="#state = :pending AND wait_token = :token",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":pending": JobState.PENDING.value, ":token": token},
        )

    def wait_token(self, job_id: str) -> str | None:
        item = self.table.get_item(
            Key={"pk": _pk(job_id), "sk": ITEM_SK}, ConsistentRead=True, ProjectionExpression="wait_token"
        ).get("Item")
        return (item or {}).get("wait_token")

    # --- queue slots: a counter with the ids of its holders, so that taking and giving back are idempotent

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
        item = self.table.get_item(Key=_queue_key(queue), ConsistentRead=True).get("Item") or {}
        return int(item.get("running", 0)), set(item.get("holders") or ())

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

    # --- schedules ---------------------------------------------------------------------------

    def record_fire(self, key: str, scheduled_at: str, job_id: str, outcome: str, again: bool = False) -> bool:
        """Records a schedule's fire; False for one at or before the last (Scheduler delivers at least once).

        `again` updates the fire that this caller recorded before.
        """
        condition = (
            "last_scheduled_at = :at" if again else "attribute_not_exists(last_scheduled_at) OR last_scheduled_at < :at"
        )
        return self._update_if(
            Key={"pk": f"SCHEDULE#{key}", "sk": SCHEDULE_SK},
            UpdateExpression="SET last_scheduled_at = :at, last_job_id = :job, last_outcome = :outcome",
            ConditionExpression=condition,
            ExpressionAttributeValues={":at": scheduled_at, ":job": job_id, ":outcome": outcome},
        )

    def forget_fire(self, key: str, scheduled_at: str) -> None:
        self._update_if(
            Key={"pk": f"SCHEDULE#{key}", "sk": SCHEDULE_SK},
            UpdateExpression="REMOVE last_scheduled_at, last_job_id, last_outcome",
            ConditionExpression="last_scheduled_at = :at",
            ExpressionAttributeValues={":at": scheduled_at},
        )

    def mark_synced(self, key: str, synced_at: str) -> None:
        """When a schedule was (re)created: a rate runs one period after this until it first fires."""
        self.table.update_item(
            Key={"pk": f"SCHEDULE#{key}", "sk": SCHEDULE_SK},
            UpdateExpression="SET synced_at = :at",
            ExpressionAttributeValues={":at": synced_at},
        )

    def last_fires(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), 100):
            request_keys = [{"pk": f"SCHEDULE#{key}", "sk": SCHEDULE_SK} for key in keys[start : start + 100]]
            request = {self.table.name: {"Keys": request_keys}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self.table.name, []):
                    found[item["pk"].removeprefix("SCHEDULE#")] = item
                request = response.get("UnprocessedKeys") or {}
        return found

    def close(
        self,
        job: Job,
        state: JobState,
        closed_at: datetime,
        *,
        exit_code: int | None = None,
        runtime: float | None = None,
        reason: str | None = None,
        peak_memory_mb: float | None = None,
        cpu_seconds: float | None = None,
        canceled_by: str | None = None,
        output_error: str | None = None,
        from_states: Iterable[JobState] = OPEN_STATES,
        ttl: timedelta | None = None,
    ) -> Job:
        if state not in CLOSED_STATES:
            raise ValueError(f"{state} is not a closed state")
        updates: dict[str, Any] = {"closed_at": iso(closed_at), "closed_state": state.value}
        if output_error:
            updates["output_error"] = output_error
        if canceled_by:
            updates["canceled_by"] = canceled_by
        if exit_code is not None:
            updates["exit_code"] = exit_code
        if runtime is not None:
            updates["runtime"] = Decimal(f"{runtime:.3f}")
        if peak_memory_mb is not None:
            updates["peak_memory_mb"] = Decimal(f"{peak_memory_mb:.1f}")
        if cpu_seconds is not None:
            updates["cpu_seconds"] = Decimal(f"{cpu_seconds:.3f}")
        if reason:
            updates["reason"] = reason
        if ttl is not None:
            # A backstop only: the clean-up deletes jobs and their output long before this.
            updates["expires_at"] = int((closed_at + ttl).timestamp())
        return self._transition(job, from_states=list(from_states), to_state=state, updates=updates)

    def _transition(self, job: Job, from_states: list[JobState], to_state: JobState, updates: dict[str, Any]) -> Job:
        """Moves a job to `to_state` only if it is still in one of `from_states`, as one conditional write.

        `job` may be stale: only its id and command, which never change, are used.
        """
        names = {"#state": "state"}
        values: dict[str, Any] = {":to": to_state.value}
        sets = ["#state = :to"]
        for i, (name, value) in enumerate({**_state_keys(job, to_state), **updates}.items()):
            names[f"#u{i}"] = name
            values[f":u{i}"] = value
            sets.append(f"#u{i} = :u{i}")
        allowed = []
        for i, state in enumerate(from_states):
            values[f":from{i}"] = state.value
            allowed.append(f":from{i}")
        try:
            response = self.table.update_item(
                Key={"pk": _pk(job.id), "sk": ITEM_SK},
                # A job that leaves `pending` leaves its queue's line too.
                UpdateExpression="SET " + ", ".join(sets) + " REMOVE waiting, " + ", ".join(_WAIT_ATTRIBUTES),
                ConditionExpression=f"attribute_exists(pk) AND #state IN ({', '.join(allowed)})",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            now = self.get(job.id)
            raise JobStateConflict(f"job {job.id} is {now.state}, not {' or '.join(from_states)}") from None
        return _from_item(response["Attributes"])

    def delete(self, job: Job) -> bool:
        """Deletes a closed job; False when it changed state or vanished meanwhile."""
        try:
            self.table.delete_item(
                Key={"pk": _pk(job.id), "sk": ITEM_SK},
                ConditionExpression=Attr("state").eq(job.state.value),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _update_if(self, **update: Any) -> bool:
        """One conditional UpdateItem: False, and nothing written, when its condition does not hold."""
        try:
            self.table.update_item(**update)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # --- reads --------------------------------------------------------------------------------

    def get(self, job_id: str) -> Job:
        item = self.table.get_item(Key={"pk": _pk(job_id), "sk": ITEM_SK}, ConsistentRead=True).get("Item")
        if item is None:
            raise JobNotFound(f"no job '{job_id}'")
        return _from_item(item)

    def get_many(self, job_ids: list[str]) -> dict[str, Job]:
        found: dict[str, Job] = {}
        for start in range(0, len(job_ids), 100):
            keys = [{"pk": _pk(i), "sk": ITEM_SK} for i in job_ids[start : start + 100]]
            request = {self.table.name: {"Keys": keys, "ConsistentRead": True}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self.table.name, []):
                    job = _from_item(item)
                    found[job.id] = job
                request = response.get("UnprocessedKeys") or {}
        return found

    def list(
        self,
        state: JobState | None = None,
        command: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        queue: str | None = None,
    ) -> tuple[list[Job], str | None]:
        """The newest jobs first, optionally of one state and/or command, or state and/or queue: one Query per page."""
        if queue and command:
            raise Unprocessable("queue, command: filter by one of them (with or without state), not both")
        if queue and state:
            index, partition = INDEX_BY_QUEUE_STATE, f"{queue}#{state.value}"
        elif queue:
            index, partition = INDEX_BY_QUEUE, queue
        elif state and command:
            index, partition = INDEX_BY_COMMAND_STATE, f"{command}#{state.value}"
        elif state:
            index, partition = INDEX_BY_STATE, state.value
        elif command:
            index, partition = INDEX_BY_COMMAND, command
        else:
            index, partition = INDEX_BY_CREATED, LIST_PK
        query: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": Key(LISTING_KEYS[index][0]).eq(partition),
            "ScanIndexForward": False,
            "Limit": max(1, min(limit, MAX_PAGE)),
        }
        if cursor:
            query["ExclusiveStartKey"] = decode_cursor(cursor, index, partition)
        response = self.table.query(**query)
        jobs = [_from_item(item) for item in response.get("Items", [])]
        return jobs, encode_cursor(response.get("LastEvaluatedKey"), index)

    def closed_before(self, state: JobState, before: datetime, limit: int) -> list[Job]:
        """Jobs that closed in `state` before `before`, oldest first."""
        response = self.table.query(
            IndexName=INDEX_BY_CLOSED,
            KeyConditionExpression=Key("closed_state").eq(state.value) & Key("closed_at").lt(iso(before)),
            ScanIndexForward=True,
            Limit=limit,
        )
        return [_from_item(item) for item in response.get("Items", [])]

    def last_attempt(self, job_id: str) -> Job:
        """The job, or the last of the attempts that followed it."""
        job = self.get(job_id)
        while job.retried_by:
            job = self.get(job.retried_by)
        return job

    def parent_state(self, job: Job) -> JobState | None:
        """The state of the last attempt of a job's parent; None for a job without one (or whose parent is gone)."""
        if not job.parent_id:
            return None
        try:
            return self.last_attempt(job.parent_id).state
        except JobNotFound:
            return None

    def recent_runtimes(self, job: Job, limit: int = 20) -> list[float]:
        """The runtimes of the last `limit` finished runs of the job's definition, or else of its
        command: one Query (and, as the definition index holds keys only, one BatchGetItem)."""
        if job.definition:
            response = self.table.query(
                IndexName=INDEX_BY_DEFINITION_STATE,
                KeyConditionExpression=Key("definition_state").eq(f"{job.definition}#{JobState.FINISHED.value}"),
                ScanIndexForward=False,
                Limit=limit,
            )
            runs = self.get_many([item["id"] for item in response.get("Items", [])]).values()
            return [run.runtime for run in runs if run.runtime is not None]
        response = self.table.query(
            IndexName=INDEX_BY_COMMAND_STATE,
            KeyConditionExpression=Key("command_state").eq(f"{job.command}#{JobState.FINISHED.value}"),
            ScanIndexForward=False,
            Limit=limit,
            ProjectionExpression="runtime",  # not the whole jobs: the runner waits for this to start
        )
        return [float(item["runtime"]) for item in response.get("Items", []) if "runtime" in item]

    def recent_runs(self, definition: str | None = None, command: str | None = None, limit: int = 50) -> list[Run]:
        """The last `limit` jobs of a definition (or of a command), newest first: Query pages until
        `limit`, so the cost grows with `limit`, never with the table."""
        if definition is not None:
            query = {"IndexName": INDEX_BY_DEFINITION, "KeyConditionExpression": Key("definition").eq(definition)}
        else:
            query = {"IndexName": INDEX_BY_COMMAND, "KeyConditionExpression": Key("command").eq(command)}
        runs: list[Run] = []
        while len(runs) < limit:
            response = self.table.query(**query, ScanIndexForward=False, Limit=limit - len(runs))
            page = [_run_of(item) for item in response.get("Items", [])]
            runs += page
            # A page ends at 1 MB; an empty page with a key to go on from means the end all the same.
            if not page or "LastEvaluatedKey" not in response:
                break
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return runs

    def open_of_definition(self, key: str) -> Job | None:
        """An open job of a definition (its first attempt or a retry), if there is one."""
        for state in (JobState.RUNNING, JobState.PENDING):
            response = self.table.query(
                IndexName=INDEX_BY_DEFINITION_STATE,
                KeyConditionExpression=Key("definition_state").eq(f"{key}#{state.value}"),
                Limit=1,
            )
            if response.get("Items"):  # the index holds keys only
                return self.get(response["Items"][0]["id"])
        return None

    def in_state(
        self, state: JobState, after: dict[str, Any] | None = None, limit: int = MAX_PAGE
    ) -> tuple[list[Job], dict[str, Any] | None]:
        """A page of the jobs in a state, oldest first, from `after` (the cursor that the page before
        it returned); the cursor is None after the last page. The clean-up goes through the open ones."""
        query: dict[str, Any] = {
            "IndexName": INDEX_BY_STATE,
            "KeyConditionExpression": Key("state").eq(state.value),
            "ScanIndexForward": True,
            "Limit": limit,
        }
        if after:
            query["ExclusiveStartKey"] = after
        response = self.table.query(**query)
        return [_from_item(item) for item in response.get("Items", [])], response.get("LastEvaluatedKey")

    def clean_up_cursor(self, name: str) -> dict[str, Any] | None:
        """Where a pass of the clean-up through many items stopped, for the next run to go on from."""
        item = self.table.get_item(Key={"pk": CLEAN_UP_PK, "sk": f"CURSOR#{name}"}, ConsistentRead=True).get("Item")
        return (item or {}).get("cursor")

    def set_clean_up_cursor(self, name: str, cursor: dict[str, Any] | None) -> None:
        key = {"pk": CLEAN_UP_PK, "sk": f"CURSOR#{name}"}
        if cursor is None:
            self.table.delete_item(Key=key)
        else:
            self.table.put_item(Item={**key, "cursor": cursor})

    def take_clean_up_lock(self, holder: str, now: datetime, hold: timedelta) -> bool:
        """One clean-up at a time, the scheduled one or an operator's: False while another holds it.
        A holder that died lets go when `hold` has passed."""
        try:
            self.table.put_item(
                Item={"pk": CLEAN_UP_PK, "sk": "LOCK", "holder": holder, "until": iso(now + hold)},
                ConditionExpression="attribute_not_exists(pk) OR #until < :now",
                ExpressionAttributeNames={"#until": "until"},
                ExpressionAttributeValues={":now": iso(now)},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def release_clean_up_lock(self, holder: str) -> None:
        try:
            self.table.delete_item(
                Key={"pk": CLEAN_UP_PK, "sk": "LOCK"},
                ConditionExpression="holder = :me",
                ExpressionAttributeValues={":me": holder},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":  # it had expired
                raise

    def mark_ended(self, job: Job, at: datetime) -> None:
        """Records, once, that the end of a closed job's run was handled: its slot given back, its
        dependents started or its next attempt planned. The clean-up ends the runs without it."""
        try:
            self.table.update_item(
                Key={"pk": _pk(job.id), "sk": ITEM_SK},
                UpdateExpression="SET ended_at = :at",
                ConditionExpression="attribute_exists(closed_at) AND attribute_not_exists(ended_at)",
                ExpressionAttributeValues={":at": iso(at)},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
