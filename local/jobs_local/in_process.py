"""The stack's calls to its own AWS are answered in the caller's thread, without a socket.

Replaces: moto's server (werkzeug's threaded HTTP server) as the way to the services for the
clients that the stack makes in its own process: the stream pollers, Lambda's log shipping, the
saves, the schedules, the state machine's service integrations, the gateway's invocations (and the
integration tests' clients). Each of their calls opened a connection, started a thread and wrote
and parsed HTTP on both sides: three fifths of a GetItem's CPU (bench/in_process_calls.py).

A request still goes whole through the server's application, the `DomainDispatcherApplication`
that the socket feeds, signed as before: IAM's enforcement, DynamoDB's one request at a time,
people first and every other patch see it as they saw it come over the socket, and its answer
goes through botocore's parsing and retries as an HTTP answer does. The functions' workers, the
ECS tasks, the CLI and the tests' other processes still call over HTTP.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import SplitResult, urlsplit

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from moto.core.botocore_stubber import MockRawResponse
from werkzeug.test import EnvironBuilder, run_wsgi_app

log = logging.getLogger(__name__)

# "http://127.0.0.1:<port>" -> the WSGI application that the moto server on that port runs
_served: dict[str, Any] = {}


def serve(endpoint_url: str, app: Any) -> None:
    _served[endpoint_url.rstrip("/")] = app


def stop_serving(endpoint_url: str) -> None:
    _served.pop(endpoint_url.rstrip("/"), None)


def served(endpoint_url: str) -> Any:
    """The application that answers this endpoint's calls in process (KeyError if none does)."""
    return _served[endpoint_url.rstrip("/")]


def before_send(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
    """botocore's `before-send`: an answer for a request to a server of this process, else None
    (botocore sends it over HTTP)."""
    url = urlsplit(request.url)
    app = _served.get(f"{url.scheme}://{url.netloc}")
    if app is None:
        return None
    status, headers, body = _answer(app, request, url)
    return AWSResponse(request.url, status, headers, MockRawResponse(body))


def _answer(app: Any, request: AWSPreparedRequest, url: SplitResult) -> tuple[int, dict[str, str], bytes]:
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    elif isinstance(body, str):
        body = body.encode()
    headers = [
        (name, value.decode() if isinstance(value, bytes) else value)
        for name, value in request.headers.items()
        if name.lower() != "transfer-encoding"  # the body is whole here, its length known
    ]
    # As werkzeug's server sets it: the path as sent, still percent-encoded (moto's S3 reads keys from it).
    raw_uri = url.path + (f"?{url.query}" if url.query else "")
    builder = EnvironBuilder(
        method=request.method,
        base_url=f"{url.scheme}://{url.netloc}",
        path=url.path,
        query_string=url.query,
        headers=headers,
        data=body or b"",
        environ_overrides={"RAW_URI": raw_uri, "REQUEST_URI": raw_uri},
    )
    try:
        app_iter, status, answered = run_wsgi_app(app, builder.get_environ(), buffered=True)
        return int(status.split(" ", 1)[0]), dict(answered), b"".join(app_iter)
    except Exception:  # as werkzeug's server answers an application's exception: a 500, logged
        log.exception("the local AWS failed on %s %s", request.method, request.url)
        return 500, {"Content-Type": "text/plain"}, b"Internal Server Error"
    finally:
        builder.close()
