"""Job State Change events on the default bus, and JobAlertsTopic's alerts, through moto's
EventBridge and SNS as the template wires them."""

import json
import os
import signal
import time
from unittest import mock

import pytest
from moto.dynamodb.models import DynamoDBBackend

from jobs_local.stack import LocalStack
from tests.integration.conftest import OPERATOR, Api
from tests.processes import command_of

pytestmark = pytest.mark.integration


def _queue_for(stack: LocalStack, name: str, sender: str, source_arn: str) -> str:
    """A queue that lets `sender` (a service) deliver to it from `source_arn`, as AWS requires."""
    sqs = stack.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": sender},
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}},
            }
        ]
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return url


def _received(stack: LocalStack, url: str, until: float, enough=None) -> list[dict]:
    """The messages until the queue is drained, or, with `enough`, until they are enough: the
    stream's mapping gathers a batch for a second, so the last events may come a moment later."""
    sqs, bodies = stack.client("sqs"), []
    while time.monotonic() < until:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        bodies += [json.loads(message["Body"]) for message in messages]
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if enough(bodies) if enough else not messages:
            break
    return bodies


@pytest.fixture(scope="module")
def alerts(stack: LocalStack) -> str:
    topic = stack.physical_id("JobAlertsTopic")
    url = _queue_for(stack, "test-job-alerts", "sns.amazonaws.com", topic)
    arn = stack.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    stack.client("sns").subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn["QueueArn"], Attributes={"RawMessageDelivery": "true"}
    )
    return url


@pytest.fixture(scope="module")
def every_event(stack: LocalStack) -> str:
    """Every Job State Change of the stack, through a rule of the test's own."""
    events = stack.client("events")
    rule = events.put_rule(Name="test-every-job-event", EventPattern=json.dumps({"detail-type": ["Job State Change"]}))
    url = _queue_for(stack, "test-job-events", "events.amazonaws.com", rule["RuleArn"])
    arn = stack.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    events.put_targets(Rule="test-every-job-event", Targets=[{"Id": "queue", "Arn": arn["QueueArn"]}])
    return url


def test_every_state_change_is_an_event_and_only_a_last_failed_attempt_an_alert(
    api: Api, stack: LocalStack, alerts: str, every_event: str
):
    _, failing = api("POST", "/job-definitions/always_fails/start")
    _, flaky = api("POST", "/job-definitions/flaky_then_index/start")
    first = api.wait_run_ended(failing["id"])
    last = api.wait(first["retried_by"])
    assert last["state"] == "failed"
    passed = api.wait(api.wait_run_ended(flaky["id"])["retried_by"])
    assert passed["state"] == "finished"
    deadline = time.monotonic() + 10

    def last_failed(events: list[dict]) -> bool:
        return any(e["detail"]["id"] == last["id"] and e["detail"]["state"] == "failed" for e in events)

    received = _received(stack, every_event, deadline, enough=last_failed)
    events = [event for event in received if event["detail"]["root_id"] == failing["id"]]
    changes = [(e["detail"]["id"], e["detail"]["previous_state"], e["detail"]["state"]) for e in events]
    assert (first["id"], None, "pending") in changes
    assert (first["id"], "pending", "running") in changes
    assert (first["id"], "running", "failed") in changes
    assert (last["id"], "running", "failed") in changes
    failed = next(e for e in events if e["detail"]["id"] == last["id"] and e["detail"]["state"] == "failed")
    assert failed["source"] == "jobs.jobs-it" and failed["detail-type"] == "Job State Change"
    detail = failed["detail"]
    assert (detail["definition"], detail["command"], detail["attempt"], detail["last_attempt"]) == (
        "always_fails", "demo:fail", 2, True
    )  # fmt: skip
    assert (detail["queue"], detail["started_by"], detail["exit_code"], detail["reason"]) == (
        "default",
        "retry",
        3,
        None,
    )
    assert detail["runtime"] > 0 and detail["params"] == [] and detail["label"] == "Fails every attempt"
    started = next(e["detail"] for e in events if e["detail"]["id"] == first["id"])
    assert (started["started_by"], started["last_attempt"]) == (OPERATOR, False)

    alerted = [
        json.loads(alert["Message"]) if "Message" in alert else alert
        for alert in _received(stack, alerts, deadline, enough=lambda got: last["id"] in str(got))
    ]
    ids = [alert["detail"]["id"] for alert in alerted]
    assert last["id"] in ids, alerted
    assert first["id"] not in ids  # tried again: no alert
    assert not {flaky["id"], passed["id"]} & set(ids)  # it finished in the end


def test_a_fargate_runner_puts_its_jobs_changes_too(api: Api, stack: LocalStack, every_event: str):
    """The task role's own grants (events:PutEvents, ssm:GetParameter): a refusal would only be logged."""
    _, job = api("POST", "/jobs", {"command": "demo:echo", "params": ["on fargate"], "runner": "fargate"})
    assert api.wait(job["id"])["state"] == "finished"

    def changes_of(events: list[dict]) -> list[tuple[str, str]]:
        return [(e["detail"]["previous_state"], e["detail"]["state"]) for e in events if e["detail"]["id"] == job["id"]]

    def both(events: list[dict]) -> bool:
        return {("pending", "running"), ("running", "finished")} <= set(changes_of(events))

    changes = changes_of(_received(stack, every_event, time.monotonic() + 10, enough=both))
    assert ("pending", "running") in changes and ("running", "finished") in changes  # both the runner's


def _parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def test_a_runner_killed_between_its_closing_write_and_its_return_loses_no_event(
    api: Api, stack: LocalStack, every_event: str
):
    """The events come from the table's stream: the runner that wrote a change need not live to tell it."""
    _, job = api("POST", "/jobs", {"command": "demo:sleep", "params": ["1"]})
    runner = _parent_of(command_of(job["id"]))  # the Lambda worker that runs the command
    killed: list[int] = []
    original = DynamoDBBackend.update_item

    def update_item(self: DynamoDBBackend, table_name: str, key: dict, *args, **kwargs):
        item = original(self, table_name, key, *args, **kwargs)
        if key["pk"]["S"] == f"JOB#{job['id']}" and item.attrs["state"].value == "finished":
            os.kill(runner, signal.SIGKILL)  # the write is made; its answer never reaches the runner
            killed.append(runner)
        return item

    with mock.patch.object(DynamoDBBackend, "update_item", update_item):
        ended = api.wait_run_ended(job["id"])
    assert killed == [runner] and ended["state"] == "finished"
    deadline = time.monotonic() + 10
    changes = []
    while time.monotonic() < deadline and len(changes) < 3:
        changes += [
            (e["detail"]["previous_state"], e["detail"]["state"])
            for e in _received(stack, every_event, deadline)
            if e["detail"]["id"] == job["id"]
        ]
    time.sleep(1)  # and nothing twice
    changes += [
        (e["detail"]["previous_state"], e["detail"]["state"])
        for e in _received(stack, every_event, time.monotonic() + 2)
        if e["detail"]["id"] == job["id"]
    ]
    assert changes == [(None, "pending"), ("pending", "running"), ("running", "finished")]
