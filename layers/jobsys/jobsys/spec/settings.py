"""A job's settings, declared once: where it runs, how long, in which queue and order, how often it
is tried.

`JobSettings` is what a job has, every setting resolved: the stored job, the tree that a start
plans, a command of the allow-list and a job definition are `JobSettings` with more. A level that
may leave a setting to the one above (jobs.yaml's `defaults:`, a command's or a job's entry, a
request) is a `SettingsChoice`: the same names, each optional. `resolve_settings` is the one
place that puts the levels together, and the one place that checks the Lambda runner's limit.

A new setting is a field of `JobSettings` and the same name in `SettingsChoice`
(tests/unit/test_settings.py ties them); jobs.yaml, the API, its OpenAPI document, the JSON
schema, the store, the retries and the page take it from here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from pydantic.config import JsonDict

from jobsys.spec.limits import DEFAULT_MAX_RUNTIME, LAMBDA_MAX_RUNTIME, MAX_TAGS
from jobsys.spec.options import RetryPolicy
from jobsys.spec.types import Priority, QueueName, Runner, Runtime, Tags

DEFAULT_QUEUE = "default"


class JobSettings(BaseModel):
    """Every setting of a job, resolved."""

    runner: Runner = Field(default="lambda", description="Where the command runs: lambda or fargate")
    max_runtime: Runtime = DEFAULT_MAX_RUNTIME
    queue: QueueName = Field(default=DEFAULT_QUEUE, description="The queue it waits in for a slot")
    priority: Priority = 0
    retries: RetryPolicy = Field(default_factory=RetryPolicy, description="How often it is tried, and how far apart")
    tags: Tags = Field(default_factory=list)

    def setting_values(self) -> dict[str, Any]:
        """The settings alone, by name, of a model that has more (a command, a definition, a job):
        to build the next level's model from, `JobSpec(**definition.setting_values(), ...)`."""
        return {name: getattr(self, name) for name in SETTINGS}


class SettingsChoice(BaseModel):
    """What one level chooses; a setting left out (or null) is the level above's."""

    runner: Runner | None = Field(default=None, description="lambda or fargate; default: the level above's")
    max_runtime: Runtime | None = Field(default=None, description="Seconds; default: the level above's")
    queue: QueueName | None = Field(default=None, description="Default: the level above's")
    priority: Priority | None = Field(default=None, description="Default: the level above's")
    retries: RetryPolicy | None = Field(default=None, description="Default: the level above's")
    tags: Tags | None = Field(default=None, description="Added to the level above's")

    def choices(self) -> dict[str, Any]:
        """The settings this level chose."""
        return {name: getattr(self, name) for name in SETTINGS if getattr(self, name) is not None}


SETTINGS: tuple[str, ...] = tuple(JobSettings.model_fields)
# Settings whose levels add up rather than replace one another: a start's tags join its definition's.
ADDED_UP = frozenset({"tags"})

# The Lambda runner's limit as a JSON schema says it, for a request that chooses both settings
# (the API answers 400); resolve_settings checks it in every case.
LAMBDA_RUNTIME_RULE: JsonDict = {
    "if": {"properties": {"runner": {"const": "lambda"}}, "required": ["runner"]},
    "then": {"properties": {"max_runtime": {"anyOf": [{"maximum": LAMBDA_MAX_RUNTIME}, {"type": "null"}]}}},
}


class SettingsProblem(ValueError):
    """Settings that cannot go together. `chosen`: the level that chose the offending settings
    itself (a request's own mistake), rather than inheriting them (the configuration's)."""

    def __init__(self, message: str, chosen: bool):
        super().__init__(message)
        self.chosen = chosen


def resolve_settings(base: JobSettings, *levels: SettingsChoice | None) -> JobSettings:
    """`base` with each level's choices over it, in order (the last level wins), checked once."""
    resolved = base.setting_values()
    chosen: dict[str, Any] = {}
    for level in levels:
        if level is not None:
            chosen = level.choices()
            resolved |= chosen | {
                name: list(dict.fromkeys([*resolved[name], *chosen[name]])) for name in ADDED_UP & chosen.keys()
            }
    if len(resolved["tags"]) > MAX_TAGS:  # each level within the limit, together over it
        raise SettingsProblem(
            f"tags: {len(resolved['tags'])} with those of the level above; {MAX_TAGS} at most", "tags" in chosen
        )
    settings = JobSettings.model_validate(resolved)
    if problem := settings.retries.problem():
        raise SettingsProblem(f"retries.{problem}", chosen=False)
    if settings.runner == "lambda" and settings.max_runtime > LAMBDA_MAX_RUNTIME:
        raise SettingsProblem(
            f"max_runtime {settings.max_runtime} s exceeds {LAMBDA_MAX_RUNTIME} s, the limit of the Lambda"
            " runner; use runner: fargate",
            chosen={"runner", "max_runtime"} <= chosen.keys(),
        )
    return settings


__all__ = [
    "DEFAULT_QUEUE",
    "LAMBDA_RUNTIME_RULE",
    "SETTINGS",
    "JobSettings",
    "SettingsChoice",
    "SettingsProblem",
    "resolve_settings",
]
