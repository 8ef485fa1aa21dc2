"""Every function's sample event in events/ (the ones `sam local invoke -e` takes) works on its handler."""

import json
from pathlib import Path

import pytest

from jobs_local.stack import LocalStack
from tests.integration.conftest import Api

pytestmark = pytest.mark.integration
EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_api_event_lists_definitions(stack: LocalStack):
    event = json.loads((EVENTS / "api_list_definitions.json").read_text())
    response = stack.invoke("ApiFunction", event)
    assert response["statusCode"] == 200
    assert "import_solr" in {d["key"] for d in json.loads(response["body"])["items"]}


def test_api_event_starts_a_job(stack: LocalStack, api: Api):
    event = json.loads((EVENTS / "api_start_job.json").read_text())
    response = stack.invoke("ApiFunction", event)
    assert response["statusCode"] == 202
    job = json.loads(response["body"])
    assert api.wait(job["id"])["state"] == "finished"


def test_runner_event_on_an_unknown_job_is_an_error(stack: LocalStack):
    event = json.loads((EVENTS / "runner_unknown_job.json").read_text())
    with pytest.raises(RuntimeError, match="JobNotFound"):
        stack.invoke("RunnerFunction", event)


def test_job_state_event_needs_a_known_job(stack: LocalStack):
    event = json.loads((EVENTS / "job_state_unknown_job.json").read_text())
    with pytest.raises(RuntimeError, match="JobNotFound"):
        stack.invoke("JobStateFunction", event)


def test_cleanup_event_runs_the_clean_up(stack: LocalStack):
    report = stack.invoke("CleanUpFunction", json.loads((EVENTS / "cleanup.json").read_text()))
    assert set(report) == {
        "complete", "deleted", "kept_for_open_dependents", "marked_incomplete", "slots_given_back", "ends_handled",
        "errors", "audit_deleted",
    }  # fmt: skip


def test_the_authorizer_refuses_a_wrong_token_and_allows_the_right_one(stack: LocalStack):
    event = json.loads((EVENTS / "authorizer_refused.json").read_text())
    with pytest.raises(RuntimeError, match="Unauthorized"):
        stack.invoke("TokenAuthorizerFunction", event)
    secret = stack.client("secretsmanager").get_secret_value(SecretId=stack.physical_id("BackOfficeToken"))
    token = secret["SecretString"]
    assert len(token) == 40
    policy = stack.invoke("TokenAuthorizerFunction", {**event, "authorizationToken": f"Bearer {token}"})
    statement = policy["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"][0].startswith("arn:aws:execute-api:us-east-1:123456789012:abc123def4/v1/")
    with pytest.raises(RuntimeError, match="Unauthorized"):
        stack.invoke("TokenAuthorizerFunction", {**event, "authorizationToken": token})  # no Bearer


def test_the_page_is_served_under_the_stage_when_deployed(stack: LocalStack):
    event = json.loads((EVENTS / "api_page.json").read_text())
    response = stack.invoke("ApiFunction", event)
    assert response["statusCode"] == 200
    headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()} | (response.get("headers") or {})
    assert headers["Content-Type"].startswith("text/html")
    assert '<base href="/v1/">' in response["body"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
