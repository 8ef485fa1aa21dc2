"""Issue 33's faults where features meet, each in-process with a clock the test moves: fan-in and
the clean-up, unique and a failed start, retention and retries, unique and a run's dependents."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from jobsys.cleanup import CleanUpPolicy, clean_up
from jobsys.costs import RunUsage
from jobsys.errors import AlreadyOpen, InvalidRequest, StartFailed
from jobsys.models import JobState, iso
from jobsys.runner import run_job
from jobsys.spec.requests import CommandStart, DefinitionStart
from jobsys.store import JobStore
from jobsys.system import pausing
from tests.unit.in_process import run_and_close

CONFIG = {
    "queues": {"serial": {"concurrency": 1}},
    "commands": ["demo:echo", "demo:fail"],
    "jobs": {
        "plain": {"label": "Plain", "command": "demo:echo"},
        "serial": {"label": "Serial", "command": "demo:echo", "queue": "serial"},
        "rebuild": {
            "label": "Rebuild",
            "command": "demo:echo",
            "depending_jobs": {
                "import_de": {"label": "Import DE", "command": "demo:echo"},
                "import_fr": {"label": "Import FR", "command": "demo:echo"},
                "build_index": {"label": "Build index", "command": "demo:echo", "after": ["import_de", "import_fr"]},
            },
        },
        "import": {
            "label": "Import",
            "command": "demo:fail",
            "unique": True,
            "retries": {"max_attempts": 2, "backoff": "6 hours"},
            "schedule": {"rate": "1 hour"},
        },
        "import_and_index": {
            "label": "Import and index",
            "command": "demo:echo",
            "unique": True,
            "depending_jobs": {"index": {"label": "Index", "command": "demo:echo"}},
        },
    },
}
KEEP_AN_HOUR = CleanUpPolicy.parse(100, "1 hour")


class _FailingStarts:
    """Step Functions whose StartExecution fails while `failing` is set (throttled, or down)."""

    def __init__(self, sfn) -> None:
        self.sfn = sfn
        self.exceptions = sfn.exceptions
        self.failing = True

    def start_execution(self, **request):
        if self.failing:
            raise RuntimeError("ThrottlingException: Rate exceeded")
        return self.sfn.start_execution(**request)

    def __getattr__(self, name):
        return getattr(self.sfn, name)


def test_the_clean_up_leaves_a_fan_in_job_waiting_for_a_parent_that_still_runs(system, clock):
    """Fault 1: import_de is done and import_fr runs for 30 min; build_index, which waits for both,
    has no execution yet and must not be taken for an orphan."""
    root = system.start(DefinitionStart(definition="rebuild"))
    de, fr, index = (system.get_job(job_id) for job_id in root.dependents)
    run_and_close(system, root, JobState.FINISHED)
    run_and_close(system, de, JobState.FINISHED)
    system.store.mark_running(fr, clock(), system.output.location(fr.id))
    for _ in range(30):
        clock.advance(minutes=1)
        system.store.beat(fr.id, clock())
        report = clean_up(system, KEEP_AN_HOUR)
        assert index.id not in report.marked_incomplete
    assert system.get_job(index.id).state == JobState.PENDING
    run_and_close(system, system.get_job(fr.id), JobState.FINISHED)
    assert system.sfn.describe_execution(executionArn=index.execution_arn)["status"] == "RUNNING"


def test_a_fan_in_job_whose_parents_all_ended_without_starting_it_is_closed(system, clock):
    """The other side of fault 1: once every job it waits for has ended and its own execution never
    started, nothing will move it: the clean-up closes it."""
    root = system.start(DefinitionStart(definition="rebuild"))
    de, fr, index = (system.get_job(job_id) for job_id in root.dependents)
    run_and_close(system, root, JobState.FINISHED)
    for job in (de, fr):  # both finish, but the arrival at the join is lost (a crash in between)
        running = system.store.mark_running(job, clock(), system.output.location(job.id))
        system.store.close(running, JobState.FINISHED, clock(), exit_code=0, from_states=[JobState.RUNNING])
        system.store.mark_ended(system.get_job(job.id), clock())
    clock.advance(minutes=10)
    assert index.id in clean_up(system, KEEP_AN_HOUR).marked_incomplete


def test_a_failed_start_of_a_unique_definition_ends_its_run_and_plans_the_next_attempt(system, clock):
    """Fault 2: the root was closed but its run never ended, so the lock held for the job's TTL."""
    plain, system.sfn = system.sfn, _FailingStarts(system.sfn)
    with pytest.raises(StartFailed):
        system.start(DefinitionStart(definition="import"))
    system.sfn.failing = False
    assert plain.list_executions(stateMachineArn=system.settings.state_machine_arn)["executions"] == []
    failed = system.get_job(min(run.id for run in system.store.recent_runs(definition="import")))  # ids sort by time
    assert (failed.state, failed.ended_at is not None) == (JobState.INCOMPLETE, True)
    assert failed.retried_by is not None, "its next attempt is planned, as for any run that ended incomplete"
    retry = system.get_job(failed.retried_by)
    assert (retry.state, retry.attempt) == (JobState.PENDING, 2)
    # The lock is held by the open attempt, and by nothing once it ends.
    with pytest.raises(AlreadyOpen) as refused:
        system.start(DefinitionStart(definition="import"))
    assert refused.value.open_job.id == retry.id
    run_and_close(system, retry, JobState.FAILED)
    assert system.start(DefinitionStart(definition="import")).state == JobState.PENDING


def test_a_failed_start_on_the_last_attempt_frees_the_lock_at_once(system, clock):
    plain = system.sfn
    system.config.definitions["import"].retries.max_attempts = 1
    system.sfn = _FailingStarts(plain)
    with pytest.raises(StartFailed):
        system.start(DefinitionStart(definition="import"))
    system.sfn = plain
    assert system.start(DefinitionStart(definition="import")).state == JobState.PENDING


def test_a_scheduled_fire_whose_start_failed_is_recorded_with_its_job_not_as_skipped(system, clock):
    """Fault 2, by a schedule: Scheduler's retry of the fire found the lock and recorded it skipped."""
    system.sfn = _FailingStarts(system.sfn)
    fired_at = iso(clock.now)
    try:
        first = system.start_scheduled("import", fired_at)
    except StartFailed:
        first = None
    system.sfn.failing = False
    again = system.start_scheduled("import", fired_at)  # Scheduler delivers the fire again
    job = first or again
    assert job is not None and job.state != JobState.SKIPPED
    assert system.get_job(job.id).retried_by is not None


def test_the_clean_up_keeps_a_retried_job_s_attempts_while_its_next_attempt_is_open(system, clock):
    """Fault 4: with a 6-hour back-off, the first attempt was past a 1-hour retention; deleting it
    made the unique check read "no open run" and accept a second run."""
    first = system.start(DefinitionStart(definition="import"))
    run_and_close(system, first, JobState.FAILED)
    retry_id = system.get_job(first.id).retried_by
    clock.advance(hours=3)
    report = clean_up(system, KEEP_AN_HOUR)
    assert first.id not in report.deleted
    with pytest.raises(AlreadyOpen) as refused:
        system.start(DefinitionStart(definition="import"))
    assert refused.value.open_job.id == retry_id
    clock.advance(hours=3)
    run_and_close(system, system.get_job(retry_id), JobState.FAILED)
    clock.advance(hours=2)
    assert {first.id, retry_id} <= set(clean_up(system, KEEP_AN_HOUR).deleted)


def test_a_unique_definition_refuses_a_start_while_its_last_run_s_dependents_are_open(system, clock):
    """Fault 9: the lock looked only at the root, so a second run started while the first one's
    index job still ran."""
    first = system.start(DefinitionStart(definition="import_and_index"))
    run_and_close(system, first, JobState.FINISHED)
    [index_id] = first.dependents
    system.store.mark_running(system.get_job(index_id), clock(), system.output.location(index_id))
    with pytest.raises(AlreadyOpen) as refused:
        system.start(DefinitionStart(definition="import_and_index"))
    assert refused.value.open_job.id == index_id
    run_and_close(system, system.get_job(index_id), JobState.FINISHED)
    assert system.start(DefinitionStart(definition="import_and_index")).state == JobState.PENDING


def test_a_plain_finished_job_is_counted_closed_and_its_run_ended_by_its_runner(system, capsys):
    """The state machine skips EndRun for a finished job with nothing to start and no slot
    (AfterRun): JobsClosed, JobRuntime and JobPeakMemory were never sent for it, and its run's end
    was never written."""
    job = system.start(DefinitionStart(definition="plain"))
    capsys.readouterr()
    assert run_job(system, job.id).state == JobState.FINISHED
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    closed = [m for m in metrics if "JobsClosed" in m]
    assert [(m["command"], m["state"]) for m in closed] == [("demo:echo", "finished")]
    assert any("JobRuntime" in m for m in metrics)
    assert system.get_job(job.id).ended_at is not None


def test_the_clean_up_keeps_a_closed_job_whose_execution_is_yet_to_end_its_run(system, clock):
    """Its runner closed it, and EndRun, which gives its slot back, is yet to come (slow, retried):
    deleted, its slot was held until a later pass found the holder gone, and EndRun failed."""
    job = system.start(DefinitionStart(definition="serial"))
    system.admit(job.id, f"token-{job.id}")
    assert system.store.queue_counter("serial") == (1, {job.id})
    running = system.store.mark_running(system.get_job(job.id), clock(), system.output.location(job.id))
    system.store.close(running, JobState.FINISHED, clock(), exit_code=0, from_states=[JobState.RUNNING])
    clock.advance(hours=2)
    report = clean_up(system, KEEP_AN_HOUR)
    assert job.id not in report.deleted and job.id in report.kept_for_open_dependents
    system.end_run(job.id)
    assert system.store.queue_counter("serial") == (0, set())
    system.sfn.stop_execution(executionArn=job.execution_arn)  # its execution ends
    assert job.id in clean_up(system, KEEP_AN_HOUR).deleted


@pytest.mark.parametrize("param_bytes", range(403_700, 404_700, 100))
def test_a_job_recorded_near_the_item_limit_can_still_run_and_close(system, clock, param_bytes):
    """Fault 5: only creation was checked against DynamoDB's 400 KB; running and closing add about
    0.5 KB, so a job just under it was accepted and then could never run nor close, and stopped
    every clean-up at itself. A start is refused unless the job has room for its whole life."""
    length = param_bytes // 3  # in '€', 3 bytes each: with the rest of the item, just under 400 KB
    params = ["€" * 4096] * (length // 4096) + ["€" * (length % 4096)]
    try:
        job = system.start(CommandStart(command="demo:echo", params=params))
    except InvalidRequest as refused:
        assert "400 KB" in str(refused)
        return
    running = system.store.mark_running(job, clock(), system.output.location(job.id))
    usage = RunUsage(runner="lambda", memory_mb=1024, billed_ms=1234, transitions=5, output_bytes=10)
    reason = "ran longer than its max runtime of 600 s"
    system.store.close(running, JobState.TERMINATED, clock(), exit_code=-15, runtime=600.0, reason=reason,
                       peak_memory_mb=12.5, cpu_seconds=3.2, from_states=[JobState.RUNNING], usage=usage)  # fmt: skip
    system.end_run(job.id)
    assert system.get_job(job.id).ended_at is not None


class _OneBadItem(JobStore):
    """DynamoDB refuses every write to one job (as it refused an item over 400 KB)."""

    def __init__(self, table, bad: str) -> None:
        super().__init__(table)
        self.bad = bad

    def close(self, job, *args, **kwargs):
        if job.id == self.bad:
            raise ClientError({"Error": {"Code": "ValidationException", "Message": "Item size"}}, "UpdateItem")
        return super().close(job, *args, **kwargs)


def test_one_job_the_clean_up_cannot_handle_never_stops_the_pass(system, clock):
    """Fault 5's other half: close_orphans had no guard, so every clean-up raised at that job and
    deleted nothing, for good. It is logged, counted in `errors`, and the pass goes on."""
    bad, good = (system.start(CommandStart(command="demo:echo", params=[name])) for name in ("bad", "good"))
    done = run_and_close(system, system.start(CommandStart(command="demo:echo")), JobState.FINISHED)
    for job in (bad, good):
        system.sfn.stop_execution(executionArn=job.execution_arn)  # both orphans
    clock.advance(hours=2)
    system.sfn.stop_execution(executionArn=done.execution_arn)
    system.store = _OneBadItem(system.store.table, bad.id)
    report = clean_up(system, KEEP_AN_HOUR)
    assert report.errors == [bad.id]
    assert good.id in report.marked_incomplete and done.id in report.deleted


class _SlowLine(JobStore):
    """Each write of why a job waits takes a while (DynamoDB under load): `said` counts them."""

    said = 0

    def mark_waiting(self, job, token, reason, still=False):
        time.sleep(0.02)
        _SlowLine.said += 1
        return super().mark_waiting(job, token, reason, still)


def test_a_pause_says_why_to_its_line_for_a_bounded_time_and_answers_in_time(system, clock, monkeypatch):
    """Fault 8: after serving, a pause or a resume wrote one UpdateItem per waiting job, without a
    bound: 2,000-3,000 waiting jobs gave the caller a 504 though the change took effect. The rest of
    the line says why when its wait times out and it asks again."""
    jobs = [system.start(CommandStart(command="demo:echo", params=[str(n)], queue="serial")) for n in range(40)]
    system.pause_queue("serial", by="ops")
    for job in jobs:
        system.admit(job.id, f"token-{job.id}")
    monkeypatch.setattr(pausing, "SAY_WHY_AT_MOST", 0.2)
    system.store = _SlowLine(system.store.table)
    _SlowLine.said = 0
    started = time.monotonic()
    system.pause_queue("serial", by="someone else")
    assert time.monotonic() - started < 1.0 and 0 < _SlowLine.said < 20


def test_a_job_a_week_in_line_continues_in_a_new_execution_and_keeps_its_place(system, clock):
    """Fault 7: WaitForSlot asks again every 300 s and adds about 6 events to the execution's
    history each time: after about 15 days in a paused or busy queue the execution failed at AWS's
    25,000 events, and the job's retry lost its place in line. After a week in line, the job goes
    on waiting in a new execution, pending, in the same place."""
    system.pause_queue("serial", by="ops")
    first, second = (system.start(DefinitionStart(definition="serial")) for _ in range(2))
    for job in (first, second):
        system.admit(job.id, f"token-{job.id}")
    clock.advance(days=7, seconds=1)
    started = clock.now - timedelta(days=7, seconds=1)
    system.admit(first.id, f"token-{first.id}-later", execution_started=started)
    moved = system.get_job(first.id)
    assert moved.state == JobState.PENDING and moved.execution_arn == f"{first.execution_arn}-2"
    execution = system.sfn.describe_execution(executionArn=moved.execution_arn)
    assert execution["status"] == "RUNNING" and json.loads(execution["input"])["job_id"] == first.id
    system.admit(second.id, f"token-{second.id}-later", execution_started=clock.now - timedelta(days=1))
    assert system.get_job(second.id).execution_arn == second.execution_arn  # a day: it just waits on
    system.admit(first.id, f"token-{first.id}-new", execution_started=clock.now)  # the new execution asks
    system.resume_queue("serial")
    assert system.store.queue_counter("serial") == (1, {first.id})  # first in line, as it was
