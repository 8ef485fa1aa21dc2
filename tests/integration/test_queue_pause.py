"""A paused queue, with the state machine really executed: its jobs wait, running ones go on, and
a resume starts the waiting ones in its order."""

import time

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
