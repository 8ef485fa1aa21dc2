import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from jobs_local.apigateway.events import Route, match_route, proxy_event
from jobsys.config import Command
from jobsys.durations import parse_duration
from jobsys.errors import InvalidRequest, Unprocessable
from jobsys.ids import is_job_id, new_job_id
from jobsys.models import CLOSED_STATES, OPEN_STATES, JobState
from jobsys.observability import record_closed, record_started
from jobsys.runner import command_argv
from jobsys.stats import Run, percentile, run_stats
from jobsys.store import decode_cursor, encode_cursor
from jobsys.system import execution_arn

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 min", timedelta(minutes=1)),
        ("2 hours", timedelta(hours=2)),
        ("7 days", timedelta(days=7)),
        ("90s", timedelta(seconds=90)),
        ("1 hour 30 min", timedelta(minutes=90)),
        ("1 week", timedelta(weeks=1)),
    ],
)
def test_durations_as_the_seed_writes_them(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "1", "1 fortnight", "min 1", "1 min later", "-1 min"])
def test_durations_that_are_not_understood_are_refused(text):
    with pytest.raises(InvalidRequest):
        parse_duration(text)


def test_job_ids_sort_by_creation_time():
    first, second = new_job_id(now_ms=1_000), new_job_id(now_ms=2_000)
    assert first < second and is_job_id(first) and is_job_id(second)
    assert not is_job_id("../etc/passwd") and not is_job_id("")


def test_states_are_open_or_closed():
    assert set(JobState) == OPEN_STATES | CLOSED_STATES
    assert not OPEN_STATES & CLOSED_STATES
    assert JobState.RUNNING.is_open and not JobState.CANCELED.is_open


def test_cursors_round_trip_and_refuse_tampering():
    key = {"pk": "JOB#1", "sk": "JOB", "id": "1", "list_pk": "JOB"}
    cursor = encode_cursor(key, "by_created")
    assert decode_cursor(cursor, "by_created") == key
    with pytest.raises(Unprocessable):
        decode_cursor(cursor, "by_state")  # a cursor belongs to its listing
    for garbage in ("garbage", "e30", "W10", cursor[:-3]):
        with pytest.raises(Unprocessable):
            decode_cursor(garbage, "by_created")


@pytest.mark.parametrize(
    "key",
    [
        {},  # no key at all
        {"pk": "JOB#1", "sk": "JOB", "id": "1"},  # the index's partition key missing
        {"pk": "JOB#1", "sk": "JOB", "id": "1", "list_pk": "JOB", "extra": "x"},  # an attribute of no key
        {"pk": "JOB#1", "sk": "JOB", "id": "1", "list_pk": ""},  # an empty key value
        {"pk": "JOB#2", "sk": "JOB", "id": "1", "list_pk": "JOB"},  # not one job's keys
        {"pk": "QUEUE#x", "sk": "QUEUE", "id": "x", "list_pk": "JOB"},  # not a job item
    ],
)
def test_a_cursor_holds_exactly_the_keys_of_its_index(key):
    """DynamoDB refuses an ExclusiveStartKey that does not fit the index's key schema (a 500 on AWS)."""
    with pytest.raises(Unprocessable):
        decode_cursor(encode_cursor(key, "by_created") or "e30", "by_created")


def test_a_cursor_stays_in_its_listing_partition():
    key = {"pk": "JOB#1", "sk": "JOB", "id": "1", "state": "failed"}
    cursor = encode_cursor(key, "by_state")
    assert decode_cursor(cursor, "by_state", "failed") == key
    with pytest.raises(Unprocessable):
        decode_cursor(cursor, "by_state", "running")  # a page of failed jobs does not go on with running ones


def test_commands_become_argv_lists_never_shell_text():
    console = Command(name="demo:echo", argv=None, max_runtime=60, runner="lambda")
    assert command_argv(console, ["a; rm -rf /"]) == [
        sys.executable,
        "-m",
        "jobsys.console",
        "demo:echo",
        "a; rm -rf /",
    ]
    external = Command(name="export", argv=("/usr/bin/export", "--all"), max_runtime=60, runner="lambda")
    assert command_argv(external, ["$(id)"]) == ["/usr/bin/export", "--all", "$(id)"]


def test_execution_arns_are_known_before_the_execution_starts():
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:jobs-jobs"
    assert execution_arn(machine, "01ABC") == "arn:aws:states:us-east-1:123456789012:execution:jobs-jobs:01ABC"


def test_routes_match_as_api_gateway_matches_them():
    page, asset = Route("GET", "/", "f"), Route("GET", "/static/{asset}", "f")
    api = Route("ANY", "/{proxy+}", "f", authorizer="token-authorizer")
    assert page.public and not api.public
    routes = [api, page, asset]
    assert match_route(routes, "GET", "/") == (page, {})
    assert match_route(routes, "GET", "/static/app.js") == (asset, {"asset": "app.js"})
    assert match_route(routes, "POST", "/jobs/1/cancel") == (api, {"proxy": "jobs/1/cancel"})
    assert match_route(routes, "POST", "/") is None
    event = proxy_event("GET", "/jobs", "/{proxy+}", {"proxy": "jobs"}, "state=running&limit=5")
    assert event["queryStringParameters"] == {"state": "running", "limit": "5"}
    assert event["requestContext"]["stage"] == "v1"


def test_no_request_path_scans_the_table():
    """Request paths Query an index: their cost grows with the page, not the table."""
    for path in [*(ROOT / "layers").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]:
        text = path.read_text()
        assert ".scan(" not in text and '"Scan"' not in text, f"{path} scans the table"


def test_job_metrics_are_published_one_by_one_with_the_command_and_state(capsys):
    record_started("silver:import")
    record_closed("silver:import", "failed", 12.5, 213.4)
    record_closed("demo:echo", "canceled", None)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"], line.get("state")) for line in lines] == [
        ("JobsStarted", None),
        ("JobsClosed", "failed"),
        ("JobRuntime", None),
        ("JobPeakMemory", None),
        ("JobsClosed", "canceled"),
    ]
    assert [line["command"] for line in lines] == ["silver:import"] * 4 + ["demo:echo"]
    assert lines[2]["JobRuntime"] in (12.5, [12.5]) and lines[1]["JobsClosed"] in (1, [1])
    dimensions = lines[1]["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]
    assert [d for d in dimensions if d != "service"] == ["command", "state"]


def test_percentiles_are_nearest_rank_and_the_success_rate_ignores_cancels():
    assert percentile([], 0.5) is None
    assert percentile([3.0], 0.95) == 3.0
    assert percentile([float(n) for n in range(1, 101)], 0.95) == 95.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.0
    runs = [
        Run(id="3", state=JobState.CANCELED, created_at="c"),
        Run(id="2", state=JobState.FAILED, created_at="b", closed_at="b2", runtime=2.0),
        Run(id="1", state=JobState.FINISHED, created_at="a", closed_at="a2", runtime=1.0, peak_memory_mb=50.0),
    ]
    stats = run_stats(runs, command="x")
    assert (stats.runs, stats.success_rate, stats.states) == (3, 0.5, {"canceled": 1, "failed": 1, "finished": 1})
    assert (stats.last_success_at, stats.last_failure_at) == ("a2", "b2")
    assert [point.id for point in stats.series] == ["1", "2", "3"]
