"""The clean-up: `jms-job-queue:clean-up --per-call --max-retention` semantics."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from jobs_local.stack import LocalStack
from jobsys.cleanup import CleanUpPolicy, clean_up
from jobsys.ids import new_job_id
from jobsys.models import Job, JobState, iso, utc_now
from jobsys.store import JobStore
from jobsys.system import JobSystem
from tests.integration.conftest import Api
from tests.planting import plant

pytestmark = pytest.mark.integration
EVENTS = Path(__file__).resolve().parents[2] / "events"


def _s3_has_output(stack: LocalStack, job_id: str) -> bool:
    try:
        stack.client("s3").head_object(Bucket=stack.physical_id("OutputBucket"), Key=f"output/{job_id}.log")
    except ClientError:
        return False
    return True


def test_clean_up_deletes_per_call_closed_jobs_oldest_first_and_never_an_open_one(
    api: Api, stack: LocalStack, system: JobSystem
):
    closed = []
    for word in ("one", "two", "three"):
        _, job = api("POST", "/jobs", {"command": "demo:echo", "params": [word]})
        closed.append(api.wait(job["id"]))
    _, running = api("POST", "/jobs", {"command": "demo:sleep", "params": ["20"]})
    try:
        api.wait(running["id"], until=lambda j: j["state"] == "running")
        assert _s3_has_output(stack, closed[0]["id"])
        later = utc_now() + timedelta(seconds=2)  # a clock, not a sleep: all of them are older than 1 s then

        seen_deleted = []
        for _ in range(3):
            report = clean_up(system, CleanUpPolicy.parse(1, "1 sec"), now=later)
            assert len(report.deleted) == 1
            seen_deleted += report.deleted
        assert running["id"] not in seen_deleted
        assert api.job(running["id"])["state"] == "running"

        # Everything older than ours went first, so ours are gone by the time the run reached them,
        # or remain: what was deleted is really gone, with its output.
        for job_id in seen_deleted:
            status, _ = api("GET", f"/jobs/{job_id}")
            assert status == 404
            assert not _s3_has_output(stack, job_id)
    finally:
        api("POST", f"/jobs/{running['id']}/cancel")


def test_a_parent_with_an_open_dependent_is_kept(api: Api, system: JobSystem):
    _, job = api(
        "POST",
        "/jobs",
        {"command": "demo:echo", "params": ["p"], "depending_jobs": [{"command": "demo:sleep", "params": ["8"]}]},
    )
    child_id = job["dependents"][0]
    try:
        api.wait(job["id"])
        api.wait(child_id, until=lambda j: j["state"] == "running")
        report = clean_up(system, CleanUpPolicy.parse(1000, "1 sec"), now=utc_now() + timedelta(seconds=2))
        assert job["id"] in report.kept_for_open_dependents
        assert api.job(job["id"])["state"] == "finished"
        assert api.job(child_id)["state"] == "running"
    finally:
        api("POST", f"/jobs/{child_id}/cancel")


def test_retention_keeps_young_jobs(api: Api):
    _, job = api("POST", "/jobs", {"command": "demo:echo", "params": ["young"]})
    api.wait(job["id"])
    status, report = api("POST", "/clean-up", {"per_call": 1000, "max_retention": "1 hour"})
    assert status == 200 and job["id"] not in report["deleted"]
    assert api.job(job["id"])["state"] == "finished"


def test_the_scheduled_function_closes_jobs_whose_execution_died(stack: LocalStack):
    """A running job whose execution is gone can never report: the clean-up marks it incomplete.

    Its runner beat a moment ago: else the stack's heartbeat check, every minute, could end it first
    (it failed a fresh-clone run so, when the clean-up's worker started cold)."""
    store = JobStore(stack.session().resource("dynamodb").Table(stack.physical_id("JobsTable")))
    job_id = new_job_id()
    created = utc_now() - timedelta(minutes=10)
    plant(
        store,
        [
            Job(
                id=job_id,
                command="demo:echo",
                params=[],
                state=JobState.RUNNING,
                label="orphan",
                root_id=job_id,
                created_at=iso(created),
                started_at=iso(created),
                heartbeat_at=iso(utc_now()),
                execution_arn=stack.physical_id("JobStateMachine").replace(":stateMachine:", ":execution:")
                + ":"
                + job_id,
                max_runtime=60,
            )
        ],
    )
    event = json.loads((EVENTS / "cleanup.json").read_text())
    report = stack.invoke("CleanUpFunction", event)
    assert job_id in report["marked_incomplete"]
    job = store.get(job_id)
    assert job.state == JobState.INCOMPLETE
    assert "never started" in job.reason


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"per_call": 0}, 400),
        ({"max_retention": "99999999999999999999 days"}, 400),
        ({"per_call": 10, "max_retention": "soon"}, 400),
        ({"per_call": 10, "max_retention": "1 fortnight"}, 400),
    ],
)
def test_bad_clean_up_requests_are_refused(api: Api, body, status):
    got, error = api("POST", "/clean-up", body)
    assert got == status, error


def test_a_dependent_whose_finished_parent_never_started_it_is_closed(stack: LocalStack):
    """The parent finished long ago, but its dependent has no execution: it will never run."""
    store = JobStore(stack.session().resource("dynamodb").Table(stack.physical_id("JobsTable")))
    machine = stack.physical_id("JobStateMachine")
    parent_id, child_id = new_job_id(), new_job_id()
    long_ago = iso(utc_now() - timedelta(minutes=10))

    def job(job_id: str, **fields) -> Job:
        execution = machine.replace(":stateMachine:", ":execution:") + ":" + job_id
        return Job(id=job_id, command="demo:echo", params=[], label=job_id, root_id=parent_id, created_at=long_ago,
                   execution_arn=execution, max_runtime=60, **fields)  # fmt: skip

    plant(
        store,
        [
            job(parent_id, state=JobState.FINISHED, dependents=[child_id], started_at=long_ago, closed_at=long_ago),
            job(child_id, state=JobState.PENDING, parent_id=parent_id),
        ],
    )
    report = stack.invoke("CleanUpFunction", json.loads((EVENTS / "cleanup.json").read_text()))
    assert child_id in report["marked_incomplete"]
    assert store.get(child_id).state == JobState.INCOMPLETE
