"""The configuration as the job system uses it: every reference followed, every default filled in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from pydantic import ConfigDict, Field, PlainSerializer, WithJsonSchema

from jobsys.errors import CommandNotAllowed, DefinitionNotFound, InvalidRequest, Unprocessable
from jobsys.joins import joins_problem
from jobsys.models import DEFAULT_QUEUE, JobSpec
from jobsys.schedules import Schedule
from jobsys.secret_refs import SecretRef
from jobsys.spec.limits import MAX_JOBS_PER_START
from jobsys.spec.requests import DependingJob
from jobsys.spec.settings import JobSettings, SettingsChoice, SettingsProblem, resolve_settings
from jobsys.spec.types import Overlap


@dataclass(frozen=True)
class Queue:
    name: str
    concurrency: int | None  # None: no limit


class Command(JobSettings):
    """A command of the allow-list, and the settings its jobs start from."""

    model_config = ConfigDict(frozen=True)

    name: str
    # None for a console command run by `jobs-console`; else the argv that params are appended to.
    argv: tuple[str, ...] | None = None
    # jobs.yaml's `env:`, in its order: (name, value), where None passes the runner's own value on,
    # and a SecretRef names where the runner reads it.
    env: tuple[tuple[str, str | SecretRef | None], ...] = ()


ScheduleOut = Annotated[
    Schedule,
    PlainSerializer(lambda schedule: schedule.describe()),
    WithJsonSchema({"type": "object", "additionalProperties": {"type": "string"}}, mode="serialization"),
]


class JobDefinition(JobSettings):
    """A job the back office can start, as jobs.yaml defines it and the API lists it: its settings
    resolved from its command's and its own."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    key: str
    label: str
    desc: str
    command: str
    params: tuple[str, ...]
    schedule: ScheduleOut | None = Field(default=None, description="{cron, timezone} or {rate}")
    overlap: Overlap = Field(
        default="skip", description="skip: a scheduled start is skipped while a run is open; allow"
    )
    unique: bool = Field(
        default=False, description="A start while a run of it is open is refused (409); a scheduled fire skipped"
    )
    after: tuple[str, ...] = Field(default=(), description="Keys of jobs of its tree that it waits for too")
    depending_jobs: tuple[JobDefinition, ...] = ()

    def to_spec(self) -> JobSpec:
        return JobSpec(
            key=self.key,
            after=list(self.after),
            command=self.command,
            params=list(self.params),
            label=self.label,
            definition=self.key,
            depending_jobs=[child.to_spec() for child in self.depending_jobs],
            **self.setting_values(),
        )


@dataclass(frozen=True)
class JobsConfig:
    commands: dict[str, Command]
    definitions: dict[str, JobDefinition] = field(default_factory=dict)
    queues: dict[str, Queue] = field(default_factory=lambda: {DEFAULT_QUEUE: Queue(DEFAULT_QUEUE, None)})

    def limited_queue(self, name: str) -> Queue | None:
        """The queue, if it limits how many of its jobs run at once."""
        queue = self.queues.get(name)
        return queue if queue is not None and queue.concurrency is not None else None

    def queue(self, name: str) -> Queue:
        try:
            return self.queues[name]
        except KeyError:
            known = ", ".join(sorted(self.queues))
            raise Unprocessable(f"queue: no queue '{name}' (the queues are: {known})") from None

    def command(self, name: str) -> Command:
        try:
            return self.commands[name]
        except KeyError:
            raise CommandNotAllowed(f"command '{name}' is not in the allow-list") from None

    def definition(self, key: str) -> JobDefinition:
        try:
            return self.definitions[key]
        except KeyError:
            raise DefinitionNotFound(f"no job definition '{key}'") from None

    def spec_for(self, request: DependingJob) -> JobSpec:
        """An ad-hoc job from the API, checked against the allow-list like a definition."""
        spec = self._spec_for(request)
        if spec.count() > MAX_JOBS_PER_START:
            raise Unprocessable(f"one start may create at most {MAX_JOBS_PER_START} jobs")
        if problem := joins_problem(spec):
            # It fits the schema, which cannot say what a key names: 422, as for an unknown queue.
            raise Unprocessable(f"depending_jobs: {problem}")
        return spec

    def _spec_for(self, request: DependingJob) -> JobSpec:
        return JobSpec(
            key=request.key,
            after=list(request.after),
            command=request.command,
            params=list(request.params),
            label=request.label or request.command,
            depending_jobs=[self._spec_for(child) for child in request.depending_jobs],
            **self.settings_for(self.command(request.command), request).setting_values(),
        )

    def settings_for(self, base: JobSettings, request: SettingsChoice) -> JobSettings:
        """A request's settings over those it starts from (a command's, a definition's). Settings
        that the request chose itself and that cannot go together break the API's schema (400);
        those it left to the configuration are the configuration's (422)."""
        if request.queue is not None:
            self.queue(request.queue)
        try:
            return resolve_settings(base, request)
        except SettingsProblem as problem:
            raise (InvalidRequest if problem.chosen else Unprocessable)(str(problem)) from None
