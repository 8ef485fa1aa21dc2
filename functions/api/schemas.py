"""Request and response bodies of the HTTP API. The committed docs/openapi.json is generated from these."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from jobsys.models import Job, RetryPolicy


class DependingJobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str = Field(min_length=1, max_length=200)
    params: list[str] = Field(default_factory=list)
    label: str | None = Field(default=None, max_length=200)
    runner: Literal["lambda", "fargate"] | None = None
    max_runtime: int | None = Field(default=None, ge=1)
    queue: str | None = Field(default=None, max_length=64, description="Default: the command's queue")
    priority: int | None = Field(default=None, description="-1000 to 1000; higher starts first in its queue")
    depending_jobs: list[DependingJobRequest] = Field(default_factory=list)


class StartOptionsRequest(BaseModel):
    """When and where a start runs. All optional; give run_at or delay, not both."""

    model_config = ConfigDict(extra="forbid")

    queue: str | None = Field(default=None, max_length=64, description="Run in this queue instead")
    priority: int | None = Field(default=None, description="-1000 to 1000; higher starts first in its queue")
    run_at: str | None = Field(default=None, max_length=64, examples=["2026-12-24T18:00:00Z"])
    delay: str | None = Field(default=None, max_length=64, examples=["10 min", "2 hours"])


class StartJobRequest(DependingJobRequest):
    """An ad-hoc job: the command must be on the allow-list."""

    run_at: str | None = Field(default=None, max_length=64, examples=["2026-12-24T18:00:00Z"])
    delay: str | None = Field(default=None, max_length=64, examples=["10 min", "2 hours"])


class JobList(BaseModel):
    items: list[Job]
    next_cursor: str | None


class DefinitionOut(BaseModel):
    key: str
    label: str
    desc: str
    command: str
    params: list[str]
    runner: str
    max_runtime: int
    queue: str
    priority: int
    retries: RetryPolicy
    schedule: dict[str, str] | None = Field(description="{cron, timezone} or {rate}")
    overlap: str = Field(description="skip: a scheduled start is skipped while a run is open; allow")
    next_run_at: str | None = Field(description="When the schedule starts it next")
    depending_jobs: list[DefinitionOut]


class DefinitionList(BaseModel):
    items: list[DefinitionOut]


class QueueOut(BaseModel):
    name: str
    concurrency: int | None = Field(description="At most this many of its jobs run at once; null: no limit")
    running: int = Field(description="Slots taken now")


class QueueList(BaseModel):
    items: list[QueueOut]


class OutputPageOut(BaseModel):
    lines: list[str]
    next_cursor: str | None = Field(description="Pass back to get the lines that follow")
    complete: bool = Field(description="True once the job is closed and every line has been read")


class CleanUpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_call: int = Field(default=10, ge=1, le=1000)
    max_retention: str = Field(default="7 days", examples=["1 min", "2 hours", "7 days"])
    max_retention_succeeded: str | None = None


class CleanUpOut(BaseModel):
    deleted: list[str]
    kept_for_open_dependents: list[str]
    marked_incomplete: list[str]
    slots_given_back: list[str]


class ErrorOut(BaseModel):
    message: str
