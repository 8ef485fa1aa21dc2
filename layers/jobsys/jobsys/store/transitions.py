"""A job's life in the table after it was created: running, progressing, closed, ended, deleted;
each step a conditional write."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from jobsys.costs import RunUsage
from jobsys.errors import JobStateConflict
from jobsys.lifecycle import ABSENT, ENDED, job_transition
from jobsys.models import CLOSED_STATES, OPEN_STATES, Job, JobOutputLocation, JobState, iso
from jobsys.spec.limits import REASON_LIMIT
from jobsys.store.items import (
    _WAIT_ATTRIBUTES,
    ITEM_SK,
    JobKey,
    _deserialized,
    _from_item,
    _pk,
    _refused_item,
    _state_keys,
)
from jobsys.store.reads import JobReads


class JobTransitions(JobReads):
    """Moves jobs through their states, only from the states each step allows."""

    def mark_running(
        self,
        job: Job | JobKey,
        started_at: datetime,
        output: JobOutputLocation,
        expected_end_at: datetime | None = None,
    ) -> Job:
        """`expected_end_at`: what its history says, until its own PROGRESS lines say better."""
        updates: dict[str, Any] = {
            "started_at": iso(started_at),
            "heartbeat_at": iso(started_at),
            "output": output.model_dump(),
        }
        if expected_end_at is not None:
            updates |= {"expected_end_at": iso(expected_end_at), "expected_end_from": "history"}
        return self._transition(job, from_states=[JobState.PENDING], to_state=JobState.RUNNING, updates=updates)

    def set_expected_end(self, job_id: str, expected_end_at: datetime) -> bool:
        """What a running job's history says of its end, unless its own PROGRESS lines said it first."""
        return self._update_if(
            Key={"pk": _pk(job_id), "sk": ITEM_SK},
            UpdateExpression="SET expected_end_at = :end, expected_end_from = :from",
            ConditionExpression="#state = :running AND attribute_not_exists(expected_end_from)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":end": iso(expected_end_at),
                ":from": "history",
                ":running": JobState.RUNNING.value,
            },
        )

    def beat(self, job_id: str, at: datetime) -> bool:
        """The runner of a running job says that it runs; False once the job is not running."""
        return self._update_if(
            Key={"pk": _pk(job_id), "sk": ITEM_SK},
            UpdateExpression="SET heartbeat_at = :at",
            ConditionExpression="#state = :running",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":at": iso(at), ":running": JobState.RUNNING.value},
        )

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
        last_heartbeat: str | None = None,
        usage: RunUsage | None = None,
        ends_run: bool = False,
        with_writes: Sequence[dict[str, Any]] = (),
    ) -> Job:
        """`last_heartbeat`: close it only if its runner has not beaten since (it is running).
        `ends_run`: this write ends its run too (`ended_at`), for a run with nothing left for EndRun.
        `with_writes`: more writes of the same transaction (the audit record of a cancel)."""
        if state not in CLOSED_STATES:
            raise ValueError(f"{state} is not a closed state")
        updates: dict[str, Any] = {"closed_at": iso(closed_at), "closed_state": state.value}
        if output_error:
            updates["output_error"] = output_error[:REASON_LIMIT]
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
        if reason:  # within the room its creation kept for it
            updates["reason"] = reason if len(reason) <= REASON_LIMIT else reason[: REASON_LIMIT - 1] + "…"
        if usage is not None:
            updates["usage"] = usage.model_dump(exclude_none=True)
        if ends_run:
            updates["ended_at"] = iso(closed_at)
        if ttl is not None:
            # A backstop only: the clean-up deletes jobs and their output long before this.
            updates["expires_at"] = int((closed_at + ttl).timestamp())
        return self._transition(job, list(from_states), state, updates, last_heartbeat, with_writes)

    def _transition(
        self,
        job: Job | JobKey,
        from_states: list[JobState],
        to_state: JobState,
        updates: dict[str, Any],
        last_heartbeat: str | None = None,
        with_writes: Sequence[dict[str, Any]] = (),
    ) -> Job:
        """Moves a job to `to_state` only if it is still in one of `from_states`, as one conditional write.

        `job` may be stale: only its id and command, which never change, are used.
        """
        job_transition(from_states, to_state)  # a write that the lifecycle table has no row for never happens
        names = {"#state": "state"}
        values: dict[str, Any] = {":to": to_state.value}
        # An update reads the item as it was: previous_state gets the state this write leaves.
        sets = ["previous_state = #state", "#state = :to"]
        for i, (name, value) in enumerate({**_state_keys(job, to_state), **updates}.items()):
            names[f"#u{i}"] = name
            values[f":u{i}"] = value
            sets.append(f"#u{i} = :u{i}")
        allowed = []
        for i, state in enumerate(from_states):
            values[f":from{i}"] = state.value
            allowed.append(f":from{i}")
        condition = f"attribute_exists(pk) AND #state IN ({', '.join(allowed)})"
        if last_heartbeat is not None:
            condition += " AND heartbeat_at = :heartbeat"
            values[":heartbeat"] = last_heartbeat
        update: dict[str, Any] = {
            "Key": {"pk": _pk(job.id), "sk": ITEM_SK},
            # A job that leaves `pending` leaves its queue's line too.
            "UpdateExpression": "SET " + ", ".join(sets) + " REMOVE waiting, " + ", ".join(_WAIT_ATTRIBUTES),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        try:
            if with_writes:
                return self._transition_with(update, with_writes)
            response = self.table.update_item(**update, ReturnValues="ALL_NEW")
        except ClientError as exc:
            found = _refused_item(exc)
            if found is None:
                raise
            now = _from_item(_deserialized(found)) if found else self.get(job.id)
            if now.state in from_states:  # only its heartbeat can have failed the condition
                raise JobStateConflict(
                    f"job {job.id} beat at {now.heartbeat_at}, after {last_heartbeat}", now
                ) from None
            raise JobStateConflict(f"job {job.id} is {now.state}, not {' or '.join(from_states)}", now) from None
        return _from_item(response["Attributes"])

    def _transition_with(self, update: dict[str, Any], with_writes: Sequence[dict[str, Any]]) -> Job:
        """The transition's update and `with_writes` as one transaction; the job read back after it."""
        writes = [{"Update": {**update, "TableName": self.table.name}}, *with_writes]
        self.client.transact_write_items(TransactItems=writes)
        return self.get(update["Key"]["pk"].removeprefix("JOB#"))

    def mark_ended(self, job: Job, at: datetime) -> None:
        """Records, once, that the end of a closed job's run was handled: its slot given back, its
        dependents started or its next attempt planned. The clean-up ends the runs without it."""
        job_transition([job.state], ENDED)
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

    def delete(self, job: Job) -> bool:
        """Deletes a closed job; False when it changed state or vanished meanwhile."""
        job_transition([job.state], ABSENT)
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
