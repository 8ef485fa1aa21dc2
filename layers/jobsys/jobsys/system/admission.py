"""Queues: a job of a limited or a paused queue waits in its line, and is started when a slot
frees or the queue is resumed."""

from __future__ import annotations

import json
import time
from datetime import datetime

from botocore.exceptions import ClientError

from jobsys.config import Queue
from jobsys.models import Job, JobState
from jobsys.observability import logger
from jobsys.spec.limits import CONTINUE_AFTER, SERVE_AT_MOST
from jobsys.store import wait_order
from jobsys.system.base import SystemBase, executions_of, input_of, next_execution_name

SERVE_BATCH = 10  # jobs read from a queue's line at a time
MAX_SERVE_ROUNDS = 20


class QueueAdmission(SystemBase):
    """Admits waiting jobs to their queue, in order: to its slots, and only while it is not paused."""

    def admit(self, job_id: str, token: str, execution_started: datetime | None = None) -> None:
        """Called by an execution whose job's queue is limited, or was paused when it looked; its
        task token starts it.

        The job joins the queue's line first and then the line is served, so that it never passes
        a job of higher priority that waits already, nor misses a resume that came meanwhile. An
        execution that started CONTINUE_AFTER ago hands its job on to a new one (its history).
        """
        job = self.store.get(job_id)
        if (
            job.state == JobState.PENDING
            and execution_started is not None
            and self.clock() - execution_started >= CONTINUE_AFTER
            and self._continue_in_new_execution(job)
        ):
            self._answer(token, admitted=False, continued=True)
            return
        # A queue taken out of jobs.yaml has no limit, as the default queue.
        queue = self.config.queues.get(job.queue) or Queue(job.queue, None)
        if job.state != JobState.PENDING:
            self._answer(token, admitted=False)
            return
        if queue.concurrency is None and not self.store.queue_item(queue.name).held_back(queue.name):
            self._answer(token, admitted=True)  # resumed, or its limit lifted, since it looked
            return
        if not self.store.mark_waiting(job, token, f"waiting for its turn in queue {queue.name}"):
            self._answer(token, admitted=False)  # closed meanwhile
            return
        if job.id not in self.serve_queue(queue, also=((job, token),)):
            # Said unless the job was started meanwhile (which removed its token).
            self.store.mark_waiting(job, token, self.why_waiting(queue), still=True)

    def why_waiting(self, queue: Queue) -> str:
        """Why the jobs in a queue's line wait now."""
        held_back = self.store.queue_item(queue.name).held_back(queue.name)
        if held_back:
            return held_back
        if queue.concurrency is not None:
            return f"queue {queue.name} is full ({queue.concurrency} running)"
        return f"waiting for its turn in queue {queue.name}"  # resumed; it is served next

    def serve_queue(self, queue: Queue, also: tuple[tuple[Job, str], ...] = ()) -> list[str]:
        """Starts the next jobs in line while the queue has free slots, unless it is paused, for at
        most SERVE_AT_MOST seconds; returns the ids started."""
        deadline = time.monotonic() + SERVE_AT_MOST
        started: list[str] = []
        item = self.store.queue_item(queue.name)  # read once: a job this call claims leaves the line with its slot
        if item.held_back(queue.name):
            return started
        known = {job.id: (job, token) for job, token in also}
        for _ in range(MAX_SERVE_ROUNDS):
            # The index can lag a write by a moment; `also` holds a job that has just joined the line.
            line = {job.id: (job, token) for job, token in self.store.waiting_in(queue.name, SERVE_BATCH)}
            line |= {job_id: entry for job_id, entry in known.items() if job_id not in line}
            if not line:
                break
            # A job in line that holds a slot already (its start was claimed, but the answer to its
            # execution was lost, and it asked again) goes first: the queue may be full of it alone,
            # and a job ahead of it could then never take a slot, nor let it through.
            for job, token in sorted(line.values(), key=lambda e: (e[0].id not in item.holders, wait_order(e[0]))):
                known.pop(job.id, None)
                if queue.concurrency is None:  # no slots to take: a paused queue's job, resumed
                    taken: str | bool = "none"
                else:
                    taken = self.store.take_slot(queue.name, job.id, queue.concurrency)
                if not taken:
                    return started
                if self.store.claim(job, token):
                    # If the answer is lost, the job keeps its slot and asks again when its wait
                    # times out; it is then served first.
                    self._answer(token, admitted=True)
                    started.append(job.id)
                    if time.monotonic() >= deadline:  # the rest ask again when their waits time out
                        return started
                elif taken == "new" and not self.store.is_claimed(job.id):  # canceled, or back in line anew
                    # Not when another waker claimed it: that waker found the slot just taken here
                    # already held, and started the job in it. Given back, a third job of a queue
                    # of two would run.
                    self.store.release_slot(queue.name, job.id)
            if len(line) < SERVE_BATCH:
                break
        return started

    def _continue_in_new_execution(self, job: Job) -> bool:
        """Starts the job's next execution (`<job id>-<n>`), which asks for its turn anew, and
        points the job at it; False if the job was closed meanwhile (the new one then ends at once)."""
        name = next_execution_name(job)
        try:
            self._start_execution(input_of(job, self._dependents_input(job), self.is_limited), name=name)
        except Exception:  # noqa: BLE001 - it waits on in this execution, and tries again at its next ask
            logger.warning("could not continue a job in a new execution", extra={"job_id": job.id}, exc_info=True)
            return False
        logger.info("a job waits on in a new execution", extra={"job_id": job.id, "execution": name})
        return self.store.move_execution(job, f"{executions_of(self.settings.state_machine_arn)}:{name}")

    def _answer(self, token: str, admitted: bool, continued: bool = False) -> None:
        answer = {"admitted": admitted} | ({"continued": True} if continued else {})
        try:
            self.sfn.send_task_success(taskToken=token, output=json.dumps(answer))
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
