"""Every run ends right (issue 20), on a stack of its own: what needs other template parameters."""

import os
import signal
import time

import pytest

from jobs_local.process import StackProcess
from jobsys.models import parse_iso
from tests.e2e.conftest import CONFIG, Http, template_copy
from tests.processes import command_of, parent_of, processes_with

pytestmark = pytest.mark.e2e


@pytest.mark.long
def test_a_full_lambda_runner_makes_jobs_wait_never_end_incomplete():
    """RunnerConcurrency=2 (the function's reserved concurrency): four jobs of 3 s at once. The two
    that Lambda throttles wait for room; all finish, and never more than two run at once. (Six jobs
    of 5 s proved no more and took 34 to 54 s: a throttled job's waits grow with full jitter.)"""
    with StackProcess(config=CONFIG, parameters="RunnerConcurrency=2") as stack:
        http = Http(stack)
        ids = []
        for number in range(4):
            status, job = http("POST", "/jobs", {"command": "demo:sleep", "params": ["3"], "label": f"busy {number}"})
            assert status == 202, job
            ids.append(job["id"])
        ended = [http.wait(job_id, timeout=240) for job_id in ids]
    assert [job["state"] for job in ended] == ["finished"] * 4, [(j["state"], j.get("reason")) for j in ended]
    moments = sorted(
        [(parse_iso(job["started_at"]), 1) for job in ended] + [(parse_iso(job["closed_at"]), -1) for job in ended]
    )
    running = most = 0
    for _, change in moments:
        running += change
        most = max(most, running)
    assert most <= 2


@pytest.mark.own_stack
def test_a_run_whose_end_failed_is_ended_by_the_clean_up_and_its_dependent_runs(tmp_path):
    """Neither the runner nor EndRun can start the dependent (their roles lost states:StartExecution
    in this copy of the template): the runner leaves the run's end to EndRun, which fails five
    times, and the execution ends in RunNotEnded with the parent finished. The clean-up finds that
    execution, does the end's work, and the dependent runs."""
    copy = template_copy(
        tmp_path,
        "JobStateFunction",
        '- StepFunctionsExecutionPolicy: {StateMachineName: !Sub "${AWS::StackName}-jobs"}',
        "- CloudWatchPutMetricPolicy: {}",
        ("RunnerFunction", "Action: [states:StartExecution]", "Action: [states:DescribeExecution]"),
    )
    with StackProcess(config=CONFIG, extra_env={"JOBS_TEMPLATE": str(copy)}) as stack:
        http = Http(stack)
        body = {"command": "demo:echo", "params": ["parent"], "depending_jobs": [{"command": "demo:echo"}]}
        status, job = http("POST", "/jobs", body)
        assert status == 202, job
        parent = http.wait(job["id"])
        assert parent["state"] == "finished"
        child_id = job["dependents"][0]
        deadline = time.monotonic() + 60
        while (execution := _execution(stack, parent))["status"] == "RUNNING":  # EndRun's five tries
            assert time.monotonic() < deadline, "EndRun never gave up"
            time.sleep(0.5)
        assert execution["status"] == "FAILED" and execution["error"] == "RunNotEnded"
        assert http.job(child_id)["state"] == "pending"
        status, report = http("POST", "/clean-up", {"per_call": 1})
        assert status == 200, report
        assert parent["id"] in report["ends_handled"]
        assert http.wait(child_id)["state"] == "finished"
        status, again = http("POST", "/clean-up", {"per_call": 1})  # handled once: never twice
        assert parent["id"] not in again["ends_handled"]


def _execution(stack: StackProcess, job: dict) -> dict:
    return stack.aws_client("stepfunctions").describe_execution(executionArn=job["execution_arn"])


@pytest.mark.long
def test_a_job_whose_runner_hangs_is_incomplete_within_two_minutes(local_stack: StackProcess, http: Http):
    """SIGSTOP freezes the runner, as a frozen machine would; the minute's heartbeat check ends its job.
    At worst its last beat was at the stop, it is 60 s old a minute later, and the next check comes
    within another minute: 120 s, and the few the check itself takes."""
    _, job = http(
        "POST", "/jobs", {"command": "demo:sleep", "params": ["150"], "depending_jobs": [{"command": "demo:echo"}]}
    )
    http.wait(job["id"], until=lambda j: j["state"] == "running")
    runner = parent_of(command_of(job["id"]))
    os.kill(runner, signal.SIGSTOP)
    stopped_at = time.monotonic()
    try:
        ended = http.wait(job["id"], timeout=130)
        assert time.monotonic() - stopped_at < 125
        assert ended["state"] == "incomplete" and ended["reason"].startswith("no heartbeat since ")
        # The check closes the job first and ends its run after: the child is canceled a moment later.
        child = http.wait(job["dependents"][0], timeout=15)
        assert child["state"] == "canceled" and "ended incomplete" in child["reason"]
        execution = local_stack.aws_client("stepfunctions").describe_execution(executionArn=job["execution_arn"])
        assert execution["status"] == "ABORTED"  # stopped: it must not end the run a second time
    finally:
        os.kill(runner, signal.SIGCONT)
    # Woken, the runner sees its job closed and stops the command.
    deadline = time.monotonic() + 20
    while processes_with("JOB_ID", job["id"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not processes_with("JOB_ID", job["id"])
    _, after = http("POST", "/jobs", {"command": "demo:echo", "params": ["on"]})
    assert http.wait(after["id"])["state"] == "finished"  # the system goes on
