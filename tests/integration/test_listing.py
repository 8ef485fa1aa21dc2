import base64
import json

import pytest

from jobsys.spec.settings import SETTINGS
from tests.integration.conftest import Api

pytestmark = pytest.mark.integration


def test_jobs_are_listed_newest_first_and_paged_with_a_cursor(api: Api):
    ids = []
    for word in ("first", "second", "third"):
        _, job = api("POST", "/jobs", {"command": "demo:echo", "params": [word]})
        ids.append(job["id"])
    for job_id in ids:
        api.wait(job_id)

    status, page = api("GET", "/jobs", query="limit=2&command=demo:echo")
    assert status == 200
    assert [j["id"] for j in page["items"]] == [ids[2], ids[1]]
    assert page["next_cursor"]
    status, more = api("GET", "/jobs", query=f"limit=2&command=demo:echo&cursor={page['next_cursor']}")
    assert status == 200
    assert more["items"][0]["id"] == ids[0]


@pytest.mark.parametrize(
    "payload",
    [
        {"i": "by_created", "k": {}},
        {"i": "by_created", "k": {"pk": "JOB#x", "sk": "JOB", "id": "x", "list_pk": "JOB", "state": "running"}},
        {"i": "by_command", "k": {"pk": "JOB#x", "sk": "JOB", "id": "x", "command": "demo:fail"}},
    ],
)
def test_a_cursor_made_by_hand_is_refused_before_it_reaches_dynamodb(api: Api, payload: dict):
    """Keys that do not fit the index, or another command's page: 422, where DynamoDB would fail the request."""
    cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    listing = "command=demo:echo&" if payload["i"] == "by_command" else ""
    status, answer = api("GET", "/jobs", query=f"{listing}cursor={cursor}")
    assert status == 422, answer
    assert answer["message"] == "cursor is not valid for this listing; start again without it"


def test_filters_by_state_and_command(api: Api):
    _, ok = api("POST", "/jobs", {"command": "demo:echo", "params": ["ok"]})
    _, bad = api("POST", "/jobs", {"command": "demo:fail"})
    api.wait(ok["id"])
    api.wait(bad["id"])

    _, failed = api("GET", "/jobs", query="state=failed&limit=100")
    assert bad["id"] in {j["id"] for j in failed["items"]}
    assert {j["state"] for j in failed["items"]} == {"failed"}

    _, failed_echo = api("GET", "/jobs", query="state=failed&command=demo:echo")
    assert ok["id"] not in {j["id"] for j in failed_echo["items"]}
    assert all(j["command"] == "demo:echo" and j["state"] == "failed" for j in failed_echo["items"])

    _, finished_echo = api("GET", "/jobs", query="state=finished&command=demo:echo&limit=100")
    assert ok["id"] in {j["id"] for j in finished_echo["items"]}


def test_a_job_lists_its_dependents_and_definitions_are_listed(api: Api):
    status, definitions = api("GET", "/job-definitions")
    assert status == 200
    by_key = {d["key"]: d for d in definitions["items"]}
    seed = by_key["import_solr"]
    assert seed["label"] == "Import from eZ" and seed["command"] == "silver:import" and seed["params"] == ["tmp"]
    assert seed["desc"] == "Starts import from a remote system"
    assert [d["key"] for d in seed["depending_jobs"]] == ["index_solr"]
    assert by_key["failing_check"]["depending_jobs"][0]["depending_jobs"][0]["key"] == "after_after"
    # The names of a job's settings, which the page and the CLI take rather than keep a list of.
    assert definitions["settings"] == list(SETTINGS) and "max_runtime" in SETTINGS
    assert all(name in seed for name in definitions["settings"])
