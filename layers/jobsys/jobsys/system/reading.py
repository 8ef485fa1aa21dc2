"""What the page, the API and the CLI read: jobs, output, a definition's next run, run statistics
and the queues' slots."""

from __future__ import annotations

from jobsys.config import Queue
from jobsys.costs import CostEstimate, cost_estimate
from jobsys.filters import JobFilter
from jobsys.models import Job, JobState, QueueState, iso, parse_iso
from jobsys.output import OutputPage
from jobsys.stats import RunStats, run_stats
from jobsys.store.usage import UsageOf
from jobsys.streams import Stream
from jobsys.system.base import SystemBase


class JobReads(SystemBase):
    def get_job(self, job_id: str) -> Job:
        return self.store.get(job_id)

    def list_jobs(
        self, state: JobState | None, command: str | None, limit: int, cursor: str | None, queue: str | None = None
    ) -> tuple[list[Job], str | None]:
        return self.store.page(state=state, command=command, limit=limit, cursor=cursor, queue=queue)

    def search_jobs(self, found_by: JobFilter, limit: int, cursor: str | None) -> tuple[list[Job], str | None]:
        """The jobs of a tag or a param's value (and of `found_by`'s other parts), newest first."""
        return self.store.search(found_by, limit=limit, cursor=cursor)

    def job_run(self, job_id: str) -> list[Job]:
        """Every job of the run that `job_id` is part of, from its root down: dependents, the joins
        that wait for them, and each next attempt; one BatchGetItem a level (a start records a
        transaction's jobs at most). A job the clean-up deleted is left out."""
        job = self.store.get(job_id)
        root = job if job.root_id == job.id else self.store.get(job.root_id)
        found, level = {root.id: root}, [root]
        while level:
            below = {
                i
                for job in level
                for i in (job.retried_by, *job.dependents, *job.joins)
                if i is not None and i not in found
            }
            level = list(self.store.get_many(list(below)).values()) if below else []
            found.update((job.id, job) for job in level)
        return sorted(found.values(), key=lambda job: job.id)

    def read_output(self, job_id: str, cursor: str | None, stream: Stream | None = None) -> OutputPage:
        return self.output.read(self.store.get(job_id), cursor, stream=stream)

    def next_runs(self) -> dict[str, str]:
        """When each scheduled definition starts next: a cron's follows from the clock, a rate's
        from its last fire (or from when its schedule was made)."""
        now = self.clock()
        scheduled = [d for d in self.config.definitions.values() if d.schedule is not None]
        fires = self.store.last_fires([d.key for d in scheduled if d.schedule and d.schedule.rate])
        runs = {}
        for definition in scheduled:
            assert definition.schedule is not None
            fire = fires.get(definition.key, {})
            last = fire.get("last_scheduled_at") or fire.get("synced_at")
            upcoming = definition.schedule.next_run(now, parse_iso(last) if last else None)
            if upcoming is not None:
                runs[definition.key] = iso(upcoming)
        return runs

    def definition_stats(self, key: str, runs: int) -> RunStats:
        self.config.definition(key)  # a key jobs.yaml does not have is not found, not "no runs"
        stats = run_stats(self.store.recent_runs(definition=key, limit=runs), definition=key)
        return stats.model_copy(update={"cost": self._cost("definition", key)})

    def command_stats(self, command: str, runs: int) -> RunStats:
        stats = run_stats(self.store.recent_runs(command=command, limit=runs), command=command)
        return stats.model_copy(update={"cost": self._cost("command", command)})

    def _cost(self, of: UsageOf, name: str) -> CostEstimate:
        """The last 30 days' runs, priced now: a change of prices changes past runs' figures too."""
        from jobsys.spec.prices import Prices  # only here: its Decimals cost every cold start 20 ms

        today = self.clock().date()
        days = self.store.usage_days(of, name, today)
        return cost_estimate(days, today, Prices.overridden(self.settings.prices))

    def queue_usage(self) -> list[tuple[Queue, QueueState]]:
        """Each queue of jobs.yaml, with the slots its jobs hold now and whether it is paused."""
        return [(queue, self.store.queue_item(queue.name)) for queue in self.config.queues.values()]
