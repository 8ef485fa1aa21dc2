"""A start, as the API receives it and JobSystem.start takes it: one object from the route down."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from jobsys.spec.limits import MAX_JOBS_PER_START
from jobsys.spec.options import ONE_START_TIME, When
from jobsys.spec.settings import LAMBDA_RUNTIME_RULE, SettingsChoice
from jobsys.spec.types import CommandName, JobKey, Label, Params


class StartOptions(SettingsChoice, When):
    """What a start of a job definition may change (its root job's settings), and when it starts.
    All optional; give run_at or delay, not both."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"allOf": [LAMBDA_RUNTIME_RULE, ONE_START_TIME]})


class DependingJob(SettingsChoice):
    """A job that starts when the one above it has finished."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"allOf": [LAMBDA_RUNTIME_RULE]})

    command: CommandName = Field(description="On the allow-list (422 if not)")
    params: Params = Field(default_factory=list)
    label: Label | None = Field(default=None, description="Default: the command")
    key: JobKey | None = Field(default=None, description="What another job's `after` calls it")
    after: list[JobKey] = Field(
        default_factory=list,
        max_length=MAX_JOBS_PER_START,
        description="Keys of other jobs of this start: it runs once its parent and all of them have finished",
    )
    depending_jobs: list[DependingJob] = Field(default_factory=list, max_length=MAX_JOBS_PER_START)


class CommandStart(DependingJob, StartOptions):
    """An ad-hoc job, and when it starts: the command must be on the allow-list."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"allOf": [LAMBDA_RUNTIME_RULE, ONE_START_TIME]})


class DefinitionStart(BaseModel):
    """A start of a job definition of jobs.yaml, with what the caller changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    definition: str
    options: StartOptions = Field(default_factory=StartOptions)


class Replay(StartOptions):
    """A replay of a closed job: the same command (and, for a definition's run, its dependents),
    with the params edited, any of the settings changed, and when it starts."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"allOf": [LAMBDA_RUNTIME_RULE, ONE_START_TIME]})

    params: Params | None = Field(default=None, description="The root job's params; default: the original's")


StartRequest = CommandStart | DefinitionStart
