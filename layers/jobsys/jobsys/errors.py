"""Domain errors. The API maps each to one HTTP status, in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobsys.models import Job


class JobSystemError(Exception):
    """Base class; the message is safe to show to a client."""

    def details(self) -> dict[str, Any]:
        """What the API's error body holds besides the message."""
        return {}


class NotFound(JobSystemError):
    pass


class JobNotFound(NotFound):
    pass


class DefinitionNotFound(NotFound):
    pass


class QueueNotFound(NotFound):
    pass


class CommandNotAllowed(JobSystemError):
    pass  # 422, as the allow-list is configuration


class InvalidRequest(JobSystemError):
    """The request breaks a rule that the API's schema states (400)."""


class Unprocessable(JobSystemError):
    """The request fits the schema, but the configuration or the clock refuses it (422)."""


class JobStateConflict(JobSystemError):
    """A conditional write lost: the job is not in the state the caller expected. `current`: the
    job as the write found it, when DynamoDB gave it back with the refusal."""

    def __init__(self, message: str, current: Job | None = None):
        super().__init__(message)
        self.current = current


class AlreadyOpen(JobStateConflict):
    """A start of a `unique: true` definition while a run of it is open."""

    def __init__(self, message: str, open_job: Job):
        super().__init__(message)
        self.open_job = open_job

    def details(self) -> dict[str, Any]:
        return {"open_job": self.open_job.model_dump(mode="json")}


class ConfigError(JobSystemError):
    pass


class StartFailed(JobSystemError):
    """The job was recorded but its execution could not be started: `job`, its run ended."""

    def __init__(self, message: str, job: Job):
        super().__init__(message)
        self.job = job


class ExecutionNotStarted(JobSystemError):
    """Recorded, but its execution could not be started (503): a bulk action, left stopped to be resumed."""
