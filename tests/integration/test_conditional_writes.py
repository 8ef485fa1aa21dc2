"""A job's state changes only by conditional writes, and the local stack keeps DynamoDB's promise
that each one is atomic: of racing writers, exactly one wins (jobs_local.dynamodb.atomic)."""

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from jobs_local.stack import LocalStack
from jobsys.errors import JobStateConflict
from jobsys.ids import new_job_id
from jobsys.models import Job, JobState, iso, utc_now
from jobsys.store import JobStore
from tests.planting import plant

pytestmark = pytest.mark.integration
CLOSED = [JobState.FINISHED, JobState.FAILED, JobState.CANCELED, JobState.TERMINATED, JobState.INCOMPLETE]


def _store(stack: LocalStack) -> JobStore:
    """One per writer: boto3 resources are not to be shared between threads."""
    return JobStore(stack.session().resource("dynamodb").Table(stack.physical_id("JobsTable")))


def _job(state: JobState = JobState.RUNNING) -> Job:
    job_id = new_job_id()
    return Job(id=job_id, command="demo:echo", params=[], state=state, label="race", root_id=job_id,
               created_at=iso(utc_now()), max_runtime=60)  # fmt: skip


def _race(writers: int, write: Callable[[int], object]) -> list[object]:
    """Runs `write(i)` on `writers` threads released at the same instant."""
    start = threading.Barrier(writers)

    def run(i: int) -> object:
        start.wait()
        return write(i)

    with ThreadPoolExecutor(writers) as pool:
        return list(pool.map(run, range(writers)))


def _reopen(store: JobStore, job: Job) -> None:
    """Resets the race (test only): the job as it was, so that every index sees it running again."""
    store.table.delete_item(Key={"pk": f"JOB#{job.id}", "sk": "JOB"})
    plant(store, [job])


def _closer(stores: list[JobStore], job: Job, states: list[JobState]) -> Callable[[int], JobState | None]:
    def close(i: int) -> JobState | None:
        try:
            return stores[i].close(job, states[i], utc_now(), from_states=[JobState.RUNNING]).state
        except JobStateConflict:
            return None

    return close


def test_two_writers_can_never_both_close_a_job(stack: LocalStack):
    """Every transition is a conditional write: of two racing closes, exactly one wins."""
    stores = [_store(stack), _store(stack)]
    job = _job()
    plant(stores[0], [job])
    close = _closer(stores, job, [JobState.FINISHED, JobState.CANCELED])
    for _ in range(3):
        winners = [r for r in _race(2, close) if r is not None]
        assert len(winners) == 1
        assert stores[0].get(job.id).state == winners[0]
        # Closed is final: nothing moves it again.
        assert _closer(stores, job, [JobState.FAILED])(0) is None
        _reopen(stores[0], job)


@pytest.mark.long
def test_eight_writers_racing_for_one_job_over_fifty_rounds_have_one_winner_each_round(stack: LocalStack):
    stores = [_store(stack) for _ in range(8)]
    job = _job()
    plant(stores[0], [job])
    close = _closer(stores, job, [CLOSED[i % len(CLOSED)] for i in range(8)])
    for round_ in range(50):
        results = _race(8, close)
        winners = [r for r in results if r is not None]
        assert len(winners) == 1, f"round {round_}: {results}"
        assert stores[0].get(job.id).state == winners[0]
        _reopen(stores[0], job)


@pytest.mark.parametrize(
    ("tree", "refusal"), [(1, "ConditionalCheckFailedException"), (2, "TransactionCanceledException")]
)
def test_racing_starts_of_one_job_id_write_it_once(stack: LocalStack, tree: int, refusal: str):
    """A start writes its jobs with attribute_not_exists, one put or, for a tree, one transaction:
    only one of 8 can."""
    stores = [_store(stack) for _ in range(8)]
    for _ in range(10):
        job, others = _job(JobState.PENDING), [_job(JobState.PENDING) for _ in range(tree - 1)]

        def create(i: int, job: Job = job, others: list[Job] = others) -> bool:
            labelled = job.model_copy(update={"label": f"writer {i}"})
            try:
                stores[i].create([labelled, *others])
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == refusal
                return False
            return True

        results = _race(8, create)
        assert results.count(True) == 1
        assert stores[0].get(job.id).label == f"writer {results.index(True)}"


def test_a_failed_transaction_never_undoes_what_others_wrote_meanwhile(stack: LocalStack):
    """moto restores a whole-table copy when a transaction fails; no write of another request may be lost."""
    store = _store(stack)
    taken = _job(JobState.PENDING)
    store.create([taken])
    counter = {"pk": f"RACE#{new_job_id()}", "sk": "COUNTER"}
    store.table.put_item(Item={**counter, "n": 0})
    stop = threading.Event()

    def fail_transactions() -> None:
        failing = _store(stack)
        while not stop.is_set():
            with contextlib.suppress(ClientError):
                failing.create([taken, _job(JobState.PENDING)])  # one transaction, always refused: the first job exists

    adder = _store(stack)
    spoiler = threading.Thread(target=fail_transactions)
    spoiler.start()
    try:
        for _ in range(200):
            adder.table.update_item(Key=counter, UpdateExpression="ADD n :one", ExpressionAttributeValues={":one": 1})
    finally:
        stop.set()
        spoiler.join()
    assert store.table.get_item(Key=counter, ConsistentRead=True)["Item"]["n"] == 200
