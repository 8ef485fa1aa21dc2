"""How soon a waiting job starts after a slot of its queue frees. (What each kind of job costs in
Step Functions state transitions: bench/transitions.py.)

N jobs of a trivial command go into a queue of concurrency 1 on a local stack (in this process),
all at once: each waits in line until the one before it ends. The wake-up latency of a job is
its `started_at` minus the previous job's `closed_at`: the time from the end of one run, through
EndRun giving the slot back and sending the next job's task token, to the next job's runner
marking it running.

    .venv/bin/python bench/queue_wakeup.py [--jobs 30] [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import statistics
import tempfile
import time
from itertools import pairwise
from pathlib import Path

from report import heading, publish

from jobs_local.apigateway.events import match_route, proxy_event
from jobs_local.stack import LocalStack
from jobsys.models import parse_iso
from jobsys.store import JobStore

CONFIG = """
queues:
  line: {concurrency: 1}
commands:
  demo:echo: {}
jobs:
  queued: {label: Queued, command: demo:echo, queue: line}
"""
INTRO = """
N jobs of `demo:echo` go at once into a queue of concurrency 1 on a local stack: each waits in
line (with a task token) until the one before it ends. Wake-up latency = a job's `started_at` −
the previous job's `closed_at`: EndRun gives the slot back, sends the next job's token, its
execution goes on to the runner, which marks it running. No polling is involved anywhere.
"""


def wait_closed(store: JobStore, job_id: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while (job := store.get(job_id)).state.is_open:
        if time.monotonic() > deadline:
            raise TimeoutError(job_id)
        time.sleep(0.2)
    return job


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    logging.disable(logging.ERROR)
    config = Path(tempfile.mkdtemp()) / "jobs.yaml"
    config.write_text(CONFIG)
    with LocalStack(config_path=config, stack_name="bench-queue") as stack:
        store = JobStore(stack.session().resource("dynamodb").Table(stack.physical_id("JobsTable")))
        api = stack.physical_id("ApiFunction")

        def start(key: str) -> dict:
            path = f"/job-definitions/{key}/start"
            route, params = match_route(stack.routes, "POST", path)
            event = proxy_event(
                "POST", path, route.path, params, "", {}, None, "127.0.0.1", principal="bench",
                authorizer_context={"role": "operator"},  # as the token authorizer says it
            )  # fmt: skip
            response = stack.invoke_function(api, event)
            assert response["statusCode"] == 202, response
            return json.loads(response["body"])

        ids = [start("queued")["id"] for _ in range(args.jobs)]
        jobs = sorted((wait_closed(store, i) for i in ids), key=lambda j: j.started_at)
        gaps = [
            (parse_iso(nxt.started_at) - parse_iso(prev.closed_at)).total_seconds() * 1000
            for prev, nxt in pairwise(jobs)
        ]
        overlaps = sum(1 for prev, nxt in pairwise(jobs) if nxt.started_at < prev.closed_at)
        p50 = statistics.median(gaps)
        p95 = statistics.quantiles(gaps, n=20)[18]

    lines = [
        heading(platform.node(), f"{args.jobs} queued jobs"),
        "",
        f"- wake-up latency after a slot frees: p50 {p50:.0f} ms, p95 {p95:.0f} ms"
        f" (min {min(gaps):.0f}, max {max(gaps):.0f}); overlaps: {overlaps}",
    ]
    publish(lines, args.write, "Queues: wake-up latency and state transitions", INTRO)


if __name__ == "__main__":
    main()
