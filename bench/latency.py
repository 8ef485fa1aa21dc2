"""How soon a job starts on an idle local stack, how soon its dependent follows, and how fast the
API answers, alone and under 32 concurrent clients.

- 50 sequential jobs of `demo:echo`, each with one dependent, each pair run to the end before
  the next: created → started (the job record's own timestamps), parent closed → dependent
  started, and `POST /jobs` as the client sees it (one keep-alive connection).
- A burst: 32 clients each send `POST /jobs` 10 times at once; p50/p95 of the answers, and errors
  (a status other than 202, or no answer).

    .venv/bin/python bench/latency.py [--jobs 50] [--clients 32] [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from report import add_entry, heading
from stack_http import session_with, wait_closed

from jobs_local.process import StackProcess
from jobsys.models import parse_iso
from jobsys.stats import percentile

GOALS = {"created_to_started": 100, "closed_to_dependent_started": 150, "post_jobs": 50, "burst_post_p95": 1000}
INTRO = """
On an idle local stack (what `make run` starts), 50 sequential jobs of `demo:echo`, each with one
dependent, each pair run to the end before the next:
- created → started: the job record's `created_at` (the API's write) to its `started_at` (the
  runner marking it running), through StartExecution, the state machine and the runner's Lambda;
- parent closed → dependent started: the parent's `closed_at` to its dependent's `started_at`,
  through EndRun starting the dependent's execution;
- `POST /jobs` as the client sees it, on one keep-alive connection.

Then a burst: 32 clients each send `POST /jobs` 10 times at once, each answer timed; an error is
any answer other than 202, or none. Goals (issue 11): p50 ≤ 100 ms, ≤ 150 ms and ≤ 50 ms; under
the burst, p95 ≤ 1 s with no error.
"""


def _ms(later: str, earlier: str) -> float:
    return (parse_iso(later) - parse_iso(earlier)).total_seconds() * 1000


def sequential(session: requests.Session, url: str, jobs: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"created_to_started": [], "closed_to_dependent_started": [], "post_jobs": []}
    child = {"command": "demo:echo", "params": ["child"]}
    body = {"command": "demo:echo", "params": ["parent"], "depending_jobs": [child]}
    for n in range(jobs + 1):
        at = time.perf_counter()
        response = session.post(f"{url}/jobs", json=body, timeout=30)
        took = (time.perf_counter() - at) * 1000
        response.raise_for_status()
        parent = wait_closed(session, url, response.json()["id"], every=0.02, timeout=60)
        child = wait_closed(session, url, parent["dependents"][0], every=0.02, timeout=60)
        assert parent["state"] == child["state"] == "finished", (parent, child)
        if n == 0:
            continue  # the warm-up: the first run spawns the workers
        figures["post_jobs"].append(took)
        figures["created_to_started"].append(_ms(parent["started_at"], parent["created_at"]))
        figures["closed_to_dependent_started"].append(_ms(child["started_at"], parent["closed_at"]))
    return figures


def burst(url: str, token: str, clients: int, each: int) -> tuple[list[float], int, list[str]]:
    times: list[float] = []
    errors = 0
    ids: list[str] = []
    lock = threading.Lock()

    def client(_: int) -> None:
        nonlocal errors
        session = session_with(token)
        for _ in range(each):
            at = time.perf_counter()
            try:
                response = session.post(f"{url}/jobs", json={"command": "demo:echo", "params": ["burst"]}, timeout=60)
                ok = response.status_code == 202
            except requests.RequestException:
                ok = False
            took = (time.perf_counter() - at) * 1000
            with lock:
                times.append(took)
                if ok:
                    ids.append(response.json()["id"])
                else:
                    errors += 1

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return times, errors, ids


def measure(jobs: int, clients: int, each: int) -> dict:
    with StackProcess() as stack:
        session = session_with(stack.token)
        figures = sequential(session, stack.url, jobs)
        times, errors, ids = burst(stack.url, stack.token, clients, each)
        for job_id in ids:  # the burst's jobs run to the end before the stack stops
            wait_closed(session, stack.url, job_id, every=0.02)
    result = {
        name: {"p50": round(statistics.median(values), 1), "p95": round(percentile(values, 0.95), 1)}
        for name, values in figures.items()
    }
    result["burst_post"] = {
        "requests": len(times),
        "p50": round(statistics.median(times), 1),
        "p95": round(percentile(times, 0.95), 1),
        "max": round(max(times), 1),
        "errors": errors,
    }
    return result


def report(result: dict, args: argparse.Namespace) -> str:
    rows = [
        ("created → started", "created_to_started"),
        ("parent closed → dependent started", "closed_to_dependent_started"),
        ("`POST /jobs`", "post_jobs"),
    ]
    lines = [
        heading(args.label),
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}."
        f" Command: `.venv/bin/python bench/latency.py --jobs {args.jobs} --clients {args.clients}`",
        "",
        "| measure | p50 | p95 | goal (p50) |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {name} | {result[key]['p50']} ms | {result[key]['p95']} ms | ≤ {GOALS[key]} ms |" for name, key in rows
    ]
    b = result["burst_post"]
    lines += [
        "",
        f"Burst, {args.clients} clients × {args.each} `POST /jobs`: p50 {b['p50']} ms, p95 {b['p95']} ms"
        f" (goal ≤ 1000 ms), max {b['max']} ms, {b['errors']} errors in {b['requests']} requests.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--each", type=int, default=10, help="requests per client in the burst")
    parser.add_argument("--label", default="", help="a few words for the report's heading")
    parser.add_argument("--write", type=Path, help="append the figures to this Markdown file")
    args = parser.parse_args()
    result = measure(args.jobs, args.clients, args.each)
    print(json.dumps(result, indent=2))
    if args.write:
        add_entry(args.write, "Latency on an idle stack (`bench/latency.py`)", INTRO, report(result, args))


if __name__ == "__main__":
    main()
