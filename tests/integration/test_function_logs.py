"""Each invocation's lines reach its function's log group, as Lambda writes them: what `sam logs`
and `aws logs tail` read (jobs_local.lambda_.function_logs)."""

import base64
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from jobs_local.lambda_.code_changes import LOOK_EVERY
from jobs_local.lambda_.function_logs import FunctionLogs
from jobs_local.stack import LocalStack

pytestmark = pytest.mark.integration
STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
REPORT = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
    r"Memory Size: (?P<memory>\d+) MB\tMax Memory Used: (?P<used>\d+) MB"
    r"(\tInit Duration: \d+\.\d\d ms)?(\tStatus: \w+)?$"
)


def _lines(stack: LocalStack, group: str, request_id: str, wait: float = 10) -> list[dict[str, Any]]:
    """The events of one invocation, from its START to its REPORT, as `sam logs` reads them."""
    logs = stack.client("logs")
    deadline = time.monotonic() + wait
    while True:
        events = logs.filter_log_events(logGroupName=group)["events"]
        mine = [e for e in events if request_id in e["message"] or _between(events, e, request_id)]
        if any(e["message"].startswith(f"REPORT RequestId: {request_id}") for e in mine) or time.monotonic() > deadline:
            return mine
        time.sleep(0.2)


def _between(events: list[dict[str, Any]], event: dict[str, Any], request_id: str) -> bool:
    stream = [e for e in events if e["logStreamName"] == event["logStreamName"]]
    messages = [e["message"] for e in stream]
    starts = [i for i, m in enumerate(messages) if m.startswith(f"START RequestId: {request_id}")]
    ends = [i for i, m in enumerate(messages) if m.startswith(f"END RequestId: {request_id}")]
    return bool(starts and ends) and starts[0] < stream.index(event) < ends[0]


def _invoke_with_tail(stack: LocalStack, name: str, event: dict[str, Any]) -> tuple[Any, str]:
    """The function's answer, and its last 4 KB of log lines (`LogType=Tail`)."""
    response = stack.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode(), LogType="Tail")
    answer = json.loads(response["Payload"].read())
    assert not response.get("FunctionError"), answer
    return answer, base64.b64decode(response["LogResult"]).decode()


def test_an_invocation_writes_start_its_own_lines_end_and_report_to_its_log_group(stack: LocalStack):
    name = stack.physical_id("CleanUpFunction")
    event = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    answer, tail = _invoke_with_tail(stack, name, event)
    assert "deleted" in answer
    request_id = re.search(r"START RequestId: ([0-9a-f-]{36}) Version: \$LATEST", tail).group(1)
    assert re.search(rf"^END RequestId: {request_id}$", tail, re.M)
    lines = _lines(stack, f"/aws/lambda/{name}", request_id)
    messages = [line["message"] for line in lines]
    assert messages[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert messages[-2] == f"END RequestId: {request_id}"
    report = REPORT.match(messages[-1])
    assert report and report["id"] == request_id
    assert 0 < int(report["used"]) <= int(report["memory"])
    assert report["memory"] == str(
        stack.client("lambda").get_function(FunctionName=name)["Configuration"]["MemorySize"]
    )
    # Between them, the function's own JSON lines: Powertools' logger's (with the same request id),
    # and its metrics' (EMF).
    own = [line for line in map(json.loads, messages[1:-2]) if "level" in line]
    assert [line["message"] for line in own] == ["clean-up done"]
    assert own[0]["function_request_id"] == request_id
    assert {line["logStreamName"] for line in lines} == {lines[0]["logStreamName"]}
    assert STREAM.match(lines[0]["logStreamName"])
    assert [line["timestamp"] for line in lines] == sorted(line["timestamp"] for line in lines)


def test_a_warm_worker_keeps_its_stream_and_its_init_duration_is_reported_once(stack: LocalStack):
    name = stack.physical_id("CleanUpFunction")
    streams, inits = set(), []
    for _ in range(2):
        _, tail = _invoke_with_tail(stack, name, {})
        request_id = re.search(r"START RequestId: ([0-9a-f-]{36})", tail).group(1)
        lines = _lines(stack, f"/aws/lambda/{name}", request_id)
        streams |= {line["logStreamName"] for line in lines}
        inits.append("Init Duration" in lines[-1]["message"])
    assert len(streams) == 1, "one worker, one stream"
    assert inits[1] is False


def test_the_log_groups_retention_from_the_template_applies(stack: LocalStack):
    name = stack.physical_id("RunnerFunction")
    groups = stack.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
    assert [group["logGroupName"] for group in groups] == [f"/aws/lambda/{name}"]
    assert groups[0]["retentionInDays"] > 0


def _report_of(stack: LocalStack, name: str) -> str:
    _, tail = _invoke_with_tail(stack, name, {})
    return next(line for line in tail.splitlines() if line.startswith("REPORT"))


def test_an_edited_handler_runs_in_a_new_worker_from_the_next_invocation(stack: LocalStack):
    name = stack.physical_id("CleanUpFunction")
    _report_of(stack, name)
    assert "Init Duration" not in _report_of(stack, name), "a warm worker"
    handler = Path(__file__).resolve().parents[2] / "functions" / "cleanup" / "cleanup_handler.py"
    edited = time.time() + 1
    os.utime(handler, (edited, edited))  # as an editor's save leaves it (the content is unchanged)
    time.sleep(LOOK_EVERY + 0.2)
    assert "Init Duration" in _report_of(stack, name), "the edited code in a new worker"
    assert "Init Duration" not in _report_of(stack, name), "which stays warm"


def test_a_role_without_logs_permissions_loses_its_lines_as_on_aws_and_the_combined_log_says_why(stack: LocalStack):
    iam = stack.client("iam")
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    role = iam.create_role(RoleName="jobs-it-no-logs", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    said: list[tuple[str, str]] = []
    shipper = FunctionLogs(stack.endpoint_url, "us-east-1", lambda function, line: said.append((function, line)))
    worker = shipper.open("jobs-it-no-logs", stack.roles.keys(role, "lambda.amazonaws.com", "jobs-it-no-logs"))
    worker.line("START RequestId: r Version: $LATEST")
    shipper.ship()
    shipper.ship()  # said once
    assert len(said) == 1
    assert said[0][0] == "jobs-it-no-logs"
    assert "could not write this function's logs to /aws/lambda/jobs-it-no-logs: AccessDeniedException" in said[0][1]
    groups = stack.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/jobs-it-no-logs")["logGroups"]
    assert groups == []
