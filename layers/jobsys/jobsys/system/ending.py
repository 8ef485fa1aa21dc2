"""The end of a run, and of a job: closed, its slot given back, then its dependents started, its
next attempt planned, or its dependents canceled."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from jobsys.audit import Actor
from jobsys.errors import JobStateConflict
from jobsys.ids import new_job_id
from jobsys.models import OPEN_STATES, RETRIED_STATES, Job, JobState, iso
from jobsys.observability import logger, record_closed, record_started
from jobsys.spec.settings import SETTINGS
from jobsys.system.auditing import AuditTrail
from jobsys.system.base import _whole_second_after, execution_arn, input_of

# What the next attempt of a job keeps, its settings and its place in its tree; the rest (state,
# times, output, ...) starts afresh.
RETRY_KEEPS = {
    "command", "params", "label", "definition", "parent_id", "root_id", "dependents", "key", "after", "joins",
    *SETTINGS,
}  # fmt: skip


class RunEnds(AuditTrail):
    """Ends runs and jobs, whoever ends them; every step safe to repeat."""

    def end_run(
        self,
        job_id: str,
        state: JobState = JobState.INCOMPLETE,
        reason: str | None = None,
        dependents: list[dict[str, Any]] | None = None,
    ) -> Job:
        """The end of every execution, however its run went: the job is closed (as `state`, if the
        runner did not close it), its slot given back, and then its dependents start, or its next
        attempt is planned, or its dependents are canceled. Safe to repeat.

        `dependents` is the execution input's tree; without it (a run ended by the clean-up) it is read.
        """
        job = self.store.get(job_id)
        if job.state.is_open:
            job = self.close_job(job.id, state, reason or "the runner ended without closing the job")
        record_closed(job.command, job.state.value, job.runtime, job.peak_memory_mb)
        self.release(job)
        if job.dependents and dependents is None:
            dependents = self._dependents_input(job)
        if job.state == JobState.FINISHED:
            self.start_dependents(job, dependents or [])
        elif not self.retry(job, dependents or []):
            self.cancel_dependents(job)
        self.store.mark_ended(job, self.clock())
        if job.output is not None:
            self._keep_captured_output(job)
        return job

    def _keep_captured_output(self, job: Job) -> None:
        # Last, and never failing the end of the run: the slot and the dependents matter more.
        try:
            self.output.save_captured(job.id)
        except Exception:  # noqa: BLE001 - the stream still holds the output; only "complete" waits
            logger.exception("could not save the output that the stream captured", extra={"job_id": job.id})

    def start_dependents(self, job: Job, dependents: list[dict[str, Any]]) -> list[str]:
        """One execution per dependent of a finished job that is still pending, and per join that
        waited for it last; a repeat starts nothing twice (an execution is named after its job)."""
        inputs = {child["job_id"]: child for child in dependents}
        # The dependents' queues are read with them: those found open let their runners skip the read.
        found, paused = self.store.jobs_and_paused_queues(
            [*job.dependents, *job.joins], {child["queue"] for child in dependents if child.get("queue")}
        )
        pending = {child.id: child for child in found.values() if child.state == JobState.PENDING}
        started = []
        for child_id in dict.fromkeys([*job.dependents, *job.joins]):
            child = pending.get(child_id)
            if child is None:
                continue
            execution = inputs.get(child_id)
            if child.after:  # a join: it starts when the last of the jobs it waits for arrives
                arrived = self.store.arrive(child.id, job.origin)
                if arrived is None or not arrived[1]:
                    continue
                execution = execution or input_of(child, self._dependents_input(child), self.is_limited)
            if execution is None:
                continue
            if execution.get("queue") not in paused and not child.run_at and child_id in inputs:
                execution = {**execution, "check_queue": False}
            self._start_execution(execution)
            record_started(child.command)
            started.append(child.id)
        return started

    def retry(self, job: Job, dependents: list[dict[str, Any]]) -> Job | None:
        """Plans the next attempt of a job that ended failed, terminated or incomplete, if it has one
        left; its dependents (`dependents`, their inputs) are handed on to it."""
        if job.retried_by:
            retry = self.store.get(job.retried_by)
        elif (
            job.state in RETRIED_STATES
            and job.attempt < job.retries.max_attempts
            and self.store.parent_state(job) in (None, JobState.FINISHED)
        ):
            now = self.clock()
            wait = job.retries.wait_after(job.attempt)
            retry_id = new_job_id()
            run_at = iso(_whole_second_after(now + timedelta(seconds=wait))) if wait else None
            retry = Job(
                **job.model_dump(include=RETRY_KEEPS),
                id=retry_id,
                state=JobState.PENDING,
                attempt=job.attempt + 1,
                retry_of=job.id,
                attempt_of=job.origin,
                trigger="retry",
                started_by="retry",
                created_at=iso(now),
                execution_arn=execution_arn(self.settings.state_machine_arn, retry_id),
                run_at=run_at,
                waiting=f"attempt {job.attempt + 1} of {job.retries.max_attempts} at {run_at}" if run_at else None,
            )
            try:
                self.store.create_retry(job, retry)
            except self.store.client.exceptions.TransactionCanceledException:
                job = self.store.get(job.id)  # planned by a repeated call meanwhile
                if not job.retried_by:
                    raise
                retry = self.store.get(job.retried_by)
        else:
            return None
        if retry.state == JobState.PENDING:
            self._start_execution(input_of(retry, dependents, self.is_limited))
            record_started(retry.command)
        return retry

    def cancel_job(self, job_id: str, canceled_by: str | None = None, actor: Actor | None = None) -> Job:
        """Cancels a pending or running job; its runner sees the state and stops the process.

        A job that ended and waits for its next attempt has that attempt canceled. `actor`: the
        person, whose audit record goes in the transaction that closes the job.
        """
        job = self.store.get(job_id)
        while not job.state.is_open and job.retried_by:
            job = self.store.get(job.retried_by)
        token = self.store.wait_token(job.id) if job.state == JobState.PENDING else None
        return self.cancel_read(job, token, canceled_by, actor)

    def cancel_read(
        self, job: Job, token: str | None, canceled_by: str | None = None, actor: Actor | None = None
    ) -> Job:
        """Cancels a job as it was read, with the task token it waited in line with then: the same
        conditional close as `cancel_job`, without reading it again (a bulk action read its page)."""
        reason = f"canceled by {canceled_by}" if canceled_by else "canceled by a user"
        audited = [self.audit_write(actor, "cancel", job.id, "canceled")] if actor else []
        job = self.store.close(
            job, JobState.CANCELED, self.clock(), reason=reason, canceled_by=canceled_by, ttl=self.ttl,
            with_writes=audited,
        )  # fmt: skip
        if token:  # it waited for a slot: its execution can end now
            self._answer(token, admitted=False)
        self.cancel_dependents(job, canceled_by)
        return job

    def close_job(self, job_id: str, state: JobState, reason: str | None = None) -> Job:
        """Closes an open job; a job that is already closed keeps the state it has."""
        job = self.store.get(job_id)
        if job.state.is_open:
            try:
                job = self.store.close(job, state, self.clock(), reason=reason, ttl=self.ttl)
            except JobStateConflict:
                job = self.store.get(job_id)
        return job

    def cancel_dependents(self, job: Job, canceled_by: str | None = None) -> list[Job]:
        """Records the dependents of a job that did not finish as canceled, all the way down.

        A job retried hands its dependents on to its next attempt, which decides for them.
        """
        waiting = [*job.dependents, *job.joins]
        if job.state in OPEN_STATES or job.state == JobState.FINISHED or not waiting or job.retried_by:
            return []
        canceled = []
        for child in self.store.get_many(waiting).values():
            if child.state == JobState.PENDING:
                try:
                    child = self.store.close(
                        child,
                        JobState.CANCELED,
                        self.clock(),
                        reason=f"not run: job {job.id} ({job.label}) ended {job.state}",
                        canceled_by=canceled_by,
                        from_states=[JobState.PENDING],
                        ttl=self.ttl,
                    )
                    canceled.append(child)
                    record_closed(child.command, child.state.value, None)
                except JobStateConflict:
                    child = self.store.get(child.id)
            canceled.extend(self.cancel_dependents(child, canceled_by))
        return canceled
