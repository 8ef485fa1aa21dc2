"""What a job used: its peak memory and CPU time, measured from the command's own rusage."""

import math
import statistics
import time
from datetime import UTC, datetime

import pytest

from tests.integration.conftest import Api

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("runner", ["lambda", "fargate"])
def test_a_job_records_the_peak_memory_and_cpu_time_of_its_command(api: Api, runner):
    status, job = api("POST", "/jobs", {"command": "demo:alloc", "params": ["200", "0.5"], "runner": runner})
    assert status == 202, job
    done = api.wait(job["id"])
    assert done["state"] == "finished", done
    assert 200 <= done["peak_memory_mb"] <= 240, done["peak_memory_mb"]  # the interpreter adds its own ~15 MB
    assert 0 < done["cpu_seconds"] < done["runtime"] + 1


def test_a_small_command_reports_a_small_peak(api: Api):
    # It holds on for a second: the peak comes from the runner's looks at /proc, and a command
    # that has ended before the first one has none to report (null; failed 1 run in 3 under load).
    _, job = api("POST", "/jobs", {"command": "demo:alloc", "params": ["0", "1"]})
    done = api.wait(job["id"])
    assert done["state"] == "finished" and 5 < done["peak_memory_mb"] < 60, done["peak_memory_mb"]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_progress_lines_are_kept_on_the_running_job_and_give_its_expected_end(api: Api):
    _, job = api("POST", "/jobs", {"command": "demo:sleep", "params": ["6"]})
    running = api.wait(job["id"], until=lambda j: (j["progress"] or {}).get("done", 0) >= 2, timeout=30)
    assert running["state"] == "running" and running["progress"]["total"] == 6
    assert running["expected_end_from"] == "progress"
    # 1 s a step: the rest takes (6 - done) s from now, give or take the write interval.
    left = (at(running["expected_end_at"]) - datetime.now(UTC)).total_seconds()
    assert 6 - running["progress"]["done"] - 3 < left < 6 - running["progress"]["done"] + 2, left
    done = api.wait(job["id"])
    assert done["progress"] == {"done": 6, "total": 6}
    lines = api.output(job["id"])
    assert "second 6/6" in lines and not any(line.startswith("PROGRESS") for line in lines)


@pytest.mark.long
def test_a_job_without_progress_lines_expects_the_median_of_its_last_finished_runs(api: Api):
    for _ in range(3):
        _, job = api("POST", "/jobs", {"command": "demo:alloc", "params": ["0", "1.5"]})
        api.wait(job["id"])
    _, history = api("GET", "/jobs", query="command=demo:alloc&state=finished&limit=20")
    median = statistics.median(j["runtime"] for j in history["items"])
    _, job = api("POST", "/jobs", {"command": "demo:alloc", "params": ["0", "1.5"]})
    # Read beside the command, once it has run for a second: a shorter one needs no estimate.
    running = api.wait(job["id"], until=lambda j: j["expected_end_from"] is not None or j["state"] == "finished")
    assert running["expected_end_from"] == "history" and running["progress"] is None
    expected = (at(running["expected_end_at"]) - at(running["started_at"])).total_seconds()
    assert abs(expected - median) < 0.002, (expected, median)
    api.wait(job["id"])


def nearest_rank(values: list[float], share: float) -> float | None:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else None


def test_stats_of_a_definition_match_the_jobs_behind_them(api: Api):
    _, first = api("POST", "/job-definitions/flaky_then_index/start")
    failed = api.wait_run_ended(first["id"])
    assert api.wait(failed["retried_by"])["state"] == "finished"
    status, stats = api("GET", "/stats", query="definition=flaky_then_index")
    assert status == 200 and stats["definition"] == "flaky_then_index"
    ids = [point["id"] for point in stats["series"]]
    assert ids == sorted(ids) and {first["id"], failed["retried_by"]} <= set(ids)  # oldest first
    jobs = [api.job(job_id) for job_id in ids]
    assert [job["definition"] for job in jobs] == ["flaky_then_index"] * len(jobs)
    assert stats["runs"] == len(jobs) and sum(stats["states"].values()) == len(jobs)
    for state in {job["state"] for job in jobs}:
        assert stats["states"][state] == sum(job["state"] == state for job in jobs)
    judged = [job for job in jobs if job["state"] in ("finished", "failed", "terminated", "incomplete")]
    assert stats["success_rate"] == round(sum(job["state"] == "finished" for job in judged) / len(judged), 4)
    runtimes = [job["runtime"] for job in jobs if job["runtime"] is not None]
    assert stats["runtime"] == {
        "p50": nearest_rank(runtimes, 0.5),
        "p95": nearest_rank(runtimes, 0.95),
        "max": max(runtimes),
    }
    # A run too short for the runner's first look has no peak (under load, none of them may have one).
    memory = [job["peak_memory_mb"] for job in jobs if job["peak_memory_mb"] is not None]
    assert stats["peak_memory_mb"] == {"p50": nearest_rank(memory, 0.5), "max": max(memory, default=None)}
    newest = lambda states: max((j["closed_at"] for j in jobs if j["state"] in states), default=None)  # noqa: E731
    assert stats["last_success_at"] == newest({"finished"})
    assert stats["last_failure_at"] == newest({"failed", "terminated", "incomplete"})
    assert [(p["state"], p["runtime"], p["created_at"]) for p in stats["series"]] == [
        (j["state"], j["runtime"], j["created_at"]) for j in jobs
    ]


def test_stats_of_a_command_cover_its_last_n_runs(api: Api):
    for _ in range(3):
        _, job = api("POST", "/jobs", {"command": "demo:alloc", "params": ["0", "0"]})
        api.wait(job["id"])
    _, listing = api("GET", "/jobs", query="command=demo:alloc&limit=3")
    status, stats = api("GET", "/stats", query="command=demo:alloc&runs=3")
    assert status == 200 and stats["runs"] == 3 and stats["command"] == "demo:alloc"
    assert [p["id"] for p in stats["series"]] == [j["id"] for j in reversed(listing["items"])]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("", 422),
        ("definition=import_solr&command=demo:echo", 422),
        ("definition=nope", 404),
        ("command=demo:echo&runs=501", 400),
        ("command=demo:echo&runs=0", 400),
        ("command=", 400),
    ],
)
def test_bad_stats_requests_are_refused(api: Api, query, status):
    got, error = api("GET", "/stats", query=query)
    assert got == status and error["message"], error


@pytest.mark.parametrize(
    ("runner", "size"), [("lambda", {"memory_mb": 1024}), ("fargate", {"memory_mb": 2048, "cpu_units": 1024})]
)
def test_a_run_records_what_it_is_billed_for_and_its_command_s_stats_price_it(api: Api, runner, size):
    command = "demo:alloc"
    _, before = api("GET", "/stats", query=f"command={command}")
    _, job = api("POST", "/jobs", {"command": command, "params": ["0", "0.2"], "runner": runner})
    done = api.wait(job["id"], timeout=120)
    usage = done["usage"]
    assert {key: usage[key] for key in size} == size and usage["runner"] == runner
    # Lambda bills the invocation, which holds the run; Fargate the task by the second, a minute at least.
    assert usage["billed_ms"] >= (60_000 if runner == "fargate" else done["runtime"] * 1000)
    assert usage["transitions"] == (4 if runner == "lambda" else 6)
    # The run is added to its day from the table's stream, a moment after its close.
    deadline = time.monotonic() + 10
    while True:
        _, after = api("GET", "/stats", query=f"command={command}")
        cost = after["cost"]
        if cost["runs"] > before["cost"]["runs"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    # Other tests' runs of the command may end meanwhile (a canceled one counts too): at least this one.
    # tests/unit/test_system_in_process.py counts exactly, with no one else about.
    assert cost["runs"] > before["cost"]["runs"] and cost["days"] >= 1
    assert (cost["region"], cost["prices_as_of"]) == ("us-east-1", "2026-11-29")
    assert 0 < cost["per_run"] < 0.01 and cost["in_30_days"] >= cost["per_run"]
