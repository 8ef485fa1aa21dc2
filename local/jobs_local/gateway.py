"""API Gateway on 127.0.0.1: each HTTP request becomes the proxy event that API Gateway would send
to the function the template routes it to, and the function's answer becomes the HTTP response."""

from __future__ import annotations

import base64
import fnmatch
import json
import threading
import time
import uuid
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from jobs_local.access_logs import AccessLog
from jobs_local.api_events import STAGE, Route, match_route, proxy_event

MAX_BODY = 6 * 1024 * 1024  # Lambda's payload limit
AUTHORIZER_TTL = 300  # seconds, the template's ReauthorizeEvery
REGION, ACCOUNT = "us-east-1", "123456789012"


def _allows(policy: dict[str, Any], method_arn: str) -> bool:
    for statement in (policy.get("policyDocument") or {}).get("Statement", []):
        resources = statement.get("Resource", [])
        for resource in [resources] if isinstance(resources, str) else resources:
            if statement.get("Effect") == "Allow" and fnmatch.fnmatchcase(method_arn, resource):
                return True
    return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog: a burst of clients waits in it instead of being reset (the default is 5).
    request_queue_size = 1024


class Gateway:
    def __init__(
        self,
        routes: list[Route],
        invoke: Callable[[str, dict[str, Any]], dict[str, Any]],
        port: int,
        log: Callable[[str], None] | None = None,
        access_log: AccessLog | None = None,
    ):
        self.routes = routes
        self.invoke = invoke
        self.access_log = access_log
        self.decisions: dict[tuple[str, str], tuple[bool, str, float]] = {}
        self.log = log or (lambda line: None)
        self.server = _Server(("127.0.0.1", port), self._handler())
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Gateway:
        if self.access_log is not None:
            self.access_log.start()
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.access_log is not None:
            self.access_log.stop()

    def authorize(
        self, route: Route, method: str, path: str, header: str | None
    ) -> tuple[HTTPStatus | None, str | None]:
        """Asks the route's token authorizer, as API Gateway does: the refusal (None when the request
        may pass) and the principal that the authorizer named."""
        if route.authorizer is None:
            return None, None
        if not header:  # API Gateway refuses without calling the authorizer
            return HTTPStatus.UNAUTHORIZED, None
        method_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:local/{STAGE}/{method}{path}"
        key = (route.authorizer, header)
        cached = self.decisions.get(key)
        if cached is None or cached[2] < time.monotonic():
            try:
                policy = self.invoke(
                    route.authorizer, {"type": "TOKEN", "authorizationToken": header, "methodArn": method_arn}
                )
            except RuntimeError:  # the authorizer said Unauthorized (or failed): a 401, never cached
                return HTTPStatus.UNAUTHORIZED, None
            cached = (_allows(policy, method_arn), policy.get("principalId"), time.monotonic() + AUTHORIZER_TTL)
            self.decisions[key] = cached
        return (None if cached[0] else HTTPStatus.FORBIDDEN), cached[1]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "jobs-local-gateway"
            # Headers and body leave in two writes: with Nagle's algorithm the body would wait for
            # the client's delayed ACK of the headers, 40 ms on Linux.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                started = time.monotonic()
                url = urlsplit(self.path)
                method = self.command
                self.context: dict[str, Any] = {
                    "requestId": str(uuid.uuid4()),
                    "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
                    "identity.sourceIp": self.client_address[0],
                    "identity.userAgent": self.headers.get("User-Agent"),
                    "httpMethod": method,
                    "path": f"/{STAGE}{url.path or '/'}",
                }
                status = self._respond(method, url.path or "/", url.query)
                took = (time.monotonic() - started) * 1000
                gateway.log(f"{method} {self.path} {status} {took:.0f} ms")
                if gateway.access_log is not None:
                    gateway.access_log.record({**self.context, "status": status, "responseLatency": round(took)})

            def _respond(self, method: str, path: str, query: str) -> int:
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    return self._send_json(HTTPStatus.BAD_REQUEST, "Content-Length is not a number")
                if length > MAX_BODY:
                    return self._send_json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large")
                body = self.rfile.read(length) if length else None
                found = match_route(gateway.routes, "GET" if method == "HEAD" else method, path)
                if found is None:
                    return self._send_json(HTTPStatus.NOT_FOUND, f"no route {method} {path}")
                route, params = found
                self.context["resourcePath"] = route.path
                refused, principal = gateway.authorize(route, method, path, self.headers.get("Authorization"))
                self.context["authorizer.principalId"] = principal
                if refused is not None:
                    return self._send_json(refused, "missing or wrong token: send Authorization: Bearer <token>")
                headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
                event = proxy_event(
                    method,
                    path,
                    route.path,
                    params,
                    query,
                    headers,
                    body,
                    self.client_address[0],
                    request_id=self.context["requestId"],
                    principal=principal,
                )
                try:
                    response = gateway.invoke(route.target, event)
                except Exception as exc:  # noqa: BLE001 - API Gateway answers 502 when the integration fails
                    gateway.log(f"integration error: {exc}")
                    return self._send_json(HTTPStatus.BAD_GATEWAY, "Internal server error")
                return self._send_proxy_response(method, response)

            def _send_proxy_response(self, method: str, response: dict[str, Any]) -> int:
                status = int(response.get("statusCode") or 200)
                body = response.get("body") or ""
                data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
                self.send_response(status)
                sent = set()
                for name, values in (response.get("multiValueHeaders") or {}).items():
                    for value in values:
                        self.send_header(name, str(value))
                    sent.add(name.lower())
                for name, value in (response.get("headers") or {}).items():
                    if name.lower() not in sent and name.lower() != "content-length":
                        self.send_header(name, str(value))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(data)
                self.context["responseLength"] = len(data)
                return status

            def _send_json(self, status: HTTPStatus, message: str) -> int:
                data = json.dumps({"message": message}).encode()
                self.context["responseLength"] = len(data)
                self.context["error.message"] = message
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return int(status)

            def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
                # http.server's own refusals (a bad request line, headers too long): JSON as well, not HTML.
                self.close_connection = True
                self.context = {}
                self._send_json(HTTPStatus(code), message or HTTPStatus(code).phrase)

            def __getattr__(self, name: str) -> Any:
                # Every method (TRACE, QUERY, ...) goes to the function, which answers a method that
                # its routes do not take with a 405 and Allow; http.server would send an HTML 501.
                if name.startswith("do_"):
                    return self._serve
                raise AttributeError(name)

        return Handler
