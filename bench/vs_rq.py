"""Throughput of the local stack against RQ, side by side in one run, at the same parallelism.

The same N no-op commands (`python -m jobsys.console demo:echo bench`, the allow-listed command
that a job runs) go through:
- the local stack (what `make run` starts), with LOCAL_LAMBDA_CONCURRENCY = P: N `POST /jobs` from
  P clients, each job run by the Lambda runner through Step Functions, to the last `closed_at`;
- RQ: P forking `rq worker`s on a real redis-server (Debian's), N jobs enqueued at once, each
  running the command as a process, to the last job's end.
Throughput = N / (last end - first submit). Each side is warmed up first (workers started, one job run).

    .venv/bin/python bench/vs_rq.py [--jobs 100 500] [--parallel 2] [--history 10000] [--write docs/performance.md]

With `--history N`, the stack also runs the same jobs with N closed jobs of the same command in its
table beforehand (a team's month of history), in the same run: DynamoDB's cost does not grow with
them, and the local stack's must not either.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from report import add_entry, heading
from stack_http import session_with, still_open, wait_closed

from jobs_local.process import StackProcess
from jobs_local.stack import free_port
from jobsys.ids import new_job_id
from jobsys.models import iso, parse_iso

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
COMMAND, PARAMS = "demo:echo", ["bench"]
ARGV = [sys.executable, "-m", "jobsys.console", COMMAND, *PARAMS]
INTRO = """
The same N no-op commands (`python -m jobsys.console demo:echo bench`) through the local stack
and through RQ, measured side by side in one run, at the same parallelism P:
- the stack: `make run`'s stack with LOCAL_LAMBDA_CONCURRENCY = P, N `POST /jobs` from P clients;
  each job goes through the API, DynamoDB, Step Functions, the Lambda runner (which runs the
  command as a process, streams its output to CloudWatch Logs, saves it to S3) and EndRun;
- RQ: P forking `rq worker`s on Debian's redis-server; the N jobs are enqueued at once, and
  each runs the command as a process.

Throughput = N / (last end − first submit). Goal (issue 11): stack / RQ ≥ 0.5.
"""


def on_stack(jobs: int, parallel: int, history: int = 0) -> float:
    with StackProcess(extra_env={"LOCAL_LAMBDA_CONCURRENCY": str(parallel)}) as stack:
        session = session_with(stack.token)

        def submit(params: list[str]) -> str:
            response = session.post(f"{stack.url}/jobs", json={"command": COMMAND, "params": params}, timeout=120)
            response.raise_for_status()
            return response.json()["id"]

        warm_up = submit(["warm-up"])
        wait_closed(session, stack.url, warm_up, every=0.2)
        if history:
            fill_history(stack, warm_up, history)
        # A second warm-up, with or without history: it also files the history for the indexes' reads.
        wait_closed(session, stack.url, submit(["warm-up"]), every=0.2)
        started = time.time()
        with ThreadPoolExecutor(parallel) as pool:
            ids = list(pool.map(lambda _: submit(PARAMS), range(jobs)))
        while still_open(session, stack.url):
            time.sleep(0.5)
        ends = [wait_closed(session, stack.url, job_id, every=0.2) for job_id in ids]
        assert {job["state"] for job in ends} == {"finished"}, {job["state"] for job in ends}
        return max(parse_iso(job["closed_at"]).timestamp() for job in ends) - started


def fill_history(stack: StackProcess, model_id: str, count: int) -> None:
    """`count` copies of a finished job, each with an id (and times) of its own in the past month."""
    dynamodb = stack.aws_client("dynamodb")
    table = next(name for name in dynamodb.list_tables()["TableNames"] if "JobsTable" in name)
    model = dynamodb.get_item(TableName=table, Key={"pk": {"S": f"JOB#{model_id}"}, "sk": {"S": "JOB"}})["Item"]
    month_ago = int((time.time() - 30 * 86400) * 1000)
    items = []
    for n in range(count):
        job_id = new_job_id(month_ago + n * 250)
        at = {"S": iso(datetime.fromtimestamp((month_ago + n * 250) / 1000, UTC))}
        items.append(model | {"pk": {"S": f"JOB#{job_id}"}, "id": {"S": job_id}, "closed_at": at, "created_at": at})
    for start in range(0, len(items), 25):
        request = {table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
        while request:
            request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def on_rq(jobs: int, parallel: int) -> float:
    from redis import Redis
    from rq import Queue

    redis_server = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    data = tempfile.mkdtemp(prefix="bench-redis-")
    server = subprocess.Popen(
        [redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", data],
        stdout=subprocess.DEVNULL,
    )
    workers: list[subprocess.Popen] = []
    try:
        redis = Redis(port=port)
        for _ in range(100):
            try:
                redis.ping()
                break
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.05)
        url = f"redis://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BENCH), str(ROOT / "layers" / "jobsys")])}
        rq = str(Path(sys.executable).parent / "rq")
        workers = [
            subprocess.Popen([rq, "worker", "-q", "-u", url, "bench"], cwd=BENCH, env=env, stdout=subprocess.DEVNULL)
            for _ in range(parallel)
        ]
        queue = Queue("bench", connection=redis)
        warm = queue.enqueue("rq_jobs.run", [*ARGV[:-1], "warm-up"])
        while not (warm.is_finished or warm.is_failed):
            time.sleep(0.05)
        started = time.time()
        queued = [queue.enqueue("rq_jobs.run", ARGV) for _ in range(jobs)]
        while queue.finished_job_registry.count + queue.failed_job_registry.count < jobs + 1:
            time.sleep(0.1)
        for job in queued:
            job.refresh()
        assert all(job.is_finished for job in queued)
        return max(job.ended_at.replace(tzinfo=UTC).timestamp() for job in queued) - started
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:  # a worker still starting up may not heed SIGTERM
                worker.kill()
                worker.wait()
        server.terminate()  # always: a failed stop once left redis-servers running
        server.wait(10)
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument(
        "--history", type=int, default=0, help="also run the stack with this many closed jobs in its table"
    )
    parser.add_argument("--label", default="", help="a few words for the report's heading")
    parser.add_argument("--write", type=Path, help="append the figures to this Markdown file")
    args = parser.parse_args()
    rows = []
    for n in args.jobs:
        stack = on_stack(n, args.parallel)
        full = on_stack(n, args.parallel, args.history) if args.history else None
        rq = on_rq(n, args.parallel)
        rows.append({"jobs": n, "stack_s": round(stack, 2), "rq_s": round(rq, 2), "ratio": round(rq / stack, 2)})
        if full is not None:
            rows[-1] |= {"history_s": round(full, 2), "history_ratio": round(stack / full, 2)}
        print(json.dumps(rows[-1]), flush=True)
    if args.write:
        history = f" --history {args.history}" if args.history else ""
        lines = [
            heading(args.label),
            "",
            f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, parallelism {args.parallel}."
            f" Command: `.venv/bin/python bench/vs_rq.py --jobs {' '.join(map(str, args.jobs))}"
            f" --parallel {args.parallel}{history}`",
            "",
            "| jobs | local stack | RQ | stack jobs/s | RQ jobs/s | throughput stack / RQ |"
            + (f" stack with {args.history:,} closed jobs | its throughput / the empty stack's |" if history else ""),
            "| --- | --- | --- | --- | --- | --- |" + (" --- | --- |" if history else ""),
        ]
        lines += [
            f"| {r['jobs']} | {r['stack_s']} s | {r['rq_s']} s | {r['jobs'] / r['stack_s']:.1f}"
            f" | {r['jobs'] / r['rq_s']:.1f} | **{r['ratio']}** |"
            + (f" {r['history_s']} s | **{r['history_ratio']}** |" if history else "")
            for r in rows
        ]
        add_entry(args.write, "Against RQ (`bench/vs_rq.py`)", INTRO, "\n".join(lines))


if __name__ == "__main__":
    main()
