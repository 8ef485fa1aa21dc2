"""JobStore: the jobs table. Every state change is a conditional write; every read path is a Query.

Table layout (single table, so that schedules or queue counters can join later under other keys):
- item: pk = "JOB#<id>", sk = "JOB"
- index by_created:       list_pk ("JOB")        / id          - the newest jobs
- index by_state:         state                  / id          - filter by state, find running jobs
- index by_command:       command                / id          - filter by command
- index by_command_state: command_state          / id          - both filters at once
- index by_closed:        closed_state (sparse)  / closed_at   - clean-up candidates, oldest first
Ids are ULIDs, so sorting by id is sorting by creation time.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from jobsys.errors import InvalidRequest, JobNotFound, JobStateConflict
from jobsys.models import CLOSED_STATES, OPEN_STATES, Job, JobOutputLocation, JobState, iso

ITEM_SK = "JOB"
LIST_PK = "JOB"
INDEX_BY_CREATED = "by_created"
INDEX_BY_STATE = "by_state"
INDEX_BY_COMMAND = "by_command"
INDEX_BY_COMMAND_STATE = "by_command_state"
INDEX_BY_CLOSED = "by_closed"
_INTERNAL_ATTRIBUTES = ("pk", "sk", "list_pk", "command_state", "closed_state", "expires_at")
MAX_PAGE = 100


def _pk(job_id: str) -> str:
    return f"JOB#{job_id}"


def _to_item(job: Job) -> dict[str, Any]:
    item = job.model_dump(mode="json", exclude_none=True)
    if job.runtime is not None:
        item["runtime"] = Decimal(str(job.runtime))
    item.update(pk=_pk(job.id), sk=ITEM_SK, list_pk=LIST_PK, command_state=f"{job.command}#{job.state}")
    if job.state in CLOSED_STATES:
        item["closed_state"] = job.state.value
    return item


def _from_item(item: dict[str, Any]) -> Job:
    data = {k: v for k, v in item.items() if k not in _INTERNAL_ATTRIBUTES}
    for number in ("exit_code", "max_runtime", "priority", "attempt"):
        if number in data:
            data[number] = int(data[number])
    if "runtime" in data:
        data["runtime"] = float(data["runtime"])
    return Job.model_validate(data)


def encode_cursor(last_key: dict[str, Any] | None, index: str) -> str | None:
    if not last_key:
        return None
    payload = json.dumps({"i": index, "k": last_key}, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, index: str) -> dict[str, Any]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key = payload["k"]
        valid = payload["i"] == index and isinstance(key, dict) and all(isinstance(v, str) for v in key.values())
    except (ValueError, KeyError, TypeError, binascii.Error):
        valid = False
    if not valid:
        raise InvalidRequest("cursor is not valid for this listing; start again without it")
    return key


class JobStore:
    def __init__(self, table: Any):
        self.table = table  # a boto3 DynamoDB Table resource
        self.client = table.meta.client

    # --- writes -------------------------------------------------------------------------------

    def create(self, jobs: list[Job]) -> None:
        """Writes a whole tree of new jobs at once: all of them or, on any failure, none."""
        self.client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.table.name,
                        "Item": _to_item(job),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
                for job in jobs
            ]
        )

    def mark_running(self, job: Job, started_at: datetime, output: JobOutputLocation) -> Job:
        return self._transition(
            job,
            from_states=[JobState.PENDING],
            to_state=JobState.RUNNING,
            updates={"started_at": iso(started_at), "output": output.model_dump()},
        )

    def close(
        self,
        job: Job,
        state: JobState,
        closed_at: datetime,
        *,
        exit_code: int | None = None,
        runtime: float | None = None,
        reason: str | None = None,
        from_states: Iterable[JobState] = OPEN_STATES,
        ttl: timedelta | None = None,
    ) -> Job:
        if state not in CLOSED_STATES:
            raise ValueError(f"{state} is not a closed state")
        updates: dict[str, Any] = {"closed_at": iso(closed_at), "closed_state": state.value}
        if exit_code is not None:
            updates["exit_code"] = exit_code
        if runtime is not None:
            updates["runtime"] = Decimal(f"{runtime:.3f}")
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
        names = {"#state": "state", "#command_state": "command_state"}
        values: dict[str, Any] = {":to": to_state.value}
        sets = ["#state = :to", "#command_state = :command_state"]
        for i, (name, value) in enumerate(updates.items()):
            names[f"#u{i}"] = name
            values[f":u{i}"] = value
            sets.append(f"#u{i} = :u{i}")
        allowed = []
        for i, state in enumerate(from_states):
            values[f":from{i}"] = state.value
            allowed.append(f":from{i}")
        values[":command_state"] = f"{job.command}#{to_state.value}"
        try:
            response = self.table.update_item(
                Key={"pk": _pk(job.id), "sk": ITEM_SK},
                UpdateExpression="SET " + ", ".join(sets),
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
        self, state: JobState | None = None, command: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[Job], str | None]:
        """The newest jobs first, optionally of one state and/or command: one Query per page."""
        if state and command:
            index, condition = INDEX_BY_COMMAND_STATE, Key("command_state").eq(f"{command}#{state.value}")
        elif state:
            index, condition = INDEX_BY_STATE, Key("state").eq(state.value)
        elif command:
            index, condition = INDEX_BY_COMMAND, Key("command").eq(command)
        else:
            index, condition = INDEX_BY_CREATED, Key("list_pk").eq(LIST_PK)
        query: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ScanIndexForward": False,
            "Limit": max(1, min(limit, MAX_PAGE)),
        }
        if cursor:
            query["ExclusiveStartKey"] = decode_cursor(cursor, index)
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

    def in_state(self, state: JobState, limit: int = MAX_PAGE) -> list[Job]:
        """The oldest jobs in an open state; the clean-up checks them for dead executions."""
        response = self.table.query(
            IndexName=INDEX_BY_STATE,
            KeyConditionExpression=Key("state").eq(state.value),
            ScanIndexForward=True,
            Limit=limit,
        )
        return [_from_item(item) for item in response.get("Items", [])]
