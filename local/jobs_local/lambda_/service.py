"""Lambda, as the local stack runs it: its functions' environments (runtime.py), its event source
mappings (stream_pollers.py), provisioned environments, and the invocations that AWS's services
make from inside (API Gateway's integrations, a mapping's batches).

Replaces: moto's Lambda, which runs a function only in Docker and invokes a mapping's function
inside the write that made the record. Started before the deployment (which registers the
functions) and its mappings' pollers after it; stopped pollers first, so that the changes made so
far still reach their function.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from moto.awslambda.models import lambda_backends

from jobs_local.clients import REGION, StackClients
from jobs_local.iam.credentials import RoleSessions
from jobs_local.lambda_.runtime import LambdaRuntime
from jobs_local.lambda_.stream_pollers import StreamPollers

LAMBDA_RESPONSE_LIMIT = 6_291_556  # bytes: a synchronous invocation's largest response


class LambdaService:
    def __init__(
        self, endpoint_url: str, roles: RoleSessions, concurrency: int, log: Callable[[str, str], None] | None = None
    ):
        self.runtime = LambdaRuntime(endpoint_url, REGION, roles, concurrency=concurrency, log=log)
        self.concurrency = concurrency
        self.log = log
        self.account = ""  # the deployment's, once it is known (deployed)
        self.stream_pollers: StreamPollers | None = None

    def start(self) -> LambdaService:
        self.runtime.serve()
        return self

    def deployed(self, account: str) -> None:
        """The account the template was deployed into: its functions are found there."""
        self.account = account

    def provision(self, functions: set[str], count: int) -> list[threading.Thread]:
        """`count` environments of each function started now, as provisioned concurrency keeps them."""
        found = lambda_backends[self.account][REGION]
        return [
            self.runtime.provision(found.get_function(name, None), min(count, self.concurrency)) for name in functions
        ]

    def start_pollers(self, clients: StackClients) -> None:
        """The event source mappings that the deployment made, each polled from now on."""
        log = self.log
        self.stream_pollers = StreamPollers(
            clients.client("lambda"),
            lambda role, service: clients.client_as(role, "lambda.amazonaws.com", "", service),
            self._invoke_from_lambda,
            REGION,
            log=(lambda line: log("streams", line)) if log else None,
        ).start()

    def stop_pollers(self) -> None:
        if self.stream_pollers is not None:
            self.stream_pollers.stop()
            self.stream_pollers = None

    def stop(self) -> None:
        self.stop_pollers()
        self.runtime.close()

    def call_function(self, name: str, event: dict[str, Any]) -> dict[str, Any]:
        """Invokes a function as API Gateway's integration does: from inside the service, not
        through Lambda's HTTP API (which would add a round trip through the moto server)."""
        payload, failed = self._invoke_inside(name, json.loads(json.dumps(event)))
        if failed:
            raise RuntimeError(f"{name} failed: {payload}")
        if len(payload.encode()) > LAMBDA_RESPONSE_LIMIT:  # Lambda refuses it: Function.ResponseSizeTooLarge
            raise RuntimeError(f"{name} failed: its response is larger than {LAMBDA_RESPONSE_LIMIT} bytes")
        return json.loads(payload or "null")

    def _invoke_from_lambda(self, function_arn: str, event: dict[str, Any]) -> tuple[Any, bool]:
        """An invocation that Lambda makes itself (an event source mapping's): no caller to authorize."""
        payload, failed = self._invoke_inside(function_arn, event)
        return json.loads(payload or "null"), failed

    def _invoke_inside(self, function: str, event: dict[str, Any]) -> tuple[str, bool]:
        """An invocation from inside the services: its reply, and whether it failed."""
        found = lambda_backends[self.account][REGION].get_function(function, None)
        payload, failed, _ = self.runtime.invoke(found, event)
        return payload, failed
