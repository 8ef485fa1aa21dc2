"""Queues, priorities, retries, delayed starts and schedules, through the API function, the state
machine (its Wait, its task tokens) and real runner processes."""

import json
import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobs_local.stack import LocalStack
from tests.integration.conftest import Api, count_items
from tests.processes import processes_with

pytestmark = pytest.mark.integration


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def start(api: Api, body: dict) -> dict:
    status, job = api("POST", "/jobs", body)
    assert status == 202, job
    return job


def wait_execution_ended(stack: LocalStack, job: dict, timeout: float = 30) -> None:
    """The job is closed before its execution's EndRun gives its slot back."""
    sfn = stack.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while sfn.describe_execution(executionArn=job["execution_arn"])["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"the execution of {job['id']} is still running"
        time.sleep(0.2)


def most_at_once(jobs: list[dict]) -> int:
    """The most jobs that ran at one moment, from their started/closed times."""
    edges = sorted([(at(j["started_at"]), 1) for j in jobs] + [(at(j["closed_at"]), -1) for j in jobs])
    running = peak = 0
    for _, step in edges:  # at a tie, -1 sorts first: one ending as another starts is no overlap
        running += step
        peak = max(peak, running)
    return peak


@pytest.mark.long
def test_six_jobs_on_a_queue_of_one_never_overlap(api: Api):
    jobs = [start(api, {"command": "demo:sleep", "params": ["1"], "queue": "serial"}) for _ in range(6)]
    waited = api.wait(jobs[-1]["id"], until=lambda j: j["state"] != "pending" or "full" in (j["waiting"] or ""))
    done = [api.wait(job["id"], timeout=90) for job in jobs]
    assert {j["state"] for j in done} == {"finished"}
    assert most_at_once(done) == 1, [(j["started_at"], j["closed_at"]) for j in done]
    assert waited["state"] != "pending" or waited["waiting"].startswith("queue serial is full (1 running)")


@pytest.mark.long
def test_a_queue_of_two_never_has_three_running(api: Api, stack: LocalStack):
    jobs = [start(api, {"command": "demo:sleep", "params": ["2"], "queue": "pair"}) for _ in range(6)]
    done = [api.wait(job["id"], timeout=90) for job in jobs]
    for job in jobs:
        wait_execution_ended(stack, job)
    assert {j["state"] for j in done} == {"finished"}
    assert most_at_once(done) == 2, [(j["id"], j["started_at"], j["closed_at"]) for j in done]
    status, queues = api("GET", "/queues")
    assert status == 200
    assert {q["name"]: (q["concurrency"], q["running"]) for q in queues["items"]}["pair"] == (2, 0)


def test_the_highest_priority_starts_first_then_the_oldest(api: Api):
    # The blocker holds the queue's slot until all four wait (a timed one ended first under load,
    # 1 run in 3 with 4 workers); its cancel then frees the slot.
    blocker = start(api, {"command": "demo:sleep", "params": ["60"], "queue": "ranked"})
    api.wait(blocker["id"], until=lambda j: j["state"] == "running")
    low = start(api, {"command": "demo:echo", "params": ["low"], "queue": "ranked"})
    high = start(api, {"command": "demo:echo", "params": ["high"], "queue": "ranked", "priority": 10})
    also_low = start(api, {"command": "demo:echo", "params": ["low 2"], "queue": "ranked"})
    mid = start(api, {"command": "demo:echo", "params": ["mid"], "queue": "ranked", "priority": 5})
    for job in (low, high, also_low, mid):
        assert api.wait(job["id"], until=lambda j: bool(j["waiting"]) or j["state"] != "pending")["state"] == "pending"
    assert api("POST", f"/jobs/{blocker['id']}/cancel")[0] == 202
    done = {job["id"]: api.wait(job["id"]) for job in (low, high, also_low, mid)}
    order = sorted(done.values(), key=lambda j: j["started_at"])
    assert [j["params"][0] for j in order] == ["high", "mid", "low", "low 2"]


def test_attempts_back_off_and_each_is_its_own_job(api: Api):
    _, first = api("POST", "/job-definitions/flaky_backoff/start")
    attempts = [api.wait_run_ended(first["id"])]
    while attempts[-1]["retried_by"]:
        attempts.append(api.wait_run_ended(attempts[-1]["retried_by"]))
    assert [(a["attempt"], a["state"], a["trigger"]) for a in attempts] == [
        (1, "failed", "api"),
        (2, "failed", "retry"),
        (3, "finished", "retry"),
    ]
    assert attempts[1]["retry_of"] == attempts[0]["id"] and attempts[2]["retry_of"] == attempts[1]["id"]
    assert {a["root_id"] for a in attempts} == {first["id"]}
    # Back-off 1 s, then 2 s: never sooner.
    assert (at(attempts[1]["started_at"]) - at(attempts[0]["closed_at"])).total_seconds() >= 1
    assert (at(attempts[2]["started_at"]) - at(attempts[1]["closed_at"])).total_seconds() >= 2
    assert api.output(attempts[0]["id"], stream="stdout")[0] == "attempt 1: calling the flaky remote system"
    assert api.output(attempts[2]["id"])[-1] == "the remote system answered"


def test_dependents_start_after_the_attempt_that_finished(api: Api):
    _, first = api("POST", "/job-definitions/flaky_then_index/start")
    failed = api.wait_run_ended(first["id"])
    assert failed["state"] == "failed" and failed["retried_by"]
    dependent_id = first["dependents"][0]
    assert api.job(dependent_id)["state"] == "pending", "dependents wait for the last attempt"
    second = api.wait_run_ended(failed["retried_by"])
    assert second["state"] == "finished" and second["dependents"] == [dependent_id]
    dependent = api.wait(dependent_id)
    assert dependent["state"] == "finished"
    assert dependent["started_at"] >= second["closed_at"]


def test_dependents_are_canceled_only_when_the_last_attempt_did_not_finish(api: Api):
    _, first = api("POST", "/job-definitions/always_fails/start")
    assert api.wait_run_ended(first["id"])["state"] == "failed"
    dependent_id = first["dependents"][0]
    assert api.job(dependent_id)["state"] == "pending"
    last = api.wait_run_ended(api.job(first["id"])["retried_by"])
    assert (last["attempt"], last["state"], last["retried_by"]) == (2, "failed", None)
    dependent = api.wait(dependent_id)
    assert dependent["state"] == "canceled" and last["id"] in dependent["reason"]


def test_canceling_a_failed_attempt_cancels_its_pending_retry(api: Api):
    _, first = api("POST", "/job-definitions/slow_retry/start")
    failed = api.wait(first["id"], until=lambda j: bool(j["retried_by"]))
    retry = api.job(failed["retried_by"])
    assert retry["state"] == "pending" and retry["run_at"] and retry["waiting"].startswith("attempt 2 of 3 at ")
    status, canceled = api("POST", f"/jobs/{first['id']}/cancel")
    assert status == 202 and canceled["id"] == retry["id"] and canceled["state"] == "canceled"
    assert api.job(retry["id"])["retried_by"] is None


def test_a_delayed_job_waits_for_its_time_and_starts_right_then(api: Api):
    job = start(api, {"command": "demo:echo", "params": ["later"], "delay": "3 s"})
    assert job["state"] == "pending" and job["run_at"] and job["waiting"] == f"delayed until {job['run_at']}"
    time.sleep(1.5)
    assert api.job(job["id"])["state"] == "pending"
    done = api.wait(job["id"])
    lag = (at(done["started_at"]) - at(job["run_at"])).total_seconds()
    assert 0 <= lag < 1, f"started {lag:.2f} s after its run_at"


def test_a_definition_starts_later_at_a_given_time(api: Api):
    run_at = datetime.fromtimestamp(time.time() + 3, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, job = api("POST", "/job-definitions/prints_html/start", {"run_at": run_at, "priority": 3})
    assert status == 202 and job["run_at"] == run_at.replace("Z", ".000Z") and job["priority"] == 3
    done = api.wait(job["id"])
    assert done["state"] == "finished" and done["started_at"] >= job["run_at"]


@pytest.mark.parametrize(
    ("path", "body", "status", "named"),
    [
        ("/jobs", {"command": "demo:echo", "queue": "nope"}, 422, "queue: no queue 'nope'"),
        ("/jobs", {"command": "demo:echo", "delay": "-5 min"}, 400, "delay"),
        ("/jobs", {"command": "demo:echo", "delay": "400 days"}, 422, "delay: at most 364 days"),
        ("/jobs", {"command": "demo:echo", "priority": 5000}, 400, "priority"),
        ("/jobs", {"command": "demo:echo", "depending_jobs": [{"command": "demo:echo", "queue": "x"}]}, 422, "queue"),
        ("/job-definitions/sleeper/start", {"run_at": "yesterday"}, 400, "run_at"),
        (
            "/job-definitions/sleeper/start",
            {"run_at": "2020-01-01T00:00:00Z"},
            422,
            "run_at: 2020-01-01T00:00:00Z is in",
        ),
        ("/job-definitions/sleeper/start", {"run_at": "0001-01-01T00:00:00+23:59"}, 422, "run_at"),
        ("/job-definitions/sleeper/start", {"run_at": "2030-01-01T00:00:00Z", "delay": "1 s"}, 400, "run_at, delay"),
        ("/job-definitions/sleeper/start", {"queue": "nope"}, 422, "queue"),
    ],
)
def test_a_bad_value_is_refused_naming_it_and_writes_nothing(api: Api, table, path, body, status, named):
    """400 if the value breaks the API's schema; 422 if only the configuration or the clock refuses it."""
    before = count_items(table)
    got, error = api("POST", path, body)
    assert got == status, error
    assert error["message"].startswith(named)
    assert count_items(table) == before


def test_a_killed_runner_gives_its_slot_back_and_its_output_ends_complete(api: Api):
    victim = start(api, {"command": "demo:sleep", "params": ["60"], "queue": "killed", "runner": "fargate"})
    api.wait(victim["id"], until=lambda j: j["state"] == "running" and bool(processes_with("JOB_ID", j["id"])))
    api.wait(victim["id"], until=lambda _: len(api("GET", f"/jobs/{victim['id']}/output")[1]["lines"]) >= 2)
    waiting = start(api, {"command": "demo:echo", "params": ["next"], "queue": "killed"})
    # It joins the line ("waiting for its turn in queue killed"), then finds the queue full and says so.
    api.wait(waiting["id"], until=lambda j: j["waiting"] == "queue killed is full (1 running)")
    # The runner's task (`python -m jobsys.runner ID`) and its command, as an out-of-memory kill would.
    runner = {pid for pid in _all_pids() if b"jobsys.runner\x00" + victim["id"].encode() in _cmdline(pid)}
    assert runner
    for pid in runner | processes_with("JOB_ID", victim["id"]):
        os.kill(pid, signal.SIGKILL)
    assert api.wait(victim["id"])["state"] == "incomplete"
    assert api.wait(waiting["id"])["state"] == "finished"
    # No runner was left to save its output: what the stream captured is kept, and the output ends.
    captured = api.output(victim["id"])
    assert captured[:2] == ["sleeping 60 s", "second 1/60"]
    status, page = api("GET", f"/jobs/{victim['id']}/output")
    assert status == 200 and page["complete"] is True and page["lines"] == captured


def _all_pids() -> set[int]:
    return {int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()}


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read()
    except OSError:
        return b""


def test_a_canceled_waiting_job_ends_its_execution_at_once(api: Api, stack: LocalStack):
    # The blocker runs until it is canceled: a timed one could end first under load.
    blocker = start(api, {"command": "demo:sleep", "params": ["60"], "queue": "serial"})
    api.wait(blocker["id"], until=lambda j: j["state"] == "running")
    waiting = start(api, {"command": "demo:echo", "queue": "serial"})
    api.wait(waiting["id"], until=lambda j: bool(j["waiting"]))
    status, canceled = api("POST", f"/jobs/{waiting['id']}/cancel")
    assert status == 202 and canceled["state"] == "canceled" and canceled["waiting"] is None
    wait_execution_ended(stack, waiting, timeout=10)
    assert api.job(blocker["id"])["state"] == "running"
    assert api("POST", f"/jobs/{blocker['id']}/cancel")[0] == 202


def test_schedules_follow_jobs_yaml_and_a_fire_is_a_normal_start(api: Api, stack: LocalStack):
    scheduler = stack.client("scheduler")
    group = f"{stack.stack_name}-jobs"
    schedules = {s["Name"]: scheduler.get_schedule(Name=s["Name"], GroupName=group) for s in
                 scheduler.list_schedules(GroupName=group)["Schedules"]}  # fmt: skip
    assert set(schedules) == {"nightly_import", "hourly_export"}
    nightly = schedules["nightly_import"]
    assert (nightly["ScheduleExpression"], nightly["ScheduleExpressionTimezone"]) == (
        "cron(0 2 * * ? *)",
        "Europe/Berlin",
    )
    assert nightly["Target"]["Arn"].endswith(stack.physical_id("JobStateFunction"))
    assert schedules["hourly_export"]["ScheduleExpression"] == "rate(1 hour)"

    _, definitions = api("GET", "/job-definitions")
    by_key = {d["key"]: d for d in definitions["items"]}
    assert by_key["nightly_import"]["schedule"] == {"cron": "0 2 * * *", "timezone": "Europe/Berlin"}
    next_run = at(by_key["nightly_import"]["next_run_at"])
    assert next_run > datetime.now(UTC) and next_run.minute == 0 and next_run.hour in (0, 1)  # 02:00 Berlin
    assert by_key["hourly_export"]["next_run_at"] and by_key["sleeper"]["next_run_at"] is None

    # What Scheduler sends at 02:00, with the time it was due filled in.
    fire = json.loads(nightly["Target"]["Input"].replace("<aws.scheduler.scheduled-time>", "2026-11-30T01:00:00Z"))
    started = stack.invoke("JobStateFunction", fire)
    job = api.job(started["job_id"])
    assert (job["trigger"], job["definition"], job["queue"]) == ("schedule", "nightly_import", "serial")
    assert job["started_by"] == "schedule"
    assert stack.invoke("JobStateFunction", fire)["job_id"] is None, "a repeated delivery starts nothing"
    api.wait(job["id"], until=lambda j: j["state"] == "running")
    # overlap: skip - the next fire while this run is open is recorded as skipped, with the reason.
    later = {**fire, "scheduled_at": "2026-12-01T01:00:00Z"}
    skipped = api.job(stack.invoke("JobStateFunction", later)["job_id"])
    assert skipped["state"] == "skipped" and skipped["trigger"] == "schedule" and skipped["started_by"] == "schedule"
    assert skipped["reason"] == f"skipped: job {job['id']} of this definition is still running"
    assert api.wait(job["id"])["state"] == "finished"


def test_the_clean_up_gives_back_a_slot_that_was_never_given_back(api: Api, stack: LocalStack, table):
    ended = api.wait(start(api, {"command": "demo:echo", "queue": "serial"})["id"])
    wait_execution_ended(stack, ended)
    # As if its execution had died between the end of its run and giving the slot back.
    table.update_item(
        Key={"pk": "QUEUE#serial", "sk": "QUEUE"},
        UpdateExpression="ADD running :one, holders :id",
        ExpressionAttributeValues={":one": 1, ":id": {ended["id"]}},
    )
    waiting = start(api, {"command": "demo:echo", "params": ["after the repair"], "queue": "serial"})
    assert api.wait(waiting["id"], until=lambda j: bool(j["waiting"]))["state"] == "pending"
    report = stack.invoke("CleanUpFunction", {"per_call": 1, "max_retention": "7 days"})
    assert ended["id"] in report["slots_given_back"]
    assert api.wait(waiting["id"])["state"] == "finished"
