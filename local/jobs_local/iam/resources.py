"""What IAM checks for one request: the actions and the resource ARN each one is checked on.

Replaces: the resource moto hands its authorizer, `*` for every service but S3, SQS, IAM and STS.
Against `*`, a policy scoped to a table or a function refuses everything; and one action per request
misses what AWS checks besides it (each table of a batch, each item of a transaction, the role that
a task or schedule is given). One small table per service, by the operation's name; an operation
not in it is checked on `*`, which only a policy with `Resource: "*"` allows: never wider than AWS.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

Check = tuple[str, str]  # (IAM action, resource ARN)


class RequestView:
    """The parts of one request that its resource comes from (a moto response object, read once)."""

    def __init__(self, service: str, operation: str, region: str, account: str, path: str, query: dict, body: Any):
        self.service = service
        self.operation = operation
        self.region = region
        self.account = account
        self.path = unquote(path)
        self.query = query
        self.body = body
        self._params: dict[str, Any] | None = None

    @property
    def params(self) -> dict[str, Any]:
        if self._params is None:
            try:  # moto's DynamoDB has read the body into a dict already
                parsed = self.body if isinstance(self.body, dict) else json.loads(self.body) if self.body else {}
            except (TypeError, ValueError):
                parsed = {}
            self._params = parsed if isinstance(parsed, dict) else {}
        return self._params

    def param(self, name: str) -> str | None:
        value = self.params.get(name)
        if value is None:
            listed = self.query.get(name)
            value = listed[0] if isinstance(listed, list) and listed else listed
        return value if isinstance(value, str) else None

    def arn(self, resource: str) -> str:
        return f"arn:aws:{self.service}:{self.region}:{self.account}:{resource}"

    def segment_after(self, marker: str) -> str | None:
        parts = self.path.strip("/").split("/")
        return parts[parts.index(marker) + 1] if marker in parts[:-1] else None


def _own(view: RequestView, value: str | None, resource: Callable[[str], str]) -> str:
    """A parameter that may be a name or an ARN already."""
    if not value:
        return "*"
    return value if value.startswith("arn:") else view.arn(resource(value))


# --- DynamoDB -------------------------------------------------------------------------------------

_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _dynamodb(view: RequestView) -> list[Check]:
    def table(name: str | None) -> str:
        return _own(view, name, lambda n: f"table/{n}")

    op = view.operation
    if op in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{op}", table(name)) for name in view.params.get("RequestItems") or {"": None}]
    if op == "TransactWriteItems":
        return [
            (f"dynamodb:{_TRANSACT_ACTIONS.get(kind, kind)}", table(spec.get("TableName")))
            for item in view.params.get("TransactItems") or []
            for kind, spec in item.items()
        ] or [("dynamodb:PutItem", "*")]
    if op == "TransactGetItems":
        return [
            ("dynamodb:GetItem", table(item.get("Get", {}).get("TableName")))
            for item in view.params.get("TransactItems") or []
        ] or [("dynamodb:GetItem", "*")]
    if op in ("ListTables", "DescribeLimits", "DescribeEndpoints", "ListStreams"):
        return [(f"dynamodb:{op}", "*")]
    # DynamoDB Streams signs as `dynamodb`: a stream's ARN is its table's, then /stream/<label>.
    if op in ("DescribeStream", "GetShardIterator"):
        return [(f"dynamodb:{op}", view.param("StreamArn") or "*")]
    if op == "GetRecords":  # an iterator names its stream (moto's, as `<stream ARN>|...`)
        iterator = view.param("ShardIterator") or ""
        return [("dynamodb:GetRecords", iterator.split("|", 1)[0] if iterator.startswith("arn:") else "*")]
    resource = table(view.param("TableName") or view.param("ResourceArn"))
    index = view.param("IndexName")
    if index and resource != "*":
        resource = f"{resource}/index/{index}"
    return [(f"dynamodb:{op}", resource)]


# --- Lambda ---------------------------------------------------------------------------------------

_LAMBDA_ACTIONS = {"Invoke": "InvokeFunction", "InvokeAsync": "InvokeFunction"}


def _lambda(view: RequestView) -> list[Check]:
    action = f"lambda:{_LAMBDA_ACTIONS.get(view.operation, view.operation)}"
    name = view.segment_after("functions")
    if name is None:
        layer = view.segment_after("layers")
        return [(action, view.arn(f"layer:{layer}") if layer else "*")]
    resource = name if name.startswith("arn:") else view.arn(f"function:{name}")
    qualifier = (view.query.get("Qualifier") or [None])[0]  # the body is the function's payload
    if qualifier and resource.count(":") == 6:
        resource = f"{resource}:{qualifier}"
    return [(action, resource)]


# --- CloudWatch Logs ------------------------------------------------------------------------------

_LOG_STREAM_ACTIONS = {"PutLogEvents", "GetLogEvents", "DeleteLogStream", "CreateLogStream"}


def _logs(view: RequestView) -> list[Check]:
    group = view.param("logGroupName") or view.param("logGroupIdentifier")
    if group and group.startswith("arn:"):
        group = group.split(":log-group:", 1)[-1].removesuffix(":*")
    if not group:
        return [(f"logs:{view.operation}", "*")]
    stream = view.param("logStreamName")
    if view.operation in _LOG_STREAM_ACTIONS and stream:
        return [(f"logs:{view.operation}", view.arn(f"log-group:{group}:log-stream:{stream}"))]
    # IAM names a log group with the trailing `:*` for every action but tagging.
    return [(f"logs:{view.operation}", view.arn(f"log-group:{group}:*"))]


# --- Step Functions -------------------------------------------------------------------------------


def _states(view: RequestView) -> list[Check]:
    action = f"states:{view.operation}"
    for key in ("executionArn", "stateMachineArn", "activityArn", "resourceArn"):
        if view.param(key):
            return [(action, view.param(key) or "*")]
    return [(action, "*")]  # SendTaskSuccess and the like: a task token cannot be scoped


# --- ECS ------------------------------------------------------------------------------------------


def _ecs(view: RequestView, roles_of_task_definition: Callable[[str], tuple[str, list[str]]]) -> list[Check]:
    action = f"ecs:{view.operation}"
    cluster = (view.param("cluster") or "default").rsplit("/", 1)[-1]
    if view.operation == "RunTask":
        definition, roles = roles_of_task_definition(view.param("taskDefinition") or "")
        overrides = view.params.get("overrides") or {}
        roles += [overrides[k] for k in ("taskRoleArn", "executionRoleArn") if overrides.get(k)]
        return [(action, definition)] + [("iam:PassRole", role) for role in roles]
    if view.operation in ("StopTask", "DescribeTasks"):
        tasks = view.params.get("tasks") or [view.param("task")]
        return [
            (action, task if task and task.startswith("arn:") else view.arn(f"task/{cluster}/{task}")) for task in tasks
        ]
    return [(action, "*")]


# --- EventBridge Scheduler ------------------------------------------------------------------------


def _scheduler(view: RequestView) -> list[Check]:
    action = f"scheduler:{view.operation}"
    name = view.segment_after("schedules")
    if name is not None:
        group = view.param("GroupName") or view.param("groupName") or "default"
        checks = [(action, view.arn(f"schedule/{group}/{name}"))]
        role = (view.params.get("Target") or {}).get("RoleArn")
        return checks + ([("iam:PassRole", role)] if role else [])
    group = view.segment_after("schedule-groups")
    return [(action, view.arn(f"schedule-group/{group}") if group else "*")]


# --- Secrets Manager, EventBridge, SSM, STS ------------------------------------------------------------


def _secretsmanager(view: RequestView, secret_arn: Callable[[str], str]) -> list[Check]:
    secret = view.param("SecretId")
    return [(f"secretsmanager:{view.operation}", secret_arn(secret) if secret else "*")]


def _events(view: RequestView) -> list[Check]:
    if view.operation == "PutEvents":  # each entry is checked on its bus
        entries = view.params.get("Entries") or []
        buses = {entry.get("EventBusName") or "default" for entry in entries if isinstance(entry, dict)}
        return [("events:PutEvents", _own(view, bus, lambda n: f"event-bus/{n}")) for bus in sorted(buses)] or [
            ("events:PutEvents", "*")
        ]
    rule = view.param("Name") or view.param("Rule")
    return [(f"events:{view.operation}", _own(view, rule, lambda n: f"rule/{n}"))]


def _ssm(view: RequestView) -> list[Check]:
    name = view.param("Name")
    return [(f"ssm:{view.operation}", _own(view, name, lambda n: f"parameter/{n.lstrip('/')}"))]


def _sts(view: RequestView) -> list[Check]:
    if view.operation == "GetCallerIdentity":  # needs no permission, and no Deny can refuse it
        return []
    return [(f"sts:{view.operation}", view.param("RoleArn") or "*")]


class ResourceTable:
    """The checks of a request, by its signing service; lookups of the stack's own resources are given."""

    def __init__(
        self,
        roles_of_task_definition: Callable[[str], tuple[str, list[str]]],
        secret_arn: Callable[[str], str],
    ):
        self.by_service: dict[str, Callable[[RequestView], list[Check]]] = {
            "dynamodb": _dynamodb,
            "lambda": _lambda,
            "logs": _logs,
            "states": _states,
            "ecs": lambda view: _ecs(view, roles_of_task_definition),
            "scheduler": _scheduler,
            "secretsmanager": lambda view: _secretsmanager(view, secret_arn),
            "events": _events,
            "ssm": _ssm,
            "sts": _sts,
        }

    def checks(self, view: RequestView) -> list[Check]:
        compute = self.by_service.get(view.service)
        if compute is None:
            return [(f"{view.service}:{view.operation}", "*")]
        return compute(view)
