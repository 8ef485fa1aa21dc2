"""The back-office API as the local gateway serves it: its routes and its access log, from the
template. (gateway.py serves them; its docstring names the moto behaviour it replaces.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jobs_local.apigateway.access_logs import AccessLog
from jobs_local.apigateway.events import Route
from jobs_local.clients import StackClients
from jobs_local.cloudformation.deploy import api_routes

# The API served on 127.0.0.1: the back-office API, whose bearer token a local client can send
# (the other API checks SigV4 signatures, which only AWS can verify).
LOCAL_API = "BackOfficeApi"
API_LOGS_ROLE = "ApiGatewayCloudWatchRole"
ACCESS_LOG_FILE = "api-access.log"  # in the state folder: the API's access log, as its log group holds it


def local_routes(sam: dict[str, Any], physical: dict[str, str]) -> list[Route]:
    return [
        route._replace(target=physical[route.target], authorizer=route.authorizer and physical[route.authorizer])
        for route in api_routes(sam, LOCAL_API)
    ]


def access_log(
    sam: dict[str, Any], physical: dict[str, str], clients: StackClients, state_dir: Path | None
) -> AccessLog:
    """API Gateway writes access logs with the account's CloudWatch role (AWS::ApiGateway::Account)."""
    mirror = state_dir / ACCESS_LOG_FILE if state_dir is not None else None
    logs_role = clients.client("iam").get_role(RoleName=physical[API_LOGS_ROLE])["Role"]["Arn"]
    logs = clients.client_as(logs_role, "apigateway.amazonaws.com", "", "logs")
    return AccessLog.from_template(sam, LOCAL_API, physical, logs, mirror)
