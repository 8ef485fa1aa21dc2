"""What a job used: its peak memory and CPU time, measured from the command's own rusage."""

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
