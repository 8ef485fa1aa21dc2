"""Request and response bodies of the HTTP API. The committed docs/openapi.json is generated from these."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict, Field

from jobsys.audit import AuditEntry
from jobsys.config import JobDefinition, Queue
from jobsys.models import Job, QueueState
from jobsys.roles import Role
from jobsys.spec.bulk import BulkAction
from jobsys.spec.limits import CLEAN_UP_MAX_RETENTION, CLEAN_UP_PER_CALL, MAX_CLEAN_UP_PER_CALL, MAX_PAGE
from jobsys.spec.settings import SETTINGS
from jobsys.spec.types import Duration, WholeNumber

PerCall = Annotated[int, Field(ge=1, le=MAX_CLEAN_UP_PER_CALL), WholeNumber]


# A listing's page: how many, and where the page before stopped (its next_cursor).
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE)]
PageCursor = Annotated[
    str | None, Query(max_length=2048, pattern="^[A-Za-z0-9_-]+$", description="next_cursor of the page before")
]


class JobList(BaseModel):
    items: list[Job]
    next_cursor: str | None


class BulkActionList(BaseModel):
    items: list[BulkAction] = Field(description="Newest first")
    next_cursor: str | None


class AuditList(BaseModel):
    items: list[AuditEntry] = Field(description="Newest first")
    next_cursor: str | None


class DefinitionOut(JobDefinition):
    """A job definition, with when its schedule starts it next."""

    next_run_at: str | None = Field(description="When the schedule starts it next")

    @classmethod
    def of(cls, definition: JobDefinition, next_run_at: str | None) -> DefinitionOut:
        return cls.model_validate({**vars(definition), "next_run_at": next_run_at})


class DefinitionList(BaseModel):
    items: list[DefinitionOut]
    settings: list[str] = Field(
        default=list(SETTINGS),
        description="The names of a job's settings: what a start may choose, and what a job shows of them",
    )


class QueueOut(BaseModel):
    name: str
    concurrency: int | None = Field(description="At most this many of its jobs run at once; null: no limit")
    running: int = Field(description="Slots taken now (a queue without a limit has none)")
    paused: bool = Field(description="None of its jobs starts until it is resumed; running jobs go on")
    paused_by: str | None = Field(description="Who paused it")
    paused_at: str | None = Field(description="When it was paused")

    @classmethod
    def of(cls, queue: Queue, item: QueueState) -> QueueOut:
        return cls(
            name=queue.name,
            concurrency=queue.concurrency,
            running=item.running,
            paused=item.paused_at is not None,
            paused_by=item.paused_by,
            paused_at=item.paused_at,
        )


class MeOut(BaseModel):
    name: str = Field(description="The operator that the token names, or the ARN of the IAM principal")
    role: Role | None = Field(description="viewer, operator or admin; null for a SigV4 caller, whom IAM governs")


class QueueList(BaseModel):
    items: list[QueueOut]


class RunOut(BaseModel):
    root_id: str
    jobs: list[Job] = Field(description="Every job of the run, its attempts included, oldest first")


class OutputPageOut(BaseModel):
    lines: list[str]
    next_cursor: str | None = Field(description="Pass back to get the lines that follow")
    complete: bool = Field(description="True once the job is closed and every line has been read")
    stderr: list[int] = Field(description="The indexes in `lines` of the lines the command wrote to stderr")


class CleanUpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_call: PerCall = CLEAN_UP_PER_CALL
    max_retention: Duration = CLEAN_UP_MAX_RETENTION
    max_retention_succeeded: Duration | None = None


class CleanUpOut(BaseModel):
    complete: bool = Field(description="False if it stopped at its time limit: the next run goes on from there")
    deleted: list[str]
    kept_for_open_dependents: list[str] = Field(
        description="Closed jobs past their retention, kept while their run goes on (a job below, or a next attempt)"
    )
    marked_incomplete: list[str]
    slots_given_back: list[str]
    ends_handled: list[str] = Field(description="Closed jobs whose run's end was lost, ended now")
    errors: list[str] = Field(
        default_factory=list, description="Jobs it could not handle this time (each logged); the next run tries again"
    )
    audit_deleted: int = Field(default=0, description="Audit records past their retention, deleted")


class ErrorOut(BaseModel):
    """Every error, from the function or from API Gateway, has this shape."""

    message: str = Field(description="What was wrong, naming the field")


class ConflictOut(ErrorOut):
    open_job: Job | None = Field(
        default=None, description="A start of a unique definition: its run that is open, which refused the start"
    )


# What each status means, on every route that can answer it.
ERRORS = {
    400: "The request breaks this schema: a field, a parameter, or a body that is not JSON",
    401: "No token, or a wrong one (back-office API)",
    403: "The request is not signed, or the signer may not call this (IAM API)",
    404: "No such job, job definition, queue or route",
    409: "The job is not in a state that allows this; or a run of this unique definition is open (`open_job`)",
    413: "The body is too large",
    415: "The body is not application/json",
    422: "The request fits the schema, but the configuration or the clock refuses it: a command not on the"
    " allow-list, an unknown queue, a start time in the past, a cursor from another listing, an `after` that"
    " names no job of the start or makes a cycle",
    429: "Too many requests: API Gateway's throttle",
    503: "The job was recorded but its execution could not be started; it is closed as incomplete",
}
_EVERY_ROUTE = (400, 401, 403, 413, 415, 429)


def answers(status: int, model: type[BaseModel], description: str, *errors: int) -> dict[int, OpenAPIResponse]:
    """The documented responses of a route: its success and the errors it can give."""
    documented: dict[int, OpenAPIResponse] = {
        status: {"description": description, "content": {"application/json": {"model": model}}}
    }
    for code in sorted({*_EVERY_ROUTE, *errors}):
        model = ConflictOut if code == 409 else ErrorOut
        documented[code] = {"description": ERRORS[code], "content": {"application/json": {"model": model}}}
    return documented
