"""`jobs-local`: what a developer runs beside `make run`, to use the SAM and AWS CLIs on the stack.

- `jobs-local env`: shell `export` lines: the stack's AWS endpoint, its administrator's keys, its
  region, and the names of its table, bucket and state machine (and its executions' ARN prefix).
  `eval "$(jobs-local env)"` makes `aws` and `sam` talk to the local stack.
- `jobs-local events [--definition KEY]`: the sample events that need the stack's own data, as
  `events/<function>.local.json`: a job recorded pending without its execution (`runner`, then
  `job_state` to end its run as the state machine would), and the token the authorizer allows.
- `jobs-local exec CMD...`: runs CMD with that environment (`make invoke` uses it).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import boto3

from jobs_cli.connection import local_stack
from jobsys.errors import JobSystemError
from jobsys.system.base import executions_of

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
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


def _env(stack: RunningStack) -> int:
    for name, value in stack.environment().items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


def _exec(stack: RunningStack, argv: list[str]) -> int:
    if not argv:
        print("jobs-local exec: name a command to run", file=sys.stderr)
        return 2
    os.execvpe(argv[0], argv, os.environ | stack.environment())
    return 127  # not reached


def _events(stack: RunningStack, definition: str | None) -> int:
    from jobs_local.sample_events import SampleEvents  # the job system's models: only for this command

    written = SampleEvents(stack, EVENTS).write(definition)
    for path, what in written:
        print(f"{path.relative_to(ROOT)}: {what}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jobs-local", description="The SAM and AWS CLIs on the local stack.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("env", help="export lines for the local stack's endpoint, keys and resource names")
    events = commands.add_parser("events", help="write events/*.local.json for the running stack")
    events.add_argument("--definition", help="the configured job to record (default: the first on Lambda)")
    run = commands.add_parser("exec", help="run a command (sam, aws) against the local stack")
    run.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    try:
        stack = RunningStack.find()
        if args.command == "env":
            return _env(stack)
        if args.command == "events":
            return _events(stack, args.definition)
        return _exec(stack, args.argv)
    except StackUnreachable as exc:
        print(f"jobs-local: {exc}", file=sys.stderr)
        return 3
    except (LookupError, JobSystemError) as exc:  # an unknown definition, one on Fargate, a unique one running
        print(f"jobs-local: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
