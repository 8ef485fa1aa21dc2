"""The local gateway speaks HTTP carefully: every client and test talks to it. Raw sockets, so
that what goes over the wire is exactly what a hostile or broken client would send."""

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from jobs_local.apigateway.gateway import MAX_BODY, Gateway
from jobs_local.stack import LocalStack
from tests.integration.conftest import count_items

pytestmark = pytest.mark.integration

IDLE = 2  # seconds: the gateway's idle timeout here (30 s in `make run`)


@pytest.fixture(scope="module")
def gateway(stack: LocalStack) -> Iterator[Gateway]:
    served = Gateway(stack.routes, stack.call_function, port=0, idle_timeout=IDLE, threads=4).start()
    yield served
    served.stop()


@pytest.fixture(scope="module")
def token(stack: LocalStack) -> str:
    return stack.back_office_token()


def connect(gateway: Gateway) -> socket.socket:
    return socket.create_connection(("127.0.0.1", gateway.port), timeout=10)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """A response's status and headers, and the bytes received after them (its body, or part of it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"the connection closed before a response: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, rest


def exchange(
    gateway: Gateway, raw: bytes, head_request: bool = False, then_closed: bool = False
) -> tuple[int, dict[str, str], bytes]:
    """Sends `raw` and reads one response; with `then_closed`, also checks that the gateway closes
    the connection after it, sending nothing more."""
    with connect(gateway) as sock:
        sock.sendall(raw)
        status, headers, body = read_response(sock)
        length = 0 if head_request else int(headers.get("content-length", 0))
        while len(body) < length:
            body += sock.recv(65536)
        assert body[length:] == b"", "nothing may follow the response"
        if then_closed:
            sock.settimeout(IDLE + 3)
            assert sock.recv(65536) == b"", "the gateway closes the connection after a refusal"
        return status, headers, body[:length]


def request(method: str, path: str, token: str | None, body: bytes = b"", extra: str = "") -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}{extra}"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


@pytest.mark.parametrize("length", ["-1", "abc", "5, 5", "+5", "0x10", "", "1e3"])
def test_a_bad_content_length_is_a_400_in_json_and_the_connection_closes(gateway, token, table, length):
    before = count_items(table)
    raw = f"POST /jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: {length}\r\n\r\n"
    started = time.monotonic()
    status, headers, body = exchange(gateway, raw.encode() + b'{"command": "demo:echo"}', then_closed=True)
    assert status == 400 and headers["content-type"] == "application/json"
    assert "Content-Length" in json.loads(body)["message"]
    assert time.monotonic() - started < IDLE, "refused at once, never waiting for a body"
    assert count_items(table) == before


def test_a_refused_body_is_never_read_as_the_next_request(gateway, token, table):
    """A 413 closes the connection: the body it did not read cannot be smuggled in as a request."""
    before = count_items(table)
    smuggled = request("POST", "/jobs", token, b'{"command": "demo:echo", "params": ["smuggled"]}')
    raw = (
        f"POST /jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n"
    ).encode() + smuggled
    status, headers, body = exchange(gateway, raw, then_closed=True)
    assert status == 413 and headers["content-type"] == "application/json"
    assert "6291456 bytes" in json.loads(body)["message"]
    assert count_items(table) == before


def test_a_client_that_sends_a_whole_body_over_the_limit_reads_the_refusal(gateway, token, table):
    """The gateway drops what follows a refusal before it closes, so the client gets the 413, not a reset."""
    before = count_items(table)
    response = requests.post(
        f"http://127.0.0.1:{gateway.port}/jobs",
        data=b'{"command": "demo:echo", "params": ["' + b"x" * (MAX_BODY + 500_000) + b'"]}',
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413 and "Lambda's limit" in response.json()["message"]
    assert count_items(table) == before


def test_a_chunked_body_is_read_whole_and_a_pipelined_request_after_it_is_answered(gateway, token):
    job = b'{"command": "demo:echo", "params": ["chunked"]}'
    chunked = (
        (
            f"POST /jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        + b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (job[:10], job[10:]))
        + b"0\r\n\r\n"
    )
    with connect(gateway) as sock:
        sock.sendall(chunked + request("GET", "/queues", token))
        status, headers, rest = read_response(sock)
        length = int(headers["content-length"])
        while len(rest) < length:
            rest += sock.recv(65536)
        assert status == 202 and json.loads(rest[:length])["params"] == ["chunked"]
        leftover = rest[length:]  # the answer to the request pipelined behind it
        while b"\r\n\r\n" not in leftover:
            leftover += sock.recv(65536)
        assert leftover.startswith(b"HTTP/1.1 200 ")


@pytest.mark.parametrize("method", ["TRACE", "OPTIONS", "PATCH", "PROPFIND"])
def test_any_method_gets_json_and_a_405_that_names_the_allowed_ones(gateway, token, method):
    status, headers, body = exchange(gateway, request(method, "/jobs", token))
    assert status == 405 and headers["allow"] == "GET, HEAD, POST"
    assert headers["content-type"] == "application/json" and json.loads(body)["message"]


def test_head_is_get_without_a_body(gateway, token):
    _, get_headers, get_body = exchange(gateway, request("GET", "/queues", token))
    status, headers, body = exchange(gateway, request("HEAD", "/queues", token), head_request=True)
    assert status == 200 and body == b""
    assert headers["content-length"] == get_headers["content-length"] == str(len(get_body))
    status, headers, body = exchange(gateway, request("HEAD", "/", None), head_request=True)
    assert status == 200 and headers["content-type"].startswith("text/html") and body == b""


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /queues HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
        b"GET /queues HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n",
        b"POST /jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        b"POST /jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    ],
)
def test_a_malformed_request_gets_a_4xx_or_501_in_json_and_the_connection_closes(gateway, raw):
    status, headers, body = exchange(gateway, raw, then_closed=True)
    assert status in (400, 431, 501) and headers["content-type"] == "application/json"
    assert json.loads(body)["message"]


def test_idle_connections_time_out_and_never_hold_a_thread(gateway, token):
    threads_before = threading.active_count()
    idle = [connect(gateway) for _ in range(200)]
    half_sent = connect(gateway)  # a request that stops halfway is idle too
    half_sent.sendall(b"POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    try:
        time.sleep(0.5)
        assert sum(thread.name.startswith("waitress") for thread in threading.enumerate()) == 4
        # 201 open connections; the stack's own threads may come and go meanwhile, far fewer.
        assert threading.active_count() < threads_before + 50, "open connections must not cost threads"
        started = time.monotonic()
        status, _, _ = exchange(gateway, request("GET", "/queues", token))
        assert status == 200 and time.monotonic() - started < IDLE, "idle clients must not delay others"
        deadline = time.monotonic() + IDLE + 15  # the timeout, and the sweep that finds it
        for sock in [*idle, half_sent]:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            assert sock.recv(1) == b"", "the gateway closes an idle connection"
    finally:
        for sock in [*idle, half_sent]:
            sock.close()
