"""How often a job is tried (`RetryPolicy`, one of its settings: spec/settings.py), and when a start
runs (`When`)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from jobsys.durations import parse_duration
from jobsys.errors import Unprocessable
from jobsys.spec.limits import DEFAULT_MAX_RETRY_WAIT, MAX_DELAY, MAX_RETRY_WAIT, RUN_AT_SKEW
from jobsys.spec.types import Attempts, Duration, Factor, Seconds
from jobsys.timestamps import parse_iso


class RetryPolicy(BaseModel):
    """`retries: {max_attempts: 3, backoff: "30 s", factor: 2}`: 3 attempts in all, 30 s then 60 s apart."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: Attempts = 1
    backoff: Seconds = Field(default=0, description="Seconds (or a duration) before the second attempt")
    factor: Factor = Field(default=2, description="Each later wait is the one before times this")
    max_wait: Seconds = Field(
        default=DEFAULT_MAX_RETRY_WAIT,
        description="Seconds (or a duration) that one wait lasts at most",
        json_schema_extra={"minimum": 1, "maximum": MAX_RETRY_WAIT},
    )

    def problem(self) -> str | None:
        """What no schema can say of a policy, or None: a duration's bounds (given as "400 days"),
        and one setting against another. Checked where a job's settings are resolved
        (spec/settings.py), so that a request that fits the schema is refused with a 422, and a
        file's mistake names its key."""
        if not 1 <= self.max_wait <= MAX_RETRY_WAIT:
            return f"max_wait: must be from 1 s to {int(MAX_RETRY_WAIT // 86400)} days"
        if self.backoff > self.max_wait:
            return f"backoff: is longer than max_wait ({self.max_wait:g} s)"
        return None

    def wait_after(self, attempt: int) -> float:
        """Seconds between the end of `attempt` and the start of the next one: the back-off grows by
        `factor`, up to `max_wait` (so that it never outlasts an execution, nor overflows)."""
        if self.backoff == 0:
            return 0.0
        # Compared in logarithms: factor ** 19 may not be a float any more.
        if (attempt - 1) * math.log(self.factor) >= math.log(self.max_wait / self.backoff):
            return self.max_wait
        return min(self.backoff * self.factor ** (attempt - 1), self.max_wait)


def _iso_time(value: str) -> str:
    try:
        moment = parse_iso(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO time such as 2026-12-24T18:00:00Z") from None
    if moment.tzinfo is None:
        raise ValueError("give the time zone, e.g. 2026-12-24T18:00:00Z or +01:00")
    return value


RunAt = Annotated[
    str,
    Field(
        max_length=64,
        json_schema_extra={"format": "date-time"},
        examples=["2026-12-24T18:00:00Z"],
        description=f"Start then (at most {MAX_DELAY.days} days ahead); a time up to 5 min past means now",
    ),
    AfterValidator(_iso_time),
]


ONE_START_TIME: JsonDict = {"not": {"required": ["run_at", "delay"]}}


class When(BaseModel):
    """When a start runs: now, at `run_at`, or after `delay`."""

    run_at: RunAt | None = None
    delay: Duration | None = Field(default=None, description="Start after this long")

    @model_validator(mode="after")
    def _one_time(self) -> Self:
        # Both named is both given, even as null: the schema's rule (ONE_START_TIME) says so too.
        if (self.run_at is not None and self.delay is not None) or {"run_at", "delay"} <= self.model_fields_set:
            raise ValueError("run_at, delay: give one of them, not both")
        return self

    def start_at(self, now: datetime) -> datetime | None:
        """The moment to start, or None for now. Only the clock can refuse it here (422)."""
        if self.run_at is not None:
            try:
                moment = parse_iso(self.run_at).astimezone(UTC)
            except OverflowError:  # year 1 or 9999 shifted by its offset
                raise Unprocessable(f"run_at: {self.run_at} is out of range") from None
            if moment < now - RUN_AT_SKEW:
                raise Unprocessable(f"run_at: {self.run_at} is in the past")
            key = "run_at"
        elif self.delay is not None:
            wait = parse_duration(self.delay)
            if wait > MAX_DELAY:  # checked first: a delay of thousands of years is past the last date
                raise Unprocessable(f"delay: at most {MAX_DELAY.days} days ahead")
            moment, key = now + wait, "delay"
        else:
            return None
        if moment - now > MAX_DELAY:
            raise Unprocessable(f"{key}: at most {MAX_DELAY.days} days ahead")
        return moment if moment > now else None
