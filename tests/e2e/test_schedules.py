"""A cron schedule of jobs.yaml fires on the local stack, in its time zone, as EventBridge Scheduler would."""

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest

from jobs_local.process import StackProcess
from tests.e2e.conftest import Http

pytestmark = [pytest.mark.e2e, pytest.mark.long]

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
        # The tick before next_run may still be in flight when the stack has just started: it was due
        # before the page was read and fired after, as EventBridge Scheduler's would.
        ticks = {minute_before(next_run)[:16], next_run[:16]}
        assert (job["definition"], job["state"]) == ("every_minute", "finished")
        assert job["created_at"][:16] in ticks, (job["created_at"], ticks)
        assert any(f"every_minute fired for {job['created_at'][:16]}" in line for line in stack.lines), stack.lines


def minute_before(stamp: str) -> str:
    return (datetime.fromisoformat(stamp) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
