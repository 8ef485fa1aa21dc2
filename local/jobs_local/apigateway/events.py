"""The proxy events that API Gateway (REST API, Lambda proxy integration) sends to a function."""

from __future__ import annotations

import base64
import re
import time
import uuid
from typing import Any, NamedTuple
from urllib.parse import parse_qs

STAGE = "v1"


class Route(NamedTuple):
    method: str  # or ANY
    path: str  # the API resource, e.g. /{proxy+}
    target: str  # the function
    authorizer: str | None = None  # the authorizer function; None for a public route

    @property
    def public(self) -> bool:
        return self.authorizer is None


def match_route(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """Finds the route and its path parameters as API Gateway does: literal paths win over {params}."""
    for route in sorted(routes, key=lambda r: ("{" in r.path, -len(r.path))):
        if route.method not in ("ANY", method):
            continue
        pattern = re.escape(route.path)
        pattern = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", pattern)
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
        found = re.match(f"^{pattern}$", path)
        if found:
            return route, found.groupdict()
    return None


def proxy_event(
    method: str,
    path: str,
    resource: str,
    path_parameters: dict[str, str] | None = None,
    query_string: str = "",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
    principal: str | None = None,
    user_arn: str | None = None,
    authorizer_context: dict[str, str] | None = None,
) -> dict[str, Any]:
    """`principal`: the authorizer's principalId (back-office API); `user_arn`: the IAM caller (SigV4 API)."""
    query = parse_qs(query_string, keep_blank_values=True)
    headers = dict(headers or {})
    text_body: str | None = None
    encoded = False
    if body:
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            text_body, encoded = base64.b64encode(body).decode(), True
    now = time.time()
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            "requestId": request_id or str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "identity": {
                "sourceIp": source_ip,
                "userAgent": headers.get("User-Agent", headers.get("user-agent")),
                "userArn": user_arn,
            },
            # A token authorizer's `context`, beside its principal, as API Gateway passes them on.
            "authorizer": {"principalId": principal, **(authorizer_context or {})} if principal else None,
            "protocol": "HTTP/1.1",
            "accountId": "123456789012",
            "apiId": "local",
        },
        "body": text_body,
        "isBase64Encoded": encoded,
    }
