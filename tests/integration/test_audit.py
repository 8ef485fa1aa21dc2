"""Who did what: every job records who started it and, when canceled, who canceled it."""

import pytest

from jobs_local.stack import LocalStack
from jobsys.roles import Role
from jobsys.tokens import SHARED_NAME, BackOfficeTokens, parse_operators, parse_tokens
from tests.integration.conftest import Api

pytestmark = pytest.mark.integration

IAM_CALLER = "arn:aws:iam::123456789012:user/nightly-deployer"


def test_a_start_through_the_back_office_records_the_operator_on_every_job_of_its_tree(api: Api):
    status, job = api("POST", "/job-definitions/import_solr/start", principal="alice")
    assert status == 202 and job["started_by"] == "alice" and job["trigger"] == "api"
    for child in job["dependents"]:
        assert api.job(child)["started_by"] == "alice"
    api.wait(job["id"])


def test_a_signed_start_through_the_iam_api_records_the_callers_arn(api: Api):
    status, job = api("POST", "/jobs", {"command": "demo:echo", "params": ["x"]}, principal=None, user_arn=IAM_CALLER)
    assert status == 202 and job["started_by"] == IAM_CALLER
    assert api.wait(job["id"])["started_by"] == IAM_CALLER


def test_a_cancel_records_who_canceled_the_job_and_its_dependents(api: Api):
    body = {"command": "demo:sleep", "params": ["30"], "depending_jobs": [{"command": "demo:echo"}]}
    _, job = api("POST", "/jobs", body, principal="alice")
    api.wait(job["id"], until=lambda j: j["state"] == "running")
    status, canceled = api("POST", f"/jobs/{job['id']}/cancel", principal="bob")
    assert status == 202 and canceled["canceled_by"] == "bob" and canceled["reason"] == "canceled by bob"
    assert canceled["started_by"] == "alice"
    child = api.wait(job["dependents"][0])
    assert child["state"] == "canceled" and child["canceled_by"] == "bob"


def test_a_retry_is_started_by_the_retry(api: Api):
    _, first = api("POST", "/job-definitions/always_fails/start", principal="alice")
    failed = api.wait_run_ended(first["id"])
    assert failed["started_by"] == "alice" and failed["canceled_by"] is None
    retry = api.job(failed["retried_by"])
    assert (retry["trigger"], retry["started_by"]) == ("retry", "retry")
    api.wait_run_ended(retry["id"])


def test_the_same_idempotency_key_from_two_operators_starts_two_jobs(api: Api):
    key = {"Idempotency-Key": "monday-export"}
    _, alice = api("POST", "/jobs", {"command": "demo:echo"}, headers=key, principal="alice")
    _, again = api("POST", "/jobs", {"command": "demo:echo"}, headers=key, principal="alice")
    _, bob = api("POST", "/jobs", {"command": "demo:echo"}, headers=key, principal="bob")
    assert alice["id"] == again["id"] != bob["id"] and bob["started_by"] == "bob"


@pytest.mark.parametrize(
    ("secret", "operators"),
    [
        ("0123456789abcdef0123", {SHARED_NAME: "0123456789abcdef0123"}),
        ("alice:tok-alice-1234\nbob:tok-bob-12345", {"alice": "tok-alice-1234", "bob": "tok-bob-12345"}),
        ("alice:tok-alice-1234, bob:tok-bob-12345", {"alice": "tok-alice-1234", "bob": "tok-bob-12345"}),
        ('{"alice": "tok-alice-1234", "bob": "tok-bob-12345"}', {"alice": "tok-alice-1234", "bob": "tok-bob-12345"}),
        # Left out: a bad name, a short token, a token given twice. The others keep working.
        ("bad name:tok-bad-12345\nalice:tok-alice-1234", {"alice": "tok-alice-1234"}),
        ("alice:short\nbob:tok-bob-12345", {"bob": "tok-bob-12345"}),
        ("alice:tok-same-1234\nbob:tok-same-1234", {"alice": "tok-same-1234"}),
    ],
)
def test_the_token_secret_names_one_operator_per_token(secret, operators):
    assert parse_tokens(secret) == operators


@pytest.mark.parametrize(
    ("secret", "roles"),
    [
        ("0123456789abcdef0123", {SHARED_NAME: Role.ADMIN}),  # a secret from before roles keeps its powers
        ("vera:tok-vera-12345:viewer\notto:tok-otto-12345:operator\nada:tok-ada-123456", {
            "vera": Role.VIEWER, "otto": Role.OPERATOR, "ada": Role.ADMIN,
        }),
        ('{"vera": {"token": "tok-vera-12345", "role": "viewer"}, "ada": "tok-ada-123456"}', {
            "vera": Role.VIEWER, "ada": Role.ADMIN,
        }),
        ("eve:tok-with:colons:viewer", {"eve": Role.VIEWER}),  # the role is the last part, if it is one
        ("eve:tok-with:colons", {"eve": Role.ADMIN}),
        ('{"vera": {"token": "tok-vera-12345", "role": "boss"}, "ada": "tok-ada-123456"}', {"ada": Role.ADMIN}),
    ],
)  # fmt: skip
def test_a_tokens_entry_may_give_its_role(secret, roles):
    assert {name: operator.role for name, operator in parse_operators(secret).items()} == roles
    assert parse_operators("eve:tok-with:colons:viewer")["eve"].token == "tok-with:colons"


def test_each_operators_token_names_that_operator(stack: LocalStack):
    secrets = stack.client("secretsmanager")
    secret_id = secrets.create_secret(
        Name="audit-test-tokens", SecretString='{"alice": "tok-alice-1234", "bob": "tok-bob-12345"}'
    )["ARN"]
    tokens = BackOfficeTokens(secrets, secret_id)
    assert tokens.operator("Bearer tok-alice-1234").name == "alice"
    assert tokens.operator("bearer tok-bob-12345").name == "bob"
    for refused in ("Bearer tok-carol-1234", "tok-alice-1234", "Basic tok-alice-1234", "Bearer ", None):
        assert tokens.operator(refused) is None
