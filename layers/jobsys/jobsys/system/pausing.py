"""Pausing a queue: no job of it starts until it is resumed; running jobs go on, and waiting ones
keep their place in its line."""

from __future__ import annotations

import time

from jobsys.config import Queue
from jobsys.errors import QueueNotFound
from jobsys.models import QueueState, iso
from jobsys.spec.limits import SAY_WHY_AT_MOST
from jobsys.system.admission import SERVE_BATCH, QueueAdmission


class QueuePauses(QueueAdmission):
    """Pauses and resumes queues, and says why their waiting jobs wait."""

    def pause_queue(self, name: str, by: str) -> tuple[Queue, QueueState]:
        """Pauses a queue; pausing a paused queue keeps who paused it first, and when."""
        queue = self._queue_named(name)
        self.store.pause(queue.name, by, iso(self.clock()))
        self._say_why_waiting(queue, also_started=())
        return queue, self.store.queue_item(queue.name)

    def resume_queue(self, name: str) -> tuple[Queue, QueueState]:
        """Resumes a queue, and starts its waiting jobs in its order, as a freed slot does."""
        queue = self._queue_named(name)
        if self.store.resume(queue.name):
            self._say_why_waiting(queue, also_started=tuple(self.serve_queue(queue)))
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
