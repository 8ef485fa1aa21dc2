"""Bulk actions: cancel, retry or delete the jobs that match a filter. A dry run counts them; the
action, which names that count, is a record (BULK#...) that its own execution drives, a page at a
time, each job changed by the same conditional transition as one at a time; it can be stopped
and resumed, and no job is acted on twice."""

from __future__ import annotations

import contextlib
import json
import time
from collections import deque
from datetime import UTC, datetime

from jobsys.audit import Actor
from jobsys.errors import (
    AlreadyOpen,
    ExecutionNotStarted,
    JobStateConflict,
    StartFailed,
    Unprocessable,
)
from jobsys.filters import JobFilter
from jobsys.ids import new_job_id, ulid_floor
from jobsys.models import Job, iso, parse_iso
from jobsys.observability import logger
from jobsys.spec.bulk import BulkAction, BulkDryRun, BulkRequest
from jobsys.spec.limits import BULK_COUNT_BUDGET, BULK_PAGE, BULK_SAMPLE, MAX_BULK_JOBS
from jobsys.spec.requests import Replay
from jobsys.store.creation import LinkRefused
from jobsys.system.ending import RunEnds
from jobsys.system.replaying import JobReplays
from jobsys.timestamps import moment_of

HIGHEST_ID = "7" + "Z" * 25  # above every id: a ULID's first character is at most 7
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BulkActions(JobReplays, RunEnds):
    """Counts, starts, drives, stops and resumes bulk actions."""

    def dry_run(self, request: BulkRequest) -> BulkDryRun:
        found_by = self._resolved(request.filter, self.clock())
        count, sample = self._count(found_by)
        return BulkDryRun(count=count, sample=sample)

    def start_bulk(self, request: BulkRequest, actor: Actor) -> BulkAction:
        """Records the action, if no more jobs match than the dry run counted, and starts its execution."""
        now = self.clock()
        found_by = self._resolved(request.filter, now)
        count, _ = self._count(found_by)
        if request.expect_count is not None and count > request.expect_count:
            raise JobStateConflict(
                f"{count} jobs match now, more than the {request.expect_count} expected: run the dry run again"
            )
        action = BulkAction(
            id=new_job_id(int(now.timestamp() * 1000)), action=request.action, filter=found_by, state="running",
            count=count, created_by=actor.name, created_at=iso(now), updated_at=iso(now),
        )  # fmt: skip
        outcome = f"started: {request.action} of {count} job(s)"
        self.store.create_bulk(action, [self.audit_write(actor, "bulk-action", action.id, outcome)])
        return self._drive(action)

    def stop_bulk(self, bulk_id: str, actor: Actor) -> BulkAction:
        """Asks a running action to stop: it does at its next page, and can be resumed."""
        audited = [self.audit_write(actor, "bulk-action", bulk_id, "stopping")]
        stopped = self.store.bulk_state(bulk_id, ("running",), "stopping", audited, stopped_by=actor.name)
        if stopped is None:
            current = self.store.get_bulk(bulk_id)
            raise JobStateConflict(f"bulk action {bulk_id} is {current.state}: only a running one can be stopped")
        return stopped

    def resume_bulk(self, bulk_id: str, actor: Actor) -> BulkAction:
        """Goes on from where a stopped action stopped, in a new execution. One still stopping may
        be resumed too: were its execution to go on, the two would race for each page's cursor, and
        one would stop."""
        current = self.store.get_bulk(bulk_id)
        outcome = f"resumed after {current.done + current.skipped} of {current.count}"
        audited = [self.audit_write(actor, "bulk-action", bulk_id, outcome)]
        resumed = self.store.bulk_state(
            bulk_id, ("stopped", "stopping"), "running", audited,
            generation=current.generation + 1, updated_at=iso(self.clock()),
        )  # fmt: skip
        if resumed is None:
            raise JobStateConflict(f"bulk action {bulk_id} is {current.state}: only a stopped one can be resumed")
        return self._drive(resumed)

    def act_on_pages(self, bulk_id: str, budget: float) -> bool:
        """BulkActionFunction's part: acts on pages of the action's jobs for `budget` seconds at
        most; True if more is left for its next invocation."""
        deadline = time.monotonic() + budget
        action = self.store.get_bulk(bulk_id)
        low, high = self._id_range(action.filter)
        while True:
            if action.state == "stopping":
                self.store.bulk_state(bulk_id, ("stopping",), "stopped", updated_at=iso(self.clock()))
                return False
            if action.state != "running":
                return False
            page = self.store.selected(action.filter, low, high, action.cursor, BULK_PAGE)
            done = skipped = 0
            for job in page.jobs:
                acted = self._act(action, job, page.wait_tokens.get(job.id))
                done, skipped = done + acted, skipped + (not acted)
            more = page.more
            if not more:  # the jobs that left the set meanwhile were passed over: skipped too
                skipped = max(skipped, action.count - action.done - action.skipped - done)
            moved = self.store.bulk_progress(action, done, skipped, page.cursor, not more, iso(self.clock()))
            if moved is None:  # another execution moved it on: it goes on, this one stops
                return False
            action = moved
            if not more:
                return False
            if time.monotonic() >= deadline:
                return True

    def fail_bulk(self, bulk_id: str, error: str) -> None:
        """Its execution failed: the action stops, to be resumed, with the reason."""
        self.store.bulk_state(
            bulk_id, ("running", "stopping"), "stopped", reason=error[:500], updated_at=iso(self.clock())
        )

    def _act(self, action: BulkAction, job: Job, wait_token: str | None) -> bool:
        """One job, by the transition it would get alone; False if it changed meanwhile. A job is
        as its page read it: a cancel's close is conditional on the state read."""
        by = f"{action.created_by} (bulk action {action.id})"
        try:
            if action.action == "cancel":
                if not job.state.is_open:
                    return False
                self.cancel_read(job, wait_token, canceled_by=by)
            elif action.action == "retry":
                if job.state.is_open:
                    return False
                with contextlib.suppress(StartFailed):  # recorded, and its run ended: acted on
                    self.replay(job.id, Replay(), replayed_by=action.created_by, bulk_id=action.id)
            else:
                return self._delete(job)
        except (JobStateConflict, LinkRefused, AlreadyOpen, Unprocessable):
            return False
        return True

    def _delete(self, job: Job) -> bool:
        """A closed job whose run is over, as the clean-up deletes it: its output, then its record."""
        if job.state.is_open or (job.ended_at is None and job.next_attempt_due):
            return False
        if (job.dependents or job.joins or job.retried_by) and self.store.open_in_run(job):
            return False
        self.output.delete(job.id)
        return self.store.delete(job)

    def _count(self, found_by: JobFilter) -> tuple[int, list[Job]]:
        """The jobs that match now, and the newest of them, within BULK_COUNT_BUDGET seconds."""
        deadline = time.monotonic() + BULK_COUNT_BUDGET
        low, high = self._id_range(found_by)
        count, newest, cursor = 0, deque[Job](maxlen=BULK_SAMPLE), None
        while True:
            page = self.store.selected(found_by, low, high, cursor, BULK_PAGE, as_indexed=True)
            count, cursor = count + len(page.jobs), page.cursor
            newest.extend(page.jobs)
            if count > MAX_BULK_JOBS:
                raise Unprocessable(f"more than {MAX_BULK_JOBS} jobs match: narrow the filter (a state, a time range)")
            if not page.more:
                return count, list(reversed(newest))
            if time.monotonic() > deadline:
                raise Unprocessable(f"could not count the jobs within {BULK_COUNT_BUDGET:.0f} s: narrow the filter")

    def _resolved(self, found_by: JobFilter, now: datetime) -> JobFilter:
        """The filter with its times fixed: `until` at most now, so that the set cannot grow."""
        try:
            since = moment_of(found_by.since, now) if found_by.since is not None else None
            until = min(moment_of(found_by.until, now), now) if found_by.until is not None else now
            # No job is older than 1970, where ids start (and years below 1000 have no fixed width).
            since, until = max(since, EPOCH) if since else None, max(until, EPOCH)
        except ValueError as problem:
            raise Unprocessable(f"filter.since, filter.until: {problem}") from None
        return found_by.model_copy(update={"since": iso(since) if since else None, "until": iso(until)})

    @staticmethod
    def _id_range(found_by: JobFilter) -> tuple[str, str]:
        """The ids of a resolved filter's time range."""
        low = ulid_floor(parse_iso(found_by.since)) if found_by.since else "0"
        high = ulid_floor(parse_iso(found_by.until)) if found_by.until else HIGHEST_ID
        return low, high

    def _drive(self, action: BulkAction) -> BulkAction:
        """Starts the action's execution; one that does not start leaves it stopped, to be resumed."""
        try:
            self.sfn.start_execution(
                stateMachineArn=self.settings.bulk_state_machine_arn,
                name=f"{action.id}-{action.generation}",
                input=json.dumps({"bulk_id": action.id}),
            )
        except Exception as exc:
            logger.exception("could not start a bulk action's execution", extra={"bulk_id": action.id})
            self.fail_bulk(action.id, f"could not start its execution: {exc}")
            raise ExecutionNotStarted(f"bulk action {action.id} was recorded but could not start: {exc}") from exc
        return action

    def bulk_action(self, bulk_id: str) -> BulkAction:
        return self.store.get_bulk(bulk_id)

    def recent_bulk_actions(self, limit: int, cursor: str | None) -> tuple[list[BulkAction], str | None]:
        return self.store.recent_bulk(limit, cursor)
