"""Step Functions state transitions per kind of job, counted from each execution's history.

Step Functions Standard bills each state entered (a transition); they are most of a job's AWS cost
(docs/performance.md, "What a job costs on AWS"). One job of each kind runs on a local stack (in
this process) and its execution's `…StateEntered` events are counted and named.

    .venv/bin/python bench/transitions.py [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import subprocess
import tempfile
import time
from pathlib import Path

from report import heading, publish

from jobs_local.apigateway.events import match_route, proxy_event
from jobs_local.stack import LocalStack
from jobsys.models import Job
from jobsys.store import JobStore

CONFIG = """
queues:
  line: {concurrency: 1}
  held: {}
commands:
  demo:echo: {}
  demo:fail: {}
  demo:sleep: {}
jobs:
  plain: {label: Plain, command: demo:echo}
  queued: {label: Queued, command: demo:echo, queue: line}
  retried: {label: Retried, command: demo:fail, retries: {max_attempts: 2, backoff: "1 s"}}
"""
INTRO = """
One job of each kind on a local stack; its execution's `…StateEntered` events are counted (Step
Functions Standard bills each). The states' names say the path. Command:
`.venv/bin/python bench/transitions.py`.
"""


class Runs:
    """Starts jobs through the API function and reads their executions' paths."""

    def __init__(self, stack: LocalStack):
        self.stack = stack
        self.store = JobStore(stack.session().resource("dynamodb").Table(stack.physical_id("JobsTable")))
        self.sfn = stack.client("stepfunctions")

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        route, params = match_route(self.stack.routes, method, path)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        event = proxy_event(
            method, path, route.path, params, "", headers, data, "127.0.0.1", principal="bench",
            authorizer_context={"role": "admin"},
        )  # fmt: skip
        response = self.stack.invoke_function(self.stack.physical_id("ApiFunction"), event)
        assert response["statusCode"] < 300, response
        return json.loads(response["body"])

    def closed(self, job_id: str, retried: bool = False, timeout: float = 120) -> Job:
        """The job once closed (and, if `retried`, once its next attempt is planned)."""
        deadline = time.monotonic() + timeout
        while (job := self.store.get(job_id)).state.is_open or (retried and not job.retried_by):
            assert time.monotonic() < deadline, job_id
            time.sleep(0.2)
        return job

    def path(self, job: Job) -> list[str]:
        """The states its execution entered, once it has ended."""
        assert job.execution_arn
        while self.sfn.describe_execution(executionArn=job.execution_arn)["status"] == "RUNNING":
            time.sleep(0.2)
        events, token = [], None
        while True:
            page = self.sfn.get_execution_history(
                executionArn=job.execution_arn, **({"nextToken": token} if token else {})
            )
            events += page["events"]
            if not (token := page.get("nextToken")):
                return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def measure(runs: Runs) -> dict[str, list[str]]:
    paths: dict[str, list[str]] = {}
    plain = runs.closed(runs.call("POST", "/job-definitions/plain/start")["id"])
    paths["plain (Lambda, no queue, no dependents)"] = runs.path(plain)
    parent = runs.call("POST", "/jobs", {"command": "demo:echo", "depending_jobs": [{"command": "demo:echo"}]})
    child = runs.closed(parent["dependents"][0])
    paths["with a dependent (the parent)"] = runs.path(runs.closed(parent["id"]))
    paths["a dependent"] = runs.path(child)
    paths["queued (a limited queue)"] = runs.path(runs.closed(runs.call("POST", "/job-definitions/queued/start")["id"]))
    delayed = runs.call("POST", "/jobs", {"command": "demo:echo", "delay": "1 s"})
    paths["delayed"] = runs.path(runs.closed(delayed["id"]))
    first = runs.closed(runs.call("POST", "/job-definitions/retried/start")["id"], retried=True)
    paths["retried: a failed attempt"] = runs.path(first)
    assert first.retried_by
    paths["retried: the last attempt, after its back-off"] = runs.path(runs.closed(first.retried_by))
    blocker = runs.call("POST", "/jobs", {"command": "demo:sleep", "params": ["30"], "queue": "line"})
    while runs.store.get(blocker["id"]).state.value != "running":
        time.sleep(0.2)
    waiting = runs.call("POST", "/jobs", {"command": "demo:echo", "queue": "line"})
    while "is full" not in (runs.store.get(waiting["id"]).waiting or ""):
        time.sleep(0.2)
    runs.call("POST", f"/jobs/{waiting['id']}/cancel")
    paths["canceled while it waits for a slot"] = runs.path(runs.closed(waiting["id"]))
    runs.call("POST", f"/jobs/{blocker['id']}/cancel")
    runs.call("POST", "/queues/held/pause")
    held = runs.call("POST", "/jobs", {"command": "demo:echo", "queue": "held"})
    while not (runs.store.get(held["id"]).waiting or "").startswith("queue held is paused"):
        time.sleep(0.2)
    runs.call("POST", "/queues/held/resume")
    paths["held by a paused queue (no limit), then resumed"] = runs.path(runs.closed(held["id"]))
    fargate = runs.call("POST", "/jobs", {"command": "demo:echo", "runner": "fargate"})
    paths["on Fargate"] = runs.path(runs.closed(fargate["id"]))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    logging.disable(logging.ERROR)
    config = Path(tempfile.mkdtemp()) / "jobs.yaml"
    config.write_text(CONFIG)
    with LocalStack(config_path=config, stack_name="bench-transitions") as stack:
        paths = measure(Runs(stack))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = [
        heading(platform.node(), commit),
        "",
        "| job | transitions | states entered |",
        "|---|---|---|",
        *[f"| {kind} | {len(states)} | {', '.join(states)} |" for kind, states in paths.items()],
    ]
    publish(lines, args.write, "State transitions per kind of job (`bench/transitions.py`)", INTRO)


if __name__ == "__main__":
    main()
