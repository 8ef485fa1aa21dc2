"""AWS's size and concurrency limits, kept by the local stack: each test crosses one and sees AWS's
answer, and where the product meets it, a clear error and no stuck job."""

import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from jobs_local.stack import LocalStack
from jobsys.output import OutputStore
from tests.integration.conftest import Api, count_items

pytestmark = pytest.mark.integration

KIB = 1024


def error_of(call, *args, **kwargs) -> dict:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response


# --- DynamoDB: an item at most 400 KB ---------------------------------------------------------------


def test_dynamodb_refuses_an_item_over_400_kb(stack: LocalStack):
    table = stack.physical_id("JobsTable")
    item = {"pk": {"S": "limit-test"}, "sk": {"S": "x"}, "blob": {"S": "x" * (401 * KIB)}}
    error = error_of(stack.client("dynamodb").put_item, TableName=table, Item=item)
    assert error["Error"]["Code"] == "ValidationException"
    assert "Item size has exceeded the maximum allowed size" in error["Error"]["Message"]


def test_a_start_whose_job_would_exceed_an_item_is_a_400_that_names_the_limit(api: Api, table):
    before = count_items(table)
    params = ["€" * 4096] * 40  # within the API's bounds on params, but 3 bytes a character: ~480 KB
    status, error = api("POST", "/jobs", {"command": "demo:echo", "params": params})
    assert status == 400, error
    assert "400 KB" in error["message"] and "DynamoDB" in error["message"]
    assert count_items(table) == before


# --- EventBridge: a PutEvents request at most 256 KB --------------------------------------------


def test_put_events_refuses_a_request_over_256_kb_whole(stack: LocalStack):
    events = stack.client("events")
    entry = {"Source": "jobs.test", "DetailType": "Job State Change", "Detail": json.dumps({"x": "y" * 30_000})}
    error = error_of(events.put_events, Entries=[entry] * 10)  # 300 KB
    assert error["Error"]["Code"] == "ValidationException" and "over the limit" in error["Error"]["Message"]
    assert events.put_events(Entries=[entry] * 8)["FailedEntryCount"] == 0  # 240 KB


# --- Step Functions: an execution's input and a state's output at most 256 KiB ----------------------


def test_an_execution_input_over_256_kib_is_refused(stack: LocalStack):
    machine = stack.physical_id("JobStateMachine")
    big = json.dumps({"padding": "x" * (256 * KIB)})
    error = error_of(stack.client("stepfunctions").start_execution, stateMachineArn=machine, input=big)
    assert error["Error"]["Code"] == "ValidationException"
    assert "262144" in error["Error"]["Message"]


def test_a_state_output_over_256_kib_fails_with_states_data_limit_exceeded(stack: LocalStack):
    sfn = stack.client("stepfunctions")
    role = stack.client("iam").get_role(RoleName=stack.physical_id("JobStateMachineRole"))["Role"]["Arn"]
    definition = {
        "StartAt": "Big",
        "States": {"Big": {"Type": "Pass", "Result": {"padding": "x" * (257 * KIB)}, "End": True}},
    }
    machine = sfn.create_state_machine(
        name=f"limits-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=role
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, name="big", input="{}")["executionArn"]
    deadline = time.monotonic() + 30
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert described["status"] == "FAILED"
    assert described.get("error") == "States.DataLimitExceeded"


# --- CloudWatch Logs: PutLogEvents batches, GetLogEvents pages -------------------------------------


@pytest.fixture
def stream(stack: LocalStack):
    logs = stack.client("logs")
    group, name = "/jobs/jobs-it/output", f"limits-{uuid.uuid4().hex[:8]}"
    logs.create_log_stream(logGroupName=group, logStreamName=name)
    return logs, group, name


def _events(count: int, size: int) -> list[dict]:
    now = int(time.time() * 1000)
    return [{"timestamp": now, "message": "x" * size} for _ in range(count)]


@pytest.mark.parametrize(
    ("count", "size", "says"),
    [
        (10_001, 1, "at 'logEvents' failed to satisfy constraint"),
        (1, 256 * KIB + 1, "Log event too large"),
        # 5 events of 209,700 bytes: each within 256 KiB, together (with 26 bytes each) over 1 MiB.
        (5, 209_700, "Upload too large: 1048630 bytes exceeds limit of 1048576"),
    ],
)
def test_put_log_events_refuses_a_batch_over_its_limits(stream, count, size, says):
    logs, group, name = stream
    error = error_of(logs.put_log_events, logGroupName=group, logStreamName=name, logEvents=_events(count, size))
    assert error["Error"]["Code"] == "InvalidParameterException"
    assert says in error["Error"]["Message"]
    assert logs.get_log_events(logGroupName=group, logStreamName=name)["events"] == []


def test_put_log_events_takes_a_batch_at_its_limit(stream):
    logs, group, name = stream
    logs.put_log_events(logGroupName=group, logStreamName=name, logEvents=_events(4, 262_118))  # 4 x (262,118 + 26)
    assert len(logs.get_log_events(logGroupName=group, logStreamName=name, startFromHead=True)["events"]) == 4


def test_get_log_events_gives_at_most_1_mb_a_page(stream):
    logs, group, name = stream
    for _ in range(3):
        logs.put_log_events(logGroupName=group, logStreamName=name, logEvents=_events(4, 200 * KIB))
    first = logs.get_log_events(logGroupName=group, logStreamName=name, startFromHead=True)
    assert len(first["events"]) == 5  # 5 x (204,800 + 26) fits in 1 MB; 6 do not
    second = logs.get_log_events(
        logGroupName=group, logStreamName=name, startFromHead=True, nextToken=first["nextForwardToken"]
    )
    third = logs.get_log_events(
        logGroupName=group, logStreamName=name, startFromHead=True, nextToken=second["nextForwardToken"]
    )
    assert [len(first["events"]), len(second["events"]), len(third["events"])] == [5, 5, 2]


# --- Lambda: payloads and reserved concurrency ------------------------------------------------------


def test_an_asynchronous_invocation_over_256_kb_is_refused(stack: LocalStack):
    payload = json.dumps({"padding": "x" * (256 * KIB)}).encode()
    error = error_of(
        stack.client("lambda").invoke,
        FunctionName=stack.physical_id("CleanUpFunction"),
        InvocationType="Event",
        Payload=payload,
    )
    assert error["Error"]["Code"] == "RequestEntityTooLargeException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_a_synchronous_invocation_beyond_reserved_concurrency_is_throttled(stack: LocalStack):
    lambdas = stack.client("lambda")
    cleanup = stack.physical_id("CleanUpFunction")
    lambdas.put_function_concurrency(FunctionName=cleanup, ReservedConcurrentExecutions=0)
    try:
        error = error_of(lambdas.invoke, FunctionName=cleanup, Payload=b"{}")
    finally:
        lambdas.put_function_concurrency(FunctionName=cleanup, ReservedConcurrentExecutions=1)
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error.get("Reason") == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_a_throttled_runner_is_retried_by_the_state_machine_and_the_job_still_runs(stack: LocalStack, api: Api):
    lambdas = stack.client("lambda")
    runner = stack.physical_id("RunnerFunction")
    reserved = lambdas.get_function_concurrency(FunctionName=runner).get("ReservedConcurrentExecutions")
    lambdas.put_function_concurrency(FunctionName=runner, ReservedConcurrentExecutions=0)
    try:
        _, job = api("POST", "/jobs", {"command": "demo:echo", "params": ["throttled"]})
        history = _wait_for_event(stack, job["id"], "Lambda.TooManyRequestsException")
    finally:
        if reserved is None:
            lambdas.delete_function_concurrency(FunctionName=runner)
        else:
            lambdas.put_function_concurrency(FunctionName=runner, ReservedConcurrentExecutions=reserved)
    assert history
    ended = api.wait(job["id"])
    assert ended["state"] == "finished" and api.output(job["id"]) == ["throttled"]


def _wait_for_event(stack: LocalStack, job_id: str, error: str, timeout: float = 30) -> list[dict]:
    sfn = stack.client("stepfunctions")
    machine = stack.physical_id("JobStateMachine")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        executions = sfn.list_executions(stateMachineArn=machine)["executions"]
        for execution in executions:
            if job_id in execution["name"]:
                events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
                failed = [e for e in events if (e.get("taskFailedEventDetails") or {}).get("error") == error]
                if failed:
                    return failed
        time.sleep(0.3)
    raise AssertionError(f"no {error} in the job's execution within {timeout} s")


def test_a_printed_line_is_cut_to_what_cloudwatch_takes_in_bytes_not_characters(stack: LocalStack, stream):
    """A 200,000-character line of 3-byte characters is 600 KB: the runner cuts it by bytes, within
    CloudWatch's 256 KiB an event, and the next line still arrives."""
    logs, group, name = stream
    output = OutputStore(logs, stack.client("s3"), group, stack.physical_id("OutputBucket"))
    output.append(name, ["€" * 200_000, "after"])
    events = logs.get_log_events(logGroupName=group, logStreamName=name, startFromHead=True)["events"]
    assert [len(e["message"].encode()) <= 256 * KIB for e in events] == [True, True]
    assert set(events[0]["message"]) == {"€"} and events[1]["message"] == "after"
