"""The job system's operations: start, cancel, close, read. Handlers call these and nothing else."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from jobsys.config import JobsConfig, load_config
from jobsys.errors import JobStateConflict, StartFailed
from jobsys.ids import new_job_id
from jobsys.models import OPEN_STATES, Job, JobSpec, JobState, iso, utc_now
from jobsys.output import OutputPage, OutputStore
from jobsys.settings import Settings, settings
from jobsys.store import JobStore


def execution_arn(state_machine_arn: str, job_id: str) -> str:
    """Executions are named after their job, so the ARN is known before the execution starts."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + job_id


def execution_input(job: Job, jobs: dict[str, Job]) -> dict[str, Any]:
    """The tree below a job travels in the input, so each execution can start its dependents."""
    return {
        "job_id": job.id,
        "runner": job.runner,
        "dependents": [execution_input(jobs[child], jobs) for child in job.dependents],
    }


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

    # --- starting -----------------------------------------------------------------------------

    def start_definition(self, key: str) -> Job:
        return self.start_job(self.config.definition(key).to_spec())

    def start_command(self, command: str, params: list[str], **options: Any) -> Job:
        """An ad-hoc job; `options` are spec_for_command's (depending_jobs, label, runner, max_runtime)."""
        return self.start_job(self.config.spec_for_command(command, params, **options))

    def start_job(self, spec: JobSpec) -> Job:
        created_at = iso(utc_now())
        jobs: dict[str, Job] = {}
        root = self._plan(spec, None, None, created_at, jobs)
        self.store.create(list(jobs.values()))
        try:
            self.sfn.start_execution(
                stateMachineArn=self.settings.state_machine_arn,
                name=root.id,
                input=json.dumps(execution_input(root, jobs)),
            )
        except Exception as exc:
            reason = f"could not start its execution: {exc}"
            self.close_job(root.id, JobState.INCOMPLETE, reason)
            raise StartFailed(f"job {root.id} was recorded but {reason}") from exc
        return root

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
        )
        jobs[job_id] = job
        job.dependents = [self._plan(child, job, job.root_id, created_at, jobs).id for child in spec.depending_jobs]
        return job

    def start_dependents(self, job_id: str, dependents: list[dict[str, Any]]) -> list[str]:
        """Starts one execution per dependent of a finished job; a retry skips those already started."""
        job = self.store.get(job_id)
        if job.state != JobState.FINISHED:  # only success branches into the dependents
            self.cancel_dependents(job)
            return []
        started = []
        for child in dependents:
            with contextlib.suppress(self.sfn.exceptions.ExecutionAlreadyExists):
                self.sfn.start_execution(
                    stateMachineArn=self.settings.state_machine_arn, name=child["job_id"], input=json.dumps(child)
                )
            started.append(child["job_id"])
        return started

    # --- ending -------------------------------------------------------------------------------

    def cancel_job(self, job_id: str) -> Job:
        """Cancels a pending or running job; its runner sees the state and stops the process."""
        job = self.store.close(
            self.store.get(job_id), JobState.CANCELED, utc_now(), reason="canceled by a user", ttl=self.ttl
        )
        self.cancel_dependents(job)
        return job

    def close_job(self, job_id: str, state: JobState, reason: str | None = None) -> Job:
        """Closes an open job; a job that is already closed keeps the state it has."""
        job = self.store.get(job_id)
        if job.state.is_open:
            try:
                job = self.store.close(job, state, utc_now(), reason=reason, ttl=self.ttl)
            except JobStateConflict:
                job = self.store.get(job_id)
        self.cancel_dependents(job)
        return job

    def abandon_dependents(self, job: Job, reason: str) -> None:
        """Dependents that could not be started are closed incomplete, with theirs below them canceled."""
        for child in self.store.get_many(job.dependents).values():
            if child.state == JobState.PENDING:
                self.close_job(child.id, JobState.INCOMPLETE, f"its execution could not be started: {reason}")

    def cancel_dependents(self, job: Job) -> list[Job]:
        """Records the dependents of a job that did not finish as canceled, all the way down."""
        if job.state in OPEN_STATES or job.state == JobState.FINISHED or not job.dependents:
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
                        from_states=[JobState.PENDING],
                        ttl=self.ttl,
                    )
                    canceled.append(child)
                except JobStateConflict:
                    child = self.store.get(child.id)
            canceled.extend(self.cancel_dependents(child))
        return canceled

    # --- reading ------------------------------------------------------------------------------

    def get_job(self, job_id: str) -> Job:
        return self.store.get(job_id)

    def list_jobs(
        self, state: JobState | None, command: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Job], str | None]:
        return self.store.list(state=state, command=command, limit=limit, cursor=cursor)

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
