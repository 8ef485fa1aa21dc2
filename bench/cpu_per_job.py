"""Where the local stack's CPU goes, per job: its main process (the moto server, the state machine's
interpreter, the gateway) and each function's workers, with the commands the runners start.

Runs N jobs of `demo:echo` through a local stack at parallelism P, as bench/vs_rq.py does, and
reads the processes' CPU times (user + system, from /proc) before and after. A process's
"children" are the commands it started and reaped. On 2 cores, the total per job bounds the
throughput; the main process, which Python runs on one core at a time, bounds it too.

    .venv/bin/python bench/cpu_per_job.py [--jobs 150] [--parallel 2] [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from report import heading, publish
from stack_http import session_with, still_open

from jobs_local.process import StackProcess

TICK = os.sysconf("SC_CLK_TCK")
INTRO = """
N jobs of `demo:echo` through a local stack at parallelism P (as in bench/vs_rq.py), with the
CPU time (user + system, from /proc) of each of its processes read before and after, divided by N.
"main" is the stack's own process: the moto server, the state machine's interpreter and the gateway,
which Python runs on one core at a time. A function's "commands" are the processes its workers
started and reaped.
"""


def _times(pid: int) -> tuple[float, float]:
    """(own, reaped children's) CPU seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(value) / TICK for value in fields[11:15])
    return utime + stime, cutime + cstime


def _function(pid: int) -> str | None:
    for entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
        if entry.startswith(b"AWS_LAMBDA_FUNCTION_NAME="):
            # <stack>-<LogicalId>-<suffix>; the stack's name has one dash ("jobs-local")
            return entry.split(b"=", 1)[1].decode().split("-")[2]
    return None


def snapshot(stack: StackProcess) -> dict[str, float]:
    assert stack.process is not None
    found = {"main": _times(stack.process.pid)[0]}
    for pid in stack.descendants():
        try:
            function = _function(pid)
            own, reaped = _times(pid)
        except OSError:  # gone meanwhile
            continue
        if function:
            found[f"{function} workers"] = found.get(f"{function} workers", 0) + own
            found[f"{function} commands"] = found.get(f"{function} commands", 0) + reaped
    return found


def measure(jobs: int, parallel: int) -> tuple[float, dict[str, float]]:
    with StackProcess(extra_env={"LOCAL_LAMBDA_CONCURRENCY": str(parallel)}) as stack:
        session = session_with(stack.token)
        url = f"{stack.url}/jobs"
        session.post(url, json={"command": "demo:echo", "params": ["warm-up"]}, timeout=60).raise_for_status()
        while still_open(session, stack.url):
            time.sleep(0.2)
        before, started = snapshot(stack), time.monotonic()
        with ThreadPoolExecutor(parallel) as pool:
            list(pool.map(lambda _: session.post(url, json={"command": "demo:echo"}, timeout=120), range(jobs)))
        while still_open(session, stack.url):
            time.sleep(0.5)
        wall, after = time.monotonic() - started, snapshot(stack)
    per_job = {name: (after[name] - before.get(name, 0)) * 1000 / jobs for name in after}
    return wall, {name: ms for name, ms in per_job.items() if ms >= 0.5}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=150)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--label", default="", help="a few words for the report's heading")
    parser.add_argument("--write", type=Path, help="append the figures to this Markdown file")
    args = parser.parse_args()
    wall, per_job = measure(args.jobs, args.parallel)
    lines = [
        heading(args.label),
        "",
        f"Command: `.venv/bin/python bench/cpu_per_job.py --jobs {args.jobs} --parallel {args.parallel}`"
        f" ({args.jobs / wall:.1f} jobs/s)",
        "",
        "| process | CPU ms per job |",
        "| --- | --- |",
        *[f"| {name} | {ms:.1f} |" for name, ms in sorted(per_job.items(), key=lambda kv: -kv[1])],
        f"| **total** | **{sum(per_job.values()):.1f}** |",
    ]
    publish(lines, args.write, "CPU per job (`bench/cpu_per_job.py`)", INTRO)


if __name__ == "__main__":
    main()
