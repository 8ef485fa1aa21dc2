"""IAM as a deployed stack meets it: `make run` prints how to reach its AWS as the administrator, and
a template with a permission taken out fails its jobs with AWS's AccessDenied where an operator looks."""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from jobs_local.process import StackProcess
from tests.e2e.conftest import Http, template_copy
from tests.jobs_api import CONFIG

pytestmark = pytest.mark.e2e

AWS_LINE = re.compile(
    r"^  AWS:\s+(http://127\.0\.0\.1:\d+)  \(AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+), "
    r"the stack's administrator; region (\S+)\)$"
)


def test_make_run_prints_its_aws_endpoint_and_the_administrators_keys(local_stack: StackProcess):
    line = next(line for line in local_stack.lines if line.startswith("  AWS:"))
    endpoint, key, secret, region = AWS_LINE.match(line).groups()
    saved = json.loads((Path(local_stack.state_dir) / "jobs" / "local-stack.json").read_text())
    assert saved["aws_endpoint"] == endpoint and saved["aws_access_key_id"] == key
    assert saved["aws_secret_access_key"] == secret and saved["aws_region"] == region
    admin = boto3.Session(aws_access_key_id=key, aws_secret_access_key=secret, region_name=region)
    tables = admin.client("dynamodb", endpoint_url=endpoint).list_tables()["TableNames"]
    assert any("JobsTable" in name for name in tables)
    wrong = boto3.Session(aws_access_key_id=key, aws_secret_access_key=secret[::-1], region_name=region)
    with pytest.raises(ClientError) as refused:
        wrong.client("dynamodb", endpoint_url=endpoint).list_tables()
    assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_a_role_can_be_tried_by_hand_with_the_credentials_its_service_gets(local_stack: StackProcess):
    env = {**os.environ, "XDG_STATE_HOME": local_stack.state_dir}
    shell = subprocess.run(
        [sys.executable, "-m", "jobs_local.iam.role", "RunnerFunctionRole"], env=env, capture_output=True, text=True
    )
    assert shell.returncode == 0, shell.stderr
    exported = dict(shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in shell.stdout.splitlines())
    role = boto3.Session(
        aws_access_key_id=exported["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=exported["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=exported["AWS_SESSION_TOKEN"],
        region_name=exported["AWS_DEFAULT_REGION"],
    )
    dynamodb = role.client("dynamodb", endpoint_url=exported["AWS_ENDPOINT_URL"])
    saved = json.loads((Path(local_stack.state_dir) / "jobs" / "local-stack.json").read_text())
    admin = boto3.Session(saved["aws_access_key_id"], saved["aws_secret_access_key"], region_name=saved["aws_region"])
    tables = admin.client("dynamodb", endpoint_url=saved["aws_endpoint"]).list_tables()["TableNames"]
    table = next(name for name in tables if "JobsTable" in name)
    with pytest.raises(ClientError):  # the role may not list the account's tables either
        dynamodb.list_tables()
    with pytest.raises(ClientError) as refused:
        dynamodb.delete_table(TableName=table)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "RunnerFunctionRole" in refused.value.response["Error"]["Message"]
    unknown = subprocess.run(
        [sys.executable, "-m", "jobs_local.iam.role", "NoSuchRole"], env=env, capture_output=True, text=True
    )
    assert unknown.returncode == 2 and "RunnerFunctionRole" in unknown.stderr


def test_a_profile_acts_as_a_role_through_credential_process(local_stack: StackProcess, tmp_path: Path, monkeypatch):
    """What the AWS CLI and boto3 read from ~/.aws/config: a profile whose keys are the role's."""
    command = f"{sys.executable} -m jobs_local.iam.role --credential-process CleanUpFunctionRole"
    (tmp_path / "config").write_text(f"[profile jobs-clean-up]\ncredential_process = {command}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", local_stack.state_dir)  # where the process finds the stack
    saved = json.loads((Path(local_stack.state_dir) / "jobs" / "local-stack.json").read_text())
    profile = boto3.Session(profile_name="jobs-clean-up", region_name=saved["aws_region"])
    sts = profile.client("sts", endpoint_url=saved["aws_endpoint"])
    assert ":assumed-role/" in sts.get_caller_identity()["Arn"]
    assert "CleanUpFunctionRole" in sts.get_caller_identity()["Arn"]
    with pytest.raises(ClientError) as refused:
        profile.client("ecs", endpoint_url=saved["aws_endpoint"]).list_clusters()
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"


def _template_without_runner_writes(folder: Path) -> Path:
    """A copy of template.yaml whose runner function may read the jobs table but not write it."""
    writes = "Action: [dynamodb:GetItem, dynamodb:UpdateItem, dynamodb:BatchGetItem]"
    return template_copy(folder, "RunnerFunction", writes, "Action: [dynamodb:GetItem, dynamodb:BatchGetItem]")


@pytest.mark.own_stack
def test_a_permission_taken_out_of_the_template_fails_the_job_with_access_denied(tmp_path: Path):
    copy = _template_without_runner_writes(tmp_path)
    with StackProcess(config=CONFIG, extra_env={"JOBS_TEMPLATE": str(copy)}) as stack:
        http = Http(stack)
        status, job = http("POST", "/jobs", {"command": "demo:echo", "params": ["never"]})
        assert status == 202
        ended = http.wait(job["id"])
    assert ended["state"] == "incomplete"
    assert "AccessDeniedException" in ended["reason"]
    assert re.search(
        r"assumed-role/[\w-]*RunnerFunctionRole[\w-]*/[\w-]+ is not authorized to perform: dynamodb:UpdateItem "
        r"on resource: arn:aws:dynamodb:us-east-1:\d{12}:table/[\w-]*JobsTable",
        ended["reason"],
    ), ended["reason"]
