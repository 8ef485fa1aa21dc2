"""A cron schedule of jobs.yaml fires on the local stack, in its time zone, as EventBridge Scheduler would."""

import os
import subprocess
import sys
import time

import pytest

from jobs_local.process import StackProcess
from tests.e2e.conftest import Http

pytestmark = pytest.mark.e2e

CONFIG = """
jobs:
  every_minute:
    label: "Every minute"
    command: "demo:echo"
    params: ["tick"]
    schedule: {cron: "* * * * *", timezone: "Asia/Kolkata"}
"""


def test_a_cron_schedule_fires_on_the_local_stack(tmp_path):
    config = tmp_path / "jobs.yaml"
    config.write_text(CONFIG)
    with StackProcess(config=config) as stack:
        http = Http(stack)
        _, definitions = http("GET", "/job-definitions")
        next_run = definitions["items"][0]["next_run_at"]
        assert next_run.endswith(":00.000Z")
        env = {**os.environ, "JOBS_URL": stack.url, "JOBS_TOKEN": stack.token}
        listing = subprocess.run(
            [sys.executable, "-m", "jobs_cli.cli", "definitions"], env=env, capture_output=True, text=True, timeout=60
        )
        assert "cron * * * * * timezone Asia/Kolkata" in listing.stdout, listing
        assert next_run.replace("T", " ")[:19] in listing.stdout
        deadline = time.monotonic() + 75
        while True:
            _, page = http("GET", "/jobs", query="limit=5")
            fired = [job for job in page["items"] if job["trigger"] == "schedule"]
            if fired:
                break
            assert time.monotonic() < deadline, "the schedule never fired"
            time.sleep(1)
        job = http.wait(fired[0]["id"])
        assert (job["definition"], job["state"], job["created_at"][:16]) == ("every_minute", "finished", next_run[:16])
        assert any("every_minute fired" in line for line in stack.lines)
