"""The job system's operations: start, admit, end, cancel, read. Handlers call these.

One part per concern: starting.py (a start becomes jobs and executions), admission.py (limited
queues), ending.py (the end of a run: retry, dependents, cancel cascade); base.py holds what they
share.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from jobsys.config import load_config
from jobsys.models import Job, JobState
from jobsys.output import OutputPage, OutputStore
from jobsys.settings import settings
from jobsys.store import JobStore
from jobsys.system.admission import QueueAdmission
from jobsys.system.base import execution_arn, execution_input, input_of
from jobsys.system.ending import RunEnds
from jobsys.system.starting import JobStarts


@dataclass
class JobSystem(JobStarts, QueueAdmission, RunEnds):
    """The whole job system."""

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


__all__ = ["JobSystem", "execution_arn", "execution_input", "input_of", "job_system"]
