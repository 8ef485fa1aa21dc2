"""Reads of the jobs table: each one a GetItem, a BatchGetItem or a Query on an index, never a Scan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from jobsys.errors import JobNotFound, Unprocessable
from jobsys.models import Job, JobState, iso
from jobsys.spec.limits import MAX_PAGE
from jobsys.stats import Run
from jobsys.store.items import (
    INDEX_BY_CLOSED,
    INDEX_BY_COMMAND,
    INDEX_BY_COMMAND_STATE,
    INDEX_BY_CREATED,
    INDEX_BY_DEFINITION,
    INDEX_BY_DEFINITION_STATE,
    INDEX_BY_QUEUE,
    INDEX_BY_QUEUE_STATE,
    INDEX_BY_STATE,
    ITEM_SK,
    LIST_PK,
    LISTING_KEYS,
    TableAccess,
    _from_item,
    _pk,
    _run_of,
    decode_cursor,
    encode_cursor,
)


class JobReads(TableAccess):
    """Finds jobs: by id, by page, by state, command, queue or definition."""

    def get(self, job_id: str) -> Job:
        item = self.table.get_item(Key={"pk": _pk(job_id), "sk": ITEM_SK}, ConsistentRead=True).get("Item")
        if item is None:
            raise JobNotFound(f"no job '{job_id}'")
        return _from_item(item)

    def get_many(self, job_ids: list[str]) -> dict[str, Job]:
        jobs = (_from_item(item) for item in self._get_items([{"pk": _pk(i), "sk": ITEM_SK} for i in job_ids]))
        return {job.id: job for job in jobs}

    def page(
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

    def closed_before(self, state: JobState, before: datetime, page_size: int) -> Iterator[Job]:
        """Jobs that closed in `state` before `before`, oldest first, read a page at a time as the
        caller goes on."""
        query: dict[str, Any] = {
            "IndexName": INDEX_BY_CLOSED,
            "KeyConditionExpression": Key("closed_state").eq(state.value) & Key("closed_at").lt(iso(before)),
            "ScanIndexForward": True,
            "Limit": page_size,
        }
        while True:
            response = self.table.query(**query)
            yield from (_from_item(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def last_attempt(self, job_id: str) -> Job:
        """The job, or the last of the attempts that followed it."""
        job = self.get(job_id)
        while job.retried_by:
            job = self.get(job.retried_by)
        return job

    def open_in_run(self, job: Job) -> Job | None:
        """The first job of the run from `job` down that is not over (`Job.moves_on`): itself, its
        next attempts, its dependents, the joins that wait for it, and theirs, all the way down.
        One BatchGetItem a level; a start records at most a transaction's jobs, so the walk is short."""
        level, seen = [job], {job.id}
        while level:
            for member in level:
                if member.moves_on:
                    return member
            below = [
                i
                for member in level
                for i in (member.retried_by, *member.dependents, *member.joins)
                if i and i not in seen
            ]
            seen.update(below)
            level = list(self.get_many(below).values())
        return None

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
