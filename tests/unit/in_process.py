"""JobSystem in-process, against moto's mock_aws, with a clock the test moves: what the domain's
unit tests and the lifecycle simulation share. The test plays the state machine's part."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from jobs_local.cloudformation.deploy import load_template
from jobs_local.dynamodb import responses, streams, transaction_rollback
from jobs_local.patching import Patch
from jobsys.config import parse_config
from jobsys.models import Job, JobState
from jobsys.output import OutputStore
from jobsys.settings import Settings
from jobsys.store import JobStore
from jobsys.system import JobSystem

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def create_table(name: str) -> None:
    """The table as template.yaml declares it: its keys and every index the code queries."""
    table = load_template(ROOT / "template.yaml")["Resources"]["JobsTable"]["Properties"]
    boto3.client("dynamodb").create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=table["AttributeDefinitions"],
        KeySchema=table["KeySchema"],
        GlobalSecondaryIndexes=table["GlobalSecondaryIndexes"],
        StreamSpecification={"StreamEnabled": True, **table["StreamSpecification"]},
    )


class TableStream:
    """The table's stream, read in order from its start, as its event source mapping reads it."""

    def __init__(self, table: str):
        self.streams = boto3.client("dynamodbstreams")
        arn = boto3.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shard = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]

    def read(self) -> list[dict[str, Any]]:
        """The records written since the last read."""
        records: list[dict[str, Any]] = []
        while True:
            answer = self.streams.get_records(ShardIterator=self.iterator, Limit=1000)
            self.iterator = answer["NextShardIterator"]
            records += answer["Records"]
            if len(answer["Records"]) < 1000:
                return records


@contextmanager
def system_for(config: dict[str, Any], clock: Clock) -> Iterator[JobSystem]:
    """A JobSystem over a fresh mock_aws: its executions are recorded RUNNING and never run, so
    that the caller plays the state machine (AWS_DEFAULT_REGION must be set). The table's stream
    holds what DynamoDB's holds: moto's own put a failed transaction's writes in it, and its rollback
    swapped the table (and its stream) for a copy. Its answers are written by the stack's
    serializer (jobs_local.dynamodb.responses): moto's own took a fifth of the simulation's time."""
    with mock_aws(), _patched(transaction_rollback.PATCH, streams.PATCH, responses.PATCH):
        create_table("jobs")
        boto3.client("s3").create_bucket(Bucket="output")
        boto3.client("logs").create_log_group(logGroupName="/jobs")
        sfn = boto3.client("stepfunctions")
        machine = sfn.create_state_machine(
            name="job",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn="arn:aws:iam::123456789012:role/job",
        )["stateMachineArn"]
        settings = Settings.model_validate(
            {"JOBS_TABLE": "jobs", "JOBS_BUCKET": "output", "JOBS_LOG_GROUP": "/jobs", "STATE_MACHINE_ARN": machine}
        )
        yield JobSystem(
            config=parse_config(config),
            store=JobStore(boto3.resource("dynamodb").Table("jobs")),
            output=OutputStore(boto3.client("logs"), boto3.client("s3"), "/jobs", "output"),
            sfn=sfn,
            settings=settings,
            clock=clock,
        )


@contextmanager
def _patched(*patches: Patch) -> Iterator[None]:
    for patch in patches:
        patch.install()
    try:
        yield
    finally:
        for patch in reversed(patches):
            patch.uninstall()


def run_and_close(system: JobSystem, job: Job, state: JobState) -> Job:
    """What the runner does: marks the job running (unless it runs), then closes it; then the run's end."""
    running = job if job.state == JobState.RUNNING else None
    running = running or system.store.mark_running(job, system.clock(), system.output.location(job.id))
    exit_code = 0 if state == JobState.FINISHED else 1
    system.store.close(running, state, system.clock(), exit_code=exit_code, from_states=[JobState.RUNNING])
    system.end_run(job.id)
    return system.get_job(job.id)
