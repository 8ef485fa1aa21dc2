"""What a job is: its states, its record, and the tree of jobs that one start creates."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class JobState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    TERMINATED = "terminated"  # max runtime exceeded, process killed
    CANCELED = "canceled"
    INCOMPLETE = "incomplete"  # its execution died without reporting

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATES


OPEN_STATES = frozenset({JobState.PENDING, JobState.RUNNING})
CLOSED_STATES = frozenset(set(JobState) - OPEN_STATES)

Runner = Literal["lambda", "fargate"]


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Fixed-width UTC timestamps, so that string order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class JobOutputLocation(BaseModel):
    log_group: str
    log_stream: str
    s3_uri: str


class Job(BaseModel):
    id: str
    command: str
    params: list[str]
    state: JobState
    label: str
    definition: str | None = None
    parent_id: str | None = None
    root_id: str
    dependents: list[str] = Field(default_factory=list)
    created_at: str
    started_at: str | None = None
    closed_at: str | None = None
    exit_code: int | None = None
    runtime: float | None = Field(default=None, description="Seconds the command ran")
    reason: str | None = Field(default=None, description="Why a job was canceled, terminated or incomplete")
    execution_arn: str | None = None
    output: JobOutputLocation | None = None
    runner: Runner = "lambda"
    max_runtime: int = Field(description="Seconds before the command is killed and the job terminated")
    # Fields reserved for queueing features: written now so that old records stay valid later.
    queue: str = "default"
    priority: int = 0
    attempt: int = 1


class JobSpec(BaseModel):
    """A job to create, before it has an id: one node of the tree that one start creates."""

    command: str
    params: list[str] = Field(default_factory=list)
    label: str
    definition: str | None = None
    runner: Runner = "lambda"
    max_runtime: int
    depending_jobs: list[JobSpec] = Field(default_factory=list)

    def count(self) -> int:
        return 1 + sum(child.count() for child in self.depending_jobs)
