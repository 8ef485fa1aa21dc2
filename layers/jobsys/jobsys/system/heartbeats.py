"""Runners that hang: a running job whose runner has not beaten for HEARTBEAT_TIMEOUT is closed
incomplete, its execution stopped (which stops a Fargate task), and its run ended as any other
(its slot given back, its next attempt planned or its dependents canceled). Checked every minute."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from jobsys.errors import JobStateConflict
from jobsys.models import Job, JobState, parse_iso
from jobsys.observability import logger
from jobsys.spec.limits import HEARTBEAT_TIMEOUT
from jobsys.system.ending import RunEnds


class HeartbeatChecks(RunEnds):
    """Finds the running jobs whose runner stopped saying that it runs, and ends their runs."""

    def check_heartbeats(self) -> list[Job]:
        """Every running job is read (one Query a page); those without a heartbeat for too long are
        ended. Returns them, as they ended."""
        now = self.clock()
        ended: list[Job] = []
        after: dict[str, Any] | None = None
        while True:
            jobs, after = self.store.in_state(JobState.RUNNING, after)
            for job in jobs:
                last = job.heartbeat_at or job.started_at
                if last is not None and now - parse_iso(last) > HEARTBEAT_TIMEOUT:
                    try:
                        lost = self._end_silent_run(job, last, now)
                    except Exception:  # noqa: BLE001 - the others are checked all the same
                        # Closed and its execution stopped, its end not handled: the clean-up's lost ends.
                        logger.exception("could not end the run of a silent runner", extra={"job_id": job.id})
                        continue
                    if lost is not None:
                        ended.append(lost)
            if not after:
                return ended

    def _end_silent_run(self, job: Job, last: str, now: datetime) -> Job | None:
        reason = f"no heartbeat since {parse_iso(last):%H:%M:%S} UTC"
        try:
            # Only if it did not beat meanwhile: a runner that was slow, not gone, keeps its job.
            job = self.store.close(
                job, JobState.INCOMPLETE, now, reason=reason, from_states=[JobState.RUNNING], ttl=self.ttl,
                last_heartbeat=job.heartbeat_at,
            )  # fmt: skip
        except JobStateConflict:
            return None
        logger.warning("a runner stopped beating", extra={"job_id": job.id, "reason": reason})
        self._stop_execution(job, reason)
        return self.end_run(job.id)

    def _stop_execution(self, job: Job, reason: str) -> None:
        """Its execution must not end the run again, and a Fargate task stops with its `.sync` state."""
        if job.execution_arn is None:
            return
        try:
            with contextlib.suppress(self.sfn.exceptions.ExecutionDoesNotExist):
                self.sfn.stop_execution(executionArn=job.execution_arn, error="JobSystem.NoHeartbeat", cause=reason)
        except Exception:  # noqa: BLE001 - the run is ended all the same; a stopped runner sees its job closed
            logger.warning("could not stop the execution of a job without heartbeat", extra={"job_id": job.id})
