"""Request and response bodies of the HTTP API. The committed docs/openapi.json is generated from these."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from jobsys.durations import DURATION_PATTERN
from jobsys.models import Job, RetryPolicy
from jobsys.spec.limits import (
    CLEAN_UP_MAX_RETENTION,
    CLEAN_UP_PER_CALL,
    LAMBDA_MAX_RUNTIME,
    MAX_CLEAN_UP_PER_CALL,
    MAX_JOBS_PER_START,
    MAX_PARAM_LENGTH,
    MAX_PARAMS,
    MAX_PRIORITY,
    MAX_RUNTIME,
)


def _whole_number(value: Any) -> Any:
    # JSON Schema's integer: 3 and 3.0, never true, "3" or 3.5 (which pydantic's lax mode would take).
    if isinstance(value, bool) or not isinstance(value, int | float) or not float(value).is_integer():
        raise ValueError("must be a whole number")
    return int(value)


def whole(**limits: Any) -> Any:
    """An integer within `limits`; the constraints come before the check, so the schema shows them."""
    return Annotated[int, Field(**limits), BeforeValidator(_whole_number)]


# Every limit the code enforces is stated here, so that the schema is the contract. What only the
# configuration or the clock decides (the allow-list, the queues, a time in the past) is a 422.
Param = Annotated[str, Field(max_length=MAX_PARAM_LENGTH, pattern="^[^\\x00]*$")]
Duration = Annotated[str, Field(max_length=64, pattern=DURATION_PATTERN, examples=["10 min", "2 hours", "7 days"])]
Priority = whole(
    ge=-MAX_PRIORITY, le=MAX_PRIORITY, description="Higher starts first in its queue; default: the command's"
)
Runtime = whole(ge=1, le=MAX_RUNTIME)
PerCall = whole(ge=1, le=MAX_CLEAN_UP_PER_CALL)
RunAt = Annotated[
    str,
    Field(
        max_length=64,
        json_schema_extra={"format": "date-time"},
        examples=["2026-12-24T18:00:00Z"],
        description="Start then (at most 364 days ahead); a time up to 5 min past means now",
    ),
]
# A Lambda runs 15 min at most; the runner keeps a minute for saving the output.
_LAMBDA_RUNTIME_RULE = {
    "if": {"properties": {"runner": {"const": "lambda"}}, "required": ["runner"]},
    "then": {"properties": {"max_runtime": {"anyOf": [{"maximum": LAMBDA_MAX_RUNTIME}, {"type": "null"}]}}},
}
_ONE_START_TIME = {"not": {"required": ["run_at", "delay"]}}


def _start_rules(*rules: dict) -> dict:
    return {"allOf": list(rules)}


class DependingJobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_start_rules(_LAMBDA_RUNTIME_RULE))

    command: str = Field(
        min_length=1, max_length=200, description="On the allow-list (422 if not)", examples=["demo:echo"]
    )
    params: list[Param] = Field(default_factory=list, max_length=MAX_PARAMS)
    label: str | None = Field(default=None, max_length=200)
    runner: Literal["lambda", "fargate"] | None = None
    max_runtime: Runtime | None = Field(
        default=None, description=f"Seconds; at most {LAMBDA_MAX_RUNTIME} on the Lambda runner"
    )
    queue: str | None = Field(default=None, max_length=64, description="Default: the command's queue")
    priority: Priority | None = None
    depending_jobs: list[DependingJobRequest] = Field(default_factory=list, max_length=MAX_JOBS_PER_START)


class StartOptionsRequest(BaseModel):
    """When and where a start runs. All optional; give run_at or delay, not both."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_start_rules(_ONE_START_TIME))

    queue: str | None = Field(default=None, max_length=64, description="Run in this queue instead")
    priority: Priority | None = None
    run_at: RunAt | None = None
    delay: Duration | None = None


class StartJobRequest(DependingJobRequest):
    """An ad-hoc job: the command must be on the allow-list."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_start_rules(_LAMBDA_RUNTIME_RULE, _ONE_START_TIME))

    run_at: RunAt | None = None
    delay: Duration | None = None


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

    per_call: PerCall = CLEAN_UP_PER_CALL
    max_retention: Duration = CLEAN_UP_MAX_RETENTION
    max_retention_succeeded: Duration | None = None


class CleanUpOut(BaseModel):
    complete: bool = Field(description="False if it stopped at its time limit: the next run goes on from there")
    deleted: list[str]
    kept_for_open_dependents: list[str]
    marked_incomplete: list[str]
    slots_given_back: list[str]
    ends_handled: list[str] = Field(description="Closed jobs whose run's end was lost, ended now")


class ErrorOut(BaseModel):
    """Every error, from the function or from API Gateway, has this shape."""

    message: str = Field(description="What was wrong, naming the field")


# What each status means, on every route that can answer it.
ERRORS = {
    400: "The request breaks this schema: a field, a parameter, or a body that is not JSON",
    401: "No token, or a wrong one (back-office API)",
    403: "The request is not signed, or the signer may not call this (IAM API)",
    404: "No such job, job definition or route",
    409: "The job is not in a state that allows this",
    413: "The body is too large",
    415: "The body is not application/json",
    422: "The request fits the schema, but the configuration or the clock refuses it: a command not on the"
    " allow-list, an unknown queue, a start time in the past, a cursor from another listing",
    429: "Too many requests: API Gateway's throttle",
    503: "The job was recorded but its execution could not be started; it is closed as incomplete",
}
_EVERY_ROUTE = (400, 401, 403, 413, 415, 429)


def answers(status: int, model: type[BaseModel], description: str, *errors: int) -> dict[int, dict]:
    """The documented responses of a route: its success and the errors it can give."""
    documented: dict[int, dict] = {
        status: {"description": description, "content": {"application/json": {"model": model}}}
    }
    for code in sorted({*_EVERY_ROUTE, *errors}):
        documented[code] = {"description": ERRORS[code], "content": {"application/json": {"model": ErrorOut}}}
    return documented
