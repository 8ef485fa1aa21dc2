"""Limited queues: a job asks for a slot, waits in line, and is started when one frees."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from jobsys.config import Queue
from jobsys.models import Job, JobState
from jobsys.observability import logger
from jobsys.store import wait_order
from jobsys.system.base import SystemBase

SERVE_BATCH = 10  # jobs read from a queue's line at a time
MAX_SERVE_ROUNDS = 20


class QueueAdmission(SystemBase):
    """Admits waiting jobs to the slots of their queue, in order."""

    def admit(self, job_id: str, token: str) -> None:
        """Called by an execution that needs a slot of its job's queue; its task token starts it.

        The job joins the queue's line first and then the line is served, so that it never passes
        a job of higher priority that waits already.
        """
        job = self.store.get(job_id)
        queue = self.config.limited_queue(job.queue)
        if job.state != JobState.PENDING:
            self._answer(token, admitted=False)
            return
        if queue is None:  # its limit was lifted since it started
            self._answer(token, admitted=True)
            return
        if not self.store.mark_waiting(job, token, f"waiting for a slot in queue {queue.name}"):
            self._answer(token, admitted=False)  # closed meanwhile
            return
        if job.id not in self.serve_queue(queue, also=((job, token),)):
            # The queue was full when it asked: all its slots were taken. Said unless the job was
            # started meanwhile (which removed its token).
            reason = f"queue {queue.name} is full ({queue.concurrency} running)"
            self.store.mark_waiting(job, token, reason, still=True)

    def serve_queue(self, queue: Queue, also: tuple[tuple[Job, str], ...] = ()) -> list[str]:
        """Starts the next jobs in line while the queue has free slots; returns the ids started."""
        assert queue.concurrency is not None
        started: list[str] = []
        known = {job.id: (job, token) for job, token in also}
        holders: set[str] | None = None
        for _ in range(MAX_SERVE_ROUNDS):
            # The index can lag a write by a moment; `also` holds a job that has just joined the line.
            line = {job.id: (job, token) for job, token in self.store.waiting_in(queue.name, SERVE_BATCH)}
            line |= {job_id: entry for job_id, entry in known.items() if job_id not in line}
            if not line:
                break
            # A job in line that holds a slot already (its start was claimed, but the answer to its
            # execution was lost, and it asked again) goes first: the queue may be full of it alone,
            # and a job ahead of it could then never take a slot, nor let it through.
            if holders is None:  # read once: a job this call claims leaves the line with its slot
                _, holders = self.store.queue_counter(queue.name)
            for job, token in sorted(line.values(), key=lambda e: (e[0].id not in holders, wait_order(e[0]))):
                known.pop(job.id, None)
                taken = self.store.take_slot(queue.name, job.id, queue.concurrency)
                if not taken:
                    return started
                if self.store.claim(job, token):
                    # If the answer is lost, the job keeps its slot and asks again when its wait
                    # times out; it is then served first.
                    self._answer(token, admitted=True)
                    started.append(job.id)
                elif taken == "new" and not self.store.is_claimed(job.id):  # canceled, or back in line anew
                    # Not when another waker claimed it: that waker found the slot just taken here
                    # already held, and started the job in it. Given back, a third job of a queue
                    # of two would run.
                    self.store.release_slot(queue.name, job.id)
            if len(line) < SERVE_BATCH:
                break
        return started

    def _answer(self, token: str, admitted: bool) -> None:
        try:
            self.sfn.send_task_success(taskToken=token, output=json.dumps({"admitted": admitted}))
        except (
            self.sfn.exceptions.TaskTimedOut,
            self.sfn.exceptions.TaskDoesNotExist,
            self.sfn.exceptions.InvalidToken,
        ):
            # Its wait timed out: the execution asks again and finds the slot it holds.
            logger.info("a task token was no longer valid", extra={"admitted": admitted})
        except ClientError:
            # Throttled past botocore's retries, or another failure: the same as a lost answer. The
            # job's wait times out, it asks again, and finds its slot; the rest of the line goes on.
            logger.warning("could not answer a waiting execution", extra={"admitted": admitted}, exc_info=True)

    def release(self, job: Job) -> None:
        """Gives back the job's slot, if it holds one, and starts whoever is next in line."""
        queue = self.config.limited_queue(job.queue)
        # A queue without a limit has no slots (and a limit lifted leaves nothing that counts).
        if queue is not None and self.store.release_slot(job.queue, job.id):
            self.serve_queue(queue)
