"""What a job used: its peak memory and CPU time, measured from the command's own rusage."""

import statistics
from datetime import UTC, datetime

import pytest

from tests.integration.conftest import Api

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("runner", ["lambda", "fargate"])
def test_a_job_records_the_peak_memory_and_cpu_time_of_its_command(api: Api, runner):
    status, job = api("POST", "/jobs", {"command": "demo:alloc", "params": ["200", "0.5"], "runner": runner})
    assert status == 202, job
    done = api.wait(job["id"])
    assert done["state"] == "finished", done
    assert 200 <= done["peak_memory_mb"] <= 240, done["peak_memory_mb"]  # the interpreter adds its own ~15 MB
    assert 0 < done["cpu_seconds"] < done["runtime"] + 1


def test_a_small_command_reports_a_small_peak(api: Api):
    _, job = api("POST", "/jobs", {"command": "demo:alloc", "params": ["0", "0"]})
    done = api.wait(job["id"])
    assert done["state"] == "finished" and 5 < done["peak_memory_mb"] < 60, done["peak_memory_mb"]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_progress_lines_are_kept_on_the_running_job_and_give_its_expected_end(api: Api):
    _, job = api("POST", "/jobs", {"command": "demo:sleep", "params": ["6"]})
    running = api.wait(job["id"], until=lambda j: (j["progress"] or {}).get("done", 0) >= 2, timeout=30)
    assert running["state"] == "running" and running["progress"]["total"] == 6
    assert running["expected_end_from"] == "progress"
    # 1 s a step: the rest takes (6 - done) s from now, give or take the write interval.
    left = (at(running["expected_end_at"]) - datetime.now(UTC)).total_seconds()
    assert 6 - running["progress"]["done"] - 3 < left < 6 - running["progress"]["done"] + 2, left
    done = api.wait(job["id"])
    assert done["progress"] == {"done": 6, "total": 6}
    lines = api.output(job["id"])
    assert "second 6/6" in lines and not any(line.startswith("PROGRESS") for line in lines)


def test_a_job_without_progress_lines_expects_the_median_of_its_last_finished_runs(api: Api):
    for _ in range(3):
        _, job = api("POST", "/jobs", {"command": "demo:alloc", "params": ["0", "1.5"]})
        api.wait(job["id"])
    _, history = api("GET", "/jobs", query="command=demo:alloc&state=finished&limit=20")
    median = statistics.median(j["runtime"] for j in history["items"])
    _, job = api("POST", "/jobs", {"command": "demo:alloc", "params": ["0", "1.5"]})
    running = api.wait(job["id"], until=lambda j: j["state"] != "pending")
    assert running["expected_end_from"] == "history" and running["progress"] is None
    expected = (at(running["expected_end_at"]) - at(running["started_at"])).total_seconds()
    assert abs(expected - median) < 0.002, (expected, median)
    api.wait(job["id"])

