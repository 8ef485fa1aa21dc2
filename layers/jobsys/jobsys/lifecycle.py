"""A job's lifecycle in one table: every state of a job, of a queue's slot, of a unique definition's
lock and of a join's wait, and every transition between them, with who may make it and the
condition it is written with. The store's writes go through it (`job_transition`): a change that no
row allows raises before it is written. docs/architecture.md shows the table (`python -m
jobsys.lifecycle`), and tests/unit/test_lifecycle_simulation.py walks it: each row must be taken
by the simulation, and each change the simulation sees must be a row.

A new feature adds rows here, and steps to the simulation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from jobsys.models import CLOSED_STATES, JobState

# Where a job is before it is recorded, and after the clean-up deleted it.
ABSENT = "—"
# A closed job whose run's end was handled (`ended_at`): its state stays, its run is over.
ENDED = "ended"

Subject = Literal["job", "slot", "lock", "join"]


class Actor(StrEnum):
    """Who writes: each is a function of the template, or the schedule that invokes one."""

    API = "API"  # ApiFunction: a person's or a service's request
    SCHEDULE = "schedule"  # JobStateFunction `scheduled_start`, invoked by EventBridge Scheduler
    RUNNER = "runner"  # RunnerFunction, or the Fargate task
    JOB_STATE = "job_state"  # JobStateFunction: EndRun, admit, the heartbeat check
    CLEAN_UP = "clean-up"  # CleanUpFunction, or POST /clean-up
    BULK = "bulk_action"  # BulkActionFunction: a bulk action's pages (a person's, by POST /bulk-actions)


@dataclass(frozen=True)
class Transition:
    name: str
    subject: Subject
    from_states: tuple[str, ...]
    to_state: str
    by: tuple[Actor, ...]
    condition: str  # what the write's condition checks, as DynamoDB evaluates it
    why: str

    def allows(self, from_states: Iterable[str], to_state: str) -> bool:
        return to_state == self.to_state and set(from_states) <= set(self.from_states)


_OPEN = (JobState.PENDING, JobState.RUNNING)
_CLOSED = tuple(sorted(CLOSED_STATES))
_RETRIED = (JobState.FAILED, JobState.TERMINATED, JobState.INCOMPLETE)
_A, _S, _R, _J, _C, _B = Actor.API, Actor.SCHEDULE, Actor.RUNNER, Actor.JOB_STATE, Actor.CLEAN_UP, Actor.BULK

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "record", "job", (ABSENT,), JobState.PENDING, (_A, _S, _B),
        "attribute_not_exists(pk), every job of a start in one transaction (with the lock, if unique)",
        "a start: a definition's tree, an ad-hoc command, a schedule's fire, or a replay (one by"
        " a bulk retry marks its original, so that it replays it once)",
    ),
    Transition(
        "record_skipped", "job", (ABSENT,), JobState.SKIPPED, (_S,),
        "attribute_not_exists(pk)",
        "a schedule's fire while a run of its definition is open (overlap: skip, or unique)",
    ),
    Transition(
        "plan_next_attempt", "job", (ABSENT,), JobState.PENDING, (_A, _J, _C),
        "attribute_not_exists(pk), and on the attempt before: state = its closed state AND"
        " attribute_not_exists(retried_by), in one transaction",
        "the end of a run that failed, was terminated or ended incomplete with an attempt left",
    ),
    Transition(
        "continue_execution", "job", (JobState.PENDING,), JobState.PENDING, (_J,),
        "state = pending; SET execution_arn = its next execution's",
        "a week in its queue's line: it waits on in a new execution (<job id>-2, ...), in its place,"
        " before the old one's history (25,000 events) runs out",
    ),
    Transition(
        "start_run", "job", (JobState.PENDING,), JobState.RUNNING, (_R,),
        "state = pending",
        "the runner starts the command; a second delivery of the same run finds it running",
    ),
    Transition(
        "finish", "job", (JobState.RUNNING,), JobState.FINISHED, (_R,),
        "state = running",
        "the command exited 0; a Lambda run with no dependent, join or slot ends its run (ended_at) in"
        " the same write, as AfterRun skips EndRun for it (one with dependents or joins: end_run, by its runner)",
    ),
    Transition(
        "fail", "job", _OPEN, JobState.FAILED, (_R,),
        "state IN (pending, running)",
        "the command exited non-zero, or could not start (not allowed, a secret missing)",
    ),
    Transition(
        "terminate", "job", (JobState.RUNNING,), JobState.TERMINATED, (_R,),
        "state = running",
        "past its max_runtime, or the runner's own time limit: its process group killed",
    ),
    Transition(
        "cancel", "job", _OPEN, JobState.CANCELED, (_A, _J, _C, _B),
        "state IN (pending, running)",
        "an operator's cancel; a dependent or join whose parent did not finish (state = pending)",
    ),
    Transition(
        "close_incomplete", "job", _OPEN, JobState.INCOMPLETE, (_A, _J, _C),
        "state IN (pending, running); the heartbeat check also heartbeat_at = the beat it read",
        "its execution ended, never started, or its runner stopped beating, without the runner's word",
    ),
    Transition(
        "end_run", "job", _CLOSED, ENDED, (_A, _R, _J, _C),
        "attribute_exists(closed_at) AND attribute_not_exists(ended_at)",
        "its slot given back, then its dependents started, its next attempt planned or its dependents"
        " canceled: written last, once (by the runner of a finished Lambda run of a queue without slots,"
        " after it started the dependents)",
    ),
    Transition(
        "delete", "job", _CLOSED, ABSENT, (_C, _B),
        "state = the closed state read",
        "past its retention (or a bulk delete), and its run over: no job of it below, and no next attempt, open",
    ),
    Transition(
        "take_slot", "slot", ("free",), "held", (_J,),
        "running < concurrency AND NOT contains(holders, job), or already held by it",
        "a job of a limited queue is admitted (WaitForSlot's `admit`)",
    ),
    Transition(
        "give_back_slot", "slot", ("held",), "free", (_J, _C),
        "contains(holders, job)",
        "its run's end (EndRun), or the clean-up for a closed job whose execution ended",
    ),
    Transition(
        "take_lock", "lock", ("free", "held"), "held", (_A, _S),
        "attribute_not_exists(pk) OR holder = the root whose run the start read and found over",
        "a start of a unique definition, in the transaction that records its jobs",
    ),
    Transition(
        "arrive", "join", ("waiting",), "waiting", (_J,),
        "state = pending; DELETE waits_for the job's first attempt",
        "a job a join waits for finished: the update that empties the set starts the join",
    ),
)  # fmt: skip


def job_transition(from_states: Iterable[str], to_state: str) -> Transition:
    """The row that allows a job's write from `from_states` to `to_state`; raises if none does."""
    from_states = list(from_states)
    for row in TRANSITIONS:
        if row.subject == "job" and row.allows(from_states, to_state):
            return row
    raise ValueError(f"no transition of the lifecycle table moves a job from {'/'.join(from_states)} to {to_state}")


def markdown() -> str:
    """The table, as docs/architecture.md shows it."""
    lines = [
        "| transition | of a | from | to | by | written on the condition | when |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in TRANSITIONS:
        cells = [
            f"`{row.name}`",
            row.subject,
            ", ".join(str(state) for state in row.from_states),
            str(row.to_state),
            ", ".join(row.by),
            row.condition,
            row.why,
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
