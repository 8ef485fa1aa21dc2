"""A paused queue, with the state machine really executed: its jobs wait, running ones go on, and
a resume starts the waiting ones in its order."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.conftest import OPERATOR, Api

pytestmark = pytest.mark.integration


def _queue(api: Api, name: str) -> dict:
    status, queues = api("GET", "/queues")
    assert status == 200
    return next(queue for queue in queues["items"] if queue["name"] == name)


def _start(api: Api, queue: str, *params: str, command: str = "demo:echo") -> dict:
    status, job = api("POST", "/jobs", {"command": command, "params": list(params), "queue": queue})
    assert status == 202, job
    return job


@pytest.mark.parametrize("queue", ["maintenance", "maintained"])
def test_a_paused_queue_holds_new_jobs_until_it_is_resumed(api: Api, queue: str):
    running = _start(api, queue, "3", command="demo:sleep")
    api.wait(running["id"], until=lambda job: job["state"] == "running")
    status, paused = api("POST", f"/queues/{queue}/pause")
    assert status == 200 and (paused["paused"], paused["paused_by"]) == (True, OPERATOR)
    assert _queue(api, queue)["paused_at"] == paused["paused_at"]

    held = [_start(api, queue, name) for name in ("first", "second")]
    reason = f"queue {queue} is paused (by {OPERATOR} at "
    for job in held:
        api.wait(job["id"], until=lambda j: (j["waiting"] or "").startswith(reason))
    assert api.wait(running["id"])["state"] == "finished"  # a running job goes on
    time.sleep(1)
    assert [api.job(job["id"])["state"] for job in held] == ["pending", "pending"]

    status, resumed = api("POST", f"/queues/{queue}/resume")
    assert status == 200 and (resumed["paused"], resumed["paused_by"], resumed["paused_at"]) == (False, None, None)
    done = [api.wait(job["id"]) for job in held]
    assert [job["state"] for job in done] == ["finished", "finished"]
    if queue == "maintained":  # one at a time, in the queue's order
        assert done[0]["closed_at"] <= done[1]["started_at"]


def test_pausing_an_unknown_queue_is_a_404_naming_the_queues(api: Api):
    status, body = api("POST", "/queues/nope/pause")
    assert status == 404 and body["message"].startswith("no queue 'nope' (the queues are: ")


def test_a_job_a_week_in_line_goes_on_waiting_in_a_new_execution_and_then_runs(api: Api, stack, table):
    """Fault 7, through the state machine: the admit of an execution a week old starts the job's
    next execution and answers the waiting one `continued`, which ends (Done, not EndRun); the job
    stays pending in its line, and runs from the new execution once the queue resumes."""
    status, _ = api("POST", "/queues/maintained/pause")
    assert status == 200
    job = _start(api, "maintained", "patient")
    api.wait(job["id"], until=lambda j: (j["waiting"] or "").startswith("queue maintained is paused"))
    first_execution = api.job(job["id"])["execution_arn"]
    item = table.get_item(Key={"pk": f"JOB#{job['id']}", "sk": "JOB"})["Item"]
    week_ago = (datetime.now(UTC) - timedelta(days=7, minutes=1)).isoformat()
    event = {"action": "admit", "job_id": job["id"], "task_token": item["wait_token"], "execution_started": week_ago}
    stack.invoke("JobStateFunction", event)
    sfn = stack.client("stepfunctions")
    deadline = time.monotonic() + 30
    while sfn.describe_execution(executionArn=first_execution)["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the waiting execution did not end"
        time.sleep(0.2)
    assert sfn.describe_execution(executionArn=first_execution)["status"] == "SUCCEEDED"
    moved = api.job(job["id"])
    assert moved["state"] == "pending" and moved["execution_arn"] == f"{first_execution}-2"
    status, _ = api("POST", "/queues/maintained/resume")
    assert status == 200
    assert api.wait(job["id"])["state"] == "finished"
    assert sfn.describe_execution(executionArn=moved["execution_arn"])["status"] in ("RUNNING", "SUCCEEDED")
