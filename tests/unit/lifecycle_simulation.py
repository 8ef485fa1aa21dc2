"""A deterministic simulation of the whole job lifecycle (issue 33): the real JobSystem in-process on
moto, with a clock the simulation moves, and the simulation in the parts of Step Functions and of
the runner. Its steps (starts of trees, fan-ins, unique and retried definitions;
executions moving on; runners that finish, fail, crash or hang; cancels; pauses; clean-up passes
and heartbeat checks at any moment; clock jumps; StartExecution and EndRun failures) and checks the
lifecycle's invariants after every step.

A seeded random walk picks the steps, so a failure replays from its seed. `make test` runs it with
a fixed seed; `make simulate SEED=n STEPS=n` runs it longer.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from unittest import mock

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError
from moto.dynamodb.models import dynamodb_backends
from moto.stepfunctions.models import stepfunctions_backends

from jobsys.cleanup import CleanUpPolicy, clean_up
from jobsys.errors import AlreadyOpen, JobNotFound, JobStateConflict, StartFailed
from jobsys.ids import _encode
from jobsys.lifecycle import ABSENT, ENDED, TRANSITIONS
from jobsys.models import Job, JobState, iso, parse_iso
from jobsys.spec.requests import DefinitionStart
from jobsys.store.items import ITEM_SK, _from_item
from jobsys.system import JobSystem
from tests.unit.in_process import Clock, system_for

CONFIG = {
    "queues": {"serial": {"concurrency": 1}},
    "commands": ["demo:echo", "demo:fail"],
    "jobs": {
        "plain": {"label": "Plain", "command": "demo:echo"},
        "tree": {
            "label": "Tree",
            "command": "demo:echo",
            "depending_jobs": {
                "b": {
                    "label": "B",
                    "command": "demo:echo",
                    "depending_jobs": {"c": {"label": "C", "command": "demo:echo"}},
                }
            },
        },
        "rebuild": {
            "label": "Rebuild",
            "command": "demo:echo",
            "depending_jobs": {
                "import_de": {"label": "Import DE", "command": "demo:echo"},
                "import_fr": {"label": "Import FR", "command": "demo:echo", "retries": {"max_attempts": 2}},
                "build_index": {"label": "Build index", "command": "demo:echo", "after": ["import_de", "import_fr"]},
            },
        },
        "import": {
            "label": "Import",
            "command": "demo:echo",
            "unique": True,
            "retries": {"max_attempts": 2, "backoff": "10 min"},
            "depending_jobs": {"index": {"label": "Index", "command": "demo:echo"}},
        },
        "serial": {"label": "Serial", "command": "demo:echo", "queue": "serial", "retries": {"max_attempts": 2}},
    },
}
UNIQUE = "import"
ACCOUNT, REGION = "123456789012", "us-east-1"  # moto's, where tests/unit/in_process.py creates all
RETENTION = CleanUpPolicy.parse(100, "1 hour")
SLOT_WAIT = timedelta(seconds=300)  # WaitForSlot's TimeoutSeconds: the execution asks again
RUN_ON_LAMBDA_TIMEOUT = timedelta(seconds=900)  # RunOnLambda's TimeoutSeconds
RUNNER_ENDS = ("finished", "failed", "terminated", "crash", "hang")
# Past this, nothing should still be open once every execution ran to its end (the drain).
DRAIN_ROUNDS = 40


@dataclass
class Execution:
    """One job's execution, as the state machine moves it: `phase` is where it stands."""

    job_id: str
    arn: str
    input: dict[str, Any]
    phase: str = "route"  # route, admit, waiting, run, running, hung, end
    since: Any = None  # when it began to wait for a slot, or its runner hung
    admitted: bool | None = None


@dataclass
class Faults:
    failing_starts: int = 0
    failing_end_runs: int = 0


class SimulatedStepFunctions:
    """moto's Step Functions, with each execution's progress played by the simulation: its starts are
    recorded in moto and here; a task token answers the waiting execution; a fault fails starts."""

    def __init__(self, sfn: Any, faults: Faults) -> None:
        self.sfn = sfn
        self.exceptions = sfn.exceptions
        self.faults = faults
        self.executions: dict[str, Execution] = {}
        self.started: dict[str, int] = defaultdict(int)

    def start_execution(self, **request: Any) -> dict[str, Any]:
        if self.faults.failing_starts:
            self.faults.failing_starts -= 1
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "StartExecution")
        response: dict[str, Any] = self.sfn.start_execution(**request)
        self.started[request["name"]] += 1
        self.executions[request["name"]] = Execution(
            request["name"], response["executionArn"], json.loads(request["input"])
        )
        return response

    def send_task_success(self, taskToken: str, output: str) -> None:
        execution = self.executions.get(taskToken.removeprefix("token-"))
        if execution is None or execution.phase != "waiting":
            raise self.exceptions.TaskTimedOut(
                {"Error": {"Code": "TaskTimedOut", "Message": "gone"}}, "SendTaskSuccess"
            )
        execution.admitted = json.loads(output)["admitted"]

    def stop_execution(self, **request: Any) -> None:
        self.sfn.stop_execution(**request)
        name = request["executionArn"].rsplit(":", 1)[1]
        self.executions.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sfn, name)


class LifecycleSimulation:
    # Every state change seen, over all the runs of a session: the test checks that each row of the
    # lifecycle table was taken.
    seen_transitions: set[str] = set()

    def __init__(self) -> None:
        self.clock = Clock()
        self.faults = Faults()
        self._context = system_for(CONFIG, self.clock)
        self.system: JobSystem = self._context.__enter__()
        self.sfn = SimulatedStepFunctions(self.system.sfn, self.faults)
        self.system.sfn = self.sfn
        self.events: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
        self.system.store.on_change = self._record_events
        self.commands_run: dict[str, int] = defaultdict(int)

    # --- what the world does -------------------------------------------------------------------

    def start(self, definition: str) -> None:
        open_before = self._open_unique_runs(self.jobs()) if definition == UNIQUE else set()
        try:
            self.system.start(DefinitionStart(definition=definition), started_by="ops")
        except AlreadyOpen as refused:
            assert open_before, f"a start of {definition} was refused, but no run of it is open: {refused}"
        except StartFailed:
            pass  # the fault below: its run ended; the invariants check what it left

    def schedule_fires(self, definition: str, again: bool) -> None:
        """A schedule's fire (Scheduler may deliver one twice): skipped while a run is open."""
        fired_at = iso(self.clock())
        jobs = self.jobs()
        # A unique definition skips while its last run goes on; the others while a job of theirs is open.
        run_open = bool(self._open_unique_runs(jobs)) if definition == UNIQUE else None
        run_open = run_open or any(job.definition == definition and job.state.is_open for job in jobs.values())
        for _ in range(2 if again else 1):
            job = self.system.start_scheduled(definition, fired_at)
            if job is not None and job.state == JobState.SKIPPED:
                assert run_open, f"a fire of {definition} skipped, but no run of it was open"

    def start_execution_fails(self, count: int) -> None:
        self.faults.failing_starts = count

    def end_run_fails(self) -> None:
        self.faults.failing_end_runs = 1

    def execution_moves_on(self, pick: int) -> None:
        movable = [e for e in self.sfn.executions.values() if e.phase not in ("running", "hung")]
        if movable:
            self._step(movable[pick % len(movable)])

    def runner_ends(self, pick: int, how: str) -> None:
        running = [e for e in self.sfn.executions.values() if e.phase == "running"]
        if running:
            self._runner_ends(running[pick % len(running)], how)

    def cancel(self, pick: int, running: bool) -> None:
        wanted = (JobState.RUNNING,) if running else (JobState.PENDING, JobState.RUNNING)
        open_jobs = [job for job in self.jobs().values() if job.state in wanted]
        if open_jobs:
            self.system.cancel_job(open_jobs[pick % len(open_jobs)].id, canceled_by="ops")

    def execution_stopped_behind_its_back(self, pick: int) -> None:
        if self.sfn.executions:
            execution = sorted(self.sfn.executions.values(), key=lambda e: e.job_id)[pick % len(self.sfn.executions)]
            self.sfn.stop_execution(executionArn=execution.arn, cause="a redeploy")
            self._stamp(execution.arn)

    def pause_or_resume(self, paused: bool) -> None:
        if paused:
            self.system.pause_queue("serial", by="ops")
        else:
            self.system.resume_queue("serial")

    def time_passes(self, seconds: int) -> None:
        self.clock.advance(seconds=seconds)
        for execution in self.sfn.executions.values():
            # A live runner beats every 20 s; one whose job was closed (canceled, or ended by the
            # heartbeat check or the clean-up) sees it, stops the command and ends. A runner that
            # hangs is cut off at RunOnLambda's TimeoutSeconds, whose Catch goes to EndRun.
            closed = execution.phase == "running" and not self.system.store.beat(execution.job_id, self.clock())
            cut_off = execution.phase == "hung" and self.clock() - execution.since >= RUN_ON_LAMBDA_TIMEOUT
            if closed or cut_off:
                execution.phase = "end"

    def heartbeat_check(self) -> None:
        self.system.check_heartbeats()

    def clean_up_pass(self) -> None:
        before = self.jobs()
        live = {e.job_id for e in self.sfn.executions.values() if e.phase != "hung"}
        report = clean_up(self.system, RETENTION)
        for job_id in report.marked_incomplete:
            assert job_id not in live, f"the clean-up closed job {job_id}, whose execution still moves it on"
            awaited = self._awaited_live(before[job_id], before, live)
            assert not awaited, f"the clean-up closed job {job_id} while job {awaited} would still start it"

    # --- the invariants --------------------------------------------------------------------------

    def invariant_a_unique_definition_has_one_open_run_at_most(self, jobs: dict[str, Job]) -> None:
        open_runs = self._open_unique_runs(jobs)
        assert len(open_runs) <= 1, f"two runs of {UNIQUE} open: {open_runs}"

    def invariant_every_state_change_gave_one_event_and_each_retry_is_planned_once(self, jobs: dict[str, Job]) -> None:
        retries: dict[str, int] = defaultdict(int)
        for job in jobs.values():
            if job.retry_of:
                retries[job.retry_of] += 1
            changes = self.events[job.id]
            assert changes and changes[0][1] is None, f"job {job.id}: no event of its creation"
            for (state, _), (_, previous) in itertools.pairwise(changes):
                assert previous == state, f"job {job.id}: events {changes}"
            assert changes[-1][0] == job.state, f"job {job.id} is {job.state}; its last event says {changes[-1]}"
        assert all(count == 1 for count in retries.values()), f"a retry planned twice: {retries}"

    def invariant_no_run_runs_twice(self, jobs: dict[str, Job]) -> None:
        assert all(count == 1 for count in self.sfn.started.values()), "an execution started twice"
        assert all(count == 1 for count in self.commands_run.values()), "an attempt's command ran twice"

    def invariant_a_queue_never_runs_more_than_its_limit_nor_keeps_a_slot_of_a_run_that_ended(
        self, jobs: dict[str, Job]
    ) -> None:
        running, holders = self.system.store.queue_counter("serial")
        assert running <= 1 and len(holders) <= 1, f"queue serial: {running} running, held by {holders}"
        for holder in holders:
            job = jobs.get(holder)
            assert job is not None and job.ended_at is None, f"a slot of serial held by {holder}, whose run ended"

    def invariant_no_job_that_an_open_job_needs_is_deleted(self, jobs: dict[str, Job]) -> None:
        for job in jobs.values():
            if job.state.is_open:
                for needed in (job.parent_id, job.retry_of, job.attempt_of, *job.after):
                    assert needed is None or needed in jobs, f"job {needed}, which open job {job.id} needs, is gone"

    def close(self) -> None:
        self._context.__exit__(None, None, None)

    def drain(self) -> None:
        """No fault any more, no pause, every runner finishes, and time goes on: whatever is open
        must close, and nothing may be left to hold a lock or a slot."""
        self.faults.failing_starts = self.faults.failing_end_runs = 0
        self.system.resume_queue("serial")  # a paused queue holds its jobs back for good, rightly
        for _ in range(DRAIN_ROUNDS):
            for execution in list(self.sfn.executions.values()):
                if execution.phase == "running":
                    self._runner_ends(execution, "finished")
                elif execution.phase != "hung":
                    self._step(execution)
            self.time_passes(600)
            self.heartbeat_check()
            self.clean_up_pass()
            if not self.sfn.executions and not any(job.state.is_open for job in self.jobs().values()):
                break
        stuck = {job.id: (job.label, job.state, job.waiting) for job in self.jobs().values() if job.state.is_open}
        assert not stuck, f"open for good, with nothing to move them on: {stuck}"
        assert self.system.store.queue_counter("serial") == (0, set()), "a slot held after every run ended"
        self.system.start(DefinitionStart(definition=UNIQUE))  # its lock is free

    # --- the state machine's part, and the runner's -------------------------------------------

    def _step(self, execution: Execution) -> None:
        try:
            job = self.system.store.get(execution.job_id)
        except JobNotFound:
            # Closed, and past its retention, before its execution got on: a canceled retry's back-off,
            # or an EndRun that hours of simulated time kept from running. The runner's, admit's or
            # end_run's JobNotFound fails the execution; its slot is the clean-up's to give back.
            self._finish(execution, "FAILED")
            return
        if execution.phase == "route":
            if execution.input.get("run_at") and parse_iso(execution.input["run_at"]) > self.clock():
                return  # WaitUntilDue
            execution.phase = "admit" if execution.input.get("limited") else "run"
        elif execution.phase == "admit":
            execution.phase, execution.since, execution.admitted = "waiting", self.clock(), None
            self.system.admit(job.id, f"token-{job.id}")
        elif execution.phase == "waiting":
            if execution.admitted is None and self.clock() - execution.since >= SLOT_WAIT:
                execution.phase = "admit"  # its wait timed out: it asks again
            elif execution.admitted is not None:
                execution.phase = "run" if execution.admitted else "end"
        elif execution.phase == "run":
            self._runner_starts(execution, job)
        elif execution.phase == "end":
            self._end(execution, job)

    def command_taken_out_of_jobs_yaml(self, pick: int) -> None:
        """A deploy took a job's command off the allow-list before its runner started it."""
        due = [e for e in self.sfn.executions.values() if e.phase == "run"]
        if due:
            execution = due[pick % len(due)]
            self.system.close_job(execution.job_id, JobState.FAILED, reason="command not allowed")  # as the runner does
            execution.phase = "end"

    def _runner_starts(self, execution: Execution, job: Job) -> None:
        if job.state != JobState.PENDING:
            execution.phase = "end"
            return
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

    def _runner_ends(self, execution: Execution, how: str) -> None:
        if how == "hang":
            # No beat, no end: the heartbeat check must find it, or the state's timeout end it.
            execution.phase, execution.since = "hung", self.clock()
            return
        if how != "crash":  # a crash is the runner's invocation failing: EndRun closes the job
            state = {"finished": JobState.FINISHED, "failed": JobState.FAILED}.get(how, JobState.TERMINATED)
            job = self.system.store.get(execution.job_id)
            with contextlib.suppress(JobStateConflict):  # canceled meanwhile: the cancel's state stands
                self.system.store.close(job, state, self.clock(), exit_code=0, from_states=[JobState.RUNNING])
        execution.phase = "end"

    def _end(self, execution: Execution, job: Job) -> None:
        plain = (
            job.state == JobState.FINISHED
            and not execution.input.get("limited")
            and not execution.input["dependents"]
            and not execution.input.get("joins")
        )
        status = "SUCCEEDED"
        if not plain:  # AfterRun: EndRun
            if self.faults.failing_end_runs:
                self.faults.failing_end_runs -= 1
                status = "FAILED"  # RunNotEnded: the clean-up finds its end lost
            else:
                try:
                    self.system.end_run(job.id, dependents=execution.input["dependents"])
                except ClientError:  # EndRun's retries spent (a start throttled): RunNotEnded
                    status = "FAILED"
        self._finish(execution, status)

    def _finish(self, execution: Execution, status: str) -> None:
        self.sfn.executions.pop(execution.job_id, None)
        backend = stepfunctions_backends[ACCOUNT][REGION]
        backend.describe_execution(execution.arn).status = status
        self._stamp(execution.arn)

    def _stamp(self, arn: str) -> None:
        """An execution's end is dated by the simulation's clock, which the clean-up reads."""
        backend = stepfunctions_backends[ACCOUNT][REGION]
        backend.describe_execution(arn).stop_date = self.clock().replace(tzinfo=None)

    # --- what the invariants read ----------------------------------------------------------------

    def _record_events(self, changes: list[tuple[Job, JobState | None]]) -> None:
        for job, previous in changes:
            self.events[job.id].append((job.state.value, previous.value if previous else None))
            self.seen_transitions.add(f"{previous.value if previous else ABSENT}>{job.state.value}")

    def jobs(self) -> dict[str, Job]:
        """Every job in the table, read from moto's own table: the simulation's look, after every
        step, and no request path (through the API it took most of the run's time)."""
        table = dynamodb_backends[ACCOUNT][REGION].get_table("jobs")
        deserialize = TypeDeserializer().deserialize
        items = ({k: deserialize(v) for k, v in item.to_json()["Attributes"].items()} for item in table.all_items())
        return {item["id"]: _from_item(item) for item in items if item["sk"] == ITEM_SK}

    def _open_unique_runs(self, jobs: dict[str, Job]) -> set[str]:
        roots = {job.id for job in jobs.values() if job.definition == UNIQUE and job.attempt == 1}
        return {job.root_id for job in jobs.values() if job.root_id in roots and job.moves_on}

    def _awaited_live(self, job: Job, jobs: dict[str, Job], live: set[str]) -> str | None:
        """A job that a job without an execution waits for, and that will still end and start it."""
        if job.state != JobState.PENDING or job.id in live:
            return None
        for awaited_id in filter(None, [job.parent_id, *job.after]):
            awaited = jobs.get(awaited_id)
            while awaited is not None and awaited.retried_by:
                awaited = jobs.get(awaited.retried_by)
            if awaited is not None and (awaited.id in live or awaited.state.is_open):
                return awaited.id
        return None


def transitions_of_the_table() -> set[str]:
    """The job rows of the lifecycle table as `from>to` pairs, as the simulation's events name them."""
    pairs = set()
    for row in TRANSITIONS:
        if row.subject == "job" and row.to_state not in (ENDED, ABSENT):
            pairs |= {f"{before}>{row.to_state}" for before in row.from_states}
    return pairs


# Each step of the world, how often it comes, and its arguments drawn from the walk's random.
STEPS: tuple[tuple[str, int, Callable[[random.Random], tuple[Any, ...]]], ...] = (
    ("start", 6, lambda rng: (rng.choice(sorted(CONFIG["jobs"])),)),
    ("start", 2, lambda rng: (UNIQUE,)),  # a unique definition's starts meet its runs more often
    ("schedule_fires", 2, lambda rng: (rng.choice(sorted(CONFIG["jobs"])), rng.random() < 0.2)),
    ("command_taken_out_of_jobs_yaml", 1, lambda rng: (rng.randrange(10_000),)),
    ("start_execution_fails", 1, lambda rng: (rng.randint(1, 3),)),
    ("end_run_fails", 1, lambda rng: ()),
    ("execution_moves_on", 14, lambda rng: (rng.randrange(10_000),)),
    ("runner_ends", 6, lambda rng: (rng.randrange(10_000), rng.choice(RUNNER_ENDS))),
    ("cancel", 2, lambda rng: (rng.randrange(10_000), rng.random() < 0.5)),
    ("execution_stopped_behind_its_back", 1, lambda rng: (rng.randrange(10_000),)),
    ("pause_or_resume", 1, lambda rng: (rng.random() < 0.5,)),
    ("time_passes", 5, lambda rng: (rng.choice([5, 30, 61, 150, 600, 3600, 6 * 3600]),)),
    ("heartbeat_check", 2, lambda rng: ()),
    ("clean_up_pass", 2, lambda rng: ()),
)
INVARIANTS = tuple(name for name in vars(LifecycleSimulation) if name.startswith("invariant_"))


def walk(seed: int, steps: int, runs: int = 1) -> LifecycleSimulation:
    """`runs` walks of `steps` steps each, from `seed`: each step drawn, taken, then every
    invariant checked; each walk ends with the drain. A failure names the seed, the walk and its
    steps, so that it replays. Returns the last walk's simulation."""
    rng = random.Random(seed)
    with contextlib.ExitStack() as patches:
        ids = _SimulatedIds()
        for module in ("jobsys.system.starting", "jobsys.system.ending", "jobsys.cleanup"):
            patches.enter_context(mock.patch(f"{module}.new_job_id", ids))
        return _walk(rng, seed, steps, runs)


class _SimulatedIds:
    """Job ids from the simulation's clock and a counter: a walk replays from its seed alone (real
    ULIDs take the real time and randomness, and ids decide the order of lines and pages)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1  # in the order of creation, as ULIDs sort
        return _encode(int(Clock().now.timestamp() * 1000) + self.count, 10) + _encode(self.count, 16)


def _walk(rng: random.Random, seed: int, steps: int, runs: int) -> LifecycleSimulation:
    weights = [step[1] for step in STEPS]
    for run in range(runs):
        simulation, taken = LifecycleSimulation(), []
        try:
            for _ in range(steps):
                name, _, draw = rng.choices(STEPS, weights)[0]
                args = draw(rng)
                taken.append(f"{name}{args}")
                getattr(simulation, name)(*args)
                jobs = simulation.jobs()
                for invariant in INVARIANTS:
                    getattr(simulation, invariant)(jobs)
            taken.append("drain")
            simulation.drain()
        except Exception as failure:
            steps_taken = "\n  ".join(taken[-40:])
            raise AssertionError(
                f"seed {seed}, walk {run + 1}, step {len(taken)}: {failure}\nits last steps:\n  {steps_taken}"
            ) from failure
        finally:
            simulation.close()
    return simulation
