"""The stack's own calls are answered in its process, without a socket (jobs_local.in_process), and
answered exactly as the same calls over HTTP are: what they write, what IAM refuses."""

import socket

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from jobs_local import in_process
from jobs_local.stack import LocalStack

pytestmark = pytest.mark.integration


def _over_http(client):
    client.meta.events.unregister("before-send", in_process.before_send)
    return client


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens on it once the probe is closed


def test_a_call_of_the_stacks_own_is_answered_without_the_socket(stack: LocalStack):
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    in_process.serve(endpoint, in_process.served(stack.endpoint_url))
    try:
        # One attempt: DynamoDB's ten retries of the refused connection below took 25 s.
        once = Config(retries={"total_max_attempts": 1})
        dynamodb = stack.administrator.client("dynamodb", "us-east-1", endpoint, once)
        assert stack.physical_id("JobsTable") in dynamodb.list_tables()["TableNames"]
    finally:
        in_process.stop_serving(endpoint)
    with pytest.raises(Exception, match="Could not connect"):  # over HTTP the same client finds no server
        dynamodb.list_tables()


def test_an_object_written_in_process_reads_the_same_over_http_and_back(stack: LocalStack):
    bucket = stack.physical_id("OutputBucket")
    inside, outside = stack.client("s3"), _over_http(stack.session().client("s3"))
    key = "in process/a+b %41 é?x=1&y#z"
    inside.put_object(Bucket=bucket, Key=key, Body=b"written inside", ContentType="text/plain")
    got = outside.get_object(Bucket=bucket, Key=key)
    assert (got["Body"].read(), got["ContentType"]) == (b"written inside", "text/plain")
    outside.put_object(Bucket=bucket, Key=key + "!", Body=b"\x00\xff" * 70_000)
    assert inside.get_object(Bucket=bucket, Key=key + "!")["Body"].read() == b"\x00\xff" * 70_000
    assert key in [o["Key"] for o in inside.list_objects_v2(Bucket=bucket, Prefix="in process/")["Contents"]]


def test_iam_refuses_in_process_what_it_refuses_over_http(stack: LocalStack):
    runner = stack.session_as("RunnerFunctionRole", "lambda.amazonaws.com")
    table = stack.physical_id("JobsTable")
    errors = []
    for dynamodb in (runner.client("dynamodb"), _over_http(runner.client("dynamodb"))):
        with pytest.raises(ClientError) as caught:
            dynamodb.delete_table(TableName=table)
        errors.append((caught.value.response["Error"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]))
    assert errors[0] == errors[1]
    assert errors[0][0]["Code"] == "AccessDeniedException" and "dynamodb:DeleteTable" in errors[0][0]["Message"]
