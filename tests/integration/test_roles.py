"""Who may do what: each role on each route, allowed or refused; a refusal writes nothing."""

import pytest

from tests.integration.conftest import Api, count_items

pytestmark = pytest.mark.integration

# (method, path, body, the role it needs, what the refusal says one may not do)
CHANGING = [
    ("POST", "/jobs", {"command": "demo:echo"}, "operator", "start jobs"),
    ("POST", "/job-definitions/import_solr/start", None, "operator", "start jobs"),
    ("POST", "/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/cancel", None, "operator", "cancel jobs"),
    ("POST", "/clean-up", {"per_call": 1, "max_retention": "999 days"}, "admin", "clean up"),
    ("POST", "/queues/maintenance/pause", None, "admin", "pause queues"),
    ("POST", "/queues/maintenance/resume", None, "admin", "resume queues"),
]
READING = ["/jobs", "/job-definitions", "/queues", "/stats?definition=import_solr", "/me"]
RANK = ["viewer", "operator", "admin"]


@pytest.mark.parametrize("role", RANK)
@pytest.mark.parametrize(("method", "path", "body", "needed", "doing"), CHANGING, ids=lambda v: str(v)[:30])
def test_a_role_below_a_routes_is_refused_with_403_and_nothing_written(
    api: Api, table, role, method, path, body, needed, doing
):
    before = count_items(table)
    status, answer = api(method, path, body, principal="vera", role=role)
    if RANK.index(role) < RANK.index(needed):
        assert (status, answer) == (403, {"message": f"{role} vera may not {doing} ({needed} needed)"})
        assert count_items(table) == before
    else:
        assert status != 403, answer
        if status == 202:
            api("POST", f"/jobs/{answer['id']}/cancel")
    api("POST", "/queues/maintenance/resume")


@pytest.mark.parametrize("path", READING)
def test_a_viewer_reads_everything(api: Api, path):
    route, _, query = path.partition("?")
    status, answer = api("GET", route, query=query, principal="vera", role="viewer")
    assert status == 200, answer


def test_me_names_the_caller_and_its_role(api: Api):
    assert api("GET", "/me", principal="vera", role="viewer") == (200, {"name": "vera", "role": "viewer"})
    signed = "arn:aws:iam::123456789012:role/reports"
    assert api("GET", "/me", principal=None, role=None, user_arn=signed) == (200, {"name": signed, "role": None})
    # A context without a valid role is a viewer's, never more.
    assert api("GET", "/me", principal="mallory", role="root")[1]["role"] == "viewer"
