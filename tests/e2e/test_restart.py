"""`make run` keeps its jobs and their output across a restart (jobs_local.persistence)."""

import pytest

from jobs_local.process import StackProcess, wait_gone
from tests.e2e.conftest import CONFIG, Http

pytestmark = pytest.mark.e2e


@pytest.mark.long
def test_jobs_and_their_output_survive_a_restart_and_a_running_job_ends_incomplete(tmp_path):
    """Four stacks on one folder: a stop that leaves no process and ends the running jobs
    incomplete, a restart that keeps the rest, a reset, and a token of the user's own. One test,
    since each stack's boot costs seconds of CPU."""
    data = tmp_path / "state"
    with StackProcess(config=CONFIG, data_dir=data, token=None) as first:
        http = Http(first)
        _, done = http("POST", "/jobs", {"command": "demo:lines", "params": ["300"]})
        assert http.wait(done["id"])["state"] == "finished"
        expected = http.output(done["id"])
        assert len(expected) == 300
        _, running = http(
            "POST", "/jobs", {"command": "demo:sleep", "params": ["120"], "depending_jobs": [{"command": "demo:echo"}]}
        )
        http.wait(running["id"], until=lambda j: j["state"] == "running")
        http.wait(running["id"], until=lambda _: len(http("GET", f"/jobs/{running['id']}/output")[1]["lines"]) >= 2)
        _, fargate = http("POST", "/jobs", {"command": "demo:sleep", "params": ["120"], "runner": "fargate"})
        http.wait(fargate["id"], until=lambda j: j["state"] == "running")
        assert http("POST", "/queues/maintenance/pause")[0] == 200
        token = first.token
        below = first.descendants()
        assert len(below) >= 4, "a Lambda worker and an ECS task, and the commands they run"
        assert first.stop() == 0  # SIGINT, as Ctrl-C
    assert wait_gone(below) == set(), "stopping the stack leaves no process behind"

    with StackProcess(config=CONFIG, data_dir=data, token=None) as second:
        assert second.token == token, "the token stays the same across restarts"
        http = Http(second)
        again = http.job(done["id"])
        assert again["state"] == "finished" and again["exit_code"] == 0
        assert http.output(done["id"]) == expected
        for job_id in (running["id"], fargate["id"]):
            interrupted = http.job(job_id)
            assert interrupted["state"] == "incomplete"
            assert interrupted["reason"] == "the local stack stopped while it ran"
        # What it printed before the stop is still there.
        assert http.output(running["id"])[:2] == ["sleeping 120 s", "second 1/120"]
        child = http.job(running["dependents"][0])
        assert child["state"] == "canceled" and "ended incomplete" in child["reason"]
        _, listed = http("GET", "/jobs", query="limit=100")
        assert {done["id"], running["id"], fargate["id"]} <= {j["id"] for j in listed["items"]}
        # And the restarted stack runs jobs as before, its paused queue still paused.
        _, new = http("POST", "/jobs", {"command": "demo:echo", "params": ["after"]})
        assert http.wait(new["id"])["state"] == "finished" and http.output(new["id"]) == ["after"]
        _, held = http("POST", "/jobs", {"command": "demo:echo", "queue": "maintenance"})
        http.wait(held["id"], until=lambda j: (j["waiting"] or "").startswith("queue maintenance is paused (by "))
        assert http("POST", "/queues/maintenance/resume")[0] == 200
        assert http.wait(held["id"])["state"] == "finished"

    with StackProcess(config=CONFIG, data_dir=data, token=None, reset=True) as third:
        http = Http(third)
        assert third.token == token
        _, listed = http("GET", "/jobs")
        assert listed["items"] == []
        assert http("GET", f"/jobs/{done['id']}")[0] == 404

    # JOBS_TOKEN replaces the kept token.
    with StackProcess(config=CONFIG, data_dir=data, token="chosen-by-the-user") as fourth:
        assert Http(fourth)("GET", "/jobs")[0] == 200
        old = Http(fourth)
        old.session.headers["Authorization"] = f"Bearer {token}"
        assert old("GET", "/jobs")[0] == 401
