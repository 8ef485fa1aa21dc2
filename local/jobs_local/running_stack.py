"""The stack that `make run` started, as its connection file names it: its AWS, as its
administrator, and the names of the resources an operator's commands use."""

from __future__ import annotations

from typing import Any

import boto3

from jobs_cli.connection import local_stack
from jobsys.system.base import executions_of

# The stack's resources that an operator's commands name, by the variable that holds each name.
RESOURCES = {"JOBS_TABLE": "JobsTable", "JOBS_BUCKET": "OutputBucket", "JOBS_STATE_MACHINE": "JobStateMachine"}


class StackUnreachable(Exception):
    pass


class RunningStack:
    """The stack that `make run` started, as its connection file names it."""

    def __init__(self, found: dict[str, Any]):
        self.found = found
        self.stack_name: str = found.get("stack_name", "jobs-local")
        self.session = boto3.Session(
            aws_access_key_id=found["aws_access_key_id"],
            aws_secret_access_key=found["aws_secret_access_key"],
            region_name=found["aws_region"],
        )
        self.endpoint_url: str = found["aws_endpoint"]

    @classmethod
    def find(cls) -> RunningStack:
        found = local_stack()
        if not found or "aws_endpoint" not in found:
            raise StackUnreachable("no local stack is running: start it with `make run` first")
        return cls(found)

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)

    def resource(self, service: str) -> Any:
        return self.session.resource(service, endpoint_url=self.endpoint_url)

    def physical_ids(self) -> dict[str, str]:
        pages = self.client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=self.stack_name)
        return {
            r["LogicalResourceId"]: r["PhysicalResourceId"] for page in pages for r in page["StackResourceSummaries"]
        }

    def environment(self) -> dict[str, str]:
        physical = self.physical_ids()
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.found["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": self.found["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": self.found["aws_region"],
            "AWS_REGION": self.found["aws_region"],
            "JOBS_STACK": self.stack_name,
            **{variable: physical[logical] for variable, logical in RESOURCES.items()},
            # A job's execution is named after it: "$JOBS_EXECUTIONS:<job id>" is its ARN.
            "JOBS_EXECUTIONS": executions_of(physical["JobStateMachine"]),
        }
