"""The job system's operations: start, cancel, close, read. Handlers call these and nothing else."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from botocore.exceptions import ClientError

from jobsys.config import JobsConfig, Queue, StartOptions, load_config
from jobsys.errors import JobStateConflict, StartFailed
from jobsys.ids import new_job_id
from jobsys.models import OPEN_STATES, RETRIED_STATES, Job, JobSpec, JobState, Trigger, iso, utc_now
from jobsys.observability import logger, record_closed, record_started
from jobsys.output import OutputPage, OutputStore
from jobsys.settings import Settings, settings
from jobsys.spec.limits import FARGATE_MARGIN
from jobsys.store import JobStore, wait_order

SERVE_BATCH = 10  # jobs read from a queue's line at a time
MAX_SERVE_ROUNDS = 20
# What the next attempt of a job keeps; the rest (state, times, output, ...) starts afresh.
RETRY_KEEPS = {
    "command", "params", "label", "definition", "parent_id", "root_id", "dependents",
    "runner", "max_runtime", "queue", "priority", "retries",
}  # fmt: skip


def execution_arn(state_machine_arn: str, job_id: str) -> str:
    """Executions are named after their job, so the ARN is known before the execution starts."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + job_id


def execution_input(job: Job, jobs: dict[str, Job], limited: Callable[[str], bool]) -> dict[str, Any]:
    """The tree below a job travels in the input, so each execution can start its dependents."""
    children = [execution_input(jobs[child], jobs, limited) for child in job.dependents if child in jobs]
    return input_of(job, children, limited)


def input_of(job: Job, dependents: list[dict[str, Any]], limited: Callable[[str], bool]) -> dict[str, Any]:
    """One execution's input. `run_at` makes it wait until then; `queue` makes it wait for a slot of
    a limited queue; `fargate_timeout` is how long RunOnFargate waits for the task."""
    data: dict[str, Any] = {"job_id": job.id, "runner": job.runner, "dependents": dependents}
    if job.runner == "fargate":
        # The state follows the job: the runner stops the command at max_runtime, and the state
        # waits longer, so that it never cuts a run short and frees its slot while it still runs.
        data["fargate_timeout"] = job.max_runtime + FARGATE_MARGIN
    if job.run_at:
        data["run_at"] = job.run_at
    if limited(job.queue):
        data["queue"] = job.queue
    return data


def _whole_second_after(moment: datetime) -> datetime:
    """Step Functions waits to the second: rounding up means a job never starts before its time."""
    return moment.replace(microsecond=0) + timedelta(seconds=1) if moment.microsecond else moment


@dataclass
class JobSystem:
    config: JobsConfig
    store: JobStore
    output: OutputStore
    sfn: Any
    settings: Settings

    @property
    def ttl(self) -> timedelta:
        return timedelta(days=self.settings.job_ttl_days)

    def is_limited(self, queue: str) -> bool:
        return self.config.limited_queue(queue) is not None

    # --- starting -----------------------------------------------------------------------------

    def start_definition(
        self, key: str, options: StartOptions | None = None, trigger: Trigger = "api", started_by: str | None = None
    ) -> Job:
        return self.start_job(self.config.definition(key).to_spec(), options, trigger, started_by)

    def start_command(
        self,
        command: str,
        params: list[str],
        options: StartOptions | None = None,
        started_by: str | None = None,
        **spec: Any,
    ) -> Job:
        """An ad-hoc job; `spec` is spec_for_command's (depending_jobs, label, runner, max_runtime, queue, priority)."""
        return self.start_job(self.config.spec_for_command(command, params, **spec), options, started_by=started_by)

    def start_job(
        self,
        spec: JobSpec,
        options: StartOptions | None = None,
        trigger: Trigger = "api",
        started_by: str | None = None,
    ) -> Job:
        """Records the tree of jobs and starts the root's execution. `started_by` names the caller;
        a start without one (a schedule's) is recorded as started by its trigger."""
        options = options or StartOptions()
        if options.queue is not None or options.priority is not None:
            spec = spec.model_copy(
                update={
                    "queue": options.queue or spec.queue,
                    "priority": spec.priority if options.priority is None else options.priority,
                }
            )
        created_at = iso(utc_now())
        jobs: dict[str, Job] = {}
        root = self._plan(spec, None, None, created_at, jobs)
        root.trigger = trigger
        for job in jobs.values():
            job.started_by = started_by or trigger
        if options.run_at is not None:
            root.run_at = iso(_whole_second_after(options.run_at))
            root.waiting = f"delayed until {root.run_at}"
        self.store.create(list(jobs.values()))
        try:
            self._start_execution(execution_input(root, jobs, self.is_limited))
            record_started(root.command)
        except Exception as exc:
            reason = f"could not start its execution: {exc}"
            closed = self.close_job(root.id, JobState.INCOMPLETE, reason)
            record_closed(closed.command, closed.state.value, None)
            self.cancel_dependents(closed)
            raise StartFailed(f"job {root.id} was recorded but {reason}") from exc
        return root

    def _start_execution(self, execution: dict[str, Any]) -> None:
        """Executions are named after their job, so starting one twice starts it once."""
        with contextlib.suppress(self.sfn.exceptions.ExecutionAlreadyExists):
            self.sfn.start_execution(
                stateMachineArn=self.settings.state_machine_arn, name=execution["job_id"], input=json.dumps(execution)
            )

    def _plan(
        self, spec: JobSpec, parent: Job | None, root_id: str | None, created_at: str, jobs: dict[str, Job]
    ) -> Job:
        job_id = new_job_id()
        job = Job(
            id=job_id,
            command=spec.command,
            params=spec.params,
            state=JobState.PENDING,
            label=spec.label,
            definition=spec.definition,
            parent_id=parent.id if parent else None,
            root_id=root_id or job_id,
            created_at=created_at,
            execution_arn=execution_arn(self.settings.state_machine_arn, job_id),
            runner=spec.runner,
            max_runtime=spec.max_runtime,
            queue=spec.queue,
            priority=spec.priority,
            retries=spec.retries,
        )
        jobs[job_id] = job
        job.dependents = [self._plan(child, job, job.root_id, created_at, jobs).id for child in spec.depending_jobs]
        return job

    def _dependents_input(self, job: Job) -> list[dict[str, Any]]:
        """The inputs of a job's dependents, read level by level, for a run ended without its execution's input."""
        jobs = {job.id: job}
        level = list(job.dependents)
        while level:
            found = self.store.get_many(level)
            jobs.update(found)
            level = [child for parent in found.values() for child in parent.dependents if child not in jobs]
        return execution_input(job, jobs, self.is_limited)["dependents"]

    def start_scheduled(self, key: str, scheduled_at: str) -> Job | None:
        """A schedule's start: None for a repeated delivery of a fire already handled."""
        definition = self.config.definition(key)
        if not self.store.record_fire(key, scheduled_at, "", "starting"):
            return None
        try:
            running = self.store.open_of_definition(key) if definition.overlap == "skip" else None
            if running is not None:
                job = self._record_skipped(definition.to_spec(), running)
            else:
                job = self.start_job(definition.to_spec(), trigger="schedule")
        except Exception:
            self.store.forget_fire(key, scheduled_at)  # so that Scheduler's retry of this fire starts it
            raise
        self.store.record_fire(key, scheduled_at, job.id, job.state.value, again=True)
        return job

    def _record_skipped(self, spec: JobSpec, running: Job) -> Job:
        now = utc_now()
        job = self._plan(spec.model_copy(update={"depending_jobs": []}), None, None, iso(now), {})
        job.state, job.trigger, job.closed_at, job.execution_arn = JobState.SKIPPED, "schedule", iso(now), None
        job.started_by = "schedule"
        job.reason = f"skipped: job {running.id} of this definition is still {running.state}"
        self.store.create([job], ttl=self.ttl)
        record_closed(job.command, job.state.value, None)
        return job

    # --- queues -------------------------------------------------------------------------------

    def admit(self, job_id: str, token: str) -> None:
        """Called by an execution that needs a slot of its job's queue; its task token starts it.

        The job joins the queue's line first and then the line is served, so that it never passes
        a job of higher priority that waits already.
        """
        job = self.store.get(job_id)
        queue = self.config.limited_queue(job.queue)
        if job.state != JobState.PENDING:
            self._answer(token, admitted=False)
            return
        if queue is None:  # its limit was lifted since it started
            self._answer(token, admitted=True)
            return
        if not self.store.mark_waiting(job, token, f"waiting for a slot in queue {queue.name}"):
            self._answer(token, admitted=False)  # closed meanwhile
            return
        if job.id not in self.serve_queue(queue, also=[(job, token)]):
            # The queue was full when it asked: all its slots were taken. Said unless the job was
            # started meanwhile (which removed its token).
            reason = f"queue {queue.name} is full ({queue.concurrency} running)"
            self.store.mark_waiting(job, token, reason, still=True)

    def serve_queue(self, queue: Queue, also: list[tuple[Job, str]] = ()) -> list[str]:
        """Starts the next jobs in line while the queue has free slots; returns the ids started."""
        assert queue.concurrency is not None
        started: list[str] = []
        known = {job.id: (job, token) for job, token in also}
        for _ in range(MAX_SERVE_ROUNDS):
            # The index can lag a write by a moment; `also` holds a job that has just joined the line.
            line = {job.id: (job, token) for job, token in self.store.waiting_in(queue.name, SERVE_BATCH)}
            line |= {job_id: entry for job_id, entry in known.items() if job_id not in line}
            if not line:
                break
            # A job in line that holds a slot already (its start was claimed, but the answer to its
            # execution was lost, and it asked again) goes first: the queue may be full of it alone,
            # and a job ahead of it could then never take a slot, nor let it through.
            _, holders = self.store.queue_counter(queue.name)
            for job, token in sorted(line.values(), key=lambda e: (e[0].id not in holders, wait_order(e[0]))):
                known.pop(job.id, None)
                taken = self.store.take_slot(queue.name, job.id, queue.concurrency)
                if not taken:
                    return started
                if self.store.claim(job, token):
                    # If the answer is lost, the job keeps its slot and asks again when its wait
                    # times out; it is then served first.
                    self._answer(token, admitted=True)
                    started.append(job.id)
                elif taken == "new":  # canceled or started by another waker meanwhile
                    self.store.release_slot(queue.name, job.id)
            if len(line) < SERVE_BATCH:
                break
        return started

    def _answer(self, token: str, admitted: bool) -> None:
        try:
            self.sfn.send_task_success(taskToken=token, output=json.dumps({"admitted": admitted}))
        except (
            self.sfn.exceptions.TaskTimedOut,
            self.sfn.exceptions.TaskDoesNotExist,
            self.sfn.exceptions.InvalidToken,
        ):
            # Its wait timed out: the execution asks again and finds the slot it holds.
            logger.info("a task token was no longer valid", extra={"admitted": admitted})
        except ClientError:
            # Throttled past botocore's retries, or another failure: the same as a lost answer. The
            # job's wait times out, it asks again, and finds its slot; the rest of the line goes on.
            logger.warning("could not answer a waiting execution", extra={"admitted": admitted}, exc_info=True)

    def release(self, job: Job) -> None:
        """Gives back the job's slot, if it holds one, and starts whoever is next in line."""
        queue = self.config.limited_queue(job.queue)
        # A queue without a limit has no slots (and a limit lifted leaves nothing that counts).
        if queue is not None and self.store.release_slot(job.queue, job.id):
            self.serve_queue(queue)

    # --- ending -------------------------------------------------------------------------------

    def end_run(
        self,
        job_id: str,
        state: JobState = JobState.INCOMPLETE,
        reason: str | None = None,
        dependents: list[dict[str, Any]] | None = None,
    ) -> Job:
        """The end of every execution, however its run went: the job is closed (as `state`, if the
        runner did not close it), its slot given back, and then its dependents start, or its next
        attempt is planned, or its dependents are canceled. Safe to repeat.

        `dependents` is the execution input's tree; without it (a run ended by the clean-up) it is read.
        """
        job = self.store.get(job_id)
        if job.state.is_open:
            job = self.close_job(job.id, state, reason or "the runner ended without closing the job")
        record_closed(job.command, job.state.value, job.runtime, job.peak_memory_mb)
        self.release(job)
        if job.dependents and dependents is None:
            dependents = self._dependents_input(job)
        if job.state == JobState.FINISHED:
            self.start_dependents(job, dependents or [])
        elif not self.retry(job, dependents or []):
            self.cancel_dependents(job)
        self.store.mark_ended(job, utc_now())
        if job.output is not None:
            self._keep_captured_output(job)
        return job

    def _keep_captured_output(self, job: Job) -> None:
        # Last, and never failing the end of the run: the slot and the dependents matter more.
        try:
            self.output.save_captured(job.id)
        except Exception:  # noqa: BLE001 - the stream still holds the output; only "complete" waits
            logger.exception("could not save the output that the stream captured", extra={"job_id": job.id})

    def start_dependents(self, job: Job, dependents: list[dict[str, Any]]) -> list[str]:
        """One execution per dependent of a finished job that is still pending; a repeat skips those started."""
        pending = {
            child.id: child for child in self.store.get_many(job.dependents).values() if child.state == JobState.PENDING
        }
        started = []
        for child in dependents:
            if child["job_id"] in pending:
                self._start_execution(child)
                record_started(pending[child["job_id"]].command)
                started.append(child["job_id"])
        return started

    def retry(self, job: Job, dependents: list[dict[str, Any]]) -> Job | None:
        """Plans the next attempt of a job that ended failed, terminated or incomplete, if it has one
        left; its dependents (`dependents`, their inputs) are handed on to it."""
        if job.retried_by:
            retry = self.store.get(job.retried_by)
        elif (
            job.state in RETRIED_STATES
            and job.attempt < job.retries.max_attempts
            and self.store.parent_state(job) in (None, JobState.FINISHED)
        ):
            now = utc_now()
            wait = job.retries.wait_after(job.attempt)
            retry_id = new_job_id()
            run_at = iso(_whole_second_after(now + timedelta(seconds=wait))) if wait else None
            retry = Job(
                **job.model_dump(include=RETRY_KEEPS),
                id=retry_id,
                state=JobState.PENDING,
                attempt=job.attempt + 1,
                retry_of=job.id,
                trigger="retry",
                started_by="retry",
                created_at=iso(now),
                execution_arn=execution_arn(self.settings.state_machine_arn, retry_id),
                run_at=run_at,
                waiting=f"attempt {job.attempt + 1} of {job.retries.max_attempts} at {run_at}" if run_at else None,
            )
            try:
                self.store.create_retry(job, retry)
            except self.store.client.exceptions.TransactionCanceledException:
                job = self.store.get(job.id)  # planned by a repeated call meanwhile
                if not job.retried_by:
                    raise
                retry = self.store.get(job.retried_by)
        else:
            return None
        if retry.state == JobState.PENDING:
            self._start_execution(input_of(retry, dependents, self.is_limited))
            record_started(retry.command)
        return retry

    def cancel_job(self, job_id: str, canceled_by: str | None = None) -> Job:
        """Cancels a pending or running job; its runner sees the state and stops the process.

        A job that ended and waits for its next attempt has that attempt canceled.
        """
        job = self.store.get(job_id)
        while not job.state.is_open and job.retried_by:
            job = self.store.get(job.retried_by)
        token = self.store.wait_token(job.id) if job.state == JobState.PENDING else None
        reason = f"canceled by {canceled_by}" if canceled_by else "canceled by a user"
        job = self.store.close(job, JobState.CANCELED, utc_now(), reason=reason, canceled_by=canceled_by, ttl=self.ttl)
        if token:  # it waited for a slot: its execution can end now
            self._answer(token, admitted=False)
        self.cancel_dependents(job, canceled_by)
        return job

    def close_job(self, job_id: str, state: JobState, reason: str | None = None) -> Job:
        """Closes an open job; a job that is already closed keeps the state it has."""
        job = self.store.get(job_id)
        if job.state.is_open:
            try:
                job = self.store.close(job, state, utc_now(), reason=reason, ttl=self.ttl)
            except JobStateConflict:
                job = self.store.get(job_id)
        return job

    def cancel_dependents(self, job: Job, canceled_by: str | None = None) -> list[Job]:
        """Records the dependents of a job that did not finish as canceled, all the way down.

        A job retried hands its dependents on to its next attempt, which decides for them.
        """
        if job.state in OPEN_STATES or job.state == JobState.FINISHED or not job.dependents or job.retried_by:
            return []
        canceled = []
        for child in self.store.get_many(job.dependents).values():
            if child.state == JobState.PENDING:
                try:
                    child = self.store.close(
                        child,
                        JobState.CANCELED,
                        utc_now(),
                        reason=f"not run: job {job.id} ({job.label}) ended {job.state}",
                        canceled_by=canceled_by,
                        from_states=[JobState.PENDING],
                        ttl=self.ttl,
                    )
                    canceled.append(child)
                    record_closed(child.command, child.state.value, None)
                except JobStateConflict:
                    child = self.store.get(child.id)
            canceled.extend(self.cancel_dependents(child, canceled_by))
        return canceled

    # --- reading ------------------------------------------------------------------------------

    def get_job(self, job_id: str) -> Job:
        return self.store.get(job_id)

    def list_jobs(
        self, state: JobState | None, command: str | None, limit: int, cursor: str | None, queue: str | None = None
    ) -> tuple[list[Job], str | None]:
        return self.store.list(state=state, command=command, limit=limit, cursor=cursor, queue=queue)

    def read_output(self, job_id: str, cursor: str | None) -> OutputPage:
        return self.output.read(self.store.get(job_id), cursor)


@cache
def job_system() -> JobSystem:
    """The job system of this Lambda environment, built once and reused across invocations."""
    import boto3

    env = settings()
    return JobSystem(
        config=load_config(env.jobs_config),
        store=JobStore(boto3.resource("dynamodb").Table(env.jobs_table)),
        output=OutputStore(boto3.client("logs"), boto3.client("s3"), env.jobs_log_group, env.jobs_bucket),
        sfn=boto3.client("stepfunctions"),
        settings=env,
    )
