"""Issue 20's domain faults, in-process with fixed moments: time zones and back-offs."""

from datetime import UTC, datetime

import pytest
import yaml

from jobsys.config import parse_config
from jobsys.errors import ConfigError
from jobsys.schedules import parse_schedule
from jobsys.spec.options import RetryPolicy


def test_the_next_run_in_a_repeated_autumn_hour_is_never_in_the_past():
    """Berlin's clocks go back at 01:00 UTC on 25 October 2026: 02:00-03:00 happens twice. At 01:10
    UTC (02:10, the second time), 02:30 of the first pass was 00:30 UTC, already gone."""
    schedule = parse_schedule({"cron": "30 2 * * *", "timezone": "Europe/Berlin"})
    now = datetime(2026, 10, 25, 1, 10, tzinfo=UTC)
    assert schedule.next_run(now) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)
    before = datetime(2026, 10, 25, 0, 10, tzinfo=UTC)  # 02:10 CEST, the first pass
    assert schedule.next_run(before) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_a_retry_wait_is_capped_at_a_day_by_default_and_never_overflows():
    policy = RetryPolicy(max_attempts=20, backoff=60, factor=10)
    assert policy.wait_after(1) == 60 and policy.wait_after(2) == 600
    assert policy.wait_after(5) == 86400  # 60 s times 10^4 is 6.9 days
    assert policy.wait_after(20) == 86400  # 60 s times 10^19 would outlast the execution's year
    assert RetryPolicy(max_attempts=3, backoff=60, factor=10, max_wait=3600).wait_after(3) == 3600


def _config(retries: str) -> dict:
    return {
        "commands": {"demo:echo": {}},
        "jobs": {"nightly": {"label": "N", "command": "demo:echo", "retries": yaml.safe_load(retries)}},
    }


def test_max_wait_is_configurable_and_checked_at_load():
    config = parse_config(_config('{max_attempts: 5, backoff: "1 hour", max_wait: "6 hours"}'), "jobs.yaml")
    assert config.definition("nightly").retries.max_wait == 6 * 3600
    for bad, message in (
        ('{max_attempts: 5, backoff: "1 hour", max_wait: "never"}', "max_wait"),
        ('{max_attempts: 5, backoff: "1 hour", max_wait: "400 days"}', "max_wait: must be from 1 s to 30 days"),
        ('{max_attempts: 5, backoff: "2 days"}', "backoff: is longer than max_wait"),
    ):
        with pytest.raises(ConfigError) as error:
            parse_config(_config(bad), "jobs.yaml")
        assert message in str(error.value)
