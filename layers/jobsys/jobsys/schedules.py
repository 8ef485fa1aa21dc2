"""A definition's `schedule`: `{cron: "0 2 * * *", timezone: "Europe/Berlin"}` or `{rate: "1 hour"}`.

The cron is crontab's five fields (minute hour day-of-month month day-of-week), as the seed's
crontab had them. EventBridge Scheduler runs the schedule; this module turns it into Scheduler's
expression and works out the next run, to show it.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jobsys.durations import parse_duration
from jobsys.errors import InvalidRequest

_MONTHS = {
    name: i
    for i, name in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}
_DAYS = {name: i for i, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# name, lowest, highest, names
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
_RATE_UNITS = ((86400, "day"), (3600, "hour"), (60, "minute"))
_SEARCH_DAYS = 366 * 5  # long enough for "29 Feb on a Monday"


def _value(text: str, low: int, high: int, names: dict[str, int], where: str) -> int:
    number = names.get(text.lower()) if not text.isdigit() else int(text)
    if number is None or not low <= number <= high:
        raise InvalidRequest(f"cron {where}: {text!r} is not between {low} and {high}")
    return number


def _field(text: str, low: int, high: int, names: dict[str, int], where: str) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) < 1:
                raise InvalidRequest(f"cron {where}: step {step_text!r} must be a whole number, at least 1")
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            first_text, _, last_text = base.partition("-")
            first, last = (_value(t, low, high, names, where) for t in (first_text, last_text))
            if first > last:
                raise InvalidRequest(f"cron {where}: range {base!r} runs backwards")
        else:
            first = _value(base, low, high, names, where)
            last = high if step_text else first
        values.update(range(first, last + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        parts = text.split()
        if len(parts) != 5:
            raise InvalidRequest(
                f"cron {text!r} needs 5 fields (minute hour day-of-month month day-of-week), e.g. '0 2 * * *'"
            )
        minutes, hours, days, months, weekdays = (
            _field(part, low, high, names, name) for part, (name, low, high, names) in zip(parts, _FIELDS, strict=True)
        )
        any_day, any_weekday = parts[2] == "*", parts[4] == "*"
        if not any_day and not any_weekday:
            # crontab runs on either; EventBridge cannot say that, and guessing would run at other times.
            raise InvalidRequest(f"cron {text!r}: give a day of month or a day of week, not both")
        return cls(
            text=text,
            minutes=minutes,
            hours=hours,
            days=days,
            months=months,
            weekdays=frozenset(d % 7 for d in weekdays),
            any_day=any_day,
            any_weekday=any_weekday,
        )

    def aws_expression(self) -> str:
        """Scheduler's six fields: day-of-week is 1-7 from Sunday, and one of the day fields is '?'."""
        minute, hour, day, month, weekday = self.text.split()
        if self.any_weekday:
            weekday = "?"
        else:
            day = "?"
            weekday = ",".join(str(d + 1) for d in sorted(self.weekdays))
        return f"cron({minute} {hour} {day} {month} {weekday} *)"

    def _matches_day(self, day: datetime) -> bool:
        if day.month not in self.months:
            return False
        return day.day in self.days and (day.isoweekday() % 7) in self.weekdays

    def next_after(self, moment: datetime, zone: ZoneInfo) -> datetime | None:
        local = moment.astimezone(zone)
        after = moment.astimezone(UTC)
        # fold=0: a time of a repeated autumn hour is its first pass; EventBridge Scheduler runs a
        # schedule once there, not twice.
        day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None, fold=0)
        for _ in range(_SEARCH_DAYS):
            if self._matches_day(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        wall = day.replace(hour=hour, minute=minute).replace(tzinfo=zone)
                        if wall.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall.replace(tzinfo=None):
                            continue  # a time that the clocks skip when they go forward
                        # In UTC: Python compares two times of one zone by their wall clocks, without
                        # `fold`, so in a repeated autumn hour a time already past would look ahead.
                        if wall.astimezone(UTC) > after:
                            return wall.astimezone(UTC)
            day += timedelta(days=1)
        return None


@dataclass(frozen=True)
class Schedule:
    cron: Cron | None = None
    rate: timedelta | None = None
    timezone: str = "UTC"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def describe(self) -> dict[str, str]:
        if self.cron is not None:
            return {"cron": self.cron.text, "timezone": self.timezone}
        assert self.rate is not None
        return {"rate": _rate_text(self.rate)}

    def aws_expression(self) -> str:
        if self.cron is not None:
            return self.cron.aws_expression()
        assert self.rate is not None
        return f"rate({_rate_text(self.rate)})"

    def next_run(self, after: datetime, last_run: datetime | None = None) -> datetime | None:
        """The next run after `after`; a rate runs one period after the last run (or `after`)."""
        if self.cron is not None:
            return self.cron.next_after(after, self.zone)
        assert self.rate is not None
        start = last_run or after
        while start <= after:
            start += self.rate
        return start


def _rate_text(rate: timedelta) -> str:
    seconds = int(rate.total_seconds())
    for size, unit in _RATE_UNITS:
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    raise AssertionError("a rate is whole minutes")


def parse_schedule(raw: object) -> Schedule:
    """Checks a `schedule` mapping; the error names the key that is wrong."""
    if not isinstance(raw, dict):
        raise InvalidRequest("expected a mapping with 'cron' (and 'timezone') or 'rate'")
    unknown = set(raw) - {"cron", "timezone", "rate"}
    if unknown:
        raise InvalidRequest(f"unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    if ("cron" in raw) == ("rate" in raw):
        raise InvalidRequest("give either 'cron' or 'rate'")
    if "rate" in raw:
        if "timezone" in raw:
            raise InvalidRequest("'timezone' goes with 'cron'; a rate runs at the same interval in every zone")
        if not isinstance(raw["rate"], str):
            raise InvalidRequest("rate: expected a duration such as '1 hour'")
        try:
            rate = parse_duration(raw["rate"])
        except InvalidRequest as exc:
            raise InvalidRequest(f"rate: {exc}") from None
        if rate < timedelta(minutes=1) or rate.total_seconds() % 60:
            raise InvalidRequest("rate: must be whole minutes, at least '1 minute'")
        return Schedule(rate=rate)
    if not isinstance(raw["cron"], str):
        raise InvalidRequest("cron: expected five fields such as '0 2 * * *'")
    timezone = raw.get("timezone", "UTC")
    try:
        if not isinstance(timezone, str) or "." in timezone or timezone.startswith("/"):
            raise ValueError
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequest(f"timezone: {timezone!r} is not a time zone name such as 'Europe/Berlin'") from None
    return Schedule(cron=Cron.parse(raw["cron"]), timezone=timezone)


_NAME = re.compile(r"^[0-9a-zA-Z_.-]{1,64}$")


def schedule_name(key: str) -> str:
    """Scheduler names allow fewer characters than definition keys; the loader refuses keys that do not fit."""
    if not _NAME.match(key):
        raise InvalidRequest(f"a scheduled job's key holds only letters, digits, '_', '-', '.' (64 at most): {key!r}")
    return key


def scheduler_input(key: str) -> str:
    """What each fire sends to the job-state function; Scheduler fills in the time it was due."""
    return (
        '{"action": "scheduled_start", "definition": "' + key + '", "scheduled_at": "<aws.scheduler.scheduled-time>"}'
    )


def sync_schedules(
    definitions: dict[str, Schedule], scheduler: Any, group: str, target_arn: str, role_arn: str
) -> dict[str, list[str]]:
    """Makes the schedule group hold exactly one schedule per scheduled definition of jobs.yaml."""
    with contextlib.suppress(scheduler.exceptions.ConflictException):  # it exists: the usual case
        scheduler.create_schedule_group(Name=group)
    existing: set[str] = set()
    for page in scheduler.get_paginator("list_schedules").paginate(GroupName=group):
        existing.update(entry["Name"] for entry in page["Schedules"])
    report: dict[str, list[str]] = {"created": [], "updated": [], "deleted": []}
    for key, schedule in definitions.items():
        request = {
            "Name": schedule_name(key),
            "GroupName": group,
            "ScheduleExpression": schedule.aws_expression(),
            "ScheduleExpressionTimezone": schedule.timezone,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED",
            "Description": f"Starts the job definition '{key}' (jobs.yaml)",
            "Target": {
                "Arn": target_arn,
                "RoleArn": role_arn,
                "Input": scheduler_input(key),
                "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600},
            },
        }
        if key in existing:
            scheduler.update_schedule(**request)
            report["updated"].append(key)
        else:
            scheduler.create_schedule(**request)
            report["created"].append(key)
    for name in sorted(existing - set(definitions)):
        scheduler.delete_schedule(Name=name, GroupName=group)
        report["deleted"].append(name)
    return report


def delete_schedule_group(scheduler: Any, group: str) -> None:
    """Deleting a group deletes its schedules."""
    with contextlib.suppress(scheduler.exceptions.ResourceNotFoundException):
        scheduler.delete_schedule_group(Name=group)
