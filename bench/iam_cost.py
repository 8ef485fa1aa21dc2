"""What IAM enforcement costs the local stack: latency and throughput of this checkout against a
checkout without it (`--baseline`, a git ref), side by side in one run, in alternating rounds.

Each round starts both stacks in turn and measures on each:
- bench/latency.py's sequential figures (N jobs of `demo:echo` with a dependent, one after another):
  created → started, parent closed → dependent started, and `POST /jobs`;
- bench/vs_rq.py's stack throughput: M `demo:echo` jobs from P clients, to the last `closed_at`.

    .venv/bin/python bench/iam_cost.py [--baseline 1d29589] [--rounds 2] [--jobs 30] [--throughput 100]
        [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from latency import sequential
from report import heading, publish
from stack_http import session_with, still_open, wait_closed

from jobs_local.process import StackProcess
from jobsys.models import parse_iso

ROOT = Path(__file__).resolve().parents[1]
PARALLEL = 2
INTRO = """
The cost of IAM enforcement (issue 19), measured side by side in one run: this checkout's stack
against the same stack without enforcement (the commit before it), in alternating rounds, each
started fresh. Latency: bench/latency.py's sequential figures (p50 over the rounds' jobs).
Throughput: bench/vs_rq.py's stack side (N `demo:echo` jobs from 2 clients, LOCAL_LAMBDA_CONCURRENCY 2).
Goal: enforcement costs under 10 %.
"""


def throughput(stack: StackProcess, jobs: int) -> float:
    session = session_with(stack.token)

    def submit(params: list[str]) -> str:
        response = session.post(f"{stack.url}/jobs", json={"command": "demo:echo", "params": params}, timeout=120)
        response.raise_for_status()
        return response.json()["id"]

    wait_closed(session, stack.url, submit(["warm-up"]), every=0.2)
    started = time.time()
    with ThreadPoolExecutor(PARALLEL) as pool:
        ids = list(pool.map(lambda _: submit(["bench"]), range(jobs)))
    while still_open(session, stack.url):
        time.sleep(0.5)
    ends = [wait_closed(session, stack.url, job_id, every=0.2) for job_id in ids]
    assert {job["state"] for job in ends} == {"finished"}
    return jobs / (max(parse_iso(job["closed_at"]).timestamp() for job in ends) - started)


def one_round(root: Path, jobs: int, many: int) -> dict[str, list[float]]:
    with StackProcess(root=root, extra_env={"LOCAL_LAMBDA_CONCURRENCY": str(PARALLEL)}) as stack:
        figures = sequential(session_with(stack.token), stack.url, jobs)
    with StackProcess(root=root, extra_env={"LOCAL_LAMBDA_CONCURRENCY": str(PARALLEL)}) as stack:
        figures["jobs_per_second"] = [throughput(stack, many)]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", default="1d29589", help="a git ref without IAM enforcement")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--throughput", type=int, default=100)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    baseline = Path(tempfile.mkdtemp(prefix="bench-baseline-")) / "checkout"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(baseline), args.baseline], check=True)
    try:
        sides: dict[str, dict[str, list[float]]] = {"without": {}, "with": {}}
        for round_number in range(args.rounds):
            # Each side goes first in every other round: the first stack of a round meets a colder machine.
            order = (("without", baseline), ("with", ROOT))
            for side, root in order if round_number % 2 == 0 else reversed(order):
                for name, values in one_round(root, args.jobs, args.throughput).items():
                    sides[side].setdefault(name, []).extend(values)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(baseline)], check=False)
    lines = [
        heading(
            platform.node(), f"{args.rounds} rounds, {args.jobs} sequential jobs, {args.throughput} for throughput"
        ),
        "",
        "| figure | without IAM | with IAM | with / without |",
        "| --- | --- | --- | --- |",
    ]
    for name in ("created_to_started", "closed_to_dependent_started", "post_jobs", "jobs_per_second"):
        without, with_iam = (statistics.median(sides[side][name]) for side in ("without", "with"))
        unit = " jobs/s" if name == "jobs_per_second" else " ms"
        lines.append(f"| {name} (p50) | {without:.1f}{unit} | {with_iam:.1f}{unit} | {with_iam / without:.2f} |")
    publish(lines, args.write, "IAM enforcement's cost", INTRO)


if __name__ == "__main__":
    main()
