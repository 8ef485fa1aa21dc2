"""The clean-up: `jms-job-queue:clean-up --per-call=10 --max-retention="1 min"` as a scheduled function.

It deletes closed jobs older than the retention, oldest first, at most `per_call` a run, with
their output. It never deletes an open job, nor one whose dependents are still open. It also
closes, as `incomplete`, open jobs whose execution has ended without reporting, and gives back
the queue slots of jobs whose execution ended without giving them back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from jobsys.durations import parse_duration
from jobsys.errors import InvalidRequest, JobNotFound
from jobsys.models import CLOSED_STATES, Job, JobState, parse_iso, utc_now
from jobsys.system import JobSystem

MAX_PER_CALL = 1000
# An execution needs a moment to appear after its job is recorded.
ORPHAN_GRACE = timedelta(minutes=2)
# Longer means "keep them all"; capped so that now minus the retention is still a date.
MAX_RETENTION = timedelta(days=100 * 365)


@dataclass(frozen=True)
class CleanUpPolicy:
    per_call: int
    max_retention: timedelta
    max_retention_succeeded: timedelta

    @classmethod
    def parse(cls, per_call: int, max_retention: str, max_retention_succeeded: str | None = None) -> CleanUpPolicy:
        if not 1 <= per_call <= MAX_PER_CALL:
            raise InvalidRequest(f"per_call must be between 1 and {MAX_PER_CALL}")
        retention = min(parse_duration(max_retention), MAX_RETENTION)
        succeeded = (
            min(parse_duration(max_retention_succeeded), MAX_RETENTION) if max_retention_succeeded else retention
        )
        return cls(per_call=per_call, max_retention=retention, max_retention_succeeded=succeeded)


@dataclass
class CleanUpReport:
    deleted: list[str] = field(default_factory=list)
    kept_for_open_dependents: list[str] = field(default_factory=list)
    marked_incomplete: list[str] = field(default_factory=list)
    slots_given_back: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "deleted": self.deleted,
            "kept_for_open_dependents": self.kept_for_open_dependents,
            "marked_incomplete": self.marked_incomplete,
            "slots_given_back": self.slots_given_back,
        }


def clean_up(system: JobSystem, policy: CleanUpPolicy, now: datetime | None = None) -> CleanUpReport:
    now = now or utc_now()
    report = CleanUpReport()
    close_orphans(system, now, report)
    repair_queues(system, report)
    candidates: list[Job] = []
    for state in sorted(CLOSED_STATES):
        retention = policy.max_retention_succeeded if state == JobState.FINISHED else policy.max_retention
        # Fetch a few spare ones per state: some may be kept for their open dependents.
        candidates += system.store.closed_before(state, now - retention, limit=policy.per_call * 2)
    candidates.sort(key=lambda job: (job.closed_at or "", job.id))
    for job in candidates:
        if len(report.deleted) >= policy.per_call:
            break
        if job.dependents and any(child.state.is_open for child in system.store.get_many(job.dependents).values()):
            report.kept_for_open_dependents.append(job.id)
            continue
        system.output.delete(job.id)
        if system.store.delete(job):
            report.deleted.append(job.id)
    return report


def close_orphans(system: JobSystem, now: datetime, report: CleanUpReport) -> None:
    """Open jobs whose execution has stopped (or never started) can never report: close them."""
    for state in (JobState.RUNNING, JobState.PENDING):
        for job in system.store.in_state(state):
            if now - parse_iso(job.created_at) < ORPHAN_GRACE or not job.execution_arn:
                continue
            status = _execution_status(system, job)
            if status == "RUNNING":
                continue
            if status is None and job.parent_id and not _parent_gave_up(system, job, now):
                continue  # a dependent waits for its parent's execution to start it
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


def _parent_gave_up(system: JobSystem, job: Job, now: datetime) -> bool:
    """A parent closed for a while has started its dependents or never will; a parent retried
    hands them on to its last attempt."""
    try:
        parent = system.store.last_attempt(job.parent_id or "")
    except JobNotFound:
        return True
    return bool(parent.closed_at) and now - parse_iso(parent.closed_at) > ORPHAN_GRACE


def _execution_status(system: JobSystem, job: Job) -> str | None:
    if not job.execution_arn:
        return None
    try:
        return system.sfn.describe_execution(executionArn=job.execution_arn)["status"]
    except system.sfn.exceptions.ExecutionDoesNotExist:
        return None
