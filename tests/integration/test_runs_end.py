"""Every run ends right (issue 20): whoever closes a job, its command stops; every end is handled."""

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest

from jobs_local.stack import LocalStack
from jobsys.cleanup import CleanUpPolicy, clean_up
from jobsys.models import iso, utc_now
from jobsys.store import JobStore
from jobsys.system import JobSystem
from tests.integration.conftest import Api
from tests.processes import command_of, processes_with

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[2] / "events"


def age(stack: LocalStack, job_id: str, minutes: int) -> None:
    """Behind the system's back: the job was created `minutes` ago, past the clean-up's grace."""
    table = stack.session().resource("dynamodb").Table(stack.physical_id("JobsTable"))
    table.update_item(
        Key={"pk": f"JOB#{job_id}", "sk": "JOB"},
        UpdateExpression="SET created_at = :then",
        ExpressionAttributeValues={":then": iso(utc_now() - timedelta(minutes=minutes))},
    )


def test_a_job_that_the_clean_up_closes_stops_its_command(stack: LocalStack, api: Api):
    _, job = api("POST", "/jobs", {"command": "demo:sleep", "params": ["60"]})
    running = api.wait(job["id"], until=lambda j: j["state"] == "running")
    # The runner writes `running` before it starts the command: wait for the process itself.
    command_of(job["id"])
    stack.client("stepfunctions").stop_execution(executionArn=running["execution_arn"], cause="behind its back")
    age(stack, job["id"], minutes=10)
    report = stack.invoke("CleanUpFunction", json.loads((EVENTS / "cleanup.json").read_text()))
    assert job["id"] in report["marked_incomplete"]
    assert api.job(job["id"])["state"] == "incomplete"
    deadline = time.monotonic() + 10
    while processes_with("JOB_ID", job["id"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not processes_with("JOB_ID", job["id"]), "the command still runs after its job was closed"
    # The clean-up saved what the stream held when it closed the job; the runner's own copy, a
    # moment later, ends with why it stopped the command.
    deadline = time.monotonic() + 10
    while not (lines := api.output(job["id"]))[-1].startswith("[job system] stopping the command"):
        assert time.monotonic() < deadline, lines[-3:]
        time.sleep(0.5)
    assert lines[-1] == "[job system] stopping the command: the job was closed incomplete"
    time.sleep(2)
    assert api.output(job["id"]) == lines, "the output grew after the job was closed"
    assert api.job(job["id"])["state"] == "incomplete"


@pytest.mark.long
def test_an_orphan_behind_more_than_a_page_of_pending_jobs_is_found(stack: LocalStack, api: Api):
    """105 delayed jobs wait, legitimately, in `pending`; the 106th's execution was stopped. The
    clean-up reads every open job, page after page, and closes the orphan."""
    waiting = []
    for number in range(105):
        status, job = api("POST", "/jobs", {"command": "demo:echo", "params": [str(number)], "delay": "1 hour"})
        assert status == 202, job
        waiting.append(job["id"])
    _, orphan = api("POST", "/jobs", {"command": "demo:echo", "params": ["orphan"], "delay": "1 hour"})
    orphan = api.job(orphan["id"])
    sfn = stack.client("stepfunctions")
    sfn.stop_execution(executionArn=orphan["execution_arn"], cause="behind its back")
    try:
        for job_id in [*waiting, orphan["id"]]:
            age(stack, job_id, minutes=10)
        report = stack.invoke("CleanUpFunction", json.loads((EVENTS / "cleanup.json").read_text()))
        assert orphan["id"] in report["marked_incomplete"]
        assert api.job(orphan["id"])["state"] == "incomplete"
        assert not set(waiting) & set(report["marked_incomplete"])
        assert {api.job(job_id)["state"] for job_id in waiting} == {"pending"}
    finally:
        for job_id in waiting:
            api("POST", f"/jobs/{job_id}/cancel")


def test_a_long_line_of_invalid_utf8_never_freezes_the_live_output(api: Api):
    """Each \\xff becomes a replacement character, three bytes: 300 KB, over CloudWatch's 256 KiB
    event. Cut by bytes, it goes through, and the lines after it arrive while the command runs."""
    _, job = api("POST", "/jobs", {"command": "bad-bytes"})
    api.wait(job["id"], until=lambda j: j["state"] == "running")
    seen_live, cursor = [], None
    while api.job(job["id"])["state"] == "running":
        _, page = api("GET", f"/jobs/{job['id']}/output", query=f"cursor={cursor}" if cursor else "")
        seen_live += [line for line in page["lines"] if line.startswith("second")]
        cursor = page["next_cursor"] or cursor
        time.sleep(0.3)
    assert "second 1" in seen_live and "second 2" in seen_live
    assert api.job(job["id"])["state"] == "finished"
    lines = api.output(job["id"])
    # From the stream, the long line is cut at 200,000 bytes; the saved copy has it whole.
    assert set(lines[0]) == {"\ufffd"} and 200_000 // 3 <= len(lines[0]) <= 100_000
    assert lines[1:] == ["second 1", "second 2", "second 3", "second 4"]


def test_an_idempotent_start_holds_its_key_no_longer_than_its_invocation(api: Api, table):
    """The record of a start in progress expires with the Lambda invocation (Powertools reads the
    context's remaining time): a start killed at the function's timeout does not answer 409 to
    every retry for 24 hours."""
    key = f"import-{time.time_ns()}"
    asked = time.time()
    status, job = api("POST", "/jobs", {"command": "demo:echo", "params": ["once"]}, headers={"Idempotency-Key": key})
    assert status == 202, job
    records = table.query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": "IDEMPOTENCY"})
    mine = [r for r in records["Items"] if "idempotency_in_progress_until" in r and r.get("expires_at")]
    assert mine, "no record of a start in progress says when its invocation ends"
    until = max(int(r["idempotency_in_progress_until"]) for r in mine) / 1000
    assert asked < until <= asked + 30 + 1  # the API function's Timeout


def test_the_scheduled_and_an_operators_clean_up_never_run_at_once(stack: LocalStack, api: Api):
    store = JobStore(stack.session().resource("dynamodb").Table(stack.physical_id("JobsTable")))
    assert store.take_clean_up_lock("a-clean-up-that-runs", utc_now(), timedelta(minutes=6))
    try:
        status, error = api("POST", "/clean-up", {"per_call": 10})
        assert status == 409 and "a clean-up is running already" in error["message"]
        scheduled = stack.invoke("CleanUpFunction", json.loads((EVENTS / "cleanup.json").read_text()))
        assert "a clean-up is running already" in scheduled["skipped"]
    finally:
        store.release_clean_up_lock("a-clean-up-that-runs")
    status, report = api("POST", "/clean-up", {"per_call": 10})
    assert status == 200 and report["complete"] is True


def test_a_clean_up_that_outlasts_its_budget_stops_and_says_so(system: JobSystem):
    """The API's clean-up has 15 s, inside API Gateway's 29; the scheduled one, its timeout less 30 s."""
    report = clean_up(system, CleanUpPolicy.parse(10, "1 min"), budget=0)
    assert report.complete is False
