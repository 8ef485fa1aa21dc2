"""Step Functions keeps its connections to the services that its tasks call; moto's interpreter
built a new boto3 client, with its own connection pool, for every task it ran.

Replaces: `boto_client_for` as moto's Lambda, ECS and Step Functions integrations use it (3 % of the
local stack's busy time under load, and a new connection to the moto server per task). Each service
gets one client, shared (boto3 clients are thread-safe), made as moto makes it but with a pool
large enough for every execution that waits on a task at once.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
import moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils as lambda_tasks
import moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_ecs as ecs_tasks
import moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn as sfn_tasks
from botocore.config import Config
from moto.settings import moto_server_port
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

POOL = 256  # connections per service: each execution waiting on a task holds one
_clients: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


def _client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    # moto's own version signs with fixed keys, whatever the state's credentials: so does this one.
    with _lock:
        client = _clients.get((region, service))
        if client is None:
            client = _clients[(region, service)] = boto3.client(
                service_name=service,
                region_name=region,
                aws_access_key_id="ak",
                aws_secret_access_key="sk",
                endpoint_url=f"http://localhost:{moto_server_port()}",
                config=Config(
                    parameter_validation=False,
                    retries={"max_attempts": 0, "total_max_attempts": 1},
                    connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                    read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                    max_pool_connections=POOL,
                ),
            )
        return client


def reuse_task_clients() -> None:
    for module in (lambda_tasks, ecs_tasks, sfn_tasks):
        module.boto_client_for = _client_for  # type: ignore[attr-defined]
