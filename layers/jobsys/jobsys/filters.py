"""Which jobs a request asks for, beyond one page of an index: what GET /jobs with a tag or a param
filters the search index's jobs by."""

from __future__ import annotations

from dataclasses import dataclass

from jobsys.models import Job, JobState


@dataclass(frozen=True)
class SearchFilter:
    """What GET /jobs asks of the jobs it finds through the search index: a tag or a param (or
    both), and optionally a state, command and queue."""

    tag: str | None = None
    param: str | None = None
    state: JobState | None = None
    command: str | None = None
    queue: str | None = None

    def matches(self, job: Job) -> bool:
        return (
            (self.tag is None or self.tag in job.tags)
            and (self.param is None or self.param in job.params)
            and (self.state is None or job.state == self.state)
            and (self.command is None or job.command == self.command)
            and (self.queue is None or job.queue == self.queue)
        )
