"""Bad input gets a 4xx and a JSON message, never a 500, and a refused request writes nothing."""

import pytest

from tests.integration.conftest import Api, count_items

pytestmark = pytest.mark.integration


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
        ("POST", "/jobs", {"params": ["x"]}, None, 422, "command: Field required"),
        ("POST", "/jobs", {"command": "demo:echo", "params": "not a list"}, None, 422, "params"),
        ("POST", "/jobs", {"command": "demo:echo", "params": [1, 2]}, None, 422, "params"),
        ("POST", "/jobs", {"command": "demo:echo", "shell": True}, None, 422, "shell"),
        ("POST", "/jobs", {"command": "demo:sleep", "max_runtime": 5000}, None, 400, "fargate"),
        ("POST", "/jobs", None, b"{not json", 422, "JSON"),
        ("POST", "/jobs", None, b'{"command": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, "nested too deeply"),
        ("POST", "/jobs", None, b'{"a":' * 5000 + b"1" + b"}" * 5000, 400, "nested too deeply"),
        ("POST", "/job-definitions/nope/start", None, None, 404, "no job definition 'nope'"),
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
        ("/jobs", "state=exploded", 422),
        ("/jobs", "limit=0", 422),
        ("/jobs", "limit=abc", 422),
        ("/jobs", "cursor=garbage", 400),
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


def test_a_bad_output_cursor_is_a_400(api: Api):
    _, job = api("POST", "/jobs", {"command": "demo:echo", "params": ["x"]})
    api.wait(job["id"])
    status, error = api("GET", f"/jobs/{job['id']}/output", query="cursor=cw:bogus-token")
    assert status == 400, error
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
    assert status == 400 and "different request" in error["message"]

    _, a = api("POST", "/job-definitions/import_solr/start", headers={"Idempotency-Key": "k1"})
    _, b = api("POST", "/job-definitions/import_solr/start", headers={"idempotency-key": "k1"})  # any case
    _, c = api("POST", "/job-definitions/import_solr/start", headers={"Idempotency-Key": "k2"})
    assert a["id"] == b["id"] != c["id"]
    api.wait(first["id"])
    assert api.output(first["id"]) == ["once"]
