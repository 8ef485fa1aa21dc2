"""`unique: true`: one run of a definition at a time. A start takes the definition's lock item in
the transaction that records its jobs (store/unique.py); a start that finds the run it names still
open is refused with that run."""

from __future__ import annotations

from jobsys.errors import AlreadyOpen, JobNotFound, JobStateConflict
from jobsys.models import RETRIED_STATES, Job
from jobsys.store import UniqueLock
from jobsys.system.base import SystemBase

LOCK_ROUNDS = 3  # a start whose lock another start took reads it again: that one's run is open now


class UniqueRuns(SystemBase):
    """Records a start's jobs, refusing a second run of a unique definition."""

    def _record(self, jobs: list[Job]) -> None:
        """Records a start's jobs, the root first; a unique definition's only while no run of it is open."""
        definition = self.config.definitions.get(jobs[0].definition or "")
        if definition is None or not definition.unique:
            self.store.create(jobs)
            return
        for _ in range(LOCK_ROUNDS):
            holder = self.store.unique_holder(definition.key)
            open_run = self._open_run(holder) if holder else None
            if open_run is not None:
                state = (
                    open_run.state.value
                    if open_run.state.is_open
                    else f"{open_run.state}, its next attempt being planned"
                )
                raise AlreadyOpen(
                    f"already running: job {open_run.id} of {definition.key} is {state};"
                    " it runs one at a time (unique: true)",
                    open_run,
                )
            if self.store.create(jobs, lock=UniqueLock(definition.key, holder)):
                return
        raise JobStateConflict(f"{definition.key}: other starts took its lock meanwhile; try again")

    def _open_run(self, root_id: str) -> Job | None:
        """The open attempt of a run, or its last attempt while its next may still be planned."""
        try:
            last = self.store.last_attempt(root_id)
        except JobNotFound:  # deleted by the clean-up: long closed
            return None
        if last.state.is_open:
            return last
        may_retry = last.state in RETRIED_STATES and last.attempt < last.retries.max_attempts
        return last if may_retry and last.ended_at is None else None
