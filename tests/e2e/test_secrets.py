"""A secret that a command's env names is in no log, no job record, no output and no event of the
local stack: it reaches the command's environment only."""

import contextlib
import json
from pathlib import Path

import pytest

from jobs_local.process import StackProcess
from tests.e2e.conftest import Http

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
VALUE = "dsn://it-s3cret"  # what the `check-secret` command of jobs.test.yaml checks for


def _event_queue(stack: StackProcess) -> str:
    events, sqs = stack.aws_client("events"), stack.aws_client("sqs")
    queue = sqs.create_queue(QueueName="e2e-secret-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"detail-type": ["Job State Change"], "detail": {"command": ["check-secret"]}}
    rule = events.put_rule(Name="e2e-secret-events", EventPattern=json.dumps(pattern))["RuleArn"]
    allow = {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
             "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule}}}  # fmt: skip
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": json.dumps({"Statement": [allow]})})
    events.put_targets(Rule="e2e-secret-events", Targets=[{"Id": "queue", "Arn": arn}])
    return queue


def test_a_secrets_value_reaches_the_command_and_no_log_record_output_or_event(local_stack: StackProcess, http: Http):
    secrets = local_stack.aws_client("secretsmanager")
    with contextlib.suppress(secrets.exceptions.ResourceExistsException):
        secrets.create_secret(Name="jobs/it-shop", SecretString=VALUE)
    queue = _event_queue(local_stack)
    _, job = http("POST", "/jobs", {"command": "check-secret"})
    done = http.wait(job["id"])
    assert (done["state"], done["exit_code"]) == ("finished", 0), done  # it exits 3 without the value
    sqs = local_stack.aws_client("sqs")
    events = [
        m["Body"]
        for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
    ]
    assert events, "the job's state changes were put on the bus"
    written = {
        "job record": json.dumps(done),
        "output": "\n".join(http.output(job["id"])),
        "events": "\n".join(events),
        "function logs": (ROOT / ".local-stack" / "functions.log").read_text(encoding="utf-8", errors="replace"),
        "access log": (local_stack.data_dir / "api-access.log").read_text(encoding="utf-8", errors="replace"),
        "stack's own output": "\n".join(local_stack.lines),
    }
    assert [where for where, text in written.items() if VALUE in text] == []
