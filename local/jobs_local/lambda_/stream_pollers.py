"""Lambda's event source mappings of DynamoDB streams, run as Lambda runs them.

Replaces: moto's delivery of a table's stream to its mappings, which invokes the function inside the
write that made the record (through Docker), with every record the shard ever held, ignores the
mapping's filters, batch size, retries and on-failure destination, and never reads the stream with
the function's role. (`jobs_local.dynamodb.streams` keeps moto from delivering at all.)

Here one poller per mapping reads the stream through boto3, signed with the function's execution
role (which needs dynamodb:DescribeStream, GetShardIterator and GetRecords on it, as on AWS), from
the mapping's starting position; it drops the records that none of the mapping's filters match,
and invokes the function with up to BatchSize records, one batch at a time, in order. A batch that
fails is tried again, from the first record the function reports (ReportBatchItemFailures) or whole,
split in two with BisectBatchOnFunctionError, until MaximumRetryAttempts or MaximumRecordAgeInSeconds;
records are gathered for MaximumBatchingWindowInSeconds, and a shard is polled four times a second;
then its description goes to the on-failure destination (an SQS queue, sent with the function's
role) and the poller goes on. Lambda invokes a mapping's function from inside the service, so the
invocation itself needs no permission.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.events.models import EventPattern

from jobs_local.dynamodb import streams

IDLE_WAIT = 1.0  # seconds between reads of a stream where nothing was written (a write wakes it sooner)
# Lambda polls a stream's shard four times a second: what was written between two polls comes in one
# batch. Woken at each write instead, a poller here invoked the function for almost every record.
POLL_EVERY = 0.25
FIRST_BACKOFF = 0.1  # seconds before the first retry of a failed batch; doubled each time, up to:
MAX_BACKOFF = 5.0

Invoke = Callable[[str, dict[str, Any]], tuple[Any, bool]]  # function name, event -> (reply, failed)


def _lambda_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A stream record as Lambda hands it over: the source's ARN added, times in epoch seconds."""
    data = dict(record["dynamodb"])
    created = data.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        data["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": data, "eventSourceARN": stream_arn, "awsRegion": region}


class StreamMapping:
    """One mapping's poller: reads, filters, invokes, retries, gives up to its destination."""

    def __init__(self, mapping: dict[str, Any], streams_client: Any, sqs: Any, invoke: Invoke, region: str):
        self.mapping = mapping
        self.stream_arn = mapping["EventSourceArn"]
        self.function = mapping["FunctionArn"]
        self.streams = streams_client  # signed with the function's execution role
        self.sqs = sqs  # the same role's, for the on-failure destination
        self.invoke = invoke
        self.region = region
        self.batch_size = int(mapping.get("BatchSize") or 100)
        self.window = float(mapping.get("MaximumBatchingWindowInSeconds") or 0)
        filters = (mapping.get("FilterCriteria") or {}).get("Filters") or []
        self.patterns = [EventPattern.load(entry["Pattern"]) for entry in filters]
        self.reports_items = "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])
        self.bisect = bool(mapping.get("BisectBatchOnFunctionError"))
        retries = mapping.get("MaximumRetryAttempts")
        self.max_retries = None if retries in (None, -1) else int(retries)
        age = mapping.get("MaximumRecordAgeInSeconds")
        self.max_age = None if age in (None, -1) else float(age)
        destination = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        self.on_failure: str | None = destination
        self.stopped = threading.Event()
        self.caught_up = threading.Event()  # the last read found nothing new
        self.iterator: str | None = None
        self.delivered = 0  # records handed to the function and done with: for tests and the log

    def run(self) -> None:
        shard = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType=self.mapping.get("StartingPosition", "LATEST")
        )["ShardIterator"]
        while not self.stopped.is_set():
            read_at = time.monotonic()
            records = self._read()
            if records is None:
                self.caught_up.set()
                with streams.written:
                    streams.written.wait(IDLE_WAIT)
                self.stopped.wait(max(0.0, read_at + POLL_EVERY - time.monotonic()))
                continue
            if records:
                self._deliver(self._gathered(records))

    def _gathered(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """MaximumBatchingWindowInSeconds: Lambda gathers records until the batch is full or the
        window is over, then invokes the function once."""
        deadline = time.monotonic() + self.window
        while len(batch) < self.batch_size and not self.stopped.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            more = self._read(self.batch_size - len(batch))
            if more is None:  # the next poll, a quarter of a second on, whatever is written meanwhile
                self.stopped.wait(min(left, POLL_EVERY))
                continue
            batch = batch + more
        return batch

    def _read(self, limit: int | None = None) -> list[dict[str, Any]] | None:
        """The next batch that the filters let through ([] if they let none); None when nothing is new."""
        answer = self.streams.get_records(ShardIterator=self.iterator, Limit=limit or self.batch_size)
        self.iterator = answer["NextShardIterator"]
        if not answer["Records"]:
            return None
        self.caught_up.clear()
        records = [_lambda_record(r, self.stream_arn, self.region) for r in answer["Records"]]
        return [r for r in records if not self.patterns or any(p.matches_event(r) for p in self.patterns)]

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        tries = 0
        while batch and not self.stopped.is_set():
            reply, failed = self.invoke(self.function, {"Records": batch})
            if not failed:
                rest = self._not_done(batch, reply)
                self.delivered += len(batch) - len(rest)
                if not rest:
                    return
                batch = rest
            elif self.bisect and len(batch) > 1:
                middle = len(batch) // 2
                self._deliver(batch[:middle])
                self._deliver(batch[middle:])
                return
            tries += 1
            if self._given_up(batch, tries):
                self._send_to_destination(batch, reply, tries)
                return
            self.stopped.wait(min(FIRST_BACKOFF * 2 ** (tries - 1), MAX_BACKOFF))

    def _not_done(self, batch: list[dict[str, Any]], reply: Any) -> list[dict[str, Any]]:
        """The records to deliver again: from the first that the function reports failed."""
        if not self.reports_items or not isinstance(reply, dict) or not reply.get("batchItemFailures"):
            return []
        sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
        reported = [failure.get("itemIdentifier") for failure in reply["batchItemFailures"]]
        if not all(identifier in sequence for identifier in reported):
            return batch  # a report Lambda cannot read fails the whole batch, as on AWS
        return batch[min(sequence.index(identifier) for identifier in reported) :]

    def _given_up(self, batch: list[dict[str, Any]], tries: int) -> bool:
        if self.max_retries is not None and tries > self.max_retries:
            return True
        oldest = batch[0]["dynamodb"].get("ApproximateCreationDateTime")
        return self.max_age is not None and oldest is not None and time.time() - oldest > self.max_age

    def _send_to_destination(self, batch: list[dict[str, Any]], reply: Any, tries: int) -> None:
        """What Lambda sends for a stream batch it gave up on: where the records are, not the records."""
        if not self.on_failure:
            return
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        message = {
            "requestContext": {
                "requestId": f"local-{first['SequenceNumber']}",
                "functionArn": self.function,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": tries,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": str(reply)[:1000]},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": "shardId-local",
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": first.get("ApproximateCreationDateTime"),
                "approximateArrivalOfLastRecord": last.get("ApproximateCreationDateTime"),
                "batchSize": len(batch),
                "streamArn": self.stream_arn,
            },
        }
        queue_url = self.sqs.get_queue_url(QueueName=self.on_failure.rsplit(":", 1)[-1])["QueueUrl"]
        self.sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))


class StreamPollers:
    """Every enabled mapping of a DynamoDB stream in the account, each polled on a thread of its own."""

    def __init__(
        self,
        lambdas: Any,
        client_as: Callable[[str, str], Any],
        invoke: Invoke,
        region: str,
        log: Callable[[str], None] | None = None,
    ):
        """`lambdas` lists the mappings (the administrator's client); `client_as(role, service)` is a
        client signed with the credentials Lambda gets for a function's role."""
        self.lambdas = lambdas
        self.client_as = client_as
        self.invoke = invoke
        self.region = region
        self.log = log or (lambda line: None)
        self.mappings: list[StreamMapping] = []
        self.threads: list[threading.Thread] = []

    def start(self) -> StreamPollers:
        for mapping in self.lambdas.list_event_source_mappings()["EventSourceMappings"]:
            if ":dynamodb:" not in mapping["EventSourceArn"] or mapping.get("State", "Enabled") != "Enabled":
                continue
            role = self.lambdas.get_function_configuration(FunctionName=mapping["FunctionArn"])["Role"]
            poller = StreamMapping(
                mapping,
                self.client_as(role, "dynamodbstreams"),
                self.client_as(role, "sqs"),
                self.invoke,
                self.region,
            )
            thread = threading.Thread(target=self._run, args=(poller,), daemon=True, name="stream-poller")
            thread.start()
            self.mappings.append(poller)
            self.threads.append(thread)
            self.log(f"{mapping['FunctionArn'].rsplit(':', 1)[-1]} reads {mapping['EventSourceArn']}")
        return self

    def _run(self, poller: StreamMapping) -> None:
        try:
            poller.run()
        except Exception as exc:  # noqa: BLE001 - as Lambda disables a mapping it cannot read: said, not hidden
            self.log(f"the mapping of {poller.function} stopped: {exc!r}")

    def stop(self, timeout: float = 5.0) -> None:
        """After what was written is delivered (for `timeout` at most): a stop loses no change that
        the stack made before it, though the records themselves are not saved (persistence)."""
        deadline = time.monotonic() + timeout
        for poller in self.mappings:
            with streams.written:
                streams.written.notify_all()
            poller.caught_up.wait(max(0.0, deadline - time.monotonic()))
            poller.stopped.set()
        with streams.written:
            streams.written.notify_all()
        for thread in self.threads:
            thread.join(timeout)
