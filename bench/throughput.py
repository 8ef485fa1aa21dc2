"""Throughput of the local stack, side by side with running the same commands directly.

Submits N jobs of a trivial command over HTTP to a local stack (what `make run` starts), runs
them to completion, then runs the same N commands directly as processes with the same
parallelism. Both are measured in the same run, as this machine is noisy: compare the ratio.

    .venv/bin/python bench/throughput.py [--jobs 200] [--parallel 8] [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import requests
from report import add_entry, heading
from stack_http import CLOSED

from jobs_local.process import StackProcess

ROOT = Path(__file__).resolve().parents[1]

COMMAND, PARAMS = "demo:echo", ["bench"]
INTRO = """
N jobs of a trivial command (`demo:echo bench`) are submitted over HTTP to a local stack (what
`make run` starts) and run to completion; then the same N commands are run directly as processes
with the same parallelism. Per-job overhead = (stack − direct) / N.

What the local stack's figures mean: every AWS call of every job (the API's transaction and
`StartExecution`, the state machine's steps, the runner's DynamoDB, CloudWatch Logs and S3 calls)
is served by one moto process, which is the bottleneck on a 2-core machine. They say how fast the
emulation is for development and tests, not how fast the deployed stack is, where these calls go
to DynamoDB, Step Functions and Lambda, which scale out.
"""


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run_on_stack(jobs: int, parallel: int) -> dict:
    with StackProcess(extra_env={"LOCAL_LAMBDA_CONCURRENCY": str(parallel)}) as stack:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {stack.token}"
        # One warm-up job, so that start-up (first imports, worker spawn) is not counted.
        warm = session.post(f"{stack.url}/jobs", json={"command": COMMAND, "params": ["warm-up"]}, timeout=30).json()
        while session.get(f"{stack.url}/jobs/{warm['id']}", timeout=30).json()["state"] not in CLOSED:
            time.sleep(0.2)

        submitted: dict[str, float] = {}

        def submit(_: int) -> None:
            at = time.time()
            response = session.post(f"{stack.url}/jobs", json={"command": COMMAND, "params": PARAMS}, timeout=60)
            response.raise_for_status()
            submitted[response.json()["id"]] = at

        started = time.monotonic()
        with ThreadPoolExecutor(parallel) as pool:
            list(pool.map(submit, range(jobs)))
        submit_seconds = time.monotonic() - started
        records: dict[str, dict] = {}
        while len(records) < jobs:
            cursor, seen = None, {}
            while True:
                params = {"command": COMMAND, "limit": 100, **({"cursor": cursor} if cursor else {})}
                page = session.get(f"{stack.url}/jobs", params=params, timeout=60).json()
                seen.update({j["id"]: j for j in page["items"] if j["id"] in submitted})
                cursor = page["next_cursor"]
                if not cursor or len(seen) >= jobs:
                    break
            records = {i: j for i, j in seen.items() if j["state"] in CLOSED}
            if len(records) < jobs:
                time.sleep(0.5)
        wall = max(_ts(j["closed_at"]) for j in records.values()) - min(submitted.values())
        states = {j["state"] for j in records.values()}
        to_running = [_ts(j["started_at"]) - submitted[i] for i, j in records.items()]
        to_closed = [_ts(j["closed_at"]) - submitted[i] for i, j in records.items()]
        return {
            "wall": wall,
            "submit_seconds": submit_seconds,
            "states": sorted(states),
            "to_running": to_running,
            "to_closed": to_closed,
        }


def run_directly(jobs: int, parallel: int) -> float:
    argv = [sys.executable, "-m", "jobsys.console", COMMAND, *PARAMS]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "jobsys")}
    started = time.monotonic()
    with ThreadPoolExecutor(parallel) as pool:
        codes = list(pool.map(lambda _: subprocess.run(argv, env=env, capture_output=True).returncode, range(jobs)))
    assert set(codes) == {0}
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--parallel", type=int, default=8, help="runner concurrency, and the direct baseline's")
    parser.add_argument("--write", type=Path, help="append the figures to this Markdown file")
    args = parser.parse_args()

    stack = run_on_stack(args.jobs, args.parallel)
    direct = run_directly(args.jobs, args.parallel)
    n = args.jobs
    result = {
        "jobs": n,
        "parallel": args.parallel,
        "stack_seconds": round(stack["wall"], 2),
        "stack_jobs_per_second": round(n / stack["wall"], 1),
        "submit_to_running_p50": round(statistics.median(stack["to_running"]), 3),
        "submit_to_running_p95": round(percentile(stack["to_running"], 95), 3),
        "submit_to_closed_p50": round(statistics.median(stack["to_closed"]), 3),
        "submit_to_closed_p95": round(percentile(stack["to_closed"], 95), 3),
        "direct_seconds": round(direct, 2),
        "direct_jobs_per_second": round(n / direct, 1),
        "overhead_per_job_ms": round((stack["wall"] - direct) / n * 1000, 1),
        "stack_to_direct_ratio": round(stack["wall"] / direct, 1),
        "final_states": stack["states"],
    }
    print(json.dumps(result, indent=2))
    if args.write:
        add_entry(
            args.write,
            "Throughput of the local stack (`bench/throughput.py`)",
            INTRO,
            heading(f"{n} jobs of `{COMMAND} {' '.join(PARAMS)}`", f"parallelism {args.parallel}") + "\n\n"
            f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}.\n"
            "Command: `.venv/bin/python bench/throughput.py"
            f" --jobs {n} --parallel {args.parallel} --write {args.write}`\n\n"
            "| measure | local stack | direct processes |\n| --- | --- | --- |\n"
            f"| wall time | {result['stack_seconds']} s | {result['direct_seconds']} s |\n"
            f"| jobs per second | {result['stack_jobs_per_second']} | {result['direct_jobs_per_second']} |\n"
            f"| submit → running, p50 / p95 | {result['submit_to_running_p50']} s"
            f" / {result['submit_to_running_p95']} s | - |\n"
            f"| submit → closed, p50 / p95 | {result['submit_to_closed_p50']} s"
            f" / {result['submit_to_closed_p95']} s | - |\n"
            f"| overhead per job, (stack − direct) / N | {result['overhead_per_job_ms']} ms | |\n"
            f"| ratio stack / direct | {result['stack_to_direct_ratio']}× | 1× |\n"
            f"\nEvery job ended {', '.join(result['final_states'])}.\n",
        )


if __name__ == "__main__":
    main()
