"""Pausing a queue: no job of it starts until it is resumed; running jobs go on, and waiting ones
keep their place in its line."""

from __future__ import annotations

import time

from jobsys.audit import Actor
from jobsys.config import Queue
from jobsys.errors import QueueNotFound
from jobsys.models import QueueState, iso
from jobsys.spec.limits import SAY_WHY_AT_MOST
from jobsys.system.admission import SERVE_BATCH, QueueAdmission
from jobsys.system.auditing import AuditTrail


class QueuePauses(QueueAdmission, AuditTrail):
    """Pauses and resumes queues, and says why their waiting jobs wait."""

    def pause_queue(self, name: str, by: str, actor: Actor | None = None) -> tuple[Queue, QueueState]:
        """Pauses a queue; pausing a paused queue keeps who paused it first, and when. `actor`: the
        person, whose audit record goes in the pause's transaction (alone, if it was paused)."""
        queue = self._queue_named(name)
        audited = [self.audit_write(actor, "pause", queue.name, "paused")] if actor else []
        if not self.store.pause(queue.name, by, iso(self.clock()), with_writes=audited) and actor:
            self.audit(actor, "pause", queue.name, "no change: it was paused already")
        self._say_why_waiting(queue, also_started=())
        return queue, self.store.queue_item(queue.name)

    def resume_queue(self, name: str, actor: Actor | None = None) -> tuple[Queue, QueueState]:
        """Resumes a queue, and starts its waiting jobs in its order, as a freed slot does."""
        queue = self._queue_named(name)
        audited = [self.audit_write(actor, "resume", queue.name, "resumed")] if actor else []
        if self.store.resume(queue.name, with_writes=audited):
            self._say_why_waiting(queue, also_started=tuple(self.serve_queue(queue)))
        elif actor:
            self.audit(actor, "resume", queue.name, "no change: it was not paused")
        return queue, self.store.queue_item(queue.name)

    def _say_why_waiting(self, queue: Queue, also_started: tuple[str, ...]) -> None:
        """The jobs in the line, first in line first, say why they wait now, for SAY_WHY_AT_MOST
        seconds; a job started meanwhile is left alone (the write's condition on its token)."""
        deadline = time.monotonic() + SAY_WHY_AT_MOST
        reason = self.why_waiting(queue)
        for job, token in self.store.line(queue.name, SERVE_BATCH):
            if time.monotonic() >= deadline:  # the rest say so when they ask again
                return
            if job.id not in also_started:
                self.store.mark_waiting(job, token, reason, still=True)

    def _queue_named(self, name: str) -> Queue:
        try:
            return self.config.queues[name]
        except KeyError:
            known = ", ".join(sorted(self.config.queues))
            raise QueueNotFound(f"no queue '{name}' (the queues are: {known})") from None
