"""Step Functions and the runner, played by the lifecycle simulation (lifecycle_simulation.py):
each execution moves a step when the simulation says, along statemachines/job.asl.json's paths
(Route, WaitUntilDue, WaitForSlot, RunOnLambda, AfterRun, EndRun), and the runner makes the
store's writes a real runner makes. Faults are steps too: starts and EndRuns that fail, runners
that crash or hang (cut off at RunOnLambda's timeout)."""

from __future__ import annotations

import contextlib
import json
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from moto.stepfunctions.models import stepfunctions_backends

from jobsys.errors import JobNotFound, JobStateConflict
from jobsys.models import Job, JobState, parse_iso
from jobsys.runner import end_own_run, runner_ends_run
from jobsys.spec.limits import CONTINUE_AFTER
from jobsys.store import JobStore
from jobsys.system import JobSystem
from jobsys.system.base import job_of_execution
from tests.unit.in_process import Clock

ACCOUNT, REGION = "123456789012", "us-east-1"  # moto's, where tests/unit/in_process.py creates all
SLOT_WAIT = timedelta(seconds=300)  # WaitForSlot's TimeoutSeconds: the execution asks again
EVENTS_PER_ASK = 6  # history events of one WaitForSlot: entered, scheduled, started, ... timed out
MAX_HISTORY = 25_000  # AWS's limit on an execution's history
RUN_ON_LAMBDA_TIMEOUT = timedelta(seconds=900)  # RunOnLambda's TimeoutSeconds


@dataclass
class Execution:
    """One job's execution, as the state machine moves it: `phase` is where it stands."""

    name: str  # its job's id, or `<job id>-<n>` for one its job continued in
    arn: str
    input: dict[str, Any]
    started: datetime
    phase: str = "route"  # route, admit, waiting, run, running, hung, end
    since: Any = None  # when it began to wait for a slot, or its runner hung
    admitted: bool | None = None
    continued: bool = False  # its job goes on in a new execution
    history: int = 0  # the events of its waits in line, which AWS caps at 25,000
    ended: bool = False  # its runner ended the run (RunResult.ended): AfterRun goes to Done

    @property
    def job_id(self) -> str:
        return job_of_execution(self.name)


@dataclass
class Faults:
    failing_starts: int = 0
    failing_end_runs: int = 0


class SimulatedStepFunctions:
    """moto's Step Functions, with each execution's progress played by the simulation: its starts are
    recorded in moto and here; a task token answers the waiting execution; a fault fails starts."""

    def __init__(self, sfn: Any, faults: Faults, clock: Clock, store: JobStore) -> None:
        self.sfn = sfn
        self.store = store
        self.exceptions = sfn.exceptions
        self.faults = faults
        self.clock = clock
        self.executions: dict[str, Execution] = {}
        self.started: dict[str, int] = defaultdict(int)
        self.unchecked_in_paused: list[str] = []  # executions started unchecked in a paused queue

    def start_execution(self, **request: Any) -> dict[str, Any]:
        if self.faults.failing_starts:
            self.faults.failing_starts -= 1
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "StartExecution")
        execution_input = json.loads(request["input"])
        if execution_input.get("check_queue") is False and self.store.queue_item(execution_input["queue"]).paused_at:
            # Its starter said that it found the queue open, so the runner will not read it. Noted,
            # not raised: the starter would take the error for a failed start.
            self.unchecked_in_paused.append(f"{request['name']} in queue {execution_input['queue']}")
        response: dict[str, Any] = self.sfn.start_execution(**request)
        self.started[request["name"]] += 1
        self.executions[request["name"]] = Execution(
            request["name"], response["executionArn"], execution_input, self.clock()
        )
        return response

    def send_task_success(self, taskToken: str, output: str) -> None:
        execution = self.executions.get(taskToken.removeprefix("token-"))
        if execution is None or execution.phase != "waiting":
            raise self.exceptions.TaskTimedOut(
                {"Error": {"Code": "TaskTimedOut", "Message": "gone"}}, "SendTaskSuccess"
            )
        answer = json.loads(output)
        execution.admitted, execution.continued = answer["admitted"], answer.get("continued", False)

    def stop_execution(self, **request: Any) -> None:
        self.sfn.stop_execution(**request)
        name = request["executionArn"].rsplit(":", 1)[1]
        self.executions.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sfn, name)


class StateMachinePlayer:
    """Moves executions and plays their runners, on the simulation's clock."""

    def __init__(
        self, system: JobSystem, sfn: SimulatedStepFunctions, clock: Clock, faults: Faults, taken: set[str]
    ) -> None:
        self.system = system
        self.sfn = sfn
        self.clock = clock
        self.faults = faults
        self.commands_run: dict[str, int] = defaultdict(int)  # each attempt's command, how often it ran
        self.taken = taken  # the lifecycle table's rows taken, as `from>to`

    def step(self, execution: Execution) -> None:
        try:
            job = self.system.store.get(execution.job_id)
        except JobNotFound:
            # Closed, and past its retention, before its execution got on: a canceled retry's back-off,
            # or an EndRun that hours of simulated time kept from running. The runner's, admit's or
            # end_run's JobNotFound fails the execution; its slot is the clean-up's to give back.
            self.finish(execution, "FAILED")
            return
        if execution.phase == "route":
            if execution.input.get("run_at") and parse_iso(execution.input["run_at"]) > self.clock():
                return  # WaitUntilDue
            execution.phase = "admit" if execution.input.get("limited") else "run"
        elif execution.phase == "admit":
            self._ask_for_a_slot(execution, job)
        elif execution.phase == "waiting":
            if execution.admitted is None and self.clock() - execution.since >= SLOT_WAIT:
                self._ask_again(execution, job)
            elif execution.admitted is not None:
                execution.phase = "run" if execution.admitted else "end"
        elif execution.phase == "run":
            self._runner_starts(execution, job)
        elif execution.phase == "end":
            self._end(execution, job)

    def _ask_again(self, execution: Execution, job: Job) -> None:
        """Its wait timed out every 300 s since it began, and it asked again each time. The asks
        before it was a week old changed nothing (it waited on); from then on each is made at its
        own moment, until one hands the job on, is answered, or it is now."""
        now, since = self.clock.now, execution.since
        asks = int((now - since) / SLOT_WAIT)
        first = min(asks, max(1, math.ceil((execution.started + CONTINUE_AFTER - since) / SLOT_WAIT)))
        try:
            for ask in range(first, asks + 1):
                self.clock.now = now if ask == asks else since + ask * SLOT_WAIT
                self._ask_for_a_slot(execution, job, asks=first if ask == first else 1)
                if execution.continued or execution.admitted is not None:
                    return
        finally:
            self.clock.now = now

    def _ask_for_a_slot(self, execution: Execution, job: Job, asks: int = 1) -> None:
        """WaitForSlot, `asks` times (the last one now): the job's admit with its execution's start;
        each ask adds its events to the history."""
        execution.phase, execution.since, execution.admitted = "waiting", self.clock(), None
        self.system.admit(job.id, f"token-{execution.name}", execution.started)
        execution.history += EVENTS_PER_ASK * asks
        assert execution.history <= MAX_HISTORY, (
            f"execution {execution.name} ran out of history ({execution.history} events) waiting in line"
        )
        if execution.continued:  # WasItAdmitted: Done; the new execution asks for the job's turn
            self.taken.add(f"{JobState.PENDING}>{JobState.PENDING}")  # the table's continue_execution
            self.finish(execution, "SUCCEEDED")

    def _runner_starts(self, execution: Execution, job: Job) -> None:
        if job.state != JobState.PENDING:
            execution.phase = "end"
            return
        if execution.input.get("check_queue", True):  # else its starter found the queue open
            _, queue = self.system.store.job_and_queue(job.id, job.queue)
            if queue.holds_back_job(job.id, job.queue):  # AfterRun puts it in the queue's line
                execution.phase = "admit"
                return
        try:
            self.system.store.mark_running(job, self.clock(), self.system.output.location(job.id))
        except JobStateConflict:
            execution.phase = "end"
            return
        self.commands_run[job.id] += 1
        execution.phase = "running"

    def runner_ends(self, execution: Execution, how: str) -> None:
        if how == "hang":
            # No beat, no end: the heartbeat check must find it, or the state's timeout end it.
            execution.phase, execution.since = "hung", self.clock()
            return
        if how != "crash":  # a crash is the runner's invocation failing: EndRun closes the job
            state = {"finished": JobState.FINISHED, "failed": JobState.FAILED}.get(how, JobState.TERMINATED)
            job = self.system.store.get(execution.job_id)
            ends_run = runner_ends_run(job, state, bool(execution.input.get("limited")))
            with contextlib.suppress(JobStateConflict):  # canceled meanwhile: the cancel's state stands
                closed = self.system.store.close(
                    job,
                    state,
                    self.clock(),
                    exit_code=0,
                    from_states=[JobState.RUNNING],
                    ends_run=ends_run and not (job.dependents or job.joins),
                )
                # The runner's own end of the run: its dependents started, then its end written.
                # A start that fails (a fault) leaves it to EndRun.
                execution.ended = ends_run and end_own_run(self.system, closed, execution.input["dependents"])
        execution.phase = "end"

    def _end(self, execution: Execution, job: Job) -> None:
        status = "SUCCEEDED"
        if not execution.ended:  # AfterRun: EndRun
            if self.faults.failing_end_runs:
                self.faults.failing_end_runs -= 1
                status = "FAILED"  # RunNotEnded: the clean-up finds its end lost
            else:
                try:
                    self.system.end_run(job.id, dependents=execution.input["dependents"])
                except ClientError:  # EndRun's retries spent (a start throttled): RunNotEnded
                    status = "FAILED"
        self.finish(execution, status)

    def finish(self, execution: Execution, status: str) -> None:
        self.sfn.executions.pop(execution.name, None)
        backend = stepfunctions_backends[ACCOUNT][REGION]
        backend.describe_execution(execution.arn).status = status
        self.stamp(execution.arn)

    def stamp(self, arn: str) -> None:
        """An execution's end is dated by the simulation's clock, which the clean-up reads."""
        backend = stepfunctions_backends[ACCOUNT][REGION]
        backend.describe_execution(arn).stop_date = self.clock().replace(tzinfo=None)
