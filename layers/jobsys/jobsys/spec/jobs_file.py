"""jobs.yaml as a model: `JobsFile.model_validate(yaml.safe_load(text))` checks every key and value
that a schema can state, and config/jobs.schema.json is generated from it (`make schema`).
What no schema says (references, inheritance, the allow-list) is config.py's."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    WithJsonSchema,
    field_validator,
)

from jobsys.errors import InvalidRequest
from jobsys.schedules import Schedule, parse_schedule
from jobsys.secret_refs import SecretRef
from jobsys.spec.limits import MAX_ENV, MAX_JOBS_PER_START
from jobsys.spec.messages import at_key
from jobsys.spec.settings import SettingsChoice
from jobsys.spec.types import (
    ENV_NAME_PATTERN,
    NO_NUL,
    NOT_BLANK,
    CommandName,
    Concurrency,
    Duration,
    JobKey,
    Label,
    Overlap,
    Params,
    QueueName,
)

RUNNER_SETS = ("JOB_ID", "JOB_ATTEMPT")  # a command's `env:` cannot change what identifies its job


def _names_to_mapping(value: Any) -> Any:
    """`[a, b]` is `{a: ~, b: ~}`: commands by name alone, dependents by the key of a top-level job."""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return dict.fromkeys(value)
    return value


_ENV_NAME = re.compile(ENV_NAME_PATTERN)


def _env(raw: Any) -> tuple[tuple[str, str | SecretRef | None], ...]:
    """`env:` as docker compose writes it: a list of `NAME=value` (set) and `NAME` (passed on from
    the runner's environment), or a mapping of NAME to a value, to nothing to pass it on, or to a
    reference (`{secret: NAME, key: FIELD}`, `{parameter: /path}`) that the runner reads."""
    if raw is None:
        return ()
    entries: list[tuple[Any, Any]]
    if isinstance(raw, list):
        entries = []
        for item in raw:
            if not isinstance(item, str):
                raise ValueError(f"{item!r}: expected NAME or NAME=value")
            name, equals, value = item.partition("=")
            entries.append((name, value if equals else None))
    elif isinstance(raw, dict):
        entries = list(raw.items())
    else:
        raise ValueError("expected a list of NAME or NAME=value, or a mapping of NAME to a value")
    if len(entries) > MAX_ENV:
        raise ValueError(f"{MAX_ENV} variables at most")
    env: dict[str, str | SecretRef | None] = {}
    for name, value in entries:
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise ValueError(f"{name!r} is not a variable name (letters, digits and '_', not first a digit)")
        if name in RUNNER_SETS:
            raise at_key(name, "the runner sets it for every job")
        if name in env:
            raise at_key(name, "named twice")
        if isinstance(value, dict):
            try:
                env[name] = SecretRef.model_validate(value)
            except ValidationError as exc:
                problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
                raise at_key(
                    name, f"a reference is {{secret: NAME, key: FIELD}} or {{parameter: NAME}}: {problem}"
                ) from None
            continue
        if isinstance(value, bool) or not (value is None or isinstance(value, str | int | float)):
            raise at_key(name, "expected a string, a number or nothing (to pass it on)")
        if value is not None and "\0" in str(value):
            raise at_key(name, "a value cannot hold a NUL character")
        env[name] = None if value is None else str(value)
    return tuple(env.items())


# The schema of what `_env` reads; written out, as the check is one function over both forms.
_ENV_SCHEMA = {
    "description": "NAME=value sets a variable; NAME alone passes the runner's own value on",
    "anyOf": [
        {
            "type": "array",
            "maxItems": MAX_ENV,
            "items": {"type": "string", "pattern": ENV_NAME_PATTERN.removesuffix("$") + "(=.*)?$"},
        },
        {
            "type": "object",
            "maxProperties": MAX_ENV,
            "propertyNames": {"pattern": ENV_NAME_PATTERN, "not": {"enum": list(RUNNER_SETS)}},
            "additionalProperties": {
                "anyOf": [
                    {"type": ["string", "number", "null"]},
                    {
                        "type": "object",
                        "properties": {"secret": {"type": "string", "minLength": 1}, "key": {"type": "string"}},
                        "required": ["secret"],
                        "additionalProperties": False,
                    },
                    {
                        "type": "object",
                        "properties": {"parameter": {"type": "string", "minLength": 1}},
                        "required": ["parameter"],
                        "additionalProperties": False,
                    },
                ]
            },
        },
        {"type": "null"},
    ],
}
Env = Annotated[
    tuple[tuple[str, str | SecretRef | None], ...],
    BeforeValidator(_env),
    WithJsonSchema(_ENV_SCHEMA, mode="validation"),
]


def _schedule(raw: Any) -> Schedule:
    try:
        return parse_schedule(raw)
    except InvalidRequest as exc:
        raise ValueError(str(exc)) from None


class ScheduleEntry(BaseModel):
    """`{cron: "0 2 * * *", timezone: "Europe/Berlin"}` or `{rate: "1 hour"}` (whole minutes)."""

    model_config = ConfigDict(extra="forbid")

    cron: str | None = Field(default=None, description="crontab's five fields", examples=["0 2 * * *"])
    timezone: str | None = Field(default=None, description="Default: UTC", examples=["Europe/Berlin"])
    rate: Duration | None = None


ScheduleField = Annotated[Schedule, BeforeValidator(_schedule, json_schema_input_type=ScheduleEntry)]


class QueueEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    concurrency: Concurrency | None = Field(default=None, description="No limit if not given")


class Defaults(SettingsChoice):
    """What a command says when it says nothing; what this says not, the job system's own defaults."""

    model_config = ConfigDict(extra="forbid")


class CommandEntry(SettingsChoice):
    """An allowed command: a `jobs-console` command by its name alone, or an executable (`argv`)."""

    model_config = ConfigDict(extra="forbid")

    argv: list[Annotated[str, Field(min_length=1, pattern=NO_NUL)]] | None = Field(
        default=None, min_length=1, description="The executable first; a job's params are appended"
    )
    desc: str = ""
    env: Env = ()


class JobEntry(SettingsChoice):
    """A back-office job definition, in the shape of the seed's."""

    model_config = ConfigDict(extra="forbid")

    label: Label
    desc: str = ""
    command: CommandName
    params: Params = Field(default_factory=list)
    depending_jobs: Annotated[
        dict[str, JobEntry | None],
        BeforeValidator(_names_to_mapping, json_schema_input_type=list[str] | dict[str, JobEntry | None]),
        Field(description="Each runs once this job has finished; `key: ~` (or a list of keys) names a top-level job"),
    ] = Field(default_factory=dict)
    after: list[JobKey] = Field(
        default_factory=list,
        max_length=MAX_JOBS_PER_START,
        description="Keys of other jobs of the same tree: it runs once its parent and all of them have finished",
    )
    schedule: ScheduleField | None = None
    overlap: Overlap = Field(default="skip", description="skip: a scheduled start waits while a run is open")
    unique: StrictBool = Field(  # strict: YAML's `yes` is a string here, as in the schema
        default=False,
        description="One open run at a time: a start while one is open (its retries included) is refused"
        " (409) and a scheduled fire skipped. A top-level job only",
    )

    @field_validator("params", mode="before")
    @classmethod
    def _numbers_are_params_too(cls, value: Any) -> Any:
        if isinstance(value, list):  # YAML reads `- 30` as a number
            return [str(p) if isinstance(p, int | float) and not isinstance(p, bool) else p for p in value]
        return value


class SeedParameters(BaseModel):
    """The seed's Symfony `parameters:` block, pasted as it is; other parameters are left alone."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    # The seed's configuration nests the job definitions under this Symfony parameter.
    add_jobs: dict[str, JobEntry | None] = Field(default_factory=dict, alias="siso_control_center.default.add_jobs")


SEED_PARAMETER = SeedParameters.model_fields["add_jobs"].alias


class JobsFile(BaseModel):
    """The job system's configuration: what may run, the jobs the back office offers, the queues."""

    model_config = ConfigDict(extra="forbid", title="jobs.yaml")

    defaults: Defaults = Field(default_factory=Defaults)
    queues: dict[QueueName, QueueEntry | None] = Field(
        default_factory=dict,
        json_schema_extra={"additionalProperties": False},  # only names of QueueName's pattern
    )
    commands: Annotated[
        dict[Annotated[str, Field(min_length=1, pattern=NOT_BLANK)], CommandEntry | None],
        BeforeValidator(_names_to_mapping, json_schema_input_type=list[str] | dict[str, CommandEntry | None]),
        Field(description="The allow-list"),
    ] = Field(default_factory=dict)
    jobs: dict[str, JobEntry | None] = Field(default_factory=dict)
    parameters: SeedParameters | None = None

    @field_validator("defaults", "queues", "commands", "jobs", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any, info: Any) -> Any:
        if value is None:  # `jobs:` with nothing under it
            return cls.model_fields[info.field_name].get_default(call_default_factory=True)
        return value
