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
    pass  # 422, as the allow-list is configuration


class InvalidRequest(JobSystemError):
    """The request breaks a rule that the API's schema states (400)."""


class Unprocessable(JobSystemError):
    """The request fits the schema, but the configuration or the clock refuses it (422)."""


class JobStateConflict(JobSystemError):
    """A conditional write lost: the job is not in the state the caller expected."""


class ConfigError(JobSystemError):
    pass


class StartFailed(JobSystemError):
    """The job was recorded but its execution could not be started."""
