"""EventBridge for the local stack: fires the template's schedule rules and EventBridge Scheduler's
schedules.

Replaces: moto's EventBridge and Scheduler, which store rules and schedules but never fire them.
- Each enabled `rate(...)` rule fires its Lambda targets with the event EventBridge sends, first
  one period after the stack starts, as in AWS.
- Each enabled schedule (`cron(...)` in its time zone, `rate(...)` from its creation, `at(...)`)
  invokes its Lambda target asynchronously with its input, Scheduler's context attributes such as
  `<aws.scheduler.scheduled-time>` filled in, at the minute it is due.

Each fire is authorized as in AWS: a schedule invokes its target with the credentials of its
`RoleArn` (which must trust `scheduler.amazonaws.com`); a rule invokes a function only if the
function's resource-based policy lets `events.amazonaws.com` do so for that rule.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jobsys.errors import InvalidRequest
from jobsys.schedules import Cron

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> float | None:
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _SECONDS[match.group(2).rstrip("s")]


_AWS_CRON = re.compile(r"^cron\((.+)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")


def crontab_of(aws_cron: str) -> Cron | None:
    """Scheduler's six cron fields as crontab's five; None for what crontab cannot say (L, W, #, years)."""
    match = _AWS_CRON.match(aws_cron.strip())
    if not match:
        return None
    fields = match.group(1).split()
    if len(fields) != 6 or fields[5] != "*" or any(c in match.group(1) for c in "LW#"):
        return None
    minute, hour, day, month, weekday, _ = fields
    if weekday != "?" and weekday != "*":
        weekday = ",".join(str(int(d) - 1) if d.isdigit() else d for d in weekday.split(","))
    try:
        return Cron.parse(
            " ".join([minute, hour, "*" if day == "?" else day, month, "*" if weekday == "?" else weekday])
        )
    except InvalidRequest:  # a form crontab has no words for, such as 1/2 in the day of week
        return None


def next_fire(schedule: dict[str, Any], after: datetime) -> datetime | None:
    expression = schedule["ScheduleExpression"]
    cron = crontab_of(expression)
    if cron is not None:
        return cron.next_after(after, ZoneInfo(schedule.get("ScheduleExpressionTimezone") or "UTC"))
    period = rate_seconds(expression)
    if period is not None:
        start = schedule["CreationDate"].astimezone(UTC)
        periods = max(0, int((after - start).total_seconds() // period)) + 1
        return start + timedelta(seconds=periods * period)
    at = _AT.match(expression)
    if at:
        zone = ZoneInfo(schedule.get("ScheduleExpressionTimezone") or "UTC")
        moment = datetime.fromisoformat(at.group(1)).replace(tzinfo=zone).astimezone(UTC)
        return moment if moment > after else None
    return None


class Scheduler:
    def __init__(
        self,
        events: Any,
        scheduler: Any,
        lambdas: Any,
        lambdas_as: Callable[[str, str], Any],
        speedup: float = 1.0,
        log: Callable[[str], None] | None = None,
    ):
        """`lambdas` reads functions' policies and invokes as EventBridge; `lambdas_as(role, schedule)`
        is a Lambda client with the credentials that Scheduler gets for a schedule's role."""
        self.events = events
        self.scheduler = scheduler
        self.lambdas = lambdas
        self.lambdas_as = lambdas_as
        self.speedup = speedup
        self.log = log or (lambda line: None)
        self.stopped = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> Scheduler:
        self._start_rules()
        self._start_schedules()
        return self

    def _start_rules(self) -> None:
        for rule in self.events.list_rules()["Rules"]:
            expression = rule.get("ScheduleExpression")
            if not expression or rule.get("State") != "ENABLED":
                continue
            period = rate_seconds(expression)
            if period is None:
                self.log(f"schedule {rule['Name']}: {expression} is not fired locally (only rate(...) is)")
                continue
            targets = self.events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
            self._run(self._fire_every, rule, targets, period / self.speedup)
            self.log(f"schedule {rule['Name']}: {expression} (every {period / self.speedup:g} s here)")

    def _start_schedules(self) -> None:
        for group in self.scheduler.list_schedule_groups()["ScheduleGroups"]:
            for entry in self.scheduler.list_schedules(GroupName=group["Name"], State="ENABLED")["Schedules"]:
                schedule = self.scheduler.get_schedule(Name=entry["Name"], GroupName=group["Name"])
                if next_fire(schedule, datetime.now(UTC)) is None:
                    self.log(f"schedule {entry['Name']}: {schedule['ScheduleExpression']} is not fired locally")
                    continue
                self._run(self._fire_schedule, schedule)
                self.log(f"schedule {entry['Name']}: {schedule['ScheduleExpression']}")

    def _run(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _fire_schedule(self, schedule: dict[str, Any]) -> None:
        target = schedule["Target"]
        while (due := next_fire(schedule, datetime.now(UTC))) is not None:
            if self.stopped.wait(max(0.0, (due - datetime.now(UTC)).total_seconds())):
                return
            payload = target.get("Input") or "{}"
            for name, value in {
                "scheduled-time": due.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "schedule-arn": schedule["Arn"],
                "execution-id": str(uuid.uuid4()),
                "attempt-number": "1",
            }.items():
                payload = payload.replace(f"<aws.scheduler.{name}>", value)
            try:
                lambdas = self.lambdas_as(target["RoleArn"], schedule["Arn"])
                lambdas.invoke(FunctionName=target["Arn"], InvocationType="Event", Payload=payload.encode())
                self.log(f"schedule {schedule['Name']} fired for {due.isoformat()}")
            except Exception as exc:  # noqa: BLE001 - logged; the next fire tries again
                self.log(f"schedule {schedule['Name']} failed: {exc}")

    def stop(self) -> None:
        self.stopped.set()

    def _fire_every(self, rule: dict[str, Any], targets: list[dict[str, Any]], period: float) -> None:
        while not self.stopped.wait(period):
            for target in targets:
                if ":lambda:" not in target["Arn"]:
                    continue
                event = target.get("Input") or json.dumps(self._scheduled_event(rule))
                started = time.monotonic()
                try:
                    if not self._function_allows_rule(target["Arn"], rule["Arn"]):
                        self.log(
                            f"schedule {rule['Name']} refused: {target['Arn']} does not let {rule['Arn']} invoke it"
                        )
                        continue
                    self.lambdas.invoke(FunctionName=target["Arn"], InvocationType="Event", Payload=event.encode())
                    function = target["Arn"].rsplit(":", 1)[-1]
                    self.log(f"schedule {rule['Name']} fired {function} ({time.monotonic() - started:.1f} s)")
                except Exception as exc:  # noqa: BLE001 - a failed run is logged; the next period tries again
                    self.log(f"schedule {rule['Name']} failed: {exc}")

    def _function_allows_rule(self, function_arn: str, rule_arn: str) -> bool:
        """The function's resource-based policy (its `AWS::Lambda::Permission`s), as Lambda reads it."""
        try:
            policy = json.loads(self.lambdas.get_policy(FunctionName=function_arn)["Policy"])
        except self.lambdas.exceptions.ResourceNotFoundException:
            return False
        for statement in policy.get("Statement", []):
            principal = statement.get("Principal")
            service = principal.get("Service") if isinstance(principal, dict) else principal
            source = (statement.get("Condition") or {}).get("ArnLike", {}).get("AWS:SourceArn")
            if (
                statement.get("Effect") == "Allow"
                and statement.get("Action") in ("lambda:InvokeFunction", "lambda:*")
                and service == "events.amazonaws.com"
                and source in (None, rule_arn)
            ):
                return True
        return False

    @staticmethod
    def _scheduled_event(rule: dict[str, Any]) -> dict[str, Any]:
        arn = rule["Arn"]
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": arn.split(":")[4],
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": arn.split(":")[3],
            "resources": [arn],
            "detail": {},
        }
