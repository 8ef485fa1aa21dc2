"""A local stack per test session: template.yaml deployed into moto, handlers run as real processes."""

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr

from jobs_local.apigateway.events import match_route, proxy_event
from jobs_local.stack import LocalStack
from jobsys.config import load_config
from jobsys.output import OutputStore
from jobsys.settings import Settings
from jobsys.store import JobStore
from jobsys.store.items import AUDIT_SK, SEARCH_SK
from jobsys.store.usage import usage_pk
from jobsys.system import JobSystem
from tests.jobs_api import CONFIG, JobApi

OPERATOR = "it-operator"  # the name the back-office token of these calls stands for


class Api(JobApi):
    """Calls the API function with the proxy events that API Gateway sends."""

    def __init__(self, stack: LocalStack):
        super().__init__()
        self.stack = stack

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: str = "",
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        principal: str | None = OPERATOR,
        role: str | None = "admin",
        user_arn: str | None = None,
        with_headers: bool = False,
        parse: bool = True,
    ):
        """As the back-office API calls the function after its authorizer named `principal`; with
        `user_arn` instead, as the IAM API calls it for a signed request."""
        route, params = match_route(self.stack.routes, method, path)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"Content-Type": "application/json", **(headers or {})}
        event = proxy_event(
            method,
            path,
            route.path,
            params,
            query,
            headers,
            data,
            principal=principal,
            user_arn=user_arn,
            authorizer_context={"role": role} if role else None,
        )
        response = self.stack.client("lambda").invoke(FunctionName=route.target, Payload=json.dumps(event).encode())
        payload = json.loads(response["Payload"].read())
        assert not response.get("FunctionError"), payload
        answer = json.loads(payload["body"]) if payload.get("body") and parse else payload.get("body")
        self.noted(method, path, payload["statusCode"], answer)
        if with_headers:
            multi = {k: ", ".join(v) for k, v in (payload.get("multiValueHeaders") or {}).items()}
            return payload["statusCode"], answer, {**multi, **(payload.get("headers") or {})}
        return payload["statusCode"], answer


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with LocalStack(config_path=CONFIG, stack_name="jobs-it") as local:
        yield local


@pytest.fixture(scope="session")
def api(stack: LocalStack) -> Api:
    return Api(stack)


@pytest.fixture(scope="session")
def system(stack: LocalStack) -> JobSystem:
    """The job system in this process, on the stack's AWS as its administrator: for the tests that
    inject a clock (`now`) or a budget into what a function would run."""
    return JobSystem(
        config=load_config(CONFIG),
        store=JobStore(stack.session().resource("dynamodb").Table(stack.physical_id("JobsTable"))),
        output=OutputStore(
            stack.client("logs"), stack.client("s3"), stack.physical_id("JobOutputLogGroup"),
            stack.physical_id("OutputBucket"),
        ),
        sfn=stack.client("stepfunctions"),
        settings=Settings.model_validate({
            "JOBS_TABLE": stack.physical_id("JobsTable"), "JOBS_BUCKET": stack.physical_id("OutputBucket"),
            "JOBS_LOG_GROUP": stack.physical_id("JobOutputLogGroup"),
            "STATE_MACHINE_ARN": stack.physical_id("JobStateMachine"),
        }),
    )  # fmt: skip


@pytest.fixture
def table(stack: LocalStack):
    return stack.session().resource("dynamodb").Table(stack.physical_id("JobsTable"))


USAGE_PREFIX = usage_pk("command", "").split("#")[0] + "#"


def count_items(table) -> int:
    """The items that a request could write. Not the days' usage (`USAGE#`): the stream's consumer
    adds a day's item a moment after the first run of a command that day ends, so a test that just
    waited for a job to finish saw the next test's refused request "write" one (1 in about 10 runs
    of make test). A refused request runs nothing, so writes no usage. Nor the jobs' search items,
    which the same consumer writes a moment after each job. Nor the audit log, where a refused
    request is one record, of its refusal (test_audit.py)."""
    # Tests may scan; request paths never do.
    written = ~Attr("pk").begins_with(USAGE_PREFIX) & ~Attr("sk").begins_with(SEARCH_SK) & ~Attr("sk").eq(AUDIT_SK)
    return table.scan(Select="COUNT", FilterExpression=written)["Count"]
