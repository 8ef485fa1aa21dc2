"""What a page of the job list costs as the table grows: items DynamoDB reads per request.

Builds the jobs table from template.yaml's own properties in moto, fills it to each size, and
lists the newest page (and a page of one state) through JobStore, as the API does. DynamoDB
bills a Query by the items it reads (ScannedCount), which must stay at the page size whatever
the table holds. Wall time is shown side by side, but it is moto's, not DynamoDB's.

    .venv/bin/python bench/query_cost.py [--sizes 100 1000 2000] [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import boto3
from moto import mock_aws
from report import add_entry, heading

from jobs_local.cloudformation.deploy import load_template
from jobsys.ids import new_job_id
from jobsys.models import Job, JobState, iso, utc_now
from jobsys.store import JobStore
from jobsys.store.items import _to_item

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

PAGE = 50


class CountingTable:
    """The boto3 Table, counting what each Query read."""

    def __init__(self, table):
        self._table = table
        self.scanned: list[int] = []

    def query(self, **kwargs):
        response = self._table.query(**kwargs)
        self.scanned.append(response["ScannedCount"])
        return response

    def __getattr__(self, name):
        return getattr(self._table, name)


def jobs_table(dynamodb):
    props = load_template(ROOT / "template.yaml")["Resources"]["JobsTable"]["Properties"]
    keep = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
    table = dynamodb.create_table(TableName="jobs-bench", **{k: props[k] for k in keep})
    table.wait_until_exists()
    return table


def fill(store: JobStore, count: int) -> None:
    """A history of jobs in every state, written as items: the store records new jobs only pending."""
    states = [JobState.FINISHED, JobState.FAILED, JobState.RUNNING, JobState.PENDING]
    with store.table.batch_writer() as writer:
        for i in range(count):
            job_id = new_job_id()
            writer.put_item(Item=_to_item(Job(id=job_id, command="demo:echo", params=[str(i)], state=states[i % 4],
                            label="bench", root_id=job_id, created_at=iso(utc_now()), max_runtime=60)))  # fmt: skip


def measure(sizes: list[int]) -> list[dict]:
    rows = []
    with mock_aws():
        table = CountingTable(jobs_table(boto3.resource("dynamodb")))
        store = JobStore(table)
        filled = 0
        for size in sizes:
            fill(store, size - filled)
            filled = size
            for label, kwargs in (("newest", {}), ("state=failed", {"state": JobState.FAILED})):
                table.scanned.clear()
                started = time.perf_counter()
                jobs, _ = store.page(limit=PAGE, **kwargs)
                elapsed = time.perf_counter() - started
                rows.append({"size": size, "listing": label, "returned": len(jobs), "read": table.scanned[-1],
                             "ms": round(elapsed * 1000, 1)})  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 2000])
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    rows = measure(sorted(args.sizes))
    table = ["| table size | listing | jobs returned | items read (ScannedCount) | moto wall time |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    table += [f"| {r['size']} | {r['listing']} | {r['returned']} | {r['read']} | {r['ms']} ms |" for r in rows]
    print("\n".join(table))
    newest = [r for r in rows if r["listing"] == "newest"]
    smallest, largest = newest[0], newest[-1]
    ratio = largest["read"] / smallest["read"]
    growth = largest["size"] / smallest["size"]
    print(f"\nitems read per page, largest / smallest table: {ratio:.2f} (table {growth:.0f}× larger)")
    if args.write:
        add_entry(
            args.write,
            "Cost of a page as the table grows (`bench/query_cost.py`)",
            __doc__.split("\n\n")[1],
            f"{heading()}\n\n"
            f"Command: `.venv/bin/python bench/query_cost.py --sizes {' '.join(map(str, sorted(args.sizes)))}"
            f" --write {args.write}`\n\n" + "\n".join(table) + "\n\n"
            f"A page of the newest jobs reads {largest['read']} items in a table of {largest['size']} jobs and "
            f"{smallest['read']} in a table of {smallest['size']}: a ratio of {ratio:.2f} for a table "
            f"{growth:.0f}× larger. The wall times are moto's, measured in the same run.\n",
        )


if __name__ == "__main__":
    main()
