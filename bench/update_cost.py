"""What a job's closing write costs moto, with and without a local patch, side by side in one run.

Builds the jobs table from template.yaml's own properties in moto (in this process), records
pending jobs, and closes them as a cancel does (`JobStore.close`), in alternating rounds with the
patch installed and not: the CPU time of each UpdateItem, as this process spent it. The first use
is `jobs_local.dynamodb.expression_traversal`.

    .venv/bin/python bench/update_cost.py [--rounds 10] [--per-round 50]
"""

from __future__ import annotations

import os
import statistics
import time

import boto3
from moto import mock_aws
from query_cost import jobs_table
from report import rounds_arguments

from jobs_local.dynamodb import expression_traversal
from jobsys.ids import new_job_id
from jobsys.models import Job, JobState, iso, utc_now
from jobsys.store import JobStore

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def measure(rounds: int, per_round: int) -> dict[bool, list[float]]:
    spent: dict[bool, list[float]] = {True: [], False: []}
    with mock_aws():
        store = JobStore(jobs_table(boto3.resource("dynamodb")))
        for round_number in range(rounds * 2):
            patched = round_number % 2 == 0
            jobs = []
            for _ in range(per_round):
                job_id = new_job_id()
                jobs.append(Job(id=job_id, command="demo:echo", params=[], state=JobState.PENDING, label="bench",
                                root_id=job_id, created_at=iso(utc_now()), queue="bench"))  # fmt: skip
            store.create(jobs[:1])
            for job in jobs[1:]:
                store.create([job])
            (expression_traversal.PATCH.install if patched else expression_traversal.PATCH.uninstall)()
            started = time.thread_time()
            for job in jobs:
                store.close(job, JobState.CANCELED, utc_now(), reason="bench", canceled_by="bench")
            spent[patched].append((time.thread_time() - started) / per_round * 1000)
        expression_traversal.PATCH.uninstall()
    return spent


def main() -> None:
    args = rounds_arguments(__doc__, rounds=10, per_round=50)
    spent = measure(args.rounds, args.per_round)
    with_patch, without = statistics.median(spent[True]), statistics.median(spent[False])
    print(f"a closing write, CPU ms (median of {args.rounds} rounds of {args.per_round}):")
    print(
        f"  moto alone: {without:.2f}   with expression_traversal: {with_patch:.2f}   ratio {with_patch / without:.2f}"
    )


if __name__ == "__main__":
    main()
