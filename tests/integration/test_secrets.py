"""Secrets for commands: a secret's value reaches the command's environment and nowhere else the
system writes; a reference that cannot be read fails the job, naming it; a name outside the
prefix is refused by IAM."""

import contextlib
import json

import pytest

from jobs_local.stack import LocalStack
from tests.integration.conftest import Api

pytestmark = pytest.mark.integration

VALUE = "dsn://it-s3cret"


@pytest.fixture(scope="module")
def secrets_made(stack: LocalStack) -> None:
    secrets = stack.client("secretsmanager")  # as the account's administrator, as an operator would
    for name in ("jobs/it-shop", "other/it-shop"):
        with contextlib.suppress(secrets.exceptions.ResourceExistsException):
            secrets.create_secret(Name=name, SecretString=VALUE)


def test_a_secret_reaches_the_commands_environment_and_nowhere_else(api: Api, stack: LocalStack, table, secrets_made):
    _, job = api("POST", "/jobs", {"command": "check-secret"})
    done = api.wait(job["id"])
    assert (done["state"], done["exit_code"]) == ("finished", 0), done  # it exits 3 without the value
    assert VALUE not in json.dumps(done)
    assert all(VALUE not in line for line in api.output(job["id"]))
    assert VALUE not in json.dumps(table.scan()["Items"], default=str)  # tests may scan; no job record holds it


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("missing-secret", "env SHOP_DSN: secret 'jobs/it-missing' could not be read (ResourceNotFoundException)"),
        ("outside-prefix", "env SHOP_DSN: secret 'other/it-shop' could not be read (AccessDeniedException)"),
    ],
)
def test_a_reference_that_cannot_be_read_fails_the_job_naming_it(api: Api, secrets_made, command, reason):
    _, job = api("POST", "/jobs", {"command": command})
    failed = api.wait(job["id"])
    assert failed["state"] == "failed" and failed["reason"] == f"cannot start the command: {reason}"
    assert VALUE not in json.dumps(failed)
