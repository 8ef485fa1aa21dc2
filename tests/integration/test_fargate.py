"""`runner: fargate` jobs: the state machine's ecs:runTask.sync starts the runner's task, which the
local stack runs as a process (jobs_local.ecs.tasks), and waits for it as on AWS."""

import json
import signal
import time

import pytest

from jobs_local.stack import RUNNER_IMAGE, LocalStack
from tests.integration.conftest import Api
from tests.processes import processes_with

pytestmark = pytest.mark.integration


def _fargate_task(stack: LocalStack, job: dict) -> dict:
    ecs = stack.client("ecs")
    cluster = stack.physical_id("RunnerCluster")
    for arn in ecs.list_tasks(cluster=cluster)["taskArns"]:
        task = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]
        if job["id"] in (task.get("overrides", {}).get("containerOverrides") or [{}])[0].get("command", []):
            return task
    raise AssertionError(f"no runner task for job {job['id']}")


def _stopped_task(stack: LocalStack, job: dict, timeout: float = 15) -> dict:
    """The runner closes the job, then exits: its task stops a moment after the job closed."""
    deadline = time.monotonic() + timeout
    while (task := _fargate_task(stack, job))["lastStatus"] != "STOPPED" and time.monotonic() < deadline:
        time.sleep(0.2)
    return task


def _network(stack: LocalStack) -> dict:
    ec2 = stack.client("ec2")
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
    return {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}}


def _run_app(stack: LocalStack, container: dict, command: list[str] | None = None) -> dict:
    """Runs a task of a one-container Fargate task definition of our own on the runner's cluster."""
    ecs = stack.client("ecs")
    definition = ecs.register_task_definition(
        family="test-app",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "app", "essential": True, **container}],
    )["taskDefinition"]["taskDefinitionArn"]
    overrides = {"containerOverrides": [{"name": "app", "command": command}]} if command else {}
    return ecs.run_task(
        cluster=stack.physical_id("RunnerCluster"),
        taskDefinition=definition,
        launchType="FARGATE",
        networkConfiguration=_network(stack),
        overrides=overrides,
    )["tasks"][0]


def test_a_long_fargate_job_finishes_with_its_output(api: Api, stack: LocalStack):
    _, job = api("POST", "/job-definitions/on_fargate/start")
    assert job["runner"] == "fargate" and job["max_runtime"] == 3600
    ended = api.wait(job["id"])
    assert ended["state"] == "finished" and ended["exit_code"] == 0
    assert api.output(job["id"]) == ["big"]
    task = _stopped_task(stack, job)
    assert task["lastStatus"] == "STOPPED" and task["stopCode"] == "EssentialContainerExited"
    assert task["containers"][0]["exitCode"] == 0
    assert task["launchType"] == "FARGATE"


def test_a_failing_fargate_job_fails_with_its_exit_code_and_cancels_its_dependents(api: Api):
    _, job = api(
        "POST",
        "/jobs",
        {"command": "demo:fail", "params": ["7"], "runner": "fargate", "depending_jobs": [{"command": "demo:echo"}]},
    )
    ended = api.wait(job["id"])
    assert ended["state"] == "failed" and ended["exit_code"] == 7
    assert api.output(job["id"], stream="stdout") == ["checking the remote system..."]
    assert api.output(job["id"], stream="stderr") == ["error: the remote system refused the connection (exit 7)"]
    assert api.wait(job["dependents"][0])["state"] == "canceled"


@pytest.mark.long
def test_fargate_output_streams_while_the_task_runs(api: Api):
    _, job = api("POST", "/jobs", {"command": "demo:sleep", "params": ["6"], "runner": "fargate"})
    api.wait(job["id"], until=lambda j: j["state"] == "running")
    _, page = api("GET", f"/jobs/{job['id']}/output")
    seen, cursor = page["lines"], page["next_cursor"]
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.3)
        _, page = api("GET", f"/jobs/{job['id']}/output", query=f"cursor={cursor}" if cursor else "")
        seen, cursor = seen + page["lines"], page["next_cursor"] or cursor
    assert seen and api.job(job["id"])["state"] == "running", "output should arrive while the task runs"
    assert api.wait(job["id"])["state"] == "finished"
    assert api.output(job["id"])[-1] == "done"


def test_canceling_a_running_fargate_job_stops_it_and_leaves_no_process(api: Api, stack: LocalStack):
    _, job = api("POST", "/jobs", {"command": "demo:sleep", "params": ["60"], "runner": "fargate"})
    api.wait(job["id"], until=lambda j: j["state"] == "running" and bool(processes_with("JOB_ID", j["id"])))
    status, canceled = api("POST", f"/jobs/{job['id']}/cancel")
    assert status == 202 and canceled["state"] == "canceled"
    lines = api.output(job["id"])
    assert lines[-1] == "[job system] stopping the command: the job was canceled"
    assert _stopped_task(stack, job)["lastStatus"] == "STOPPED"
    assert not processes_with("JOB_ID", job["id"])
    assert api.job(job["id"])["state"] == "canceled"


def test_a_fargate_job_past_its_max_runtime_is_terminated(api: Api):
    _, job = api("POST", "/jobs", {"command": "demo:sleep", "params": ["30"], "runner": "fargate", "max_runtime": 2})
    ended = api.wait(job["id"], timeout=30)
    assert ended["state"] == "terminated"
    assert "max runtime of 2 s" in ended["reason"]
    assert not processes_with("JOB_ID", job["id"])


def test_stop_task_ends_the_whole_task_even_a_child_that_ignores_sigterm_in_its_own_session(stack: LocalStack):
    """ECS StopTask: SIGTERM, then SIGKILL after the stop timeout to all that the container holds."""
    ecs = stack.client("ecs")
    stubborn = (
        "import os, signal, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import signal, time; "
        'signal.signal(signal.SIGTERM, signal.SIG_IGN); print("child up", flush=True); time.sleep(600)\'],'
        " start_new_session=True)\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "time.sleep(600)\n"
    )
    # The runner's image, in a task definition whose container gives SIGKILL after 2 s (Fargate's default is 30).
    task = _run_app(stack, {"image": RUNNER_IMAGE, "stopTimeout": 2}, command=["python", "-c", stubborn])
    marker = f"http://169.254.170.2/v4/{task['taskArn'].rsplit('/', 1)[-1]}"
    cluster = stack.physical_id("RunnerCluster")

    def describe() -> dict:
        return ecs.describe_tasks(cluster=cluster, tasks=[task["taskArn"]])["tasks"][0]

    deadline = time.monotonic() + 10
    while len(processes_with("ECS_CONTAINER_METADATA_URI_V4", marker)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(processes_with("ECS_CONTAINER_METADATA_URI_V4", marker)) == 2
    assert describe()["lastStatus"] == "RUNNING"
    time.sleep(1)
    assert describe()["lastStatus"] == "RUNNING", "a task stops when its process does, not when it was described"

    stopped = ecs.stop_task(cluster=cluster, task=task["taskArn"], reason="test")["task"]
    assert stopped["desiredStatus"] == "STOPPED"
    time.sleep(0.5)
    assert processes_with("ECS_CONTAINER_METADATA_URI_V4", marker), "SIGKILL only after the stop timeout"
    deadline = time.monotonic() + 10
    while describe()["lastStatus"] != "STOPPED" and time.monotonic() < deadline:
        time.sleep(0.1)
    final = describe()
    assert final["lastStatus"] == "STOPPED" and final["stopCode"] == "UserInitiated"
    assert final["stoppedReason"] == "test"
    assert final["containers"][0]["exitCode"] == 128 + signal.SIGKILL
    assert not processes_with("ECS_CONTAINER_METADATA_URI_V4", marker)


def test_a_task_of_an_unknown_image_stops_without_starting(stack: LocalStack):
    ecs = stack.client("ecs")
    cluster = stack.physical_id("RunnerCluster")
    task = _run_app(stack, {"image": "example.com/not-here:1"})
    described = ecs.describe_tasks(cluster=cluster, tasks=[task["taskArn"]])["tasks"][0]
    assert described["lastStatus"] == "STOPPED" and described["stopCode"] == "TaskFailedToStart"
    assert "CannotPullContainerError" in described["stoppedReason"]


def test_a_stopped_execution_stops_its_fargate_task_as_step_functions_does(api: Api, stack: LocalStack):
    """StopExecution of a run in `ecs:runTask.sync`: Step Functions stops the task, so no copy of
    the command runs on behind the job's back."""
    _, job = api("POST", "/jobs", {"command": "demo:sleep", "params": ["60"], "runner": "fargate"})
    running = api.wait(job["id"], until=lambda j: j["state"] == "running" and bool(processes_with("JOB_ID", j["id"])))
    sfn = stack.client("stepfunctions")
    sfn.stop_execution(executionArn=running["execution_arn"], cause="stopped by hand")
    assert sfn.describe_execution(executionArn=running["execution_arn"])["status"] == "ABORTED"
    task = _stopped_task(stack, job)
    assert task["lastStatus"] == "STOPPED"
    assert "timed out or its execution was stopped" in task["stoppedReason"]
    deadline = time.monotonic() + 10
    while processes_with("JOB_ID", job["id"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not processes_with("JOB_ID", job["id"])


def test_the_fargate_state_waits_as_long_as_the_job_may_run(stack: LocalStack, api: Api):
    """RunOnFargate's timeout comes from the job (TimeoutSecondsPath): a job of 30 days is never
    cut short at a fixed 24 h, and its slot is not freed while it runs."""
    _, job = api("POST", "/jobs", {"command": "demo:echo", "runner": "fargate", "max_runtime": 30 * 86400})
    done = api.wait(job["id"], timeout=60)
    assert done["state"] == "finished"
    history = stack.client("stepfunctions").get_execution_history(executionArn=done["execution_arn"])["events"]
    started = next(e for e in history if e["type"] == "ExecutionStarted")
    assert json.loads(started["executionStartedEventDetails"]["input"])["fargate_timeout"] == 30 * 86400 + 900
