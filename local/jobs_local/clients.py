"""The local stack's sessions and clients, in one place: the administrator's (the deployment and
the operator's own tools), and those a service gets for one of the stack's roles. Every client
talks to the one moto server, signed, as IAM is enforced (iam/enforcement.py)."""

from __future__ import annotations

import json
from typing import Any

from botocore.config import Config

from jobs_local.iam.credentials import Keys, RoleSessions

REGION = "us-east-1"


class EndpointSession:
    """A boto3 session whose clients all talk to the local moto server, signed with `keys`."""

    def __init__(self, endpoint_url: str, keys: Keys):
        self.endpoint_url = endpoint_url
        self.region_name = REGION
        self.keys = keys
        self._session = keys.session(REGION)

    def client(self, service: str) -> Any:
        return self._session.client(
            service,
            endpoint_url=self.endpoint_url,
            config=Config(retries={"max_attempts": 2}, read_timeout=960, max_pool_connections=64),
        )

    def resource(self, service: str) -> Any:
        return self._session.resource(service, endpoint_url=self.endpoint_url)


class StackClients:
    """Clients of the local AWS: one per service and per role, shared (boto3 clients are
    thread-safe and costly to make)."""

    def __init__(self, endpoint_url: str, roles: RoleSessions, administrator: Keys):
        self.endpoint_url = endpoint_url
        self.roles = roles
        self.administrator = administrator
        self._clients: dict[str, Any] = {}

    def session(self) -> EndpointSession:
        """The administrator's: for the deployment and the operator's own tools."""
        return EndpointSession(self.endpoint_url, self.administrator)

    def session_as(self, role_arn: str, service: str, name: str) -> EndpointSession:
        """The credentials that `service` (e.g. `lambda.amazonaws.com`) gets for a role."""
        return EndpointSession(self.endpoint_url, self.roles.keys(role_arn, service, name[:64]))

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session().client(service)
        return self._clients[service]

    def client_as(self, role_arn: str, service: str, source_arn: str, client: str) -> Any:
        """A client of `client` signed with the credentials that `service` gets for a role."""
        key = f"{client} as {role_arn}"
        if key not in self._clients:
            keys = self.roles.keys(role_arn, service, service.split(".")[0], source_arn)
            self._clients[key] = EndpointSession(self.endpoint_url, keys).client(client)
        return self._clients[key]

    def invoke_function(self, name: str, event: dict[str, Any], asynchronous: bool = False) -> dict[str, Any] | None:
        """Invokes a function through Lambda's API, as the administrator; its error raised."""
        response = self.client("lambda").invoke(
            FunctionName=name,
            Payload=json.dumps(event).encode(),
            InvocationType="Event" if asynchronous else "RequestResponse",
        )
        if asynchronous:
            return None
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            raise RuntimeError(f"{name} failed: {payload}")
        return payload
