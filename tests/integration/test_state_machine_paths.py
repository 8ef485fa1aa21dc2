"""Each kind of run passes the states named here, no more: Step Functions bills each state entered
(docs/performance.md, "What a job costs on AWS"). The state machine is really executed, and the
transitions that each runner recorded for its run (its cost) are the states its execution entered."""

import time

import pytest

from jobs_local.stack import LocalStack
from tests.integration.conftest import Api

pytestmark = pytest.mark.integration

PLAIN = ["Route", "RunOnLambda", "AfterRun", "Done"]
ENDED = ["Route", "RunOnLambda", "AfterRun", "EndRun", "Done"]
DELAYED = ["Route", "WaitUntilDue", "RouteWhenDue", "RunOnLambda", "AfterRun", "Done"]
QUEUED = ["Route", "WaitForSlot", "WasItAdmitted", "RunOnLambda", "AfterRun", "EndRun", "Done"]


def states_entered(stack: LocalStack, job: dict) -> list[str]:
    """The states of a job's execution, once it has ended, in the order it entered them."""
    sfn = stack.client("stepfunctions")
    deadline = time.monotonic() + 30
    while sfn.describe_execution(executionArn=job["execution_arn"])["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution never ended"
        time.sleep(0.2)
    events: list[dict] = []
    token = None
    while True:
        page = sfn.get_execution_history(executionArn=job["execution_arn"], **({"nextToken": token} if token else {}))
        events += page["events"]
        if not (token := page.get("nextToken")):
            break
    return [event["stateEnteredEventDetails"]["name"] for event in events if "stateEnteredEventDetails" in event]


def ran_through(stack: LocalStack, job: dict) -> list[str]:
    """The states of a job's execution; its runner counted as many for its cost."""
    states = states_entered(stack, job)
    assert job["usage"]["transitions"] == len(states), (job["usage"], states)
    return states


def _start(api: Api, body: dict) -> dict:
    status, job = api("POST", "/jobs", body)
    assert status == 202, job
    return job


def test_a_plain_job_takes_four_transitions(api: Api, stack: LocalStack):
    job = api.wait(_start(api, {"command": "demo:echo", "params": ["plain"]})["id"])
    assert job["state"] == "finished"
    assert ran_through(stack, job) == PLAIN


def test_a_job_with_dependents_is_plain_too_its_runner_starts_them(api: Api, stack: LocalStack):
    parent = _start(api, {"command": "demo:echo", "depending_jobs": [{"command": "demo:echo"}]})
    child = api.wait(parent["dependents"][0])
    assert child["state"] == "finished"
    assert ran_through(stack, api.job(parent["id"])) == PLAIN
    assert api.job(parent["id"])["ended_at"] is not None
    assert ran_through(stack, child) == PLAIN


def test_a_delayed_job_waits_then_runs_as_a_plain_one(api: Api, stack: LocalStack):
    job = api.wait(_start(api, {"command": "demo:echo", "delay": "1 s"})["id"])
    assert job["state"] == "finished"
    assert ran_through(stack, job) == DELAYED


def test_a_queued_job_waits_for_its_slot_and_gives_it_back(api: Api, stack: LocalStack):
    job = api.wait(_start(api, {"command": "demo:echo", "queue": "pair"})["id"])
    assert job["state"] == "finished"
    assert ran_through(stack, job) == QUEUED


def test_a_retried_job_ends_each_failed_attempt_and_its_next_attempt_waits_for_its_back_off(
    api: Api, stack: LocalStack
):
    _, first = api("POST", "/job-definitions/flaky_backoff/start")
    attempts = [api.wait_run_ended(first["id"])]
    while attempts[-1]["retried_by"]:
        attempts.append(api.wait_run_ended(attempts[-1]["retried_by"]))
    assert [job["state"] for job in attempts] == ["failed", "failed", "finished"]
    assert [ran_through(stack, api.job(job["id"])) for job in attempts] == [
        ENDED,
        ["Route", "WaitUntilDue", "RouteWhenDue", "RunOnLambda", "AfterRun", "EndRun", "Done"],
        DELAYED,
    ]


def test_a_job_canceled_while_it_waits_for_a_slot_ends_its_run_without_running(api: Api, stack: LocalStack):
    running = _start(api, {"command": "demo:sleep", "params": ["30"], "queue": "killed"})
    api.wait(running["id"], until=lambda j: j["state"] == "running")
    waiting = _start(api, {"command": "demo:echo", "queue": "killed"})
    api.wait(waiting["id"], until=lambda j: (j["waiting"] or "").startswith("queue killed is full"))
    assert api("POST", f"/jobs/{waiting['id']}/cancel")[0] == 202
    assert states_entered(stack, waiting) == ["Route", "WaitForSlot", "WasItAdmitted", "EndRun", "Done"]
    assert api("POST", f"/jobs/{running['id']}/cancel")[0] == 202


def test_a_job_of_a_paused_queue_without_a_limit_is_held_by_its_runner_and_runs_on_resume(api: Api, stack: LocalStack):
    assert api("POST", "/queues/maintenance/pause")[0] == 200
    try:
        job = _start(api, {"command": "demo:echo", "queue": "maintenance"})
        api.wait(job["id"], until=lambda j: (j["waiting"] or "").startswith("queue maintenance is paused"))
        assert api.job(job["id"])["started_at"] is None
    finally:
        assert api("POST", "/queues/maintenance/resume")[0] == 200
    assert api.wait(job["id"])["state"] == "finished"
    assert states_entered(stack, job) == [
        "Route", "RunOnLambda", "AfterRun", "WaitForSlot", "WasItAdmitted", "RunOnLambda", "AfterRun", "Done",
    ]  # fmt: skip


def test_a_fargate_job_reads_its_queue_before_its_task_starts(api: Api, stack: LocalStack):
    job = api.wait(_start(api, {"command": "demo:echo", "runner": "fargate"})["id"], timeout=120)
    assert job["state"] == "finished"
    assert ran_through(stack, job) == ["Route", "ReadQueue", "IsItPaused", "RunOnFargate", "EndRun", "Done"]
