"""`unique: true`: one run of a definition at a time. A start takes the definition's lock item in
the transaction that records its jobs (store/unique.py); a start that finds the run it names still
open is refused with that run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobsys.errors import AlreadyOpen, JobNotFound, JobStateConflict
from jobsys.models import Job
from jobsys.spec.limits import TRANSACTION_ITEMS
from jobsys.store import UniqueLock
from jobsys.store.creation import QueuePaused
from jobsys.system.auditing import AuditTrail

LOCK_ROUNDS = 3  # a start whose lock another start took reads it again: that one's run is open now


class UniqueRuns(AuditTrail):
    """Records a start's jobs, refusing a second run of a unique definition."""

    def _record(self, jobs: list[Job], with_writes: Sequence[dict[str, Any]] = ()) -> bool:
        """Records a start's jobs, the root first; a unique definition's only while no run of it is
        open. True if the root's queue was found open as they were written (its runner need not
        read it); False if it is paused (its runner holds the root back). `with_writes` go in the
        same transaction (store.JobCreation.create)."""
        definition = self.config.definitions.get(jobs[0].definition or "")
        lock = 1 if definition is not None and definition.unique else 0
        if len(jobs) + lock + len(with_writes) + 1 > TRANSACTION_ITEMS:  # no room left for the queue's check
            self._record_checked(jobs, None, with_writes)
            return False
        try:
            self._record_checked(jobs, jobs[0].queue, with_writes)
            return True
        except QueuePaused:
            self._record_checked(jobs, None, with_writes)
            return False

    def _record_checked(self, jobs: list[Job], open_queue: str | None, with_writes: Sequence[dict[str, Any]]) -> None:
        definition = self.config.definitions.get(jobs[0].definition or "")
        if definition is None or not definition.unique:
            self.store.create(jobs, open_queue=open_queue, with_writes=with_writes)
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
                part = "" if open_run.origin == holder else f" ({open_run.label}, a job of its last run)"
                raise AlreadyOpen(
                    f"already running: job {open_run.id} of {definition.key}{part} is {state};"
                    " it runs one at a time (unique: true)",
                    open_run,
                )
            lock = UniqueLock(definition.key, holder)
            if self.store.create(jobs, lock=lock, open_queue=open_queue, with_writes=with_writes):
                return
        raise JobStateConflict(f"{definition.key}: other starts took its lock meanwhile; try again")

    def _open_run(self, root_id: str) -> Job | None:
        """A job of the run that is not over: an open attempt of its root or of any job below it,
        or a last attempt whose next may still be planned. The clean-up keeps a run's root while
        anything of its run is open (cleanup.py)."""
        try:
            root = self.store.get(root_id)
        except JobNotFound:  # deleted by the clean-up: its whole run long over
            return None
        return self.store.open_in_run(root)
