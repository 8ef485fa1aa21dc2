"""What a job is: its states, its record, and the tree of jobs that one start creates."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from jobsys.costs import RunUsage
from jobsys.spec.settings import DEFAULT_QUEUE as DEFAULT_QUEUE
from jobsys.spec.settings import JobSettings

# Re-exported: most of the code takes them from here.
from jobsys.timestamps import iso as iso
from jobsys.timestamps import parse_iso as parse_iso
from jobsys.timestamps import utc_now as utc_now


class JobState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    TERMINATED = "terminated"  # max runtime exceeded, process killed
    CANCELED = "canceled"
    INCOMPLETE = "incomplete"  # its execution died without reporting
    SKIPPED = "skipped"  # a scheduled start not made, as a run of its definition was still open

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATES


OPEN_STATES = frozenset({JobState.PENDING, JobState.RUNNING})
CLOSED_STATES = frozenset(set(JobState) - OPEN_STATES)

# Closed jobs in these states are tried again while they have attempts left.
RETRIED_STATES = frozenset({JobState.FAILED, JobState.TERMINATED, JobState.INCOMPLETE})

Trigger = Literal["api", "schedule", "retry", "replay"]


@dataclass(frozen=True)
class QueueState:
    """A queue now: the slots its jobs hold, and whether it is paused."""

    running: int = 0
    holders: frozenset[str] = field(default_factory=frozenset)
    paused_by: str | None = None
    paused_at: str | None = None

    def held_back(self, name: str) -> str | None:
        """Why none of the queue's jobs starts now, if it is paused."""
        if self.paused_at is None:
            return None
        at = parse_iso(self.paused_at).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"queue {name} is paused (by {self.paused_by} at {at})"

    def holds_back_job(self, job_id: str, name: str) -> str | None:
        """Why a job of the queue may not start now: the queue is paused, and the job holds none of
        its slots (one that does was admitted before the pause, and runs)."""
        return None if job_id in self.holders else self.held_back(name)


class JobOutputLocation(BaseModel):
    log_group: str
    log_stream: str
    s3_uri: str


class Progress(BaseModel):
    done: int
    total: int


class Job(JobSettings):
    """A job as it is stored and shown: its settings (`JobSettings`), and its run."""

    id: str
    command: str
    params: list[str]
    state: JobState
    label: str
    definition: str | None = None
    parent_id: str | None = None
    root_id: str
    dependents: list[str] = Field(default_factory=list)
    key: str | None = Field(default=None, description="Its key in the tree of its start: what `after` names")
    after: list[str] = Field(
        default_factory=list, description="Jobs it waits for besides its parent: it runs once all have finished"
    )
    joins: list[str] = Field(default_factory=list, description="Jobs that wait for it besides their parent (`after`)")
    created_at: str
    started_at: str | None = None
    closed_at: str | None = None
    exit_code: int | None = None
    runtime: float | None = Field(default=None, description="Seconds the command ran")
    peak_memory_mb: float | None = Field(default=None, description="The command's peak resident memory, in MiB")
    progress: Progress | None = Field(default=None, description="The last `PROGRESS done/total` line it printed")
    heartbeat_at: str | None = Field(
        default=None, description="When its runner last said that it runs (every 20 s): 60 s without closes it"
    )
    expected_end_at: str | None = Field(default=None, description="When a running job should end, if known")
    expected_end_from: Literal["progress", "history"] | None = Field(
        default=None, description="progress: from its PROGRESS lines; history: the median of its last finished runs"
    )
    cpu_seconds: float | None = Field(default=None, description="CPU time the command used (user + system)")
    usage: RunUsage | None = Field(default=None, description="What its run is billed for, as its runner measured it")
    reason: str | None = Field(default=None, description="Why a job was canceled, terminated or incomplete")
    execution_arn: str | None = None
    output: JobOutputLocation | None = None
    output_error: str | None = Field(
        default=None, description="Why the output's copy in S3 could not be saved; its log stream holds it whole"
    )
    ended_at: str | None = Field(
        default=None,
        description="When the end of its run was handled: slot given back, dependents started or next attempt planned",
    )
    attempt: int = 1
    retry_of: str | None = Field(default=None, description="The attempt before this one")
    attempt_of: str | None = Field(default=None, description="The first attempt, of which this is a retry")
    retried_by: str | None = Field(default=None, description="The attempt after this one")
    replay_of: str | None = Field(default=None, description="The closed job that this one replays, its params edited")
    replays: list[str] = Field(default_factory=list, description="The jobs that replayed this one, oldest first")
    trigger: Trigger = Field(default="api", description="What started it: api, schedule, retry or replay")
    started_by: str | None = Field(
        default=None,
        description="Who started it: the caller's IAM principal ARN, the operator named by the back-office token,"
        " or 'schedule' / 'retry'; a dependent has its root's",
    )
    canceled_by: str | None = Field(default=None, description="Who canceled it (or the job it depended on)")
    run_at: str | None = Field(default=None, description="A delayed job starts at this time")
    waiting: str | None = Field(default=None, description="Why a pending job has not started yet")

    @property
    def origin(self) -> str:
        """The id that stands for this job and each of its attempts: its first attempt's."""
        return self.attempt_of or self.id

    @property
    def next_attempt_due(self) -> bool:
        """Closed, with an attempt left, and its run's end not handled yet: that end plans the next."""
        return (
            self.state in RETRIED_STATES
            and self.attempt < self.retries.max_attempts
            and self.ended_at is None
            and self.retried_by is None
        )

    @property
    def moves_on(self) -> bool:
        """Open, or closed with its next attempt still to be planned: its run is not over."""
        return self.state.is_open or self.next_attempt_due


class JobSpec(JobSettings):
    """A job to create, before it has an id: one node of the tree that one start creates."""

    key: str | None = None
    after: list[str] = Field(default_factory=list, description="Keys of jobs of the same tree")
    command: str
    params: list[str] = Field(default_factory=list)
    label: str
    definition: str | None = None
    depending_jobs: list[JobSpec] = Field(default_factory=list)

    def count(self) -> int:
        return 1 + sum(child.count() for child in self.depending_jobs)

    def walk(self) -> list[JobSpec]:
        """This job and every one below it, parents first."""
        return [self, *(job for child in self.depending_jobs for job in child.walk())]
