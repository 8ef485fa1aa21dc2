"""Request and response bodies of the HTTP API. The committed docs/openapi.json is generated from these."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from jobsys.models import Job


class DependingJobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str = Field(min_length=1, max_length=200)
    params: list[str] = Field(default_factory=list)
    label: str | None = Field(default=None, max_length=200)
    runner: Literal["lambda", "fargate"] | None = None
    max_runtime: int | None = Field(default=None, ge=1)
    depending_jobs: list[DependingJobRequest] = Field(default_factory=list)


class StartJobRequest(DependingJobRequest):
    """An ad-hoc job: the command must be on the allow-list."""


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
    depending_jobs: list[DefinitionOut]


class DefinitionList(BaseModel):
    items: list[DefinitionOut]


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


class ErrorOut(BaseModel):
    message: str
