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


# --- the audit log: every action of a person, one record ----------------------------------------


def audit(api: Api, query: str) -> list[dict]:
    status, page = api("GET", "/audit", query=query)
    assert status == 200, page
    return page["items"]


def test_each_action_is_one_record_naming_who_what_on_what_the_request_and_the_outcome(api: Api):
    who = "audrey"
    _, job = api("POST", "/jobs", {"command": "demo:sleep", "params": ["30"]}, principal=who)
    api.wait(job["id"], until=lambda j: j["state"] == "running")
    api("POST", f"/jobs/{job['id']}/cancel", principal=who)
    api.wait(job["id"])
    _, replay = api("POST", f"/jobs/{job['id']}/replay", {"params": ["0"]}, principal=who)
    api("POST", "/queues/serial/pause", principal=who)
    api("POST", "/queues/serial/pause", principal=who)  # paused already: recorded, changing nothing
    api("POST", "/queues/serial/resume", principal=who)
    records = audit(api, f"actor={who}")
    assert [(r["action"], r["target"], r["outcome"]) for r in records][::-1] == [
        ("start", job["id"], "started"),
        ("cancel", job["id"], "canceled"),
        ("replay", job["id"], f"started {replay['id']}"),
        ("pause", "serial", "paused"),
        ("pause", "serial", "no change: it was paused already"),
        ("resume", "serial", "resumed"),
    ]
    assert all(r["actor"] == who and r["request_id"] and r["at"] for r in records)
    assert [r["action"] for r in audit(api, f"actor={who}&action=pause")] == ["pause", "pause"]
    assert audit(api, f"actor={who}&since=2020-01-01T00:00:00Z&until=2020-01-02T00:00:00Z") == []
    assert len(audit(api, f"actor={who}&since=1h")) == len(records)
    api.wait(replay["id"])


def test_a_refused_action_is_recorded_with_its_status_and_writes_no_change(api: Api):
    who = "rita"
    _, job = api("POST", "/jobs", {"command": "demo:echo"}, principal=who)
    api.wait(job["id"])
    status, _ = api("POST", f"/jobs/{job['id']}/cancel", principal=who)  # closed already
    assert status == 409
    status, _ = api("POST", "/jobs", {"command": "rm", "params": ["-rf", "/"]}, principal=who)
    assert status == 422
    status, _ = api("POST", "/jobs", {"command": "demo:echo", "priority": "high"}, principal=who)
    assert status == 400
    outcomes = [(r["action"], r["outcome"].split(":")[0], r["outcome"][:12]) for r in audit(api, f"actor={who}")]
    assert outcomes[::-1] == [
        ("start", "started", "started"),
        ("cancel", "refused", "refused: 409"),
        ("start", "refused", "refused: 422"),
        ("start", "refused", "refused: 400"),
    ]
    assert api.job(job["id"])["canceled_by"] is None


@pytest.mark.parametrize(
    ("method", "path", "body", "action"),
    [
        ("POST", "/jobs", {"command": "demo:echo"}, "start"),
        ("POST", "/job-definitions/rebuild/start", None, "start"),
        ("POST", "/jobs/{job}/cancel", None, "cancel"),
        ("POST", "/jobs/{job}/replay", {}, "replay"),
        ("POST", "/queues/serial/pause", None, "pause"),
        ("POST", "/queues/serial/resume", None, "resume"),
        ("POST", "/clean-up", {"per_call": 1, "max_retention": "7 days"}, "clean-up"),
        ("GET", "/audit", None, "read-audit"),
        ("POST", "/bulk-actions", {"action": "cancel", "filter": {}, "dry_run": True}, "bulk-action"),
        ("POST", "/bulk-actions/{job}/stop", None, "bulk-action"),
        ("POST", "/bulk-actions/{job}/resume", None, "bulk-action"),
    ],
)
def test_a_viewer_is_refused_every_action_and_the_refusal_is_recorded(api: Api, method, path, body, action):
    viewer = "vera" + path.replace("/", "-").replace("{job}", "job")
    # The role is checked before anything is read: the job need not exist.
    status, refused = api(method, path.format(job="01ARZ3NDEKTSV4RRFFQ69G5FAV"), body, principal=viewer, role="viewer")
    assert status == 403 and "viewer" in refused["message"]
    (record,) = audit(api, f"actor={viewer}")
    assert (record["action"], record["outcome"][:12]) == (action, "refused: 403")


def test_a_viewer_may_search_and_read_jobs(api: Api):
    _, job = api("POST", "/jobs", {"command": "demo:echo", "tags": ["viewable"]})
    # A name no other test uses: the tests of a worker share its stack, and other tests refuse "vera".
    viewer = "vera-who-only-reads"
    assert api("GET", "/jobs", query="tag=viewable", role="viewer", principal=viewer)[0] == 200
    assert api("GET", f"/jobs/{job['id']}", role="viewer", principal=viewer)[0] == 200
    assert audit(api, f"actor={viewer}") == []
    api.wait(job["id"])


def test_a_refused_token_is_recorded_without_any_part_of_it(api: Api, stack: LocalStack):
    event = {
        "type": "TOKEN",
        "authorizationToken": "Bearer not-a-real-token-4242",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc123def4/v1/POST/jobs",
    }
    with pytest.raises(RuntimeError, match="Unauthorized"):
        stack.invoke("TokenAuthorizerFunction", event)
    record = audit(api, "action=token-refused&limit=1")[0]
    assert (record["actor"], record["target"], record["outcome"]) == (
        "unknown token", "v1/POST/jobs", "refused: 401 Unauthorized",
    )  # fmt: skip
    assert "4242" not in str(record)


def test_the_clean_up_by_call_is_recorded_and_deletes_records_past_their_retention(api: Api, system, table):
    from datetime import UTC, datetime, timedelta

    from jobsys.audit import Actor
    from jobsys.cleanup import CleanUpPolicy, clean_up
    from jobsys.ids import new_job_id
    from jobsys.timestamps import iso

    old = system.audit_entry(Actor("past"), "start", "nothing", "started")
    in_2020 = datetime(2020, 1, 1, tzinfo=UTC)
    old = old.model_copy(update={"id": new_job_id(int(in_2020.timestamp() * 1000)), "at": iso(in_2020)})
    system.store.record_audit(old, timedelta(days=90))
    assert audit(api, "actor=past")
    status, report = api("POST", "/clean-up", {"per_call": 1, "max_retention": "7 days"}, principal="carl")
    assert status == 200 and report["audit_deleted"] >= 1
    assert audit(api, "actor=past") == []
    (record,) = audit(api, "actor=carl")
    assert record["action"] == "clean-up" and record["outcome"].startswith("deleted ")
    assert clean_up(system, CleanUpPolicy.parse(1, "7 days")).audit_deleted == 0
