"""Bad input gets a 4xx and a JSON message, never a 500, and a refused request writes nothing.

400: the request breaks the API's schema. 422: it fits, but the configuration or the clock refuses it.
"""

import pytest

from tests.integration.conftest import Api, count_items

pytestmark = pytest.mark.integration


def _dependents_nested(depth: int) -> bytes:
    """A start whose dependents nest `depth` levels deep, each a valid job."""
    level = b'{"command": "demo:echo", "depending_jobs": ['
    return level * depth + b"]}" * depth


@pytest.mark.parametrize(
    ("method", "path", "body", "raw", "status", "message"),
    [
        (
            "POST",
            "/jobs",
            {"command": "rm", "params": ["-rf", "/"]},
            None,
            422,
            "command 'rm' is not in the allow-list",
        ),
        ("POST", "/jobs", {"command": "demo:echo", "depending_jobs": [{"command": "curl"}]}, None, 422, "'curl'"),
        ("POST", "/jobs", {"params": ["x"]}, None, 400, "missing field 'command'"),
        (
            "POST",
            "/jobs",
            {"command": "demo:echo", "depending_jobs": [{"command": "demo:echo", "key": "b", "after": ["zz"]}]},
            None,
            422,
            "depending_jobs: b: after names 'zz', which is no job of this start",
        ),
        (
            "POST",
            "/jobs",
            {
                "command": "demo:echo",
                "depending_jobs": [
                    {"command": "demo:echo", "key": "b", "after": ["c"]},
                    {"command": "demo:echo", "key": "c", "after": ["b"]},
                ],
            },
            None,
            422,
            "depending_jobs: b: after makes a cycle: b waits for c waits for b",
        ),
        ("POST", "/jobs", {"command": "demo:echo", "params": "not a list"}, None, 400, "params"),
        ("POST", "/jobs", {"command": "demo:echo", "params": [1, 2]}, None, 400, "params"),
        ("POST", "/jobs", {"command": "demo:echo", "shell": True}, None, 400, "shell: unknown key"),
        ("POST", "/jobs", {"command": "demo:sleep", "max_runtime": 5000}, None, 422, "fargate"),
        ("POST", "/jobs", {"command": "demo:sleep", "runner": "lambda", "max_runtime": 900}, None, 400, "fargate"),
        ("POST", "/jobs", {"command": "demo:echo", "params": ["a\u0000"]}, None, 400, "params.0"),
        ("POST", "/jobs", {"command": "demo:echo", "params": ["x"] * 65}, None, 400, "params"),
        ("POST", "/jobs", {"command": "demo:echo", "priority": False}, None, 400, "priority: must be a whole number"),
        ("POST", "/jobs", {"command": "demo:echo", "max_runtime": "60"}, None, 400, "max_runtime: must be a whole"),
        (
            "POST",
            "/jobs",
            {"command": "demo:echo", "depending_jobs": [{"command": "demo:echo"}] * 100},
            None,
            422,
            "100",
        ),
        ("POST", "/jobs", None, b'{"command": "demo:echo", "label": "\\ud800"}', 400, "label"),
        ("POST", "/jobs", None, b'{"command": "demo:echo", "params": ["\\ud800"]}', 400, "params.0"),
        ("POST", "/jobs", None, b'{"command": "demo:echo", "params": ["a\\udfff"]}', 400, "params.0"),
        ("POST", "/jobs", None, b'{"command": "demo:\xff"}', 400, "UTF-8"),
        ("POST", "/jobs", None, b"\xff", 400, "UTF-8"),
        ("POST", "/jobs", None, '{"command": "demo:echo"}'.encode("utf-16"), 400, "UTF-8"),
        ("POST", "/jobs", None, b"{not json", 400, "request body: not valid JSON: Expecting property name"),
        ("POST", "/jobs", None, b'{"command": "demo:echo", "priority": ' + b"1" * 5000 + b"}", 400, "too long"),
        ("POST", "/clean-up", None, b'{"max_retention": ' + b"9" * 4301 + b"}", 400, "number too long"),
        ("POST", "/jobs", None, b'{"command": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, "nested too deeply"),
        ("POST", "/jobs", None, b'{"a":' * 5000 + b"1" + b"}" * 5000, 400, "nested too deeply"),
        ("POST", "/jobs", None, _dependents_nested(4000), 400, "nested too deeply"),
        ("POST", "/job-definitions/import_solr/start", None, b"[" * 3000 + b"]" * 3000, 400, "nested too deeply"),
        ("POST", "/clean-up", None, b'{"max_retention": ' + b"[" * 3000 + b"]" * 3000 + b"}", 400, "nested"),
        ("POST", "/clean-up", None, b'{"max_retention": "\xff days"}', 400, "UTF-8"),
        ("POST", "/clean-up", {"max_retention": "99999999999999999999 days"}, None, 400, "max_retention"),
        ("POST", "/job-definitions/nope/start", None, None, 404, "no job definition 'nope'"),
        # A JSON array where the schema says object: fuzzing found /clean-up running on one.
        ("POST", "/clean-up", [{}, [], None], None, 400, "object"),
        ("POST", "/clean-up", [], None, 400, "object"),
        ("POST", "/clean-up", "7 days", None, 400, "object"),
        ("POST", "/jobs", [{"command": "demo:echo"}], None, 400, "object"),
        ("POST", "/job-definitions/import_solr/start", [{}], None, 400, "object"),
    ],
)
def test_refused_starts_write_nothing(api: Api, table, method, path, body, raw, status, message):
    before = count_items(table)
    got_status, error = api(method, path, body, raw=raw)
    assert got_status == status, error
    assert message.lower() in error["message"].lower()
    assert count_items(table) == before


@pytest.mark.parametrize(
    ("path", "query", "status"),
    [
        ("/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV", "", 404),
        ("/jobs/not-an-id", "", 404),
        ("/jobs/../../etc/passwd", "", 404),
        ("/jobs", "state=exploded", 400),
        ("/jobs", "limit=0", 400),
        ("/jobs", "limit=abc", 400),
        ("/jobs", "cursor=garbage", 422),
        ("/jobs", "cursor=not%20base64", 400),
        ("/jobs", "queue=serial&command=demo:echo", 422),
        ("/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/output", "", 404),
        ("/nowhere", "", 404),
        ("/static/nope.js", "", 404),
        ("/static/index.html", "", 404),
    ],
)
def test_bad_reads_are_4xx_with_a_message(api: Api, path, query, status):
    got_status, error = api("GET", path, query=query)
    assert got_status == status, error
    assert isinstance(error["message"], str) and error["message"]


def test_a_bad_output_cursor_is_refused(api: Api):
    _, job = api("POST", "/jobs", {"command": "demo:echo", "params": ["x"]})
    api.wait(job["id"])
    status, error = api("GET", f"/jobs/{job['id']}/output", query="cursor=cw:bogus-token")
    assert status == 422, error  # well formed, but not a token of this stream
    status, error = api("GET", f"/jobs/{job['id']}/output", query="cursor=zz:1")
    assert status == 400, error


def test_a_retried_start_with_the_same_idempotency_key_returns_the_same_job(api: Api, table):
    key = {"Idempotency-Key": "order-import-2026-11-28"}
    body = {"command": "demo:echo", "params": ["once"]}
    status, first = api("POST", "/jobs", body, headers=key)
    assert status == 202
    before = count_items(table)
    status, again = api("POST", "/jobs", body, headers=key)
    assert status == 202 and again["id"] == first["id"]
    assert count_items(table) == before, "a retry must not start the command twice"

    status, error = api("POST", "/jobs", {"command": "demo:echo", "params": ["other"]}, headers=key)
    assert status == 422 and "different request" in error["message"]

    _, a = api("POST", "/job-definitions/import_solr/start", headers={"Idempotency-Key": "k1"})
    _, b = api("POST", "/job-definitions/import_solr/start", headers={"idempotency-key": "k1"})  # any case
    _, c = api("POST", "/job-definitions/import_solr/start", headers={"Idempotency-Key": "k2"})
    assert a["id"] == b["id"] != c["id"]
    api.wait(first["id"])
    assert api.output(first["id"]) == ["once"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/jobs", "GET, HEAD, POST"),
        ("PUT", "/queues", "GET, HEAD"),
        ("GET", "/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/cancel", "POST"),
        ("TRACE", "/jobs", "GET, HEAD, POST"),
        ("POST", "/", "GET, HEAD"),
        ("HEAD", "/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/cancel", "POST"),
    ],
)
def test_a_route_with_other_methods_is_a_405_that_names_them(api: Api, table, method, path, allowed):
    before = count_items(table)
    status, error, headers = api(method, path, with_headers=True)
    assert status == 405 and headers["Allow"] == allowed, error
    assert error["message"]
    assert count_items(table) == before


@pytest.mark.parametrize(("path", "query"), [("/jobs", "limit=1"), ("/queues", ""), ("/", ""), ("/static/app.js", "")])
def test_head_is_answered_as_get(api: Api, path, query):
    get_status, _, get_headers = api("GET", path, query=query, with_headers=True, parse=False)
    status, _, headers = api("HEAD", path, query=query, with_headers=True, parse=False)
    assert status == get_status == 200
    assert headers["Content-Type"] == get_headers["Content-Type"]


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_is_a_415_with_the_same_error_shape(api: Api, table, content_type):
    before = count_items(table)
    status, error = api("POST", "/jobs", raw=b'{"command": "demo:echo"}', headers={"Content-Type": content_type})
    assert status == 415 and set(error) == {"message"} and "application/json" in error["message"]
    assert count_items(table) == before
