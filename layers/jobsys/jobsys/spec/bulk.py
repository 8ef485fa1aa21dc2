"""A bulk action, as the API takes it and the table keeps it: cancel, retry or delete the jobs that
match a filter, in pages, driven by its own execution (statemachines/bulk_action.asl.json)."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from pydantic.config import JsonDict

from jobsys.filters import JobFilter
from jobsys.models import Job
from jobsys.spec.limits import MAX_BULK_JOBS
from jobsys.spec.types import WholeNumber

BulkVerb = Literal["retry", "cancel", "delete"]
BulkState = Literal["running", "stopping", "stopped", "done"]


# Without dry_run, the count is required: the model's check, as the JSON schema says it.
COUNTED_FIRST: JsonDict = {
    "if": {"not": {"properties": {"dry_run": {"const": True}}, "required": ["dry_run"]}},
    "then": {"required": ["expect_count"], "properties": {"expect_count": {"type": "integer"}}},
}
ExpectCount = Annotated[int, Field(ge=0, le=MAX_BULK_JOBS), WholeNumber]


class BulkRequest(BaseModel):
    """First a dry run, which counts; then the action, which names that count."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"allOf": [COUNTED_FIRST]})

    action: BulkVerb
    filter: JobFilter = Field(default_factory=JobFilter)
    dry_run: StrictBool = Field(default=False, description="Only count the jobs, and show the newest")
    expect_count: ExpectCount | None = Field(
        default=None, description="The dry run's count: more jobs match now is a 409"
    )

    @model_validator(mode="after")
    def _counted_first(self) -> Self:
        if not self.dry_run and self.expect_count is None:
            raise ValueError("expect_count: give the count of a dry run (dry_run: true) first")
        return self


class BulkDryRun(BaseModel):
    count: int = Field(description="The jobs that match now")
    sample: list[Job] = Field(description="The newest of them")


class BulkAction(BaseModel):
    """A bulk action's record (pk "BULK#<id>"): what it does, and how far it got."""

    id: str
    action: BulkVerb
    filter: JobFilter = Field(description="Its since and until as times: the jobs created until it started")
    state: BulkState = Field(description="running, stopping (asked to stop, at its next page), stopped, or done")
    count: int = Field(description="The jobs that matched as it started")
    done: int = Field(default=0, description="Jobs acted on")
    skipped: int = Field(default=0, description="Jobs that changed meanwhile (no longer matching, or in another state)")
    created_by: str
    created_at: str
    updated_at: str
    cursor: str | None = Field(default=None, description="The id of the last job it went past")
    generation: int = Field(default=1, description="Its execution: 1, then one more for each resume")
    stopped_by: str | None = None
    reason: str | None = Field(default=None, description="Why it stopped, if not by a person")
