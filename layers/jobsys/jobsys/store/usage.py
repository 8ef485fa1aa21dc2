"""Each day's usage of a definition's and of a command's runs, for the statistics' cost: one item
per subject and day, added to with `ADD` (DynamoDB applies each update whole, so no run is lost to
another's), read back with one Query on the table's own key."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from boto3.dynamodb.conditions import Key

from jobsys.costs import COST_DAYS, UsageTotals, cost_window
from jobsys.models import Job, parse_iso
from jobsys.store.items import TableAccess

DAY_SK = "DAY#"
# A day's item outlives the window that reads it by a little, then DynamoDB's TTL deletes it.
KEEP_DAYS = COST_DAYS + 10


UsageOf = Literal["command", "definition"]


def usage_pk(of: UsageOf, name: str) -> str:
    return f"USAGE#{of}#{name}"


def usage_subjects(job: Job) -> list[str]:
    """The partitions a run counts in: its command's, and its definition's if it has one."""
    subjects = [usage_pk("command", job.command)]
    if job.definition:
        subjects.append(usage_pk("definition", job.definition))
    return subjects


class UsageDays(TableAccess):
    def add_runs(self, jobs: list[Job]) -> None:
        """Adds closed runs (their `usage`) to their days' totals: one write per subject and day."""
        by_day: dict[tuple[str, date], list[UsageTotals]] = {}
        for job in jobs:
            if job.usage is None or job.closed_at is None:
                continue
            day = parse_iso(job.closed_at).date()
            for subject in usage_subjects(job):
                by_day.setdefault((subject, day), []).append(UsageTotals.of(job.usage))
        for (subject, day), totals in by_day.items():
            self.add_to_day(subject, day, UsageTotals.sum(totals))

    def add_to_day(self, subject: str, day: date, totals: UsageTotals) -> None:
        names = {f"#{name}": name for name in UsageTotals.model_fields}
        values = {f":{name}": value for name, value in totals.model_dump().items()}
        expires = datetime.combine(day + timedelta(days=KEEP_DAYS), time(), UTC)
        self.table.update_item(
            Key={"pk": subject, "sk": f"{DAY_SK}{day.isoformat()}"},
            UpdateExpression="ADD "
            + ", ".join(f"#{name} :{name}" for name in UsageTotals.model_fields)
            + " SET expires_at = :expires",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={**values, ":expires": int(expires.timestamp())},
        )

    def usage_days(self, of: UsageOf, name: str, today: date) -> dict[str, UsageTotals]:
        """Each day's totals of a command's or a definition's runs in the cost window."""
        first, last = cost_window(today)
        response = self.table.query(
            KeyConditionExpression=Key("pk").eq(usage_pk(of, name))
            & Key("sk").between(f"{DAY_SK}{first}", f"{DAY_SK}{last}"),
        )
        # At most COST_DAYS small items: one page.
        return {
            item["sk"].removeprefix(DAY_SK): UsageTotals.model_validate(
                {name: int(item[name]) for name in UsageTotals.model_fields if name in item}
            )
            for item in response.get("Items", [])
        }
