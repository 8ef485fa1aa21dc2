"""What `GET /stats` costs: items DynamoDB reads for the last N runs, as the table grows.

Builds the jobs table from template.yaml's own properties in moto, fills it to each size (a third
of the jobs runs of one definition, the rest other definitions and ad-hoc jobs), and computes
the statistics through JobStore and jobsys.stats, as the API does, for N = 50 and 500, of the
definition (index by_definition) and of its command (index by_command). A Query is billed by
the items it reads (ScannedCount): that must follow N, never the table.

    .venv/bin/python bench/stats_cost.py [--sizes 100 5000] [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path

import boto3
from moto import mock_aws
from query_cost import CountingTable, jobs_table
from report import add_entry, heading

from jobsys.ids import new_job_id
from jobsys.models import Job, JobState, iso, utc_now
from jobsys.stats import run_stats
from jobsys.store import JobStore
from jobsys.store.items import _to_item

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
STATES = [JobState.FINISHED] * 8 + [JobState.FAILED, JobState.CANCELED]


def fill(store: JobStore, count: int, rng: random.Random) -> None:
    batch = []
    for i in range(count):
        job_id = new_job_id()
        ours = i % 3 == 0
        state = rng.choice(STATES)
        batch.append(
            Job(
                id=job_id,
                command="silver:import" if ours else "demo:echo",
                definition="import_solr" if ours else (None if i % 3 == 1 else "nightly_check"),
                params=["tmp"],
                state=state,
                label="bench",
                root_id=job_id,
                created_at=iso(utc_now()),
                closed_at=iso(utc_now()),
                max_runtime=600,
                runtime=round(rng.uniform(30, 90), 3) if state != JobState.CANCELED else None,
                peak_memory_mb=round(rng.uniform(100, 300), 1) if state != JobState.CANCELED else None,
            )
        )
    # Batch writes, not JobStore.create's transactions: moto copies the table for each one.
    with store.table.batch_writer() as writer:
        for job in batch:
            writer.put_item(Item=_to_item(job))


def measure(sizes: list[int]) -> list[dict]:
    rows, rng = [], random.Random(7)
    with mock_aws():
        table = CountingTable(jobs_table(boto3.resource("dynamodb")))
        store = JobStore(table)
        filled = 0
        for size in sizes:
            fill(store, size - filled, rng)
            filled = size
            for runs in (50, 500):
                for subject in ({"definition": "import_solr"}, {"command": "silver:import"}):
                    table.scanned.clear()
                    started = time.perf_counter()
                    stats = run_stats(store.recent_runs(**subject, limit=runs), **subject)
                    elapsed = time.perf_counter() - started
                    rows.append({"size": size, "runs": runs, "subject": "=".join(next(iter(subject.items()))),
                                 "covered": stats.runs, "read": sum(table.scanned), "queries": len(table.scanned),
                                 "ms": round(elapsed * 1000, 1)})  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 5000])
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    rows = measure(sorted(args.sizes))
    table = ["| table size | N | of | runs covered | items read | queries | moto wall time |",
             "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    table += [f"| {r['size']} | {r['runs']} | {r['subject']} | {r['covered']} | {r['read']} | {r['queries']} | "
              f"{r['ms']} ms |" for r in rows]  # fmt: skip
    print("\n".join(table))
    big = max(args.sizes)
    at_50 = next(r for r in rows if r["size"] == big and r["runs"] == 50 and r["subject"].startswith("definition"))
    at_500 = next(r for r in rows if r["size"] == big and r["runs"] == 500 and r["subject"].startswith("definition"))
    print(f"\nin a table of {big}: N=50 read {at_50['read']} items, N=500 read {at_500['read']}")
    if args.write:
        add_entry(
            args.write,
            "Cost of the statistics of the last N runs (`bench/stats_cost.py`)",
            __doc__.split("\n\n")[1],
            f"{heading()}\n\nCommand: `.venv/bin/python bench/stats_cost.py --sizes "
            f"{' '.join(map(str, sorted(args.sizes)))} --write {args.write}`\n\n" + "\n".join(table) + "\n\n"
            f"Each request reads the runs it covers and no more: in a table of {big} jobs, N=50 reads "
            f"{at_50['read']} items and N=500 reads {at_500['read']}; in the smallest table it reads what there "
            f"is. The wall times are moto's, measured in the same run.\n",
        )


if __name__ == "__main__":
    main()
