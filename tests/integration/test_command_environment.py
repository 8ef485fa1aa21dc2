"""A command sees a minimal environment plus what jobs.yaml's `env:` names, never the runner's own:
on AWS that holds the function's credentials and, on Lambda, the runtime API that answers for it."""

import pytest

from jobs_local.stack import LocalStack
from tests.integration.conftest import Api

pytestmark = pytest.mark.integration

MINIMAL = {
    "PATH", "LD_LIBRARY_PATH", "LANG", "LC_ALL", "TZ",
    "HOME", "TMPDIR", "PYTHONUNBUFFERED", "JOB_ID", "JOB_ATTEMPT",
}  # fmt: skip
# What the runner itself has here, as on AWS, and a command must not see unless its `env:` names it.
THE_RUNNERS = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "JOBS_TABLE", "JOBS_CONFIG",
)  # fmt: skip


@pytest.mark.parametrize("runner", ["lambda", "fargate"])
def test_a_command_sees_its_minimal_environment_and_what_its_env_names(api: Api, stack: LocalStack, runner):
    _, job = api("POST", "/jobs", {"command": "print-env", "runner": runner})
    assert api.wait(job["id"])["state"] == "finished"
    env = dict(line.split("=", 1) for line in api.output(job["id"]))

    assert env["JOB_ID"] == job["id"] and env["JOB_ATTEMPT"] == "1"
    assert env["EXPORT_FORMAT"] == "csv"  # a value that env: sets
    assert env["JOBS_BUCKET"] == stack.physical_id("OutputBucket")  # a name that env: passes on
    assert "NOT_IN_THE_RUNNER" not in env  # passed on, but the runner has none
    assert env["HOME"] == env["TMPDIR"] and env["HOME"].startswith("/")
    for name in THE_RUNNERS:
        assert name not in env
    fargate = {"ECS_CONTAINER_METADATA_URI_V4"} if runner == "fargate" else set()
    assert set(env) - MINIMAL - fargate == {"EXPORT_FORMAT", "JOBS_BUCKET"}
    assert fargate <= set(env)


@pytest.mark.parametrize("runner", ["lambda", "fargate"])
def test_a_command_acts_with_the_command_role_and_cannot_touch_the_jobs_table(api: Api, stack: LocalStack, runner):
    """Fault 11: a command that asks for AWS credentials got the runner's, with full DynamoDB and S3
    CRUD. It now gets a session of the command role, which the local stack's IAM enforces."""
    _, job = api("POST", "/jobs", {"command": "aws-probe", "runner": runner})
    ended = api.wait(job["id"])
    lines = api.output(job["id"])
    assert ended["state"] == "finished", lines[-5:]
    role = stack.client("iam").get_role(RoleName=stack.physical_id("CommandRole"))["Role"]["RoleName"]
    assert lines[0].startswith("as: arn:aws:sts::") and f":assumed-role/{role}/job-{job['id']}" in lines[0]
    assert lines[1:] == ["jobs table: AccessDeniedException", "catalogue: ok", "output: AccessDenied"]
    assert api.job(job["id"])["state"] == "finished"  # its item is still there
