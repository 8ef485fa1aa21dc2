"""What every part of the job system shares: its collaborators, and how an execution starts."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jobsys.config import JobsConfig
from jobsys.models import Job, JobState, utc_now
from jobsys.output import OutputStore
from jobsys.settings import Settings
from jobsys.spec.limits import FARGATE_MARGIN
from jobsys.store import JobStore


def executions_of(state_machine_arn: str) -> str:
    """What every execution's ARN of the state machine starts with, before `:<name>`."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1)


def execution_arn(state_machine_arn: str, job_id: str) -> str:
    """Executions are named after their job, so the ARN is known before the execution starts."""
    return f"{executions_of(state_machine_arn)}:{job_id}"


def job_of_execution(name: str) -> str:
    """The job an execution runs: its name, or the name before `-<n>` for a continued one."""
    return name.split("-", 1)[0]


def next_execution_name(job: Job) -> str:
    """`<job id>-2` after `<job id>`, then `-3`...: the execution a job continues in."""
    current = (job.execution_arn or job.id).rsplit(":", 1)[-1]
    generation = int(current.split("-", 1)[1]) if "-" in current else 1
    return f"{job.id}-{generation + 1}"


def execution_input(
    job: Job, jobs: dict[str, Job], limited: Callable[[str], bool], queue_open: bool = False
) -> dict[str, Any]:
    """The tree below a job travels in the input, so each execution can start its dependents.
    `queue_open`: the job's queue was found open as its start was written."""
    children = [execution_input(jobs[child], jobs, limited) for child in job.dependents if child in jobs]
    return input_of(job, children, limited, queue_open)


def input_of(
    job: Job, dependents: list[dict[str, Any]], limited: Callable[[str], bool], queue_open: bool = False
) -> dict[str, Any]:
    """One execution's input. `run_at` makes it wait until then; `limited` makes it wait for a slot
    of its `queue`, as its queue's item being paused does; `fargate_timeout` is how long
    RunOnFargate waits for the task. `check_queue` tells the Lambda runner to read the queue before
    it starts the job: unless whoever starts the execution found the queue open in a call it made
    anyway (`queue_open`), and the job does not wait first, during which a pause may come."""
    data: dict[str, Any] = {
        "job_id": job.id,
        "runner": job.runner,
        "queue": job.queue,
        # What the runner's first write needs besides the id (its index keys): it reads nothing first.
        "command": job.command,
        "definition": job.definition,
        "check_queue": not queue_open or bool(job.run_at),
        "dependents": dependents,
    }
    if job.runner == "fargate":
        # The state follows the job: the runner stops the command at max_runtime, and the state
        # waits longer, so that it never cuts a run short and frees its slot while it still runs.
        data["fargate_timeout"] = job.max_runtime + FARGATE_MARGIN
    if job.run_at:
        data["run_at"] = job.run_at
    if limited(job.queue):
        data["limited"] = True
    if job.joins:  # its run's end must reach the jobs that wait for it besides their parent
        data["joins"] = job.joins
    return data


def run_transitions(job: Job, limited: bool, state: JobState) -> int:
    """The state transitions (each billed) of the execution of a job that ran and ended in `state`,
    along statemachines/job.asl.json; tests/integration/test_state_machine_paths.py checks each
    path against an execution's history. A wait in a paused queue's line adds its own."""
    transitions = 2  # Route, and RunOnLambda or RunOnFargate
    if job.run_at:
        transitions += 2  # WaitUntilDue, RouteWhenDue
    if limited:
        transitions += 2  # WaitForSlot, WasItAdmitted
    elif job.runner == "fargate":
        transitions += 2  # ReadQueue, IsItPaused
    if job.runner == "fargate":
        transitions += 1  # EndRun: a task's end does not say how its job ended
    else:
        transitions += 1  # AfterRun
        if state != JobState.FINISHED or limited:  # the runner ends a finished run, dependents and all
            transitions += 1  # EndRun
    return transitions + 1  # Done


def _whole_second_after(moment: datetime) -> datetime:
    """Step Functions waits to the second: rounding up means a job never starts before its time."""
    return moment.replace(microsecond=0) + timedelta(seconds=1) if moment.microsecond else moment


@dataclass
class SystemBase:
    config: JobsConfig
    store: JobStore
    output: OutputStore
    sfn: Any
    settings: Settings
    clock: Callable[[], datetime] = utc_now  # tests pass a clock of their own: nothing sleeps

    @property
    def ttl(self) -> timedelta:
        return timedelta(days=self.settings.job_ttl_days)

    def is_limited(self, queue: str) -> bool:
        return self.config.limited_queue(queue) is not None

    def transitions_of(self, job: Job, state: JobState) -> int:
        return run_transitions(job, self.is_limited(job.queue), state)

    # The parts call each other: declared here, so that each part is checked on its own. JobSystem's
    # bases come first in its MRO, so these are never the ones called.
    def close_job(self, job_id: str, state: JobState, reason: str | None = None) -> Job:  # ending.py
        raise NotImplementedError

    def end_run(
        self,
        job_id: str,
        state: JobState = JobState.INCOMPLETE,
        reason: str | None = None,
        dependents: list[dict[str, Any]] | None = None,
    ) -> Job:  # ending.py
        raise NotImplementedError

    def cancel_dependents(self, job: Job, canceled_by: str | None = None) -> list[Job]:  # ending.py
        raise NotImplementedError

    def release(self, job: Job) -> None:  # admission.py
        raise NotImplementedError

    def _answer(self, token: str, admitted: bool, continued: bool = False) -> None:  # admission.py
        raise NotImplementedError

    def _dependents_input(self, job: Job) -> list[dict[str, Any]]:  # starting.py
        raise NotImplementedError

    def _start_execution(self, execution: dict[str, Any], name: str | None = None) -> None:
        """Executions are named after their job (`name`, for one it continues in), so starting one
        twice starts it once."""
        with contextlib.suppress(self.sfn.exceptions.ExecutionAlreadyExists):
            self.sfn.start_execution(
                stateMachineArn=self.settings.state_machine_arn,
                name=name or execution["job_id"],
                input=json.dumps(execution),
            )
