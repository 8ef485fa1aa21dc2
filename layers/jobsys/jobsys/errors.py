"""Domain errors. The API maps each to one HTTP status, in one place."""


class JobSystemError(Exception):
    """Base class; the message is safe to show to a client."""


class NotFound(JobSystemError):
    pass


class JobNotFound(NotFound):
    pass


class DefinitionNotFound(NotFound):
    pass


class CommandNotAllowed(JobSystemError):
    pass


class InvalidRequest(JobSystemError):
    pass


class JobStateConflict(JobSystemError):
    """A conditional write lost: the job is not in the state the caller expected."""


class ConfigError(JobSystemError):
    pass


class StartFailed(JobSystemError):
    """The job was recorded but its execution could not be started."""
