"""The clean-up: `jms-job-queue:clean-up --per-call=10 --max-retention="1 min"` as a scheduled function.

It deletes closed jobs older than the retention, oldest first, at most `per_call` a run, with
their output. It never deletes an open job, nor one whose dependents are still open. It also
ends the runs whose end was lost (EndRun failed, or the execution was stopped after the job
closed): their dependents start, or their next attempt is planned. It closes, as `incomplete`,
open jobs whose execution has ended without reporting, and gives back the queue slots of jobs
whose execution ended without giving them back.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from jobsys.durations import parse_duration
from jobsys.errors import InvalidRequest, JobNotFound, JobStateConflict
from jobsys.ids import new_job_id
from jobsys.models import CLOSED_STATES, Job, JobState, iso, parse_iso
from jobsys.observability import logger
from jobsys.spec.limits import MAX_CLEAN_UP_PER_CALL, MAX_PAGE
from jobsys.store import JobStore
from jobsys.system import JobSystem
from jobsys.system.base import job_of_execution

# An execution needs a moment to appear after its job is recorded.
ORPHAN_GRACE = timedelta(minutes=2)
# Executions looked up per run for orphans; the next run goes on from there (a cursor in the table).
MAX_ORPHAN_CHECKS = 500
# How far back the clean-up looks for executions that ended before their run's end was handled:
# runs every few minutes, so a day covers a clean-up that was down for most of one.
LOST_END_LOOKBACK = timedelta(days=1)
# The next look begins this long before the last one did: an execution's stop is listed a moment late.
LOST_END_MARGIN = timedelta(minutes=10)
# How long the lock of a clean-up holds if its holder dies: longer than the function's 300 s.
LOCK_HOLD = timedelta(minutes=6)
# Audit records deleted in one run at most: the rest go in the next (an hour later by default).
AUDIT_DELETES_PER_RUN = 1000
# Longer means "keep them all"; capped so that now minus the retention is still a date.
MAX_RETENTION = timedelta(days=100 * 365)


@dataclass(frozen=True)
class CleanUpPolicy:
    per_call: int
    max_retention: timedelta
    max_retention_succeeded: timedelta

    @classmethod
    def parse(cls, per_call: int, max_retention: str, max_retention_succeeded: str | None = None) -> CleanUpPolicy:
        if not 1 <= per_call <= MAX_CLEAN_UP_PER_CALL:
            raise InvalidRequest(f"per_call must be between 1 and {MAX_CLEAN_UP_PER_CALL}")
        retention = min(parse_duration(max_retention), MAX_RETENTION)
        succeeded = (
            min(parse_duration(max_retention_succeeded), MAX_RETENTION) if max_retention_succeeded else retention
        )
        return cls(per_call=per_call, max_retention=retention, max_retention_succeeded=succeeded)

    def retention_of(self, state: JobState) -> timedelta:
        return self.max_retention_succeeded if state == JobState.FINISHED else self.max_retention


@dataclass
class CleanUpReport:
    deleted: list[str] = field(default_factory=list)
    kept_for_open_dependents: list[str] = field(default_factory=list)
    marked_incomplete: list[str] = field(default_factory=list)
    slots_given_back: list[str] = field(default_factory=list)
    ends_handled: list[str] = field(default_factory=list)
    # Jobs that a step could not handle (each logged with its trace); the next run tries again.
    errors: list[str] = field(default_factory=list)
    audit_deleted: int = 0  # audit records past their retention
    complete: bool = True  # false when the run stopped at its time budget; the next one goes on

    def as_dict(self) -> dict[str, Any]:
        return {
            "complete": self.complete,
            "deleted": self.deleted,
            "kept_for_open_dependents": self.kept_for_open_dependents,
            "marked_incomplete": self.marked_incomplete,
            "slots_given_back": self.slots_given_back,
            "ends_handled": self.ends_handled,
            "errors": self.errors,
            "audit_deleted": self.audit_deleted,
        }


class CleanUpRunning(JobStateConflict):
    """Another clean-up holds the lock: two at once would only race each other."""


def clean_up(
    system: JobSystem, policy: CleanUpPolicy, now: datetime | None = None, budget: float | None = None
) -> CleanUpReport:
    """One run of the clean-up, alone: it raises CleanUpRunning while another one runs. With a
    `budget` (seconds), it stops in time and says so (`complete` false); the next run goes on."""
    now = now or system.clock()
    holder = new_job_id()
    if not system.store.take_clean_up_lock(holder, now, LOCK_HOLD):
        raise CleanUpRunning("a clean-up is running already; try again when it has ended")
    clock = _Budget(budget)
    try:
        return _clean_up(system, policy, now, clock)
    finally:
        system.store.release_clean_up_lock(holder)


class _Budget:
    def __init__(self, seconds: float | None):
        self.deadline = None if seconds is None else time.monotonic() + seconds

    def spent(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


def _clean_up(system: JobSystem, policy: CleanUpPolicy, now: datetime, clock: _Budget) -> CleanUpReport:
    report = CleanUpReport()
    # First the closed jobs whose end was lost: their dependents are still to start, and must not
    # be taken for orphans by the check after it.
    end_lost_runs(system, now, report, clock)
    close_orphans(system, now, report, clock)
    repair_queues(system, report)
    report.complete = _delete_old_jobs(system, policy, now, report, clock) and not clock.spent()
    report.complete = _delete_old_audit(system, now, report, clock) and report.complete
    return report


def _delete_old_audit(system: JobSystem, now: datetime, report: CleanUpReport, clock: _Budget) -> bool:
    """The audit records older than their retention, oldest first (their TTL deletes them too, within
    days); at most AUDIT_DELETES_PER_RUN a run. False if some were left."""
    for record_id in system.store.audit_before(now - system.audit_kept, page_size=MAX_PAGE):
        if report.audit_deleted >= AUDIT_DELETES_PER_RUN or clock.spent():
            return False
        system.store.delete_audit(record_id)
        report.audit_deleted += 1
    return True


def _delete_old_jobs(
    system: JobSystem, policy: CleanUpPolicy, now: datetime, report: CleanUpReport, clock: _Budget
) -> bool:
    # Each state's jobs, oldest first, merged: read as far as the run goes. A parent kept for its
    # open dependents is passed over, however many of them there are, until the time runs out.
    candidates = heapq.merge(
        *(
            system.store.closed_before(state, now - policy.retention_of(state), page_size=policy.per_call * 2)
            for state in sorted(CLOSED_STATES)
        ),
        key=lambda job: job.closed_at or "",
    )
    for job in candidates:
        if len(report.deleted) >= policy.per_call:
            break
        if clock.spent():
            return False
        # Its run goes on below it (a dependent, theirs, or its next attempt): an open job of the
        # run needs it, as its parent, its first attempt, or its unique definition's lock holder.
        if (job.dependents or job.joins or job.retried_by or job.next_attempt_due) and system.store.open_in_run(job):
            report.kept_for_open_dependents.append(job.id)
            continue
        # Closed, and its execution is yet to end its run (EndRun gives back its slot, starts its
        # dependents): it needs the job. A run whose end was written needs nothing more.
        if job.ended_at is None and _execution_status(system, job) == "RUNNING":
            report.kept_for_open_dependents.append(job.id)
            continue
        system.output.delete(job.id)
        if system.store.delete(job):
            report.deleted.append(job.id)
    return True


def end_lost_runs(system: JobSystem, now: datetime, report: CleanUpReport, clock: _Budget) -> None:
    """Runs whose execution ended before EndRun did its work: EndRun failed (RunNotEnded), or the
    execution was stopped or timed out after the runner closed the job. Their job is closed, but its
    slot, its dependents or its next attempt wait for an end that nothing else will run."""
    # Back to where the last complete look began, however long ago (a clean-up down for days must
    # not leave a run waiting for good), and a day at least.
    looked = system.store.clean_up_cursor("lost-ends")
    since = min(now - LOST_END_LOOKBACK, parse_iso(looked["since"]) if looked else now)
    for status in ("FAILED", "ABORTED", "TIMED_OUT"):
        ended = _executions_ended(system, status, since)
        for job in system.store.get_many(list(ended)).values():
            # An open one is an orphan (close_orphans); `ended_at` says its end was handled. An
            # execution that its job continued from (admission.py) is not the one that ends its run.
            if clock.spent():
                return
            if not job.state.is_open and job.ended_at is None and job.execution_arn in ended[job.id]:
                try:
                    system.end_run(job.id)
                except Exception:  # noqa: BLE001 - one run that cannot end must not stop the clean-up of the rest
                    logger.exception("could not end a run whose end was lost", extra={"job_id": job.id})
                    report.errors.append(job.id)
                    continue
                report.ends_handled.append(job.id)
    system.store.set_clean_up_cursor("lost-ends", {"since": iso(now - LOST_END_MARGIN)})


def _executions_ended(system: JobSystem, status: str, since: datetime) -> dict[str, set[str]]:
    """The jobs (each execution is named after its job) whose execution ended with `status` since
    `since`, with those executions' ARNs."""
    job_ids: dict[str, set[str]] = {}
    pages = system.sfn.get_paginator("list_executions").paginate(
        stateMachineArn=system.settings.state_machine_arn, statusFilter=status, PaginationConfig={"PageSize": 1000}
    )
    for page in pages:
        # Listed newest start first: one that started earlier may have stopped later (a long
        # Fargate run), so the list is read to its end, not to the first stop before `since`.
        for execution in page["executions"]:
            if execution.get("stopDate") and execution["stopDate"] < since:
                continue
            job_ids.setdefault(job_of_execution(execution["name"]), set()).add(execution["executionArn"])
    return job_ids


def close_orphans(system: JobSystem, now: datetime, report: CleanUpReport, clock: _Budget) -> None:
    """Open jobs whose execution has stopped (or never started) can never report: close them.

    Every open job is looked at, page after page. A run checks at most MAX_ORPHAN_CHECKS executions
    and the next run goes on from where it stopped, so that a long line of legitimately pending jobs
    (delayed starts, a concurrency-1 queue) never hides an orphan behind it for long."""
    checks = 0
    for state in (JobState.RUNNING, JobState.PENDING):
        name = f"orphans-{state.value}"
        cursor = left_at = system.store.clean_up_cursor(name)
        while True:
            jobs, cursor = system.store.in_state(state, after=cursor)
            for job in jobs:
                if now - parse_iso(job.created_at) < ORPHAN_GRACE or not job.execution_arn:
                    continue
                checks += 1
                try:
                    _close_if_orphaned(system, job, now, report)
                except Exception:  # noqa: BLE001 - one job that cannot be handled must not stop the clean-up of the rest
                    logger.exception("could not close an orphaned job", extra={"job_id": job.id})
                    report.errors.append(job.id)
            if cursor is None or checks >= MAX_ORPHAN_CHECKS or clock.spent():
                break
        if cursor != left_at:  # most runs read every page and start and end with no cursor
            system.store.set_clean_up_cursor(name, cursor)


def _close_if_orphaned(system: JobSystem, job: Job, now: datetime, report: CleanUpReport) -> None:
    status = _execution_status(system, job)
    if status == "RUNNING":
        return
    if status is None and _still_awaited(system, job, now):
        return  # a dependent, or a join, waits for the end of a job before it to start it
    reason = f"its execution {'never started' if status is None else 'ended ' + status} without reporting"
    closed = system.end_run(job.id, JobState.INCOMPLETE, reason)
    if closed.state == JobState.INCOMPLETE:
        report.marked_incomplete.append(job.id)


def repair_queues(system: JobSystem, report: CleanUpReport) -> None:
    """A slot whose job is closed and whose execution has ended was never given back: give it back.

    The counter is then set to the number of holders left, which is what it counts.
    """
    for queue in system.config.queues.values():
        if queue.concurrency is None:
            continue
        counted = system.store.queue_counter(queue.name)
        running, holders = counted
        jobs = system.store.get_many(sorted(holders))
        stale = {
            job_id
            for job_id in holders
            if job_id not in jobs
            or (not jobs[job_id].state.is_open and _execution_status(system, jobs[job_id]) != "RUNNING")
        }
        if not stale and running == len(holders):
            continue
        if system.store.set_counter(queue.name, counted, len(holders - stale), holders - stale):
            report.slots_given_back.extend(sorted(stale))
            system.serve_queue(queue)


def interrupted_runs(store: JobStore) -> Iterator[str]:
    """After the whole system stopped with jobs open (a local stack's restart), the runs to end as
    the state machine ends one whose runner died: those open, oldest first and parents before their
    dependents; not a pending dependent whose parent's run decides for it (ended before or after it
    here); and not the next attempts that ending them plans, which have executions of their own."""
    interrupted: list[str] = []
    for state in (JobState.RUNNING, JobState.PENDING):
        cursor: str | None = None
        while True:
            page, cursor = store.page(state=state, limit=MAX_PAGE, cursor=cursor)
            interrupted += reversed([job.id for job in page])
            if not cursor:
                break
    for job_id in interrupted:
        job = store.get(job_id)
        if (
            job.state == JobState.PENDING
            and job.parent_id
            and store.last_attempt(job.parent_id).state != JobState.FINISHED
        ):
            continue
        yield job_id


def _still_awaited(system: JobSystem, job: Job, now: datetime) -> bool:
    """A job without an execution is started by the end of the last job it waits for: its parent,
    and a join's `after` too. It waits while any of them (its last attempt) moves on, is closed
    with its execution still to end its run, or ended a moment ago; once all are over for a while,
    they started it or never will."""
    for awaited_id in dict.fromkeys(filter(None, [job.parent_id, *job.after])):
        try:
            awaited = system.store.last_attempt(awaited_id)
        except JobNotFound:
            continue
        if awaited.moves_on:
            return True
        if awaited.ended_at is None and _execution_status(system, awaited) == "RUNNING":
            return True  # closed, and its execution is yet to end its run (EndRun, slow or retried)
        over_at = max(filter(None, [awaited.closed_at, awaited.ended_at]), default=None)
        if over_at is None or now - parse_iso(over_at) <= ORPHAN_GRACE:
            return True
    return False


def _execution_status(system: JobSystem, job: Job) -> str | None:
    if not job.execution_arn:
        return None
    try:
        status: str = system.sfn.describe_execution(executionArn=job.execution_arn)["status"]
        return status
    except system.sfn.exceptions.ExecutionDoesNotExist:
        return None
