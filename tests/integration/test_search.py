"""Find a job by what it did: its tags (a definition's, plus a start's) and its params, through the
search index that the table's stream keeps (a Query, never a Scan)."""

import time

import pytest

from tests.integration.conftest import Api

pytestmark = pytest.mark.integration


def found(api: Api, query: str, expected: set[str], timeout: float = 20) -> list[dict]:
    """The jobs that GET /jobs?<query> lists, once the stream's consumer has indexed `expected`."""
    deadline = time.monotonic() + timeout
    while True:
        status, page = api("GET", "/jobs", query=query)
        assert status == 200, page
        if expected <= {job["id"] for job in page["items"]} or time.monotonic() > deadline:
            return page["items"]
        time.sleep(0.3)


def test_a_job_is_found_by_its_definitions_tag_its_starts_tag_and_a_param(api: Api):
    status, root = api("POST", "/job-definitions/rebuild/start", {"tags": ["store:de", "catalogue"]})
    assert status == 202 and root["tags"] == ["catalogue", "store:de"]
    status, other = api("POST", "/jobs", {"command": "demo:echo", "params": ["fr"], "tags": ["store:fr"]})
    assert status == 202 and other["tags"] == ["store:fr"]
    de_import = next(api.job(i) for i in root["dependents"] if api.job(i)["params"] == ["de"])

    assert [job["id"] for job in found(api, "tag=store:de", {root["id"]})] == [root["id"]]
    assert root["id"] in {job["id"] for job in found(api, "tag=catalogue", {root["id"]})}
    by_param = {job["id"] for job in found(api, "param=de", {de_import["id"]})}
    assert de_import["id"] in by_param and other["id"] not in by_param
    # Both at once, and with a state: the index finds by the tag, the rest is checked on the jobs.
    assert found(api, "tag=store:fr&param=de", set(), timeout=0) == []
    api.wait(other["id"])
    assert [job["id"] for job in found(api, "tag=store:fr&state=finished", {other["id"]})] == [other["id"]]
    api.wait(root["id"])


def test_a_search_pages_newest_first_and_a_foreign_cursor_is_refused(api: Api):
    ids = [api("POST", "/jobs", {"command": "demo:echo", "tags": ["paged"]})[1]["id"] for _ in range(3)]
    found(api, "tag=paged", set(ids))
    status, first = api("GET", "/jobs", query="tag=paged&limit=2")
    assert status == 200 and [job["id"] for job in first["items"]] == ids[::-1][:2]
    status, second = api("GET", "/jobs", query=f"tag=paged&limit=2&cursor={first['next_cursor']}")
    assert [job["id"] for job in second["items"]] == ids[:1]
    status, refused = api("GET", "/jobs", query=f"tag=other&cursor={first['next_cursor']}")
    assert status == 422 and "cursor" in refused["message"]
    status, refused = api("GET", "/jobs", query="tag=has%20blank")
    assert status == 400 and "tag" in refused["message"]


def test_a_cleaned_up_job_leaves_no_search_item(api: Api, system, table):
    from boto3.dynamodb.conditions import Key

    _, job = api("POST", "/jobs", {"command": "demo:echo", "params": ["gone-soon"], "tags": ["short-lived"]})
    api.wait(job["id"])
    found(api, "tag=short-lived", {job["id"]})
    system.store.table.delete_item(Key={"pk": f"JOB#{job['id']}", "sk": "JOB"})  # as the clean-up deletes it

    def items() -> list[dict]:
        return table.query(KeyConditionExpression=Key("pk").eq(f"JOB#{job['id']}"))["Items"]

    deadline = time.monotonic() + 20
    while items() and time.monotonic() < deadline:
        time.sleep(0.3)
    assert items() == []
    assert found(api, "tag=short-lived", set(), timeout=0) == []
