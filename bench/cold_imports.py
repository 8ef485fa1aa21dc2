"""What a cold Lambda pays before its handler runs: the import of each handler's module, against
`import boto3`, each in fresh interpreters, side by side in one run.

Each round imports `boto3` alone and then each handler, one fresh interpreter each, in turn, so
that the machine's noise falls on all of them alike; the figure is the median of the rounds. The
interpreter sees what Lambda gives it: the function's code and the layer on its path, Lambda's
environment variables (with them, Powertools' Tracer is on, as it is on AWS), and bytecode compiled
beforehand (Lambda cannot write it).

    .venv/bin/python bench/cold_imports.py [--rounds 10] [--before CHECKOUT] [--write docs/performance.md]

`--before` names another checkout (a `git worktree` of an earlier commit): its handlers are
imported in the same rounds, so that the two are compared side by side.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from report import heading, publish

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = {
    "ApiFunction": ("api", "api_handler"),
    "AuthorizerFunction": ("authorizer", "authorizer_handler"),
    "RunnerFunction": ("runner", "runner_handler"),
    "JobStateFunction": ("job_state", "job_state_handler"),
    "CleanupFunction": ("cleanup", "cleanup_handler"),
    "ScheduleSyncFunction": ("schedule_sync", "schedule_sync_handler"),
    "JobEventsFunction": ("job_events", "job_events_handler"),
    "BulkActionFunction": ("bulk_action", "bulk_action_handler"),
}
# What Lambda and the template's Globals set; the values only need to look right.
LAMBDA_ENV = {
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "_X_AMZN_TRACE_ID": "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0",
    "JOBS_TABLE": "jobs",
    "JOBS_BUCKET": "jobs-output",
    "JOBS_LOG_GROUP": "/jobs/output",
    "JOBS_CONFIG": str(ROOT / "config" / "jobs.yaml"),
    "JOB_TTL_DAYS": "30",
    "JOBS_EVENT_SOURCE": "jobs.bench",
    "JOBS_PAGE_URL_PARAMETER": "/bench/page-url",
    "POWERTOOLS_SERVICE_NAME": "jobs",
    "POWERTOOLS_METRICS_NAMESPACE": "JobSystem",
    "BACK_OFFICE_TOKEN_SECRET": "bench",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:bench",
}
TIMED = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def import_time(module: str, path: list[Path]) -> float:
    env = {"PATH": os.environ["PATH"], **LAMBDA_ENV, "PYTHONPATH": os.pathsep.join(map(str, path))}
    done = subprocess.run(
        [sys.executable, "-c", TIMED.format(module=module)], env=env, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1]) * 1000


def compiled_copy(root: Path, into: Path) -> tuple[Path, dict[str, Path]]:
    """The layer and each function's code, copied and compiled: as a deployment package holds
    them, and without touching the working tree."""
    layer = shutil.copytree(root / "layers" / "jobsys", into / "layer")
    functions = {
        name: shutil.copytree(root / "functions" / folder, into / folder)
        for name, (folder, _) in HANDLERS.items()
        if (root / "functions" / folder).is_dir()  # a checkout from before a handler existed
    }
    compileall.compile_dir(into, quiet=1)
    return layer, functions


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--before", type=Path, help="another checkout, measured in the same rounds")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    code = Path(tempfile.mkdtemp(prefix="cold-imports-"))
    checkouts = {"": ROOT} | ({"before: ": args.before.resolve()} if args.before else {})
    copies = {label: compiled_copy(root, code / str(n)) for n, (label, root) in enumerate(checkouts.items())}
    times: dict[str, list[float]] = {"import boto3": []}
    for _ in range(args.rounds):
        times["import boto3"].append(import_time("boto3", []))
        for label, (layer, functions) in copies.items():
            for name, (_, module) in HANDLERS.items():
                if name in functions:
                    times.setdefault(label + name, []).append(import_time(module, [functions[name], layer]))
    shutil.rmtree(code)
    medians = {name: statistics.median(values) for name, values in times.items()}
    boto3 = medians["import boto3"]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    before = ""
    if args.before:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=args.before)
        before = f"before: {rev.stdout.strip()}"
    lines = [
        heading(platform.node(), commit.stdout.strip(), before, f"{args.rounds} fresh interpreters each"),
        "",
        "| import | median | × `import boto3` |",
        "|---|---|---|",
        *[f"| {name} | {ms:.0f} ms | {ms / boto3:.2f} |" for name, ms in medians.items()],
    ]
    publish(lines, args.write, "Cold starts: each handler's import (`bench/cold_imports.py`)", __doc__ or "")


if __name__ == "__main__":
    main()
