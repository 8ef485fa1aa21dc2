"""The state changes that the jobs table's stream holds: each change of a job's state once, in
order, and none for the other writes."""

from datetime import timedelta

from jobsys.models import JobState
from jobsys.spec.requests import CommandStart
from jobsys.state_changes import state_changes
from tests.unit.in_process import Clock, TableStream, run_and_close, system_for

CONFIG = {"commands": {"demo:echo": {}}, "jobs": {}}


def test_each_change_of_a_jobs_state_is_one_change_and_no_other_write_is_one():
    clock = Clock()
    with system_for(CONFIG, clock) as system:
        stream = TableStream("jobs")
        job = system.start(CommandStart(command="demo:echo"), started_by="ops")
        running = system.store.mark_running(job, clock(), system.output.location(job.id))
        clock.advance(seconds=5)
        system.store.beat(job.id, clock())  # a heartbeat, a progress: writes, but no change
        system.store.set_progress(job.id, 1, 2, clock() + timedelta(seconds=5))
        run_and_close(system, running, JobState.FINISHED)  # and EndRun's mark_ended: no change either
        changes = state_changes(stream.read())
    assert [(job.id, job.state, previous) for _, (job, previous) in changes] == [
        (job.id, JobState.PENDING, None),
        (job.id, JobState.RUNNING, JobState.PENDING),
        (job.id, JobState.FINISHED, JobState.RUNNING),
    ]
    sequence = [int(number) for number, _ in changes]
    assert sequence == sorted(sequence)
    assert changes[-1][1][0].exit_code == 0
