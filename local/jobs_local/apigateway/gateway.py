"""API Gateway on 127.0.0.1: each HTTP request becomes the proxy event that API Gateway would send
to the function the template routes it to, and the function's answer becomes the HTTP response.

The HTTP is waitress's, not `http.server`'s. `http.server` gives each connection a thread for as
long as it stays open, with no idle timeout, so idle clients pile up threads; it takes a negative
Content-Length and then blocks reading to the end of the stream; it does not read a chunked body,
so after a refusal the unread body is parsed as the next request. waitress reads requests on one
event loop and runs at most `threads` of them at once; it refuses a Content-Length that is not
digits, closes the connection after every refusal, de-chunks bodies, and closes idle connections.
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import ErrorTask

from jobs_local.apigateway.access_logs import AccessLog
from jobs_local.apigateway.events import STAGE, Route, match_route, proxy_event
from jobs_local.people_first import PEOPLE_FIRST
from jobsys.spec.limits import API_GATEWAY_TIMEOUT, AUTHORIZER_CACHE

MAX_BODY = 6 * 1024 * 1024  # Lambda's payload limit
AUTHORIZER_TTL = AUTHORIZER_CACHE  # seconds, the template's ReauthorizeEvery
REGION, ACCOUNT = "us-east-1", "123456789012"
IDLE_TIMEOUT = 30  # seconds a connection may stay open with no request in it
THREADS = 16  # requests served at once; more wait their turn, read but not yet answered
MAX_CONNECTIONS = 512  # open at once; beyond, new ones wait in the listen backlog
SERVER = "jobs-local-gateway"
LINGER = 2.0  # seconds a closing connection still reads (and drops) what the client sends
INTEGRATION_TIMEOUT = API_GATEWAY_TIMEOUT  # seconds API Gateway waits for a Lambda integration, then answers 504


def _allows(policy: dict[str, Any], method_arn: str) -> bool:
    for statement in (policy.get("policyDocument") or {}).get("Statement", []):
        resources = statement.get("Resource", [])
        for resource in [resources] if isinstance(resources, str) else resources:
            if statement.get("Effect") == "Allow" and fnmatch.fnmatchcase(method_arn, resource):
                return True
    return False


def _json(status: HTTPStatus | int, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    return int(status), [("Content-Type", "application/json")], json.dumps({"message": message}).encode()


class _JsonRefusal(ErrorTask):
    """waitress's own refusals (a bad Content-Length, a body over the limit, a malformed request or
    chunk) as JSON, like every other answer; the connection still closes after them."""

    def execute(self) -> None:
        error = self.request.error
        too_large = error.code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        message = f"request body: over {MAX_BODY} bytes, Lambda's limit" if too_large else error.body
        status, headers, body = _json(error.code, f"{error.reason}: {message}")
        self.status = f"{status} {error.reason}"
        self.response_headers.extend(headers)
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    """A connection. When the gateway closes one (after a refusal, an idle timeout or a
    `Connection: close`), it first sends its FIN, then reads and drops what the client still sends,
    for LINGER seconds at most: closing with unread data would send a reset, and a client still
    sending a refused body would lose the refusal to it (nginx's and Apache's lingering close)."""

    error_task_class = _JsonRefusal
    lingering_until: float | None = None

    def handle_close(self) -> None:
        if self.lingering_until is None and self.connected and not self.total_outbufs_len:
            with contextlib.suppress(OSError):
                self.socket.shutdown(socket.SHUT_WR)
                self.lingering_until = time.monotonic() + LINGER
                return
        self.lingering_until = 0
        super().handle_close()

    def readable(self) -> bool:
        if self.lingering_until is None:
            return super().readable()
        if self.lingering_until and time.monotonic() > self.lingering_until:
            self.lingering_until = 0
            super().handle_close()  # the loop calls readable() at least once a second
        return bool(self.lingering_until) and self.connected

    def writable(self) -> bool:
        return self.lingering_until is None and super().writable()

    def handle_read(self) -> None:
        if self.lingering_until is None:
            return super().handle_read()
        try:
            dropped = self.recv(self.adj.recv_bytes)
        except OSError:
            dropped = b""
        if not dropped:  # the client has closed its side too
            self.lingering_until = 0
            super().handle_close()


class Gateway:
    def __init__(
        self,
        routes: list[Route],
        invoke: Callable[[str, dict[str, Any]], dict[str, Any]],
        port: int,
        log: Callable[[str], None] | None = None,
        access_log: AccessLog | None = None,
        idle_timeout: int = IDLE_TIMEOUT,
        threads: int = THREADS,
        integration_timeout: float = INTEGRATION_TIMEOUT,
    ):
        self.routes = routes
        self.invoke = invoke
        self.integration_timeout = integration_timeout
        # Calls to the functions, each waited for at most the integration timeout: twice the request
        # threads, so that calls that timed out and run on do not hold up new ones.
        self.integrations = ThreadPoolExecutor(max_workers=2 * threads, thread_name_prefix="integration")
        self.access_log = access_log
        self.decisions: dict[tuple[str, str], tuple[bool, str, float, dict[str, str]]] = {}
        self.log = log or (lambda line: None)
        # It warns whenever a request waits for a thread: that is the bound doing its work.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        self.server = create_server(
            self._wsgi,
            host="127.0.0.1",
            port=port,
            threads=threads,
            connection_limit=MAX_CONNECTIONS,
            channel_timeout=idle_timeout,
            cleanup_interval=max(1, min(idle_timeout, 10)),
            max_request_body_size=MAX_BODY + 1,  # waitress refuses a body of this size or more
            backlog=1024,
            asyncore_use_poll=True,  # select() stops at 1,024 descriptors
            ident=SERVER,
            expose_tracebacks=False,
        )
        self.server.channel_class = _Channel
        self.port = self.server.effective_port
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self._stopping = False

    def start(self) -> Gateway:
        if self.access_log is not None:
            self.access_log.start()
        self.thread.start()
        return self

    def _serve(self) -> None:
        try:
            self.server.run()
        except OSError:  # the loop saw its sockets closed by stop()
            if not self._stopping:
                raise

    def stop(self) -> None:
        self._stopping = True
        # Closing every channel (the listener, the loop's trigger, the connections) ends the loop.
        for dispatcher in list(self.server._map.values()):
            with contextlib.suppress(OSError):
                if isinstance(dispatcher, _Channel):
                    dispatcher.lingering_until = 0  # no lingering: the gateway is going away
                    dispatcher.handle_close()
                else:
                    dispatcher.close()
        self.server.task_dispatcher.shutdown()
        self.integrations.shutdown(wait=False, cancel_futures=True)
        self.thread.join(timeout=5)
        if self.access_log is not None:
            self.access_log.stop()

    def authorize(
        self, route: Route, method: str, path: str, header: str | None
    ) -> tuple[HTTPStatus | None, str | None, dict[str, str]]:
        """Asks the route's token authorizer, as API Gateway does: the refusal (None when the request
        may pass), and the principal and the context that the authorizer gave."""
        if route.authorizer is None:
            return None, None, {}
        if not header:  # API Gateway refuses without calling the authorizer
            return HTTPStatus.UNAUTHORIZED, None, {}
        method_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:local/{STAGE}/{method}{path}"
        key = (route.authorizer, header)
        cached = self.decisions.get(key)
        if cached is None or cached[2] < time.monotonic():
            try:
                policy = self.invoke(
                    route.authorizer, {"type": "TOKEN", "authorizationToken": header, "methodArn": method_arn}
                )
            except RuntimeError:  # the authorizer said Unauthorized (or failed): a 401, never cached
                return HTTPStatus.UNAUTHORIZED, None, {}
            context = {str(k): str(v) for k, v in (policy.get("context") or {}).items()}  # strings, as API Gateway's
            cached = (
                _allows(policy, method_arn),
                policy.get("principalId"),
                time.monotonic() + AUTHORIZER_TTL,
                context,
            )
            self.decisions[key] = cached
        return (None if cached[0] else HTTPStatus.FORBIDDEN), cached[1], cached[3]

    # --- one request --------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.monotonic()
        method = environ["REQUEST_METHOD"]
        url = urlsplit(environ.get("REQUEST_URI") or "/")  # as sent: API Gateway's path is not unquoted
        path = url.path or "/"
        headers = {
            name[5:].replace("_", "-").title(): value for name, value in environ.items() if name.startswith("HTTP_")
        }
        for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(name):
                headers[name.replace("_", "-").title()] = environ[name]
        context: dict[str, Any] = {
            "requestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "identity.sourceIp": environ.get("REMOTE_ADDR"),
            "identity.userAgent": headers.get("User-Agent"),
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
        }
        length = int(environ.get("CONTENT_LENGTH") or 0)  # waitress has checked it, or counted a chunked body
        body = environ["wsgi.input"].read(length) if length else None
        with PEOPLE_FIRST.person():  # a person waits on it: background work waits for it
            status, response_headers, data = self._answer(method, path, url.query, headers, body, environ, context)
        context["responseLength"] = len(data)
        start_response(f"{status} {_phrase(status)}", [*response_headers, ("Content-Length", str(len(data)))])
        took = (time.monotonic() - started) * 1000
        self.log(f"{method} {environ.get('REQUEST_URI')} {status} {took:.0f} ms")
        if self.access_log is not None:
            self.access_log.record({**context, "status": status, "responseLatency": round(took)})
        return [] if method == "HEAD" else [data]  # a HEAD's Content-Length is its GET's

    def _answer(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes | None,
        environ: dict[str, Any],
        context: dict[str, Any],
    ) -> tuple[int, list[tuple[str, str]], bytes]:

        def refuse(status: HTTPStatus, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
            context["error.message"] = message  # API Gateway's own errors, not the function's
            return _json(status, message)

        found = match_route(self.routes, method, path)
        if found is None:
            return refuse(HTTPStatus.NOT_FOUND, f"no route {method} {path}")
        route, params = found
        context["resourcePath"] = route.path
        refused, principal, authorizer_context = self.authorize(route, method, path, headers.get("Authorization"))
        context["authorizer.principalId"] = principal
        if refused is not None:
            return refuse(refused, "missing or wrong token: send Authorization: Bearer <token>")
        passed = {name: value for name, value in headers.items() if name.lower() != "authorization"}
        event = proxy_event(
            method,
            path,
            route.path,
            params,
            query,
            passed,
            body,
            environ.get("REMOTE_ADDR") or "127.0.0.1",
            request_id=context["requestId"],
            principal=principal,
            authorizer_context=authorizer_context,
        )
        try:
            response = self._integrate(route.target, event)
        except TimeoutError:  # the function runs on, as Lambda's does; the client has its answer
            self.log(f"integration timed out after {self.integration_timeout:g} s")
            return refuse(HTTPStatus.GATEWAY_TIMEOUT, "Endpoint request timed out")
        except Exception as exc:  # noqa: BLE001 - API Gateway answers 502 when the integration fails
            self.log(f"integration error: {exc}")
            return refuse(HTTPStatus.BAD_GATEWAY, "Internal server error")
        return _proxy_response(response)

    def _integrate(self, target: str, event: dict[str, Any]) -> dict[str, Any]:
        """The function's answer, or TimeoutError once API Gateway's integration timeout has passed
        (the call goes on in the pool, as the function does in Lambda)."""
        return self.integrations.submit(self.invoke, target, event).result(timeout=self.integration_timeout)


def _proxy_response(response: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    status = int(response.get("statusCode") or 200)
    body = response.get("body") or ""
    data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
    headers: list[tuple[str, str]] = []
    sent = set()
    for name, values in (response.get("multiValueHeaders") or {}).items():
        if name.lower() != "content-length":
            headers += [(name, str(value)) for value in values]
        sent.add(name.lower())
    for name, value in (response.get("headers") or {}).items():
        if name.lower() not in sent and name.lower() != "content-length":
            headers.append((name, str(value)))
    return status, headers, data


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
