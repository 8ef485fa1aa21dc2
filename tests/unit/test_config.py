import textwrap

import pytest
import yaml
from pydantic import ValidationError

from jobsys.config import load_config, parse_config
from jobsys.errors import CommandNotAllowed, ConfigError, DefinitionNotFound, Unprocessable
from jobsys.spec.limits import LAMBDA_MAX_RUNTIME
from jobsys.spec.messages import messages
from jobsys.spec.requests import DependingJob, StartOptions

SEED_BLOCK = textwrap.dedent(
    """
    parameters:
        siso_control_center.default.add_jobs:
            import_solr:
                label: "Import from eZ"
                desc: "Starts import from a remote system"
                command: "silver:import"
                params:
                    - tmp
                depending_jobs:
                    index_solr:
                        label: "Index econtent tmp cores"
                        command: "silversolutions:indexecontent-job"
    """
)


def write(tmp_path, text: str):
    path = tmp_path / "jobs.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_the_seed_block_alone_is_a_complete_configuration(tmp_path):
    config = load_config(write(tmp_path, SEED_BLOCK))
    seed = config.definition("import_solr")
    assert (seed.label, seed.desc, seed.command, seed.params) == (
        "Import from eZ",
        "Starts import from a remote system",
        "silver:import",
        ("tmp",),
    )
    assert [d.key for d in seed.depending_jobs] == ["index_solr"]
    # Commands named by definitions are allowed; nothing else is.
    assert set(config.commands) == {"silver:import", "silversolutions:indexecontent-job"}
    with pytest.raises(CommandNotAllowed):
        config.spec_for(DependingJob(command="demo:sleep", params=["1"]))


def test_the_shipped_config_loads_and_holds_the_seed_example():
    config = load_config("config/jobs.yaml")
    spec = config.definition("import_solr").to_spec()
    assert spec.command == "silver:import" and spec.params == ["tmp"]
    assert spec.depending_jobs[0].command == "silversolutions:indexecontent-job"
    assert spec.count() == 2


def test_external_executables_and_overrides(tmp_path):
    config = load_config(
        write(
            tmp_path,
            """
            defaults: {max_runtime: 100}
            commands:
              export:products:
                argv: [/usr/bin/env, python3, -c, "print('x')"]
                runner: fargate
                max_runtime: 7200
              demo:echo: {}
            jobs:
              export:
                label: Export
                command: export:products
            """,
        )
    )
    assert config.commands["export:products"].argv == ("/usr/bin/env", "python3", "-c", "print('x')")
    assert config.commands["demo:echo"].max_runtime == 100
    definition = config.definition("export")
    assert definition.runner == "fargate" and definition.max_runtime == 7200


def test_depending_jobs_may_refer_to_top_level_jobs(tmp_path):
    config = load_config(
        write(
            tmp_path,
            """
            jobs:
              a: {label: A, command: demo:echo, depending_jobs: [b]}
              b: {label: B, command: demo:echo, depending_jobs: {c: ~}}
              c: {label: C, command: demo:echo}
            """,
        )
    )
    assert config.definition("a").to_spec().count() == 3


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("jobs: {a: {label: A, command: 'no:such'}}", "jobs.a: unknown command 'no:such'"),
        ("commands: {nope: {}}", "commands.nope: unknown command 'nope'"),
        ("jobs: {a: {label: A}}", "jobs.a: missing field 'command'"),
        ("jobs: {a: {command: demo:echo}}", "jobs.a: missing field 'label'"),
        ("jobs: {a: {label: A, command: demo:echo, colour: red}}", "jobs.a: unknown field(s) colour"),
        ("jobs: {a: {label: A, command: demo:echo, params: tmp}}", "jobs.a.params"),
        (
            "jobs: {a: {label: A, command: demo:echo, depending_jobs: [b]},"
            " b: {label: B, command: demo:echo, depending_jobs: [a]}}",
            "dependency cycle",
        ),
        ("jobs: {a: {label: A, command: demo:echo, depending_jobs: [zz]}}", "refers to job 'zz'"),
        (
            f"jobs: {{a: {{label: A, command: demo:echo, max_runtime: {LAMBDA_MAX_RUNTIME + 1}}}}}",
            "use runner: fargate",
        ),
        (
            "jobs: {a: {label: A, command: demo:echo, runner: k8s}}",
            "jobs.a.runner: must be one of 'lambda' or 'fargate', not 'k8s'",
        ),
        (
            "jobs: {a: {label: A, command: demo:echo,"
            " depending_jobs: {b: {label: B, command: demo:echo, unique: true}}}}",
            "jobs.a.depending_jobs.b.unique: only a top-level job is unique",
        ),
        ("jobs: {a: {label: A, command: demo:echo, unique: 'yes'}}", "jobs.a.unique"),
        (
            "jobs: {a: {label: A, command: demo:echo,"
            " depending_jobs: {b: {label: B, command: demo:echo, after: [zz]}}}}",
            "jobs.a: b: after names 'zz', which is no job of this start",
        ),
        (
            "jobs: {a: {label: A, command: demo:echo, depending_jobs: {b: {label: B, command: demo:echo, after: [e]},"
            " d: {label: D, command: demo:echo, after: [b], depending_jobs: {e: {label: E, command: demo:echo}}}}}}",
            "jobs.a: b: after makes a cycle: b waits for e waits for d waits for b",
        ),
        ("commands: {x: {argv: []}}", "commands.x.argv"),
        ("jobz: {}", "jobz: unknown key"),
        ("- a\n- b", "expected a mapping"),
        ("jobs: [unclosed", "not valid YAML"),
        ("commands: {x: {argv: [env], env: LANG}}", "commands.x.env: expected a list"),
        ("commands: {x: {argv: [env], env: ['1X=a']}}", "'1X' is not a variable name"),
        ("commands: {x: {argv: [env], env: ['A B']}}", "'A B' is not a variable name"),
        ("commands: {x: {argv: [env], env: [3]}}", "3: expected NAME or NAME=value"),
        ("commands: {x: {argv: [env], env: [JOB_ID=1]}}", "commands.x.env.JOB_ID: the runner sets it"),
        ("commands: {x: {argv: [env], env: [A=1, A]}}", "commands.x.env.A: named twice"),
        ("commands: {x: {argv: [env], env: {A: [1]}}}", "commands.x.env.A: expected a string"),
        ("commands: {x: {argv: [env], env: {A: true}}}", "commands.x.env.A: expected a string"),
        ('commands: {x: {argv: [env], env: {A: "a\\0b"}}}', "NUL"),
    ],
)
def test_a_bad_config_fails_at_load_time_naming_file_key_and_reason(tmp_path, text, reason):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(str(path))
    assert reason in str(error.value)


def test_a_yaml_alias_that_makes_a_cycle_is_caught():
    document = yaml.safe_load(
        textwrap.dedent(
            """
            jobs:
              a: &a
                label: A
                command: demo:echo
                depending_jobs:
                  again: *a
            """
        )
    )
    with pytest.raises(ConfigError, match="dependency cycle"):
        parse_config(document, source="aliases.yaml")


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path / "absent.yaml")


def test_ad_hoc_jobs_are_checked_like_definitions():
    config = parse_config({"commands": ["demo:echo", "demo:sleep"]})
    spec = config.spec_for(DependingJob(command="demo:echo", params=["a"], depending_jobs=[{"command": "demo:sleep"}]))
    assert spec.count() == 2 and spec.label == "demo:echo"
    with pytest.raises(CommandNotAllowed):
        config.spec_for(DependingJob(command="demo:echo", depending_jobs=[{"command": "bash", "params": ["-c", "id"]}]))
    with pytest.raises(ValidationError, match="params"):
        DependingJob(command="demo:echo", params=["\x00"])
    with pytest.raises(Unprocessable):
        config.spec_for(DependingJob(command="demo:echo", depending_jobs=[{"command": "demo:echo"}] * 100))
    with pytest.raises(DefinitionNotFound):
        config.definition("nope")


def test_a_commands_env_sets_values_and_names_what_passes_on(tmp_path):
    config = load_config(
        write(
            tmp_path,
            """
            commands:
              listed: {argv: [env], env: [FORMAT=csv, SHOP_DSN, EMPTY=, WITH_EQUALS=a=b]}
              mapped: {argv: [env], env: {FORMAT: csv, SHOP_DSN: , RETRIES: 3}}
              bare: {argv: [env]}
            """,
        )
    )
    listed, mapped = config.command("listed"), config.command("mapped")
    assert listed.env == (("FORMAT", "csv"), ("SHOP_DSN", None), ("EMPTY", ""), ("WITH_EQUALS", "a=b"))
    assert mapped.env == (("FORMAT", "csv"), ("SHOP_DSN", None), ("RETRIES", "3"))
    assert config.command("bare").env == ()


def test_errors_come_in_the_order_of_the_file_even_for_entries_set_aside():
    """An entry whose shape is wrong is set aside to check the rest; its error keeps its place."""
    document = yaml.safe_load(
        "jobs:\n"
        "  first: {label: A, command: demo:echo, retries: {max_attempts: 0}}\n"
        "  second: {label: B, command: 'no:such'}\n"
    )
    with pytest.raises(ConfigError) as error:
        parse_config(document, source="jobs.yaml")
    assert [line.split(": ")[1] for line in str(error.value).splitlines()] == [
        "jobs.first.retries.max_attempts",
        "jobs.second",
    ]


def test_an_unknown_key_that_is_empty_still_gets_its_line():
    """`{"": null}` in a body: the fuzzer's find (a 502 when the message list came back empty)."""
    with pytest.raises(ValidationError) as error:
        StartOptions.model_validate({"": None})
    assert messages(error.value.errors()) == [": unknown key"]


def _wide(count: int, unique: bool) -> dict:
    dependents = {f"part_{n}": {"label": f"Part {n}", "command": "demo:echo"} for n in range(count - 1)}
    job = {"label": "Wide", "command": "demo:echo", "unique": unique, "depending_jobs": dependents}
    return {"commands": ["demo:echo"], "jobs": {"wide": job}}


def test_a_unique_definition_leaves_room_in_its_start_s_transaction_for_its_lock():
    """A start writes its jobs and, for a unique definition, its lock in one transaction of at most
    100 items: a unique definition of 100 jobs made every start a 500."""
    assert parse_config(_wide(100, unique=False)).definition("wide").to_spec().count() == 100
    assert parse_config(_wide(99, unique=True)).definition("wide").unique
    with pytest.raises(ConfigError) as error:
        parse_config(_wide(100, unique=True), "jobs.yaml")
    assert "jobs.yaml: jobs.wide: creates 100 jobs per start; a unique definition at most 99" in str(error.value)
