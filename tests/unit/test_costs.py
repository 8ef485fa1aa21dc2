"""What a run costs: the runner's meter, the sum of a day's runs, and the figure the page shows."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from jobsys.costs import RunMeter, RunUsage, UsageTotals, cost_estimate
from jobsys.errors import ConfigError
from jobsys.spec.prices import Prices

ROOT = Path(__file__).resolve().parents[2]


class Ticks:
    """A monotonic clock that the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def hand_count() -> Decimal:
    """The total of docs/performance.md's table "What a job costs on AWS"."""
    text = (ROOT / "docs/performance.md").read_text()
    section = text[text.index("## What a job costs on AWS") :]
    return Decimal(re.search(r"\| \*\*total\*\* \| \| \| \*\*\$([0-9.]+)\*\*", section).group(1))


def plain_job(output_bytes: int = 6) -> RunUsage:
    """The table's job: `demo:echo` on the Lambda runner (1,024 MB, about 250 ms), 4 transitions."""
    return RunUsage(runner="lambda", memory_mb=1024, billed_ms=250, transitions=4, output_bytes=output_bytes)


def test_a_plain_job_costs_what_the_hand_count_in_the_docs_says():
    cost = UsageTotals.of(plain_job()).cost(Prices())
    assert round(cost, 6) == hand_count() == Decimal("0.000139")


def test_lambda_bills_the_invocation_rounded_up_to_the_millisecond():
    ticks = Ticks()
    meter = RunMeter("lambda", 1024, clock=ticks)
    ticks.now += 0.2501
    usage = meter.usage(transitions=4, output_bytes=0)
    assert (usage.billed_ms, usage.memory_mb, usage.cpu_units) == (251, 1024, None)


@pytest.mark.parametrize(("seconds", "billed_ms"), [(3.2, 60_000), (59.9, 60_000), (61.2, 62_000), (600, 600_000)])
def test_fargate_bills_by_the_second_and_one_minute_at_least(seconds, billed_ms):
    ticks = Ticks()
    meter = RunMeter("fargate", 2048, cpu_units=1024, clock=ticks)
    ticks.now += seconds
    assert meter.usage(transitions=6, output_bytes=0).billed_ms == billed_ms


def test_a_fargate_run_pays_its_vcpu_and_its_memory_by_the_hour():
    hour = RunUsage(runner="fargate", memory_mb=2048, cpu_units=512, billed_ms=3_600_000, transitions=0, output_bytes=0)
    prices = Prices()
    no_task = RunUsage(runner="fargate", memory_mb=0, billed_ms=0, transitions=0, output_bytes=0)
    task = UsageTotals.of(hour).cost(prices) - UsageTotals.of(no_task).cost(prices)
    assert task == Decimal("0.5") * prices.fargate_vcpu_hour + 2 * prices.fargate_gb_hour


def test_a_day_of_runs_costs_what_its_runs_cost_one_by_one():
    runs = [plain_job(), plain_job(10_000), RunUsage(runner="fargate", memory_mb=2048, cpu_units=1024,
            billed_ms=61_000, transitions=6, output_bytes=50)]  # fmt: skip
    prices = Prices()
    day = UsageTotals.sum(UsageTotals.of(run) for run in runs)
    assert day.runs == 3 and day.lambda_runs == 2
    assert day.cost(prices) == sum(UsageTotals.of(run).cost(prices) for run in runs)


def test_the_estimate_is_the_mean_run_and_30_days_at_the_rate_of_the_days_counted():
    prices = Prices()
    one = UsageTotals.of(plain_job())
    days = {"2026-11-20": UsageTotals.sum([one, one]), "2026-11-29": one}
    estimate = cost_estimate(days, date(2026, 11, 29), prices)
    assert (estimate.runs, estimate.days) == (3, 10)  # the 20th to the 29th
    assert estimate.per_run == pytest.approx(float(one.cost(prices)))
    assert estimate.in_30_days == pytest.approx(float(one.cost(prices)) * 3 * 30 / 10)
    assert (estimate.region, estimate.prices_as_of) == ("us-east-1", "2026-11-29")


def test_no_runs_have_no_cost_rather_than_a_cost_of_zero():
    estimate = cost_estimate({}, date(2026, 11, 29), Prices())
    assert (estimate.per_run, estimate.in_30_days, estimate.runs) == (None, None, 0)


def test_the_prices_parameter_overrides_only_what_it_names():
    prices = Prices.overridden('{"region": "eu-central-1", "as_of": "2026-12-01", "lambda_gb_second": 0.00002}')
    assert (prices.region, prices.lambda_gb_second) == ("eu-central-1", Decimal("0.00002"))
    assert prices.step_functions_transition == Prices().step_functions_transition
    assert Prices.overridden("") == Prices()


@pytest.mark.parametrize(
    ("override", "named"),
    [('{"lambda_gb_secnd": 1}', "lambda_gb_secnd"), ('{"s3_put": -1}', "s3_put"), ('{"as_of": "2026"}', "as_of"),
     ("not json", "JSON")],
)  # fmt: skip
def test_a_prices_parameter_that_is_not_the_table_is_refused_by_name(override, named):
    with pytest.raises(ConfigError, match=f"^the Prices parameter: .*{named}"):
        Prices.overridden(override)
