"""Job State Change events: what they say, and that a failed put never fails the change."""

import json

from botocore.exceptions import ClientError

from jobsys.events import JobEvents, PageUrl, detail, last_attempt
from jobsys.models import Job, JobState
from jobsys.spec.options import RetryPolicy


def _job(state: JobState, attempt: int = 1, max_attempts: int = 3, params: list[str] | None = None) -> Job:
    return Job(
        id="01JOB0000000000000000000AA", command="demo:fail", params=params or ["7"], state=state, label="Check",
        root_id="01JOB0000000000000000000AA", created_at="2026-11-30T06:00:00Z", max_runtime=60, attempt=attempt,
        retries=RetryPolicy(max_attempts=max_attempts),
    )  # fmt: skip


def test_only_an_attempt_that_nothing_follows_is_the_last():
    assert not last_attempt(_job(JobState.FAILED, attempt=2))
    assert last_attempt(_job(JobState.FAILED, attempt=3))
    assert last_attempt(_job(JobState.CANCELED, attempt=1))  # a cancel is never tried again
    assert last_attempt(_job(JobState.FINISHED))
    assert not last_attempt(_job(JobState.RUNNING, attempt=3))


def test_the_detail_links_the_job_and_leaves_out_params_too_large_for_an_event():
    small = detail(_job(JobState.FAILED), JobState.RUNNING, "https://page.example/v1/")
    assert (small["previous_state"], small["state"], small["params"]) == ("running", "failed", ["7"])
    assert small["link"] == "https://page.example/v1/#job-01JOB0000000000000000000AA"
    large = detail(_job(JobState.PENDING, params=["x" * 1000] * 300), None, None)
    assert (large["params"], large["params_omitted"], large["link"]) == ([], True, None)
    assert len(json.dumps(large)) < 10_000


class _EventBridge:
    def __init__(self, fail: bool):
        self.fail = fail
        self.batches: list[list[dict]] = []

    def put_events(self, Entries: list[dict]) -> dict:
        if self.fail:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "PutEvents")
        self.batches.append(Entries)
        return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure"}] + [{}] * (len(Entries) - 1)}


def test_changes_go_in_batches_of_ten_and_what_is_not_put_is_handed_back_in_order(caplog):
    bridge = _EventBridge(fail=False)
    changes = [(_job(JobState.PENDING, params=[str(n)]), None) for n in range(23)]
    unsent = JobEvents(bridge, "jobs.test", lambda: None).put(changes)
    # The first entry of every request is refused: after 3 tries of the first request, it and
    # every later change go back to the stream, and no later request is made meanwhile.
    assert [len(batch) for batch in bridge.batches] == [10, 1, 1]
    assert {entry["Source"] for batch in bridge.batches for entry in batch} == {"jobs.test"}
    assert [job.params for job, _ in unsent] == [[str(n)] for n in [0, *range(10, 23)]]
    failing = [(_job(JobState.FAILED), JobState.RUNNING)]
    assert JobEvents(_EventBridge(fail=True), "jobs.test", lambda: None).put(failing) == failing
    assert "could not put job state change events" in caplog.text


class _SizedEventBridge:
    """EventBridge's own limits: 10 entries and 256 KB a request (each entry's source, detail type
    and detail counted in UTF-8 bytes); a larger request is refused whole. The first try of each
    entry fails with InternalFailure when `flaky`."""

    def __init__(self, flaky: bool = False):
        self.flaky = flaky
        self.tried: set[str] = set()
        self.put: list[dict] = []
        self.requests = 0

    def put_events(self, Entries: list[dict]) -> dict:
        self.requests += 1
        size = sum(len((e["Source"] + e["DetailType"] + e["Detail"]).encode()) for e in Entries)
        if len(Entries) > 10 or size > 256 * 1024:
            raise ClientError({"Error": {"Code": "ValidationException", "Message": "over the limit"}}, "PutEvents")
        answers = []
        for entry in Entries:
            if self.flaky and entry["Detail"] not in self.tried:
                self.tried.add(entry["Detail"])
                answers.append({"ErrorCode": "InternalFailure", "ErrorMessage": "try again"})
            else:
                self.put.append(entry)
                answers.append({"EventId": str(len(self.put))})
        return {"FailedEntryCount": sum("ErrorCode" in a for a in answers), "Entries": answers}


def test_large_events_go_in_batches_within_256_kb_and_none_is_lost():
    """Fault 10: batched by count alone, ten 30 KB events made a 300 KB request, refused whole: a
    tree's `created` events were all lost, and only logged."""
    jobs = [(_job(JobState.PENDING, params=[f"{n}" + "x" * 30_000]), None) for n in range(10)]
    bridge = _SizedEventBridge()
    assert JobEvents(bridge, "jobs.test", lambda: None).put(jobs) == []
    assert len(bridge.put) == 10


def test_entries_that_eventbridge_refused_are_tried_again(caplog):
    bridge = _SizedEventBridge(flaky=True)
    unsent = JobEvents(bridge, "jobs.test", lambda: None).put(
        [(_job(JobState.PENDING, params=[str(n)]), None) for n in range(3)]
    )
    assert len(bridge.put) == 3 and unsent == []


class _Ssm:
    class exceptions:
        class ParameterNotFound(Exception): ...

    def __init__(self, *answers):
        self.answers = list(answers)
        self.reads = 0

    def get_parameter(self, Name: str) -> dict:
        self.reads += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return {"Parameter": {"Value": answer}}


def test_the_pages_url_is_read_once_and_a_failed_read_is_tried_again():
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": ""}}, "GetParameter")
    ssm = _Ssm(throttled, "https://page.example/v1/")
    url = PageUrl(ssm, "/stack/page-url")
    assert (url(), url(), url(), ssm.reads) == (None, "https://page.example/v1/", "https://page.example/v1/", 2)
    missing = _Ssm(_Ssm.exceptions.ParameterNotFound())
    without = PageUrl(missing, "/stack/page-url")
    assert (without(), without(), missing.reads) == (None, None, 1)
