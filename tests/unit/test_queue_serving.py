"""A limited queue's line, served with an in-process store and Step Functions that fail as AWS can."""

from typing import Any

from botocore.exceptions import ClientError

from jobsys.config import Queue
from jobsys.models import Job, JobState, QueueState
from jobsys.store import wait_order
from jobsys.system import JobSystem


class _Store:
    """One queue's counter and line, with the store's conditional semantics."""

    def __init__(self):
        self.holders: set[str] = set()
        self.line: dict[str, tuple[Job, str]] = {}

    def waiting_in(self, queue: str, limit: int) -> list[tuple[Job, str]]:
        return sorted(self.line.values(), key=lambda entry: wait_order(entry[0]))[:limit]

    def queue_item(self, queue: str) -> QueueState:
        return QueueState(running=len(self.holders), holders=frozenset(self.holders))

    def take_slot(self, queue: str, job_id: str, limit: int):
        if job_id in self.holders:
            return "held"
        if len(self.holders) >= limit:
            return False
        self.holders.add(job_id)
        return "new"

    def release_slot(self, queue: str, job_id: str) -> bool:
        if job_id not in self.holders:
            return False
        self.holders.discard(job_id)
        return True

    def claim(self, job: Job, token: str) -> bool:
        return self.line.pop(job.id, (None, None))[1] == token


class _StepFunctions:
    class exceptions:
        class TaskTimedOut(Exception): ...

        class TaskDoesNotExist(Exception): ...

        class InvalidToken(Exception): ...

    def __init__(self, failures: int):
        self.failures = failures
        self.answered: list[str] = []

    def send_task_success(self, taskToken: str, output: str) -> None:
        if self.failures:
            self.failures -= 1
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "SendTaskSuccess")
        self.answered.append(taskToken)


def _job(job_id: str, priority: int) -> Job:
    return Job.model_construct(id=job_id, priority=priority, state=JobState.PENDING, queue="imports")


def test_a_job_whose_answer_was_lost_is_served_first_and_both_jobs_finish():
    """Concurrency 1. J is claimed, but the answer to its execution fails: J holds the slot. A job X
    of higher priority joins the line; J's wait times out and J asks again, behind X. X cannot take
    the slot that J holds: J must go first, or neither ever runs."""
    store, sfn = _Store(), _StepFunctions(failures=1)
    system = JobSystem(config=Any, store=store, output=Any, sfn=sfn, settings=Any)  # type: ignore[arg-type]
    queue = Queue(name="imports", concurrency=1)
    j, x = _job("01J00000000000000000000000", priority=0), _job("01X00000000000000000000000", priority=5)
    store.line[j.id] = (j, "token-j-1")
    assert system.serve_queue(queue) == [j.id]  # claimed; the answer failed and was logged
    assert sfn.answered == [] and store.holders == {j.id}
    store.line[x.id] = (x, "token-x")
    store.line[j.id] = (j, "token-j-2")  # J's execution asks again, after its wait timed out
    assert system.serve_queue(queue) == [j.id]
    assert sfn.answered == ["token-j-2"]
    store.release_slot(queue.name, j.id)  # J ran and ended
    assert system.serve_queue(queue) == [x.id]
    assert sfn.answered == ["token-j-2", "token-x"]


class _RacingStore(_Store):
    """Another waker serves the line between this one's take_slot and its claim of the first job."""

    def __init__(self):
        super().__init__()
        self.closed: set[str] = set()
        self.other_waker = None

    def claim(self, job: Job, token: str) -> bool:
        if self.other_waker is not None:
            other, self.other_waker = self.other_waker, None
            other()
        return super().claim(job, token)

    def is_claimed(self, job_id: str) -> bool:
        return job_id not in self.line and job_id not in self.closed


def test_a_slot_taken_for_a_job_that_another_waker_claimed_first_stays_the_job_s():
    """Concurrency 2, two wakers at once (two jobs ending, or two joining the line). Waker A takes
    a new slot for J. Waker B read the line before, finds J's slot held and claims J first. A's own
    claim then fails, but the slot is the one J runs in: given back, it let a third job of a queue
    of two run beside them (seen in the integration tests under load)."""
    store, sfn = _RacingStore(), _StepFunctions(failures=0)
    system = JobSystem(config=Any, store=store, output=Any, sfn=sfn, settings=Any)  # type: ignore[arg-type]
    queue = Queue(name="imports", concurrency=2)
    j, k = _job("01J00000000000000000000000", priority=0), _job("01K00000000000000000000000", priority=0)
    store.line[j.id] = (j, "token-j")
    store.other_waker = lambda: system.serve_queue(queue)  # B, inside A's claim of J
    assert system.serve_queue(queue) == []  # A: J was B's to start
    assert sfn.answered == ["token-j"]
    assert store.holders == {j.id}, "J runs without a slot"
    store.line[k.id] = (k, "token-k")
    assert system.serve_queue(queue) == [k.id]
    store.line["01L00000000000000000000000"] = (_job("01L00000000000000000000000", priority=0), "token-l")
    assert system.serve_queue(queue) == [], "a third job runs in a queue of two"


def test_a_slot_taken_for_a_job_closed_meanwhile_is_given_back():
    store, sfn = _RacingStore(), _StepFunctions(failures=0)
    system = JobSystem(config=Any, store=store, output=Any, sfn=sfn, settings=Any)  # type: ignore[arg-type]
    queue = Queue(name="imports", concurrency=1)
    j = _job("01J00000000000000000000000", priority=0)
    store.line[j.id] = (j, "token-j")

    def cancel() -> None:  # canceled while waker A served the line: out of it, and closed
        store.line.pop(j.id)
        store.closed.add(j.id)

    store.other_waker = cancel
    assert system.serve_queue(queue) == []
    assert store.holders == set() and sfn.answered == []
