"""Step Functions calls the services that its tasks name as the state machine's role, and keeps
its connections to them; moto's interpreter signed every call with fixed keys (`ak`, `sk`), whatever
the role, and built a new boto3 client, with its own connection pool, for every task it ran.

Replaces: `boto_client_for` in every module of moto's interpreter that imports it (3 % of the local
stack's busy time under load, and a new connection to the moto server per task). Each service gets
one client per role, shared (boto3 clients are thread-safe), signed with the credentials that Step
Functions takes for the execution's role (or the state's `Credentials`), with a pool large enough
for every execution that waits on a task at once.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from botocore.config import Config
from moto.settings import moto_server_port
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

from jobs_local.iam.credentials import RoleSessions
from jobs_local.patching import Patch

POOL = 256  # connections per service: each execution waiting on a task holds one
_clients: dict[tuple[str, str, str], Any] = {}
_lock = threading.Lock()
_roles: list[RoleSessions] = []  # the stack's, once installed


def _client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    role = getattr(state_credentials, "role_arn", None) or ""
    with _lock:
        client = _clients.get((region, service, role))
        if client is None:
            keys = _roles[-1].keys(role, "states.amazonaws.com", "states-integration")
            client = _clients[(region, service, role)] = keys.client(
                service,
                region,
                f"http://localhost:{moto_server_port()}",
                config=Config(
                    parameter_validation=False,
                    retries={"max_attempts": 0, "total_max_attempts": 1},
                    connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                    read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                    max_pool_connections=POOL,
                ),
            )
        return client


_TASKS = "moto.stepfunctions.parser.asl.component.state.exec.state_task."
_MAP = "moto.stepfunctions.parser.asl.component.state.exec.state_map."
# Every module of moto's interpreter that calls a service (`grep -rl boto_client_for`).
CALLERS = [
    _TASKS + "lambda_eval_utils",
    *(
        f"{_TASKS}service.state_task_service_{name}"
        for name in ("aws_sdk", "batch", "dynamodb", "ecs", "events", "glue", "sfn", "sns", "sqs", "unsupported")
    ),
    _MAP + "item_reader.eval.resource_eval_s3",
    _MAP + "result_writer.resource_eval.resource_eval_s3",
]


def _modules_that_call_services() -> list[Any]:
    return [importlib.import_module(name) for name in CALLERS]


def sign_as(roles: RoleSessions) -> None:
    """The stack whose roles the tasks take; another stack in this process has other roles and keys."""
    _roles.append(roles)
    with _lock:
        _clients.clear()


PATCH = Patch(
    "the boto_client_for of moto's service tasks, which makes a client for every task",
    [(module, "boto_client_for", _client_for) for module in _modules_that_call_services()],
)
