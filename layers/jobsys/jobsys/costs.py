"""What a run used, and what that costs: the runner meters its own run, the store adds each run to
its definition's and its command's day, and the statistics price the last 30 days.

Usage is stored, never dollars: prices apply when read, so that the `Prices` parameter changes the
figures of past runs too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, NonNegativeInt

from jobsys.spec.types import Runner

if TYPE_CHECKING:  # imported where prices are applied: a model of Decimals costs every cold start 20 ms
    from jobsys.spec.prices import JobOverhead, Prices

COST_DAYS = 30  # the window that the statistics price, and project the next 30 days from
FARGATE_MINIMUM_MS = 60_000  # Fargate bills by the second, one minute at least
CPU_UNITS_PER_VCPU = 1024
_MB_PER_GB = 1024
_BYTES_PER_GB = 1024**3


class RunUsage(BaseModel):
    """What one run is billed for, as its runner measured it."""

    runner: Runner
    memory_mb: NonNegativeInt = Field(description="Lambda: the function's memory; Fargate: the task's")
    cpu_units: NonNegativeInt | None = Field(default=None, description="Fargate: the task's CPU (1024 = 1 vCPU)")
    billed_ms: NonNegativeInt = Field(
        description="Lambda: the invocation, rounded up to the ms; Fargate: the task, to the second, 60 s at least"
    )
    transitions: NonNegativeInt = Field(description="The state transitions that its kind of run takes")
    output_bytes: NonNegativeInt = Field(description="Its output, as sent to CloudWatch Logs")


class UsageTotals(BaseModel):
    """The sum of runs' usage: cost is linear in each of these, so a day's total prices as its runs do."""

    runs: NonNegativeInt = 0
    transitions: NonNegativeInt = 0
    lambda_runs: NonNegativeInt = 0
    lambda_mb_ms: NonNegativeInt = 0
    fargate_cpu_unit_ms: NonNegativeInt = 0
    fargate_mb_ms: NonNegativeInt = 0
    output_bytes: NonNegativeInt = 0

    @classmethod
    def of(cls, usage: RunUsage) -> UsageTotals:
        on_lambda = usage.runner == "lambda"
        return cls(
            runs=1,
            transitions=usage.transitions,
            lambda_runs=int(on_lambda),
            lambda_mb_ms=usage.memory_mb * usage.billed_ms if on_lambda else 0,
            fargate_cpu_unit_ms=0 if on_lambda else (usage.cpu_units or 0) * usage.billed_ms,
            fargate_mb_ms=0 if on_lambda else usage.memory_mb * usage.billed_ms,
            output_bytes=usage.output_bytes,
        )

    @classmethod
    def sum(cls, totals: Iterable[UsageTotals]) -> UsageTotals:
        fields = list(cls.model_fields)
        summed = dict.fromkeys(fields, 0)
        for total in totals:
            for name in fields:
                summed[name] += getattr(total, name)
        return cls(**summed)

    def cost(self, prices: Prices, overhead: JobOverhead | None = None) -> Decimal:
        """US dollars, unrounded; `overhead`: JOB_OVERHEAD's counts unless given."""
        if overhead is None:
            from jobsys.spec.prices import JOB_OVERHEAD

            overhead = JOB_OVERHEAD
        overhead_mb_ms = overhead.api_function_mb * overhead.api_function_ms + (
            overhead.follower_invocations * overhead.follower_mb * overhead.follower_ms
        )
        gb_seconds = Decimal(self.lambda_mb_ms + self.runs * overhead_mb_ms) / (_MB_PER_GB * 1000)
        fargate_hours = Decimal(3_600_000)
        return (
            self.transitions * prices.step_functions_transition
            + gb_seconds * prices.lambda_gb_second
            # the runner's, the API's and JobEventsFunction's invocations
            + (self.lambda_runs + self.runs * (1 + overhead.follower_invocations)) * prices.lambda_request
            + Decimal(self.fargate_cpu_unit_ms) / CPU_UNITS_PER_VCPU / fargate_hours * prices.fargate_vcpu_hour
            + Decimal(self.fargate_mb_ms) / _MB_PER_GB / fargate_hours * prices.fargate_gb_hour
            + self.runs * overhead.dynamodb_write_units * prices.dynamodb_write_unit
            + self.runs * overhead.dynamodb_read_units * prices.dynamodb_read_unit
            + self.runs * overhead.api_requests * prices.api_request
            + self.runs * overhead.s3_puts * prices.s3_put
            + Decimal(self.output_bytes + self.runs * overhead.log_bytes) / _BYTES_PER_GB * prices.logs_gb_ingested
            + self.runs * overhead.events * prices.event
        )


class RunMeter:
    """A runner's clock and size: what its run will be billed for."""

    def __init__(
        self,
        runner: Runner,
        memory_mb: int,
        cpu_units: int | None = None,
        began: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.runner: Runner = runner
        self.memory_mb = memory_mb
        self.cpu_units = cpu_units
        self.clock = clock
        self.began = clock() if began is None else began  # the invocation's, or the task's, start

    def usage(self, transitions: int, output_bytes: int) -> RunUsage:
        elapsed_ms = (self.clock() - self.began) * 1000
        billed_ms = math.ceil(elapsed_ms)
        if self.runner == "fargate":
            billed_ms = max(FARGATE_MINIMUM_MS, math.ceil(elapsed_ms / 1000) * 1000)
        return RunUsage(
            runner=self.runner,
            memory_mb=self.memory_mb,
            cpu_units=self.cpu_units,
            billed_ms=billed_ms,
            transitions=transitions,
            output_bytes=output_bytes,
        )


class CostEstimate(BaseModel):
    per_run: float | None = Field(description="US dollars, the mean of the runs counted")
    in_30_days: float | None = Field(
        description="US dollars: the mean run at the rate of the runs counted, over 30 days"
    )
    runs: int = Field(description=f"The runs counted: those that ran in the last {COST_DAYS} days")
    days: int = Field(description="The days they cover, from the first day with a run to today")
    prices_as_of: str
    region: str


def cost_estimate(days: dict[str, UsageTotals], today: date, prices: Prices) -> CostEstimate:
    """`days`: each day's totals (ISO dates), of the last COST_DAYS days."""
    counted = {day: totals for day, totals in days.items() if totals.runs}
    totals = UsageTotals.sum(counted.values())
    if not totals.runs:
        return CostEstimate(
            per_run=None, in_30_days=None, runs=0, days=0, prices_as_of=prices.as_of, region=prices.region
        )
    first = min(date.fromisoformat(day) for day in counted)
    covered = min(COST_DAYS, (today - first).days + 1)
    cost = totals.cost(prices)
    return CostEstimate(
        per_run=float(cost / totals.runs),
        in_30_days=float(cost * COST_DAYS / covered),
        runs=totals.runs,
        days=covered,
        prices_as_of=prices.as_of,
        region=prices.region,
    )


def cost_window(today: date) -> tuple[str, str]:
    """The first and the last day that cost_estimate counts."""
    return (today - timedelta(days=COST_DAYS - 1)).isoformat(), today.isoformat()
