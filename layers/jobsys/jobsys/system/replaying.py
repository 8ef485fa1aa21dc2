"""Replaying a closed job with its params edited: a new start, checked as any start is, that
records `replay_of`, while its original lists it among its `replays` in the same transaction."""

from __future__ import annotations

from typing import Any

from jobsys.audit import Actor
from jobsys.errors import JobStateConflict
from jobsys.models import Job, JobSpec
from jobsys.spec.requests import DependingJob, Replay
from jobsys.spec.settings import SettingsChoice
from jobsys.store.creation import LinkRefused
from jobsys.system.starting import JobStarts


class JobReplays(JobStarts):
    """Starts a closed job again, as it ran, with what the replay changes."""

    def replay(
        self, job_id: str, replay: Replay, replayed_by: str, actor: Actor | None = None, bulk_id: str | None = None
    ) -> Job:
        """`bulk_id`: the bulk action that replays it, which replays it once (LinkRefused, else)."""
        original = self.store.get(job_id)
        if original.state.is_open:
            raise JobStateConflict(f"job {job_id} is {original.state.value}: only a closed job can be replayed")
        spec = self._replay_spec(original, replay)

        def link(root: Job) -> list[dict[str, Any]]:
            # Called between the planning of the jobs and their write: the root is written with it.
            root.replay_of = original.id
            audited = [self.audit_write(actor, "replay", original.id, f"started {root.id}")] if actor else []
            return [self.store.replay_link(original, root.id, bulk_id), *audited]

        try:
            run_at = replay.start_at(self.clock())
            return self.start_job(spec, run_at, trigger="replay", started_by=replayed_by, with_writes=link)
        except LinkRefused:
            if bulk_id is not None:
                raise
            raise JobStateConflict(f"job {job_id} was deleted or changed meanwhile; nothing was started") from None

    def _replay_spec(self, original: Job, replay: Replay) -> JobSpec:
        """What the replay starts: a definition's run from its root again, with its dependents as
        jobs.yaml has them now; any other job alone. Its settings are the original's, with the
        replay's choices over them, checked as a start's are (the allow-list, the queue, the
        Lambda runner's limit)."""
        params = list(replay.params) if replay.params is not None else original.params
        ran_as = SettingsChoice(**original.setting_values())
        definition = self.config.definitions.get(original.definition or "")
        if definition is not None and original.parent_id is None:
            settings = self.config.settings_for(self.config.settings_for(definition, ran_as), replay)
            return definition.to_spec().model_copy(update={"params": params, **settings.setting_values()})
        request = DependingJob(command=original.command, params=params, label=original.label, key=original.key)
        spec = self.config.spec_for(request)
        settings = self.config.settings_for(self.config.settings_for(spec, ran_as), replay)
        return spec.model_copy(update={"definition": original.definition, **settings.setting_values()})
