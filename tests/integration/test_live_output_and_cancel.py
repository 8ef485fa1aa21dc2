import time

import pytest

from jobs_local.stack import LocalStack
from jobsys.ids import new_job_id
from jobsys.output import OutputStore
from tests.integration.conftest import Api

pytestmark = pytest.mark.integration


def test_output_can_be_read_incrementally_while_the_job_runs(api: Api):
    _, job = api("POST", "/jobs", {"command": "demo:sleep", "params": ["3"]})
    api.wait(job["id"], until=lambda j: j["state"] == "running")
    seen, cursor, pages_while_running = [], None, 0
    while True:
        _, page = api("GET", f"/jobs/{job['id']}/output", query=f"cursor={cursor}" if cursor else "")
        seen += page["lines"]
        cursor = page["next_cursor"] or cursor
        if page["lines"] and api.job(job["id"])["state"] == "running":
            pages_while_running += 1
        if page["complete"]:
            break
        time.sleep(0.3)
    assert pages_while_running >= 2, "the output should arrive in pieces while the command runs"
    assert seen == ["sleeping 3 s", "second 1/3", "second 2/3", "second 3/3", "done"]
    assert api.job(job["id"])["state"] == "finished"


def test_cancel_stops_a_running_job_and_its_process(api: Api):
    _, job = api(
        "POST", "/jobs", {"command": "demo:sleep", "params": ["60"], "depending_jobs": [{"command": "demo:echo"}]}
    )
    api.wait(job["id"], until=lambda j: j["state"] == "running")
    status, canceled = api("POST", f"/jobs/{job['id']}/cancel")
    assert status == 202 and canceled["state"] == "canceled"
    lines = api.output(job["id"])  # completes only once the runner has stopped the command and saved its output
    assert lines[-1] == "[job system] stopping the command: the job was canceled"
    assert "second 30/60" not in lines
    assert api.wait(job["dependents"][0])["state"] == "canceled"
    # Canceled is final: a second cancel is a conflict, and nothing moves it afterwards.
    status, error = api("POST", f"/jobs/{job['id']}/cancel")
    assert status == 409 and "canceled" in error["message"]
    assert api.job(job["id"])["state"] == "canceled"


def test_cancel_of_a_pending_dependent_means_it_never_runs(api: Api):
    _, job = api(
        "POST",
        "/jobs",
        {"command": "demo:sleep", "params": ["2"], "depending_jobs": [{"command": "demo:echo", "params": ["x"]}]},
    )
    child_id = job["dependents"][0]
    status, child = api("POST", f"/jobs/{child_id}/cancel")
    assert status == 202 and child["state"] == "canceled"
    assert api.wait(job["id"])["state"] == "finished"
    time.sleep(1)
    child = api.job(child_id)
    assert child["state"] == "canceled" and child["started_at"] is None


def test_the_streams_capture_is_saved_whole_across_pages_and_never_over_the_runners_copy(stack: LocalStack):
    s3, bucket = stack.client("s3"), stack.physical_id("OutputBucket")
    output = OutputStore(stack.client("logs"), s3, stack.physical_id("JobOutputLogGroup"), bucket)

    def saved(job_id: str) -> bytes:
        return s3.get_object(Bucket=bucket, Key=f"output/{job_id}.log")["Body"].read()

    job_id = new_job_id()
    output.open(job_id)
    lines = [f"line {n}" for n in range(12_000)]  # more than one GetLogEvents page (10,000 events)
    output.append(job_id, lines[:7_000])
    output.append(job_id, lines[7_000:])
    output.save_captured(job_id)
    assert saved(job_id).decode().split("\n")[:-1] == lines

    runners = new_job_id()
    output.open(runners)
    output.append(runners, ["from the stream"])
    s3.put_object(Bucket=bucket, Key=f"output/{runners}.log", Body=b"whole\n")
    output.save_captured(runners)
    assert saved(runners) == b"whole\n"

    silent = new_job_id()  # it printed nothing, so it has no stream: its copy is empty
    output.save_captured(silent)
    assert saved(silent) == b""


def test_stderr_is_read_apart_while_the_job_runs_and_after_it_closed(api: Api):
    _, job = api("POST", "/jobs", {"command": "both-streams"})
    api.wait(job["id"], until=lambda j: j["state"] == "running")
    live, cursor = [], None
    while api.job(job["id"])["state"] == "running":
        _, page = api(
            "GET", f"/jobs/{job['id']}/output", query="stream=stderr" + (f"&cursor={cursor}" if cursor else "")
        )
        assert page["stderr"] == list(range(len(page["lines"])))
        live += page["lines"]
        cursor = page["next_cursor"] or cursor
        time.sleep(0.3)
    assert live[:1] == ["err 1"], "stderr lines arrive while the command runs"
    assert api.output(job["id"], stream="stderr") == [f"err {n}" for n in range(1, 5)]  # the saved copy
    assert api.output(job["id"], stream="stdout") == [f"out {n}" for n in range(1, 5)]
    _, both = api("GET", f"/jobs/{job['id']}/output")
    assert both["lines"] == [f"{stream} {n}" for n in range(1, 5) for stream in ("out", "err")]
    assert both["stderr"] == [1, 3, 5, 7]
