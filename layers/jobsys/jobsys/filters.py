"""Which jobs a request asks for beyond one page of an index: a bulk action's filter, and what
GET /jobs with a tag or a param checks on the jobs that the search index found."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from jobsys.models import Job, JobState
from jobsys.spec.limits import MAX_PAGE
from jobsys.spec.types import CommandName, JobKey, Moment, Param, QueueName, Tag

JobId = Annotated[str, Field(pattern="^[0-9A-HJKMNP-TV-Z]{26}$")]


class JobFilter(BaseModel):
    """Which jobs: every part given must match. `since` and `until` bound when the jobs were created.
    A bulk action's filter; GET /jobs with a tag or a param filters the jobs it finds by the same."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state: JobState | None = None
    definition: JobKey | None = None
    command: CommandName | None = None
    queue: QueueName | None = None
    since: Moment | None = Field(default=None, description="A time with its zone, or a duration before now (24h)")
    until: Moment | None = Field(default=None, description="As since; a start takes the jobs created until then")
    tag: Tag | None = None
    param: Param | None = None
    ids: list[JobId] | None = Field(
        default=None, max_length=MAX_PAGE, description="Only these jobs (the rows ticked on the page)"
    )

    def matches(self, job: Job) -> bool:
        """The parts that a job's record holds; the time range is the selection's (ids)."""
        return (
            (self.state is None or job.state == self.state)
            and (self.definition is None or job.definition == self.definition)
            and (self.command is None or job.command == self.command)
            and (self.queue is None or job.queue == self.queue)
            and (self.tag is None or self.tag in job.tags)
            and (self.param is None or self.param in job.params)
        )
