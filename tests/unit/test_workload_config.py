"""jobs.yaml's workload keys (queues, queue, priority, retries, schedule, overlap) and a start's
options (queue, priority, run_at, delay): what they mean, and the error that names a bad one."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from jobsys.config import parse_config
from jobsys.errors import ConfigError, InvalidRequest, Unprocessable
from jobsys.schedules import Cron, parse_schedule
from jobsys.spec.messages import messages
from jobsys.spec.options import RetryPolicy
from jobsys.spec.requests import DependingJob, StartOptions

CONFIG = {
    "queues": {"productimport": {"concurrency": 1}, "default": {"concurrency": 20}, "exports": {}},
    "commands": {"demo:echo": {"queue": "exports", "priority": 5, "retries": {"max_attempts": 2}}},
    "jobs": {
        "import_solr": {
            "label": "Import from eZ",
            "command": "silver:import",
            "params": ["tmp"],
            "queue": "productimport",
            "priority": 10,
            "retries": {"max_attempts": 3, "backoff": "30 s", "factor": 2},
            "schedule": {"cron": "0 2 * * *", "timezone": "Europe/Berlin"},
            "overlap": "skip",
            "depending_jobs": {"index_solr": {"label": "Index", "command": "silversolutions:indexecontent-job"}},
        },
        "hourly_export": {"label": "Export", "command": "demo:echo", "schedule": {"rate": "1 hour"}},
    },
}


def test_every_key_of_the_issue_loads_and_a_job_takes_its_commands_defaults():
    config = parse_config(CONFIG)
    assert config.queues["productimport"].concurrency == 1
    assert config.queues["exports"].concurrency is None  # no limit
    imp = config.definition("import_solr")
    assert (imp.queue, imp.priority, imp.overlap) == ("productimport", 10, "skip")
    assert imp.retries == RetryPolicy(max_attempts=3, backoff=30, factor=2)
    assert imp.schedule.aws_expression() == "cron(0 2 * * ? *)"
    assert imp.depending_jobs[0].queue == "default"
    export = config.definition("hourly_export")
    assert (export.queue, export.priority, export.retries.max_attempts) == ("exports", 5, 2)
    assert export.schedule.aws_expression() == "rate(1 hour)"
    spec = config.spec_for(DependingJob(command="demo:echo"))  # ad-hoc jobs of a command take its keys too
    assert (spec.queue, spec.priority, spec.retries.max_attempts) == ("exports", 5, 2)


def test_the_back_off_doubles_from_the_first_wait():
    policy = RetryPolicy(max_attempts=3, backoff=30, factor=2)
    assert [policy.wait_after(attempt) for attempt in (1, 2)] == [30, 60]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"queue": "nope"}, "jobs.import_solr.queue"),
        ({"priority": 5000}, "jobs.import_solr.priority"),
        ({"priority": "high"}, "jobs.import_solr.priority"),
        ({"retries": {"max_attempts": 0}}, "jobs.import_solr.retries.max_attempts"),
        ({"retries": {"backoff": "soon"}}, "jobs.import_solr.retries.backoff"),
        ({"retries": {"tries": 3}}, "jobs.import_solr.retries"),
        ({"schedule": {"cron": "0 25 * * *"}}, "jobs.import_solr.schedule"),
        ({"schedule": {"cron": "0 2 * *"}}, "jobs.import_solr.schedule"),
        ({"schedule": {"cron": "0 2 * * *", "timezone": "Mars/Olympus"}}, "jobs.import_solr.schedule"),
        ({"schedule": {"rate": "30 s"}}, "jobs.import_solr.schedule"),
        ({"schedule": {"cron": "0 2 * * *", "rate": "1 hour"}}, "jobs.import_solr.schedule"),
        ({"overlap": "queue"}, "jobs.import_solr.overlap"),
    ],
)
def test_a_bad_value_names_its_key(change, named):
    bad = {**CONFIG, "jobs": {**CONFIG["jobs"], "import_solr": {**CONFIG["jobs"]["import_solr"], **change}}}
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        parse_config(bad)


def test_a_bad_queue_limit_and_a_dependent_with_a_schedule_are_refused():
    with pytest.raises(ConfigError, match=r"queues\.productimport\.concurrency"):
        parse_config({**CONFIG, "queues": {"productimport": {"concurrency": 0}}})
    child = {"label": "Index", "command": "demo:echo", "schedule": {"rate": "1 hour"}}
    nested = {"jobs": {"parent": {"label": "P", "command": "demo:echo", "depending_jobs": {"child": child}}}}
    with pytest.raises(ConfigError, match="only a top-level job has a schedule"):
        parse_config(nested)


def test_start_options_are_checked_and_name_the_key():
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert StartOptions(delay="10 min").start_at(now) == now + timedelta(minutes=10)
    assert StartOptions(run_at="2026-11-29T13:00:00+01:00").start_at(now) is None  # that is now
    assert StartOptions(run_at="2026-11-30T00:00:00Z").start_at(now) == datetime(2026, 11, 30, tzinfo=UTC)
    # What breaks the API's schema fails validation (400); what only the clock refuses is Unprocessable (422).
    for body, named in [
        ({"priority": 1001}, "priority: must be at most 1000"),
        ({"delay": "-5 min"}, "delay: cannot read the duration"),
        ({"delay": "soon"}, "delay: cannot read the duration"),
        ({"run_at": "tomorrow"}, "run_at: 'tomorrow' is not an ISO time"),
        ({"run_at": "2026-11-30T00:00:00"}, "run_at: give the time zone"),
        ({"run_at": "2026-11-30T00:00:00Z", "delay": "1 min"}, "run_at, delay: give one"),
        ({"queue": "no queue"}, "queue: a queue name holds"),
    ]:
        with pytest.raises(ValidationError) as error:
            StartOptions.model_validate(body)
        assert messages(error.value.errors())[0].startswith(named)
    for body, named in [
        ({"run_at": "2026-11-28T00:00:00Z"}, "run_at: .* is in the past"),
        ({"run_at": "0001-01-01T00:00:00+01:00"}, "run_at: .* is out of range"),
        ({"delay": "400 days"}, "delay: at most"),
    ]:
        with pytest.raises(Unprocessable, match=named):
            StartOptions.model_validate(body).start_at(now)
    with pytest.raises(Unprocessable, match="queue: no queue 'nope'"):
        parse_config(CONFIG).queue("nope")


def test_cron_next_runs_honour_the_time_zone_and_daylight_saving():
    berlin = ZoneInfo("Europe/Berlin")
    nightly = Cron.parse("0 2 * * *")
    # 02:00 in Berlin is 01:00 UTC in winter and 00:00 UTC in summer.
    assert nightly.next_after(datetime(2026, 11, 29, 12, 0, tzinfo=UTC), berlin) == datetime(
        2026, 11, 30, 1, 0, tzinfo=UTC
    )
    assert nightly.next_after(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), berlin) == datetime(2026, 7, 2, 0, 0, tzinfo=UTC)
    # The clocks skip 02:00-03:00 on 29 March 2026: that night has no 02:00 run.
    assert nightly.next_after(datetime(2026, 3, 28, 12, 0, tzinfo=UTC), berlin) == datetime(
        2026, 3, 30, 0, 0, tzinfo=UTC
    )
    weekdays = Cron.parse("30 6 * * mon-fri")
    assert weekdays.aws_expression() == "cron(30 6 ? * 2,3,4,5,6 *)"
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert weekdays.next_after(saturday, ZoneInfo("UTC")) == datetime(2026, 11, 30, 6, 30, tzinfo=UTC)
    assert Cron.parse("*/15 * 1 * *").aws_expression() == "cron(*/15 * 1 * ? *)"
    with pytest.raises(InvalidRequest, match="not both"):
        Cron.parse("0 0 1 * mon")


def test_a_rate_runs_one_period_after_the_last_run():
    schedule = parse_schedule({"rate": "90 minutes"})
    assert schedule.aws_expression() == "rate(90 minutes)"
    last = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    assert schedule.next_run(datetime(2026, 11, 29, 12, 0, tzinfo=UTC), last) == datetime(
        2026, 11, 29, 13, 0, tzinfo=UTC
    )
