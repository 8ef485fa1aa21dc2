"""Starting jobs: a definition, a command or a schedule's fire becomes a tree of job records and their executions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from jobsys.audit import Actor
from jobsys.errors import AlreadyOpen, StartFailed
from jobsys.ids import new_job_id
from jobsys.models import Job, JobSpec, JobState, Trigger, iso
from jobsys.observability import logger, record_closed, record_started
from jobsys.schedules import sync_schedules
from jobsys.spec.requests import DefinitionStart, StartOptions, StartRequest
from jobsys.system.base import _whole_second_after, execution_arn, execution_input
from jobsys.system.unique import UniqueRuns

# Writes that go with a start's jobs in their transaction, made for its planned root.
WritesFor = Callable[[Job], Sequence[dict[str, Any]]]


def _link_joins(spec: JobSpec, jobs: dict[str, Job]) -> None:
    """Each job's `after` keys become the ids of the jobs it waits for, and each of those learns
    that it `joins` it. `_plan` made the jobs in the order of `spec.walk()`."""
    planned = list(zip(spec.walk(), jobs.values(), strict=True))
    by_key = {node.key: job for node, job in planned if node.key}
    for node, job in planned:
        for key in dict.fromkeys(node.after):
            other = by_key[key]  # joins_problem checked that each names one job of the tree
            if other.id != job.parent_id:  # its parent it waits for anyway
                job.after.append(other.id)
                other.joins.append(job.id)


class JobStarts(UniqueRuns):
    """Records the jobs of a start at once, then starts their executions."""

    def start(self, request: StartRequest, started_by: str | None = None, actor: Actor | None = None) -> Job:
        """A start from the API: a job definition, or an ad-hoc command checked against the allow-list.
        `actor`: the person, whose audit record goes in the transaction that records the jobs."""
        options: StartOptions
        if isinstance(request, DefinitionStart):
            spec, options = self.config.definition(request.definition).to_spec(), request.options
            spec = spec.model_copy(update=self.config.settings_for(spec, options).setting_values())
        else:  # the request's settings are in its spec already
            spec, options = self.config.spec_for(request), request

        def audited(root: Job) -> list[dict[str, Any]]:
            return [self.audit_write(actor, "start", root.id, "started")] if actor else []

        return self.start_job(spec, options.start_at(self.clock()), started_by=started_by, with_writes=audited)

    def start_job(
        self,
        spec: JobSpec,
        run_at: datetime | None = None,
        trigger: Trigger = "api",
        started_by: str | None = None,
        with_writes: WritesFor | None = None,
    ) -> Job:
        """Records the tree of jobs and starts the root's execution. `started_by` names the caller;
        a start without one (a schedule's) is recorded as started by its trigger. `with_writes`
        gives, for the planned root, more writes of the transaction that records the jobs."""
        root, jobs, queue_open = self.record_start(spec, run_at, trigger, started_by, with_writes)
        execution = execution_input(root, jobs, self.is_limited, queue_open)
        try:
            self._start_execution(execution)
            record_started(root.command)
        except Exception as exc:
            reason = f"could not start its execution: {exc}"
            ended = self._end_unstarted_run(root, reason, execution["dependents"])
            next_attempt = f"; its attempt {ended.attempt + 1} is job {ended.retried_by}" if ended.retried_by else ""
            raise StartFailed(f"job {root.id} was recorded but {reason}{next_attempt}", ended) from exc
        return root

    def _end_unstarted_run(self, root: Job, reason: str, dependents: list[dict[str, Any]]) -> Job:
        """A run whose execution never started ends as any run does (its next attempt planned, or its
        dependents canceled, and `ended_at` written), so that a unique definition's lock is never
        left to a run that nothing will end. Its next attempt's own start may fail too: then the
        job is at least closed and its end recorded, and the clean-up closes that attempt, which
        never started, as an orphan."""
        try:
            return self.end_run(root.id, JobState.INCOMPLETE, reason, dependents)
        except Exception:  # noqa: BLE001 - the caller learns of the first failure; this one is logged
            logger.exception("could not end the run of a job whose execution did not start", extra={"job_id": root.id})
            closed = self.close_job(root.id, JobState.INCOMPLETE, reason)
            self.store.mark_ended(closed, self.clock())
            return self.store.get(root.id)

    def record_start(
        self,
        spec: JobSpec,
        run_at: datetime | None = None,
        trigger: Trigger = "api",
        started_by: str | None = None,
        with_writes: WritesFor | None = None,
    ) -> tuple[Job, dict[str, Job], bool]:
        """Records the tree of jobs of a start, pending, and gives its root, all its jobs by id, and
        whether the root's queue was open as they were written: `start_job` without the execution.
        `jobs-local events` records a job so, for a developer to play the state machine's part with
        `sam remote invoke`."""
        created_at = iso(self.clock())
        jobs: dict[str, Job] = {}
        root = self._plan(spec, None, None, created_at, jobs)
        _link_joins(spec, jobs)
        root.trigger = trigger
        for job in jobs.values():
            job.started_by = started_by or trigger
        if run_at is not None:
            root.run_at = iso(_whole_second_after(run_at))
            root.waiting = f"delayed until {root.run_at}"
        queue_open = self._record(list(jobs.values()), with_writes(root) if with_writes else ())
        return root, jobs, queue_open

    def _plan(
        self, spec: JobSpec, parent: Job | None, root_id: str | None, created_at: str, jobs: dict[str, Job]
    ) -> Job:
        job_id = new_job_id()
        job = Job(
            id=job_id,
            key=spec.key,
            command=spec.command,
            params=spec.params,
            state=JobState.PENDING,
            label=spec.label,
            definition=spec.definition,
            parent_id=parent.id if parent else None,
            root_id=root_id or job_id,
            created_at=created_at,
            execution_arn=execution_arn(self.settings.state_machine_arn, job_id),
            **spec.setting_values(),
        )
        jobs[job_id] = job
        job.dependents = [self._plan(child, job, job.root_id, created_at, jobs).id for child in spec.depending_jobs]
        return job

    def _dependents_input(self, job: Job) -> list[dict[str, Any]]:
        """The inputs of a job's dependents, read level by level, for a run ended without its execution's input."""
        jobs = {job.id: job}
        level = list(job.dependents)
        while level:
            found = self.store.get_many(level)
            jobs.update(found)
            level = [child for parent in found.values() for child in parent.dependents if child not in jobs]
        dependents: list[dict[str, Any]] = execution_input(job, jobs, self.is_limited)["dependents"]
        return dependents

    def start_scheduled(self, key: str, scheduled_at: str) -> Job | None:
        """A schedule's start: None for a repeated delivery of a fire already handled."""
        definition = self.config.definition(key)
        if not self.store.record_fire(key, scheduled_at, "", "starting"):
            return None
        try:
            running = self.store.open_of_definition(key) if definition.overlap == "skip" else None
            if running is not None:
                job = self._record_skipped(definition.to_spec(), running)
            else:
                try:
                    job = self.start_job(definition.to_spec(), trigger="schedule")
                except AlreadyOpen as refused:  # unique: true, whatever its overlap says
                    job = self._record_skipped(definition.to_spec(), refused.open_job)
                except StartFailed as failed:  # the fire made its job, whose run ended: a repeat must not make another
                    job = failed.job
        except Exception:
            self.store.forget_fire(key, scheduled_at)  # so that Scheduler's retry of this fire starts it
            raise
        self.store.record_fire(key, scheduled_at, job.id, job.state.value, again=True)
        return job

    def sync_schedules(self, scheduler: Any, group: str, target_arn: str, role_arn: str) -> dict[str, list[str]]:
        """Makes EventBridge Scheduler's schedules those of jobs.yaml, and records when each one that
        changed was made: a rate's next run counts from then until it first fires."""
        scheduled = {key: d.schedule for key, d in self.config.definitions.items() if d.schedule is not None}
        report = sync_schedules(scheduled, scheduler, group, target_arn, role_arn)
        now = iso(self.clock())
        for key in report["created"] + report["updated"]:
            self.store.mark_synced(key, now)
        return report

    def _record_skipped(self, spec: JobSpec, running: Job) -> Job:
        now = self.clock()
        job = self._plan(spec.model_copy(update={"depending_jobs": []}), None, None, iso(now), {})
        job.state, job.trigger, job.closed_at, job.execution_arn = JobState.SKIPPED, "schedule", iso(now), None
        job.started_by = "schedule"
        job.reason = f"skipped: job {running.id} of this definition is still {running.state}"
        self.store.create([job], ttl=self.ttl)
        record_closed(job.command, job.state.value, None)
        return job
