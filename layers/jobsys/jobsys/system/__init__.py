"""The job system's operations: start, admit, end, cancel, read. Handlers (functions/) call these and
never its store; the domain's own modules (the runner, the clean-up) may use the store directly.

One part per concern: starting.py (a start becomes jobs and executions), replaying.py (a closed
job started again with its params edited), bulk.py (the jobs of a filter acted on in pages), admission.py (queues'
lines and slots), pausing.py (paused queues), ending.py (the end of a run: retry, dependents,
cancel cascade), heartbeats.py (runners that hang), reading.py (what the page reads); base.py
holds what they share.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from jobsys.config import load_config
from jobsys.output import OutputStore
from jobsys.settings import Settings, settings
from jobsys.store import JobStore
from jobsys.system.admission import QueueAdmission
from jobsys.system.base import execution_arn, execution_input, executions_of, input_of
from jobsys.system.bulk import BulkActions
from jobsys.system.ending import RunEnds
from jobsys.system.heartbeats import HeartbeatChecks
from jobsys.system.pausing import QueuePauses
from jobsys.system.reading import JobReads


@dataclass
class JobSystem(BulkActions, QueuePauses, QueueAdmission, HeartbeatChecks, RunEnds, JobReads):
    """The whole job system."""


@cache
def job_system() -> JobSystem:
    """The job system of this Lambda environment, built once and reused across invocations."""
    import boto3

    return system_for(settings(), boto3)


def system_for(env: Settings, aws: Any) -> JobSystem:
    """The job system that `env` names, on the AWS that `aws` reaches: the boto3 module (a function's
    own credentials), or a session-like object with `client(service)` and `resource(service)`."""
    return JobSystem(
        config=load_config(env.jobs_config),
        store=JobStore(
            aws.resource("dynamodb").Table(env.jobs_table),
        ),
        output=OutputStore(aws.client("logs"), aws.client("s3"), env.jobs_log_group, env.jobs_bucket),
        sfn=aws.client("stepfunctions"),
        settings=env,
    )


__all__ = ["JobSystem", "execution_arn", "execution_input", "executions_of", "input_of", "job_system", "system_for"]
