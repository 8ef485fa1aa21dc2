"""A job's settings are declared once (jobsys/spec/settings.py): every level that has them takes
them from there, one function resolves them, and the Lambda runner's limit is checked in it."""

import typing

import pytest

from jobsys.config import parse_config
from jobsys.config.model import Command, JobDefinition
from jobsys.errors import ConfigError
from jobsys.models import Job, JobSpec
from jobsys.spec.jobs_file import CommandEntry, Defaults, JobEntry
from jobsys.spec.limits import LAMBDA_MAX_RUNTIME, MAX_TAGS
from jobsys.spec.options import RetryPolicy
from jobsys.spec.requests import CommandStart, DependingJob, StartOptions
from jobsys.spec.settings import SETTINGS, JobSettings, SettingsChoice, SettingsProblem, resolve_settings
from jobsys.system.ending import RETRY_KEEPS


def test_a_choice_names_every_setting_and_each_may_be_left_to_the_level_above():
    assert tuple(SettingsChoice.model_fields) == SETTINGS == tuple(JobSettings.model_fields)
    resolved = typing.get_type_hints(JobSettings, include_extras=True)
    chosen = typing.get_type_hints(SettingsChoice, include_extras=True)
    for name in SETTINGS:
        assert chosen[name] == resolved[name] | None, name
        assert SettingsChoice.model_fields[name].default is None, name


@pytest.mark.parametrize("model", [Job, JobSpec, Command, JobDefinition])
def test_what_has_settings_has_them_from_the_one_model(model):
    assert issubclass(model, JobSettings)
    assert {name: model.model_fields[name].annotation for name in SETTINGS} == {
        name: JobSettings.model_fields[name].annotation for name in SETTINGS
    }


@pytest.mark.parametrize("model", [Defaults, CommandEntry, JobEntry, DependingJob, CommandStart, StartOptions])
def test_what_chooses_settings_chooses_them_from_the_one_model(model):
    assert issubclass(model, SettingsChoice)


def test_a_retry_keeps_every_setting():
    assert set(SETTINGS) <= RETRY_KEEPS


def test_the_last_level_that_chooses_a_setting_wins_and_the_rest_come_from_above():
    command = resolve_settings(JobSettings(), SettingsChoice(max_runtime=60, queue="imports"))
    definition = resolve_settings(command, SettingsChoice(priority=5), None, SettingsChoice(max_runtime=90))
    assert definition == JobSettings(max_runtime=90, queue="imports", priority=5)
    assert resolve_settings(definition, SettingsChoice()) == definition


def test_the_lambda_limit_is_the_requests_fault_only_where_it_chose_both_settings():
    fargate = JobSettings(runner="fargate", max_runtime=3600)
    with pytest.raises(SettingsProblem, match="use runner: fargate") as from_above:
        resolve_settings(fargate, SettingsChoice(runner="lambda"))
    assert not from_above.value.chosen
    with pytest.raises(SettingsProblem) as chosen:
        resolve_settings(JobSettings(), SettingsChoice(runner="lambda", max_runtime=LAMBDA_MAX_RUNTIME + 1))
    assert chosen.value.chosen
    assert resolve_settings(fargate, SettingsChoice(max_runtime=LAMBDA_MAX_RUNTIME + 1)).runner == "fargate"


def test_the_files_defaults_reach_every_command_and_what_a_level_says_wins():
    config = parse_config(
        {
            "defaults": {"max_runtime": 120, "priority": 2, "retries": {"max_attempts": 2}},
            "queues": {"imports": {"concurrency": 1}},
            "commands": {"demo:echo": {"queue": "imports"}, "demo:fail": {"priority": 7}},
            "jobs": {"echo": {"label": "Echo", "command": "demo:echo", "max_runtime": 30}},
        }
    )
    echo, fail = config.command("demo:echo"), config.command("demo:fail")
    assert (echo.max_runtime, echo.queue, echo.priority, echo.retries) == (
        120,
        "imports",
        2,
        RetryPolicy(max_attempts=2),
    )
    assert (fail.queue, fail.priority) == ("default", 7)
    definition = config.definition("echo")
    assert (definition.max_runtime, definition.queue, definition.priority) == (30, "imports", 2)


@pytest.mark.parametrize(
    ("defaults", "reason"),
    [
        ({"queue": "nowhere"}, "defaults.queue: no queue 'nowhere'"),
        ({"max_runtime": LAMBDA_MAX_RUNTIME + 1}, "defaults: max_runtime"),
    ],
)
def test_the_files_defaults_are_checked_as_any_level(defaults, reason):
    with pytest.raises(ConfigError, match=reason):
        parse_config({"defaults": defaults, "commands": ["demo:echo"]})


@pytest.mark.parametrize("backoff", ["", "soon", "10 parsecs", -2.00001])
def test_a_duration_the_schema_accepts_is_one_the_model_reads(backoff):
    """Found by the fuzz once a request could give `retries`: the schema took any string for a
    duration, and the model refused "" with a 400 (a schema-valid request must not be a 400)."""
    import jsonschema
    from pydantic import ValidationError

    schema = CommandStart.model_json_schema()
    body = {"command": "demo:echo", "retries": {"backoff": backoff}}
    with pytest.raises(ValidationError):
        CommandStart.model_validate(body)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, schema)


def test_tags_add_up_level_by_level_each_once_and_within_the_limit():
    command = resolve_settings(JobSettings(), SettingsChoice(tags=["catalogue"]))
    definition = resolve_settings(command, SettingsChoice(tags=["store:de", "catalogue"]))
    assert definition.tags == ["catalogue", "store:de"]
    assert resolve_settings(definition, SettingsChoice(queue="imports")).tags == definition.tags
    full = resolve_settings(JobSettings(), SettingsChoice(tags=[f"t{i}" for i in range(MAX_TAGS)]))
    with pytest.raises(SettingsProblem, match=f"tags: {MAX_TAGS + 1} with those of the level above") as over:
        resolve_settings(full, SettingsChoice(tags=["one-more"]))
    assert over.value.chosen  # the start's own tags broke it: 400
