"""The local event source mapping of a DynamoDB stream delivers as Lambda does: filtered, in batches,
from the first record a function reports failed, bisected on an error, and given up to its
destination. Fakes stand in for the stream, the function and the queue."""

import json

from jobs_local.lambda_.stream_pollers import StreamMapping

STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/jobs/stream/2026-12-06T00:00:00.000"


def _record(n: int, sk: str = "JOB") -> dict:
    return {
        "eventName": "MODIFY",
        "dynamodb": {
            "Keys": {"pk": {"S": f"JOB#{n}"}, "sk": {"S": sk}},
            "SequenceNumber": str(1000 + n),
            "ApproximateCreationDateTime": 1_800_000_000,
        },
    }


class _Stream:
    def __init__(self, records: list[dict]):
        self.records = records

    def get_records(self, ShardIterator: str, Limit: int) -> dict:
        start = int(ShardIterator)
        return {"Records": self.records[start : start + Limit], "NextShardIterator": str(start + Limit)}


class _Queue:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    def get_queue_url(self, QueueName: str) -> dict:
        return {"QueueUrl": f"https://queue/{QueueName}"}

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:
        self.sent.append(json.loads(MessageBody))


class _Function:
    """Answers with `answer(sequence numbers)`: (reply, failed)."""

    def __init__(self, answer):
        self.answer = answer
        self.batches: list[list[str]] = []

    def __call__(self, function: str, event: dict):
        numbers = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        self.batches.append(numbers)
        assert all(r["eventSourceARN"] == STREAM for r in event["Records"])
        return self.answer(numbers)


def _mapping(function: _Function, queue: _Queue, records: list[dict], **settings) -> StreamMapping:
    config = {
        "EventSourceArn": STREAM,
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:events",
        "BatchSize": 3,
        "FilterCriteria": {"Filters": [{"Pattern": '{"dynamodb": {"Keys": {"sk": {"S": ["JOB"]}}}}'}]},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:failed"}},
    } | settings
    mapping = StreamMapping(config, _Stream(records), queue, function, "us-east-1")
    mapping.iterator = "0"
    mapping.stopped.wait = lambda seconds: False  # no back-off sleeps in a test
    return mapping


def _drain(mapping: StreamMapping) -> None:
    while (records := mapping._read()) is not None:
        if records:
            mapping._deliver(records)


def test_records_that_no_filter_matches_never_reach_the_function_and_batches_keep_their_order():
    function = _Function(lambda numbers: ({"batchItemFailures": []}, False))
    records = [_record(1), _record(2, sk="QUEUE"), _record(3), _record(4), _record(5)]
    _drain(_mapping(function, _Queue(), records))
    assert function.batches == [["1001", "1003"], ["1004", "1005"]]  # batches of 3 read, one filtered out


def test_a_reported_failure_delivers_again_from_that_record_and_not_before_it():
    tries = []

    def answer(numbers):
        tries.append(numbers)
        if len(tries) == 1:
            return {"batchItemFailures": [{"itemIdentifier": "1002"}]}, False
        return {"batchItemFailures": []}, False

    function = _Function(answer)
    _drain(_mapping(function, _Queue(), [_record(1), _record(2), _record(3)]))
    assert function.batches == [["1001", "1002", "1003"], ["1002", "1003"]]


def test_a_failing_batch_is_bisected_then_given_up_to_the_destination_after_its_retries():
    def answer(numbers):
        return ({"errorMessage": "boom"}, True) if "1002" in numbers else ({"batchItemFailures": []}, False)

    function, queue = _Function(answer), _Queue()
    mapping = _mapping(
        function, queue, [_record(1), _record(2), _record(3)], BisectBatchOnFunctionError=True, MaximumRetryAttempts=2
    )
    _drain(mapping)
    assert function.batches[0] == ["1001", "1002", "1003"]
    assert ["1001"] in function.batches and ["1003"] in function.batches  # the good ones got through
    assert function.batches.count(["1002"]) == 3  # its first try and 2 retries
    [given_up] = queue.sent
    info = given_up["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == ("1002", "1002", 1)
    assert given_up["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_an_unreadable_report_fails_the_whole_batch_as_lambda_does():
    tries = []

    def answer(numbers):
        tries.append(numbers)
        return (
            ({"batchItemFailures": [{"itemIdentifier": "no such record"}]}, False)
            if len(tries) == 1
            else (
                {"batchItemFailures": []},
                False,
            )
        )

    function = _Function(answer)
    _drain(_mapping(function, _Queue(), [_record(1), _record(2)]))
    assert function.batches == [["1001", "1002"], ["1001", "1002"]]
