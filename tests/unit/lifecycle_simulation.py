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
import random
from collections import defaultdict
from collections.abc import Callable
from typing import Any
from unittest import mock

from boto3.dynamodb.types import TypeDeserializer
from moto.dynamodb.models import dynamodb_backends

from jobsys.cleanup import CleanUpPolicy, clean_up
from jobsys.errors import AlreadyOpen, StartFailed
from jobsys.ids import _encode
from jobsys.lifecycle import ABSENT, ENDED, TRANSITIONS
from jobsys.models import Job, JobState, iso
from jobsys.spec.requests import DefinitionStart
from jobsys.state_changes import state_changes
from jobsys.store.items import ITEM_SK, _from_item
from jobsys.system import JobSystem
from tests.unit.in_process import Clock, TableStream, system_for
from tests.unit.simulated_execution import (
    ACCOUNT,
    REGION,
    RUN_ON_LAMBDA_TIMEOUT,
    Faults,
    SimulatedStepFunctions,
    StateMachinePlayer,
)

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
# A queue with slots, whose line admits its jobs, and one without, whose runners read it (check_queue).
PAUSED_IN_TURN = ("serial", "default")
RETENTION = CleanUpPolicy.parse(100, "1 hour")
# Most runs finish, so that trees, fan-ins and unique runs get far enough to meet each other.
RUNNER_ENDS = ("finished", "finished", "finished", "failed", "terminated", "crash", "hang")
# Past this, nothing should still be open once every execution ran to its end (the drain).
DRAIN_ROUNDS = 40


class LifecycleSimulation:
    # Every state change seen, over all the runs of a session: the test checks that each row of the
    # lifecycle table was taken.
    seen_transitions: set[str] = set()

    def __init__(self) -> None:
        self.clock = Clock()
        self.faults = Faults()
        self._context = system_for(CONFIG, self.clock)
        self.system: JobSystem = self._context.__enter__()
        self.sfn = SimulatedStepFunctions(self.system.sfn, self.faults, self.clock, self.system.store)
        self.system.sfn = self.sfn
        self.player = StateMachinePlayer(self.system, self.sfn, self.clock, self.faults, self.seen_transitions)
        self.pauses = 0  # the queue of the next pause: PAUSED_IN_TURN, in turn
        self.events: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
        self.stream = TableStream("jobs")  # the events are made from it, as JobEventsFunction makes them

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
            self.player.step(movable[pick % len(movable)])

    def runner_ends(self, pick: int, how: str) -> None:
        running = [e for e in self.sfn.executions.values() if e.phase == "running"]
        if running:
            self.player.runner_ends(running[pick % len(running)], how)

    def cancel(self, pick: int, running: bool) -> None:
        wanted = (JobState.RUNNING,) if running else (JobState.PENDING, JobState.RUNNING)
        open_jobs = [job for job in self.jobs().values() if job.state in wanted]
        if open_jobs:
            self.system.cancel_job(open_jobs[pick % len(open_jobs)].id, canceled_by="ops")

    def execution_stopped_behind_its_back(self, pick: int) -> None:
        if self.sfn.executions:
            execution = sorted(self.sfn.executions.values(), key=lambda e: e.job_id)[pick % len(self.sfn.executions)]
            self.sfn.stop_execution(executionArn=execution.arn, cause="a redeploy")
            self.player.stamp(execution.arn)

    def pause_or_resume(self, paused: bool) -> None:
        """A pause takes the limited queue and the default one in turn; a resume resumes both."""
        if paused:
            self.pauses += 1
            self.system.pause_queue(PAUSED_IN_TURN[self.pauses % len(PAUSED_IN_TURN)], by="ops")
        else:
            for queue in PAUSED_IN_TURN:
                self.system.resume_queue(queue)

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
        self._record_events([change for _, change in state_changes(self.stream.read())])
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
        assert all(count == 1 for count in self.player.commands_run.values()), "an attempt's command ran twice"

    def invariant_an_execution_that_skips_its_queue_s_read_starts_while_the_queue_is_open(
        self, jobs: dict[str, Job]
    ) -> None:
        assert not self.sfn.unchecked_in_paused, f"started with check_queue false: {self.sfn.unchecked_in_paused}"

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
        for queue in PAUSED_IN_TURN:  # a paused queue holds its jobs back for good, rightly
            self.system.resume_queue(queue)
        for _ in range(DRAIN_ROUNDS):
            for execution in list(self.sfn.executions.values()):
                if execution.phase == "running":
                    self.player.runner_ends(execution, "finished")
                elif execution.phase != "hung":
                    self.player.step(execution)
            self.time_passes(600)
            self.heartbeat_check()
            self.clean_up_pass()
            if not self.sfn.executions and not any(job.state.is_open for job in self.jobs().values()):
                break
        stuck = {job.id: (job.label, job.state, job.waiting) for job in self.jobs().values() if job.state.is_open}
        assert not stuck, f"open for good, with nothing to move them on: {stuck}"
        assert self.system.store.queue_counter("serial") == (0, set()), "a slot held after every run ended"
        self.system.start(DefinitionStart(definition=UNIQUE))  # its lock is free

    def command_taken_out_of_jobs_yaml(self, pick: int) -> None:
        """A deploy took a job's command off the allow-list before its runner started it."""
        due = [e for e in self.sfn.executions.values() if e.phase == "run"]
        if due:
            execution = due[pick % len(due)]
            self.system.close_job(execution.job_id, JobState.FAILED, reason="command not allowed")  # as the runner does
            execution.phase = "end"

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
    # 16 days: a job in a paused or full queue's line outlives an execution's history, but for
    # its continuing in a new one.
    ("time_passes", 5, lambda rng: (rng.choice([5, 30, 61, 150, 600, 3600, 6 * 3600, 16 * 86400]),)),
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
