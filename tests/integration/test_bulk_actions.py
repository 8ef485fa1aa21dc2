"""Bulk actions: a dry run counts the jobs of a filter, the action names that count, and its own
execution acts on them a page at a time, each by the transition it would get alone."""

import time

import pytest

from jobsys.ids import new_job_id
from jobsys.models import Job, JobState, iso, utc_now
from jobsys.spec.limits import API_GATEWAY_TIMEOUT
from tests.integration.conftest import Api

pytestmark = pytest.mark.integration


def wait_bulk(api: Api, bulk_id: str, until, timeout: float = 120, every: float = 0.3) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status, action = api("GET", f"/bulk-actions/{bulk_id}")
        assert status == 200, action
        if until(action):
            return action
        assert time.monotonic() < deadline, action
        time.sleep(every)


def recorded_pending(system, queue: str, count: int) -> list[Job]:
    """Jobs recorded pending in a queue of their own, as a start records them, without executions."""
    now = utc_now()
    jobs = []
    for _ in range(count):
        job_id = new_job_id()
        jobs.append(Job(
            id=job_id, command="demo:echo", params=[], state=JobState.PENDING, label="bulk", root_id=job_id,
            created_at=iso(now), queue=queue,
        ))  # fmt: skip
    for start in range(0, len(jobs), 100):
        system.store.create(jobs[start : start + 100])
    return jobs


def test_a_bulk_retry_counts_first_refuses_a_grown_set_and_replays_each_failed_job_once(api: Api):
    failed = [api("POST", "/jobs", {"command": "demo:fail", "tags": ["bulk-small"]})[1]["id"] for _ in range(3)]
    for job_id in failed:
        api.wait(job_id)
    body = {"action": "retry", "filter": {"tag": "bulk-small", "state": "failed", "since": "1h"}}
    deadline = time.monotonic() + 20
    while (counted := api("POST", "/bulk-actions", {**body, "dry_run": True}))[1].get("count") != 3:
        assert time.monotonic() < deadline, counted  # the search index follows the stream
        time.sleep(0.3)
    status, dry_run = counted
    assert status == 200 and [job["id"] for job in dry_run["sample"]] == failed[::-1]

    status, refused = api("POST", "/bulk-actions", {**body, "expect_count": 2})
    assert status == 409 and "3 jobs match now, more than the 2 expected" in refused["message"]
    status, refused = api("POST", "/bulk-actions", body)
    assert status == 400 and "expect_count" in refused["message"]

    status, action = api("POST", "/bulk-actions", {**body, "expect_count": 3}, principal="bulky")
    assert status == 202 and (action["state"], action["count"], action["created_by"]) == ("running", 3, "bulky")
    action = wait_bulk(api, action["id"], lambda a: a["state"] == "done")
    assert (action["done"], action["skipped"]) == (3, 0)
    for job_id in failed:
        (replay,) = api.job(job_id)["replays"]
        assert api.job(replay)["replay_of"] == job_id
    status, audit = api("GET", "/audit", query="actor=bulky&action=bulk-action")
    assert [r["outcome"] for r in audit["items"]] == ["started: retry of 3 job(s)"]


def test_a_viewer_may_not_act_in_bulk_and_a_bad_filter_is_refused(api: Api):
    body = {"action": "cancel", "filter": {"state": "pending"}, "dry_run": True}
    assert api("POST", "/bulk-actions", body, role="viewer", principal="vera")[0] == 403
    status, refused = api("POST", "/bulk-actions", {**body, "filter": {"since": "yesterday"}})
    assert status == 422 and "since" in refused["message"]
    status, refused = api("POST", "/bulk-actions", {**body, "action": "explode"})
    assert status == 400
    # Found by the fuzz: a year before 1970 (no job is older), and a duration reaching before year 1.
    status, counted = api("POST", "/bulk-actions", {**body, "filter": {"since": "0071-09-08T02:53:59Z", "until": "1h"}})
    assert status == 200 and counted["count"] >= 0
    assert api("POST", "/bulk-actions", {**body, "filter": {"since": "9999999 weeks"}})[0] == 422
    assert api("GET", "/audit", query="until=")[0] == 422
    assert api("POST", "/bulk-actions", {**body, "dry_run": 0})[0] == 400
    assert api("GET", "/bulk-actions/01ARZ3NDEKTSV4RRFFQ69G5FAV")[0] == 404


@pytest.mark.long
def test_a_bulk_cancel_of_2000_jobs_stopped_and_resumed_acts_on_each_job_once(api: Api, system):
    queue = "bulk-2000"  # only this test's jobs
    jobs = recorded_pending(system, queue, 2000)

    def timed(method: str, path: str, body=None):
        began = time.monotonic()
        answer = api(method, path, body)
        assert time.monotonic() - began < API_GATEWAY_TIMEOUT, (path, time.monotonic() - began)
        return answer

    body = {"action": "cancel", "filter": {"queue": queue, "state": "pending"}}
    status, dry_run = timed("POST", "/bulk-actions", {**body, "dry_run": True})
    assert status == 200 and dry_run["count"] == 2000
    status, action = timed("POST", "/bulk-actions", {**body, "expect_count": 2000})
    assert status == 202
    wait_bulk(api, action["id"], lambda a: a["done"] >= 300)
    status, _ = timed("POST", f"/bulk-actions/{action['id']}/stop")
    assert status == 202
    stopped = wait_bulk(api, action["id"], lambda a: a["state"] == "stopped")
    assert 300 <= stopped["done"] < 2000
    time.sleep(1)
    assert timed("GET", f"/bulk-actions/{action['id']}")[1]["done"] == stopped["done"]  # it stays stopped
    status, resumed = timed("POST", f"/bulk-actions/{action['id']}/resume")
    assert status == 202 and resumed["generation"] == 2
    done = wait_bulk(api, action["id"], lambda a: a["state"] == "done", timeout=300, every=2)
    # Each cancel is a conditional transition from pending: one made twice would fail, and count as skipped.
    assert (done["done"], done["skipped"]) == (2000, 0)
    left = system.store.get_many([job.id for job in jobs[:100]])
    assert {job.state for job in left.values()} == {JobState.CANCELED}
    assert all(f"bulk action {action['id']}" in (job.canceled_by or "") for job in left.values())


def test_a_bulk_actions_record_is_in_no_index_of_jobs(api: Api, table):
    """Its state and id are not a job's: the clean-up, which walks the running jobs, met it once."""
    from boto3.dynamodb.conditions import Key

    _, action = api(
        "POST", "/bulk-actions", {"action": "cancel", "filter": {"queue": "nothing-here"}, "expect_count": 0}
    )
    for state in ("running", "done", "stopped"):
        items = table.query(IndexName="by_state", KeyConditionExpression=Key("state").eq(state))["Items"]
        assert not [item for item in items if item["pk"].startswith("BULK#")]
    assert api("GET", "/jobs", query="state=running")[0] == 200
    assert api("POST", "/clean-up", {"per_call": 1, "max_retention": "7 days"})[0] == 200
    assert wait_bulk(api, action["id"], lambda a: a["state"] == "done")["count"] == 0


def test_a_count_takes_the_jobs_from_an_index_that_holds_them_whole(system):
    """A count read every page twice, the index and then each job's record: on a loaded machine a
    start's count of 2,000 jobs went over its 15 s budget (a 422) after its dry run had counted them."""
    from collections import Counter

    from jobsys.filters import JobFilter
    from jobsys.spec.bulk import BulkRequest

    queue = "count-from-index"
    jobs = recorded_pending(system, queue, 150)
    calls: Counter[str] = Counter()
    clients = {id(c): c for c in (system.store.client, system.store.table.meta.client)}.values()
    for client in clients:
        client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
    counted = system.dry_run(BulkRequest(action="cancel", filter=JobFilter(queue=queue, state="pending"), dry_run=True))
    assert (counted.count, calls["BatchGetItem"], calls["Query"]) == (150, 0, 2)
    assert {job.id for job in counted.sample} <= {job.id for job in jobs}
