"""A runner that hangs: SIGSTOP stops it as a frozen machine would, and the heartbeat check (with
its clock a minute on, instead of a minute's wait) ends the job's run. On a stack of its own: a
minute on, every other running job's heartbeat is old too."""

import dataclasses
import os
import signal
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from jobs_local.stack import LocalStack
from jobsys.models import utc_now
from tests.integration.conftest import Api, system_of
from tests.jobs_api import CONFIG
from tests.processes import command_of, parent_of, processes_with

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(config_path=CONFIG, stack_name="jobs-heartbeats") as local:
        yield local


def test_a_stopped_runner_s_job_is_ended_incomplete_and_its_execution_stopped(stack: LocalStack):
    api, system = Api(stack), system_of(stack)
    _, job = api(
        "POST", "/jobs", {"command": "demo:sleep", "params": ["30"], "depending_jobs": [{"command": "demo:echo"}]}
    )
    api.wait(job["id"], until=lambda j: j["state"] == "running")
    runner = parent_of(command_of(job["id"]))
    os.kill(runner, signal.SIGSTOP)
    try:
        a_minute_on = dataclasses.replace(system, clock=lambda: utc_now() + timedelta(seconds=61))
        ended = a_minute_on.check_heartbeats()
        assert [j.id for j in ended] == [job["id"]]
        closed = api.job(job["id"])
        assert closed["state"] == "incomplete" and closed["reason"].startswith("no heartbeat since ")
        child = api.job(job["dependents"][0])
        assert child["state"] == "canceled" and "ended incomplete" in child["reason"]
        execution = stack.client("stepfunctions").describe_execution(executionArn=job["execution_arn"])
        assert execution["status"] == "ABORTED"
    finally:
        os.kill(runner, signal.SIGCONT)
    # Woken, the runner sees its job closed and stops the command.
    deadline = time.monotonic() + 20
    while processes_with("JOB_ID", job["id"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not processes_with("JOB_ID", job["id"])
    _, after = api("POST", "/jobs", {"command": "demo:echo", "params": ["on"]})
    assert api.wait(after["id"])["state"] == "finished"  # the system goes on
