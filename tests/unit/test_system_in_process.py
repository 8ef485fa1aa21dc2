"""JobSystem in-process, against moto's mock_aws, with a clock the test moves: retries and their
back-off, the cancel cascade, queue admission, the clean-up and schedules, without a stack and
without sleeping. The test plays the state machine's part: it calls what each state calls."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import boto3
import pytest

from jobsys.cleanup import CleanUpPolicy, clean_up, interrupted_runs
from jobsys.costs import RunMeter, UsageTotals
from jobsys.errors import AlreadyOpen, NotFound
from jobsys.events import JobEvents
from jobsys.models import JobState, QueueState, iso
from jobsys.runner import RunStart, run_job
from jobsys.spec.prices import Prices
from jobsys.spec.requests import CommandStart, DefinitionStart, StartOptions
from jobsys.state_changes import ChangesFollowed
from jobsys.store import JobStore
from jobsys.store.search_index import SearchIndex
from jobsys.system import admission
from tests.unit.in_process import TableStream, run_and_close

ROOT = Path(__file__).resolve().parents[2]
CONFIG = {
    "queues": {"serial": {"concurrency": 1}},
    "commands": ["demo:echo", "demo:fail"],
    "jobs": {
        "flaky": {
            "label": "Flaky",
            "command": "demo:fail",
            "retries": {"max_attempts": 3, "backoff": "30 s", "factor": 2},
            "depending_jobs": {"after": {"label": "After", "command": "demo:echo"}},
        },
        "tree": {
            "label": "Tree",
            "command": "demo:echo",
            "depending_jobs": {
                "b": {
                    "label": "B",
                    "command": "demo:echo",
                    "depending_jobs": {"c": {"label": "C", "command": "demo:echo"}},
                }
            },
        },
        "hourly": {"label": "Hourly", "command": "demo:echo", "schedule": {"rate": "1 hour"}},
        "rebuild": {
            "label": "Rebuild",
            "command": "demo:echo",
            "depending_jobs": {
                "import_de": {"label": "Import DE", "command": "demo:echo"},
                "import_fr": {"label": "Import FR", "command": "demo:fail", "retries": {"max_attempts": 2}},
                "build_index": {"label": "Build index", "command": "demo:echo", "after": ["import_de", "import_fr"]},
            },
        },
        "import": {
            "label": "Import",
            "command": "demo:fail",
            "unique": True,
            "retries": {"max_attempts": 2},
            "schedule": {"rate": "1 hour"},
        },
    },
}


_run_and_close = run_and_close


def test_a_failed_attempt_plans_the_next_after_its_back_off_and_the_last_cancels_the_dependents(system, clock):
    first = system.start(DefinitionStart(definition="flaky"), started_by="ops")
    ended = _run_and_close(system, first, JobState.FAILED)
    second = system.get_job(ended.retried_by)
    assert (second.attempt, second.run_at) == (2, iso(clock.now + timedelta(seconds=30)))
    assert second.dependents == first.dependents  # handed on, still pending
    clock.advance(seconds=30)
    third = system.get_job(_run_and_close(system, second, JobState.FAILED).retried_by)
    assert third.run_at == iso(clock.now + timedelta(seconds=60))  # 30 s times the factor 2
    clock.advance(seconds=60)
    last = _run_and_close(system, third, JobState.FAILED)
    assert last.retried_by is None
    after = system.get_job(first.dependents[0])
    assert after.state == JobState.CANCELED and after.reason.startswith(f"not run: job {third.id}")


def test_canceling_a_job_cancels_its_dependents_all_the_way_down(system):
    root = system.start(DefinitionStart(definition="tree"), started_by="ops")
    system.cancel_job(root.id, canceled_by="ops")
    b = system.get_job(root.dependents[0])
    c = system.get_job(b.dependents[0])
    assert [job.state for job in (system.get_job(root.id), b, c)] == [JobState.CANCELED] * 3
    assert c.canceled_by == "ops"


def test_a_limited_queue_admits_by_priority_and_the_next_when_a_slot_frees(system):
    jobs = [
        system.start(CommandStart(command="demo:echo", params=[name], queue="serial", priority=priority))
        for name, priority in (("first", 0), ("low", 1), ("high", 9))
    ]
    for job in jobs:  # each execution asks for a slot (moto refuses the fake tokens: answers are lost)
        system.admit(job.id, f"token-{job.id}")
    assert system.store.queue_counter("serial") == (1, {jobs[0].id})
    assert system.get_job(jobs[1].id).waiting == "queue serial is full (1 running)"
    _run_and_close(system, system.get_job(jobs[0].id), JobState.FINISHED)
    assert system.store.queue_counter("serial") == (1, {jobs[2].id})  # the higher priority, not the older


def test_a_start_later_and_the_clean_up_follow_the_clock(system, clock):
    later = system.start(CommandStart(command="demo:echo", delay="10 min"))
    assert later.run_at == iso(clock.now + timedelta(minutes=10))
    done = system.start(DefinitionStart(definition="tree", options=StartOptions(priority=3)))
    assert done.priority == 3
    b = system.get_job(done.dependents[0])
    for job_id in (done.id, b.id, *b.dependents):  # the whole run: a root is kept while its run goes on
        _run_and_close(system, system.get_job(job_id), JobState.FINISHED)
    policy = CleanUpPolicy.parse(100, "1 hour")
    assert done.id not in clean_up(system, policy).deleted  # closed a moment ago
    clock.advance(hours=2)
    assert done.id in clean_up(system, policy).deleted


def test_the_clean_up_deletes_past_the_parents_it_keeps_for_their_open_dependents(system, clock):
    """per_call 1, and the three oldest closed jobs are parents whose dependents still wait. The
    clean-up keeps them and deletes the next one. It read two candidates a state and deleted
    nothing: a backlog of such parents stopped every run (a test saw it under load)."""
    parents = []
    for _ in range(3):
        root = system.start(DefinitionStart(definition="tree"), started_by="ops")
        parents.append(_run_and_close(system, root, JobState.FINISHED))  # B starts, and waits
        clock.advance(seconds=1)
    alone = _run_and_close(system, system.start(CommandStart(command="demo:echo")), JobState.FINISHED)
    clock.advance(hours=2)
    report = clean_up(system, CleanUpPolicy.parse(1, "1 hour"))
    assert report.deleted == [alone.id]
    assert report.kept_for_open_dependents == [parent.id for parent in parents]


def test_a_schedule_s_fire_starts_once_and_is_skipped_while_a_run_is_open(system, clock):
    fired_at = iso(clock.now)
    first = system.start_scheduled("hourly", fired_at)
    assert first is not None and first.trigger == "schedule"
    assert system.start_scheduled("hourly", fired_at) is None  # Scheduler delivered it twice
    clock.advance(hours=1)
    skipped = system.start_scheduled("hourly", iso(clock.now))
    assert skipped.state == JobState.SKIPPED and first.id in skipped.reason


def test_after_a_stop_only_the_runs_without_a_parent_to_decide_are_ended(system):
    tree = system.start(DefinitionStart(definition="tree"))
    system.store.mark_running(tree, system.clock(), system.output.location(tree.id))
    alone = system.start(CommandStart(command="demo:echo"))
    # The running root first; its pending dependents wait for their parent's end to decide for them.
    assert list(interrupted_runs(system.store)) == [tree.id, alone.id]


def test_a_unique_definition_refuses_a_start_while_a_run_or_its_retry_is_open(system, clock):
    first = system.start(DefinitionStart(definition="import"), started_by="ops")
    with pytest.raises(AlreadyOpen) as refused:
        system.start(DefinitionStart(definition="import"), started_by="ops")
    assert refused.value.open_job.id == first.id and first.id in str(refused.value)
    # Failed, with an attempt left: the run is still open until its next attempt is planned, and
    # then in that attempt.
    running = system.store.mark_running(first, clock(), system.output.location(first.id))
    system.store.close(running, JobState.FAILED, clock(), exit_code=1)
    with pytest.raises(AlreadyOpen) as refused:
        system.start(DefinitionStart(definition="import"))
    assert refused.value.open_job.id == first.id
    system.end_run(first.id)
    retry = system.get_job(system.get_job(first.id).retried_by)
    with pytest.raises(AlreadyOpen) as refused:
        system.start(DefinitionStart(definition="import"))
    assert refused.value.open_job.id == retry.id
    clock.advance(hours=1)
    skipped = system.start_scheduled("import", iso(clock.now))
    assert skipped.state == JobState.SKIPPED and retry.id in skipped.reason
    system.cancel_job(retry.id, canceled_by="ops")
    assert system.start(DefinitionStart(definition="import")).state == JobState.PENDING


def test_a_unique_definition_whose_last_run_was_deleted_starts(system, clock):
    first = system.start(DefinitionStart(definition="import"))
    system.cancel_job(first.id)
    system.sfn.stop_execution(executionArn=first.execution_arn)  # its runner found it canceled: it ended
    clock.advance(days=60)
    assert first.id in clean_up(system, CleanUpPolicy.parse(100, "1 hour")).deleted
    assert system.start(DefinitionStart(definition="import")).state == JobState.PENDING


class _RacingStore(JobStore):
    """Between a start's read of the lock and its write, another start takes the lock."""

    def __init__(self, table, rival) -> None:
        super().__init__(table)
        self.rival = rival

    def unique_holder(self, definition: str) -> str | None:
        holder = super().unique_holder(definition)
        if self.rival is not None:
            rival, self.rival = self.rival, None
            rival()
        return holder


def test_two_starts_of_a_unique_definition_at_once_give_one_job(system):
    started = []
    racing = _RacingStore(
        system.store.table, lambda: started.append(system.start(DefinitionStart(definition="import")))
    )
    plain, system.store = system.store, racing
    with pytest.raises(AlreadyOpen) as refused:
        system.start(DefinitionStart(definition="import"))
    assert refused.value.open_job.id == started[0].id
    assert [run.id for run in plain.recent_runs(definition="import")] == [started[0].id]


def test_a_paused_queue_starts_none_of_its_jobs_and_resume_starts_them_in_its_order(system, clock):
    system.pause_queue("serial", by="ops")
    system.pause_queue("serial", by="someone else")  # the first pause stands
    low, high = (
        system.start(CommandStart(command="demo:echo", params=[name], queue="serial", priority=priority))
        for name, priority in (("low", 0), ("high", 9))
    )
    for job in (low, high):
        system.admit(job.id, f"token-{job.id}")
    paused = "queue serial is paused (by ops at 2026-11-29 12:00:00 UTC)"
    assert [system.get_job(job.id).waiting for job in (low, high)] == [paused, paused]
    assert system.store.queue_counter("serial") == (0, set())
    clock.advance(minutes=5)
    _, state = system.resume_queue("serial")
    assert state.paused_at is None
    assert system.store.queue_counter("serial") == (1, {high.id})
    assert system.get_job(low.id).waiting == "queue serial is full (1 running)"


def test_a_queue_without_a_limit_holds_its_jobs_only_while_paused(system):
    free = system.start(CommandStart(command="demo:echo"))
    system.admit(free.id, f"token-{free.id}")  # an execution that read the queue paused, resumed since
    assert system.get_job(free.id).waiting is None
    system.pause_queue("default", by="ops")
    held = system.start(CommandStart(command="demo:echo"))
    system.admit(held.id, f"token-{held.id}")
    assert system.get_job(held.id).waiting.startswith("queue default is paused (by ops at ")
    queue, state = system.resume_queue("default")
    assert (queue.concurrency, state.paused_by) == (None, None)
    assert system.get_job(held.id).waiting is None  # out of the line: started
    assert system.store.wait_token(held.id) is None
    with pytest.raises(NotFound):
        system.pause_queue("nope", by="ops")


def test_a_lambda_runner_leaves_a_job_of_a_paused_queue_pending_unless_it_holds_a_slot(system):
    system.pause_queue("default", by="ops")
    job = system.start(CommandStart(command="demo:echo"))
    held = run_job(system, RunStart(job.id, queue="default"))
    assert (held.state, system.get_job(job.id).started_at) == (JobState.PENDING, None)
    _, state = system.store.job_and_queue(job.id, "default")
    assert state.holds_back_job(job.id, "default").startswith("queue default is paused (by ops at ")
    holding = QueueState(holders=frozenset({job.id}), paused_by="ops", paused_at=state.paused_at)
    assert holding.holds_back_job(job.id, "serial") is None  # admitted before the pause: it runs


def test_a_running_job_whose_runner_stops_beating_is_ended_incomplete_and_retried(system, clock):
    first = system.start(DefinitionStart(definition="flaky"), started_by="ops")
    system.store.mark_running(first, clock(), system.output.location(first.id))
    clock.advance(seconds=20)
    system.store.beat(first.id, clock())  # 12:00:20
    clock.advance(seconds=59)
    assert system.check_heartbeats() == []
    clock.advance(seconds=2)  # 61 s after the last beat
    [ended] = system.check_heartbeats()
    assert (ended.id, ended.state, ended.reason) == (first.id, JobState.INCOMPLETE, "no heartbeat since 12:00:20 UTC")
    retry = system.get_job(system.get_job(first.id).retried_by)
    assert (retry.attempt, retry.state) == (2, JobState.PENDING)
    assert system.get_job(first.dependents[0]).state == JobState.PENDING  # handed on to the next attempt


class _BeatingStore(JobStore):
    """The runner beats between the check's read and its close: it was slow, not gone."""

    def __init__(self, table, clock) -> None:
        super().__init__(table)
        self.clock = clock

    def in_state(self, state, after=None, limit=100):
        page = super().in_state(state, after, limit)
        for job in page[0]:
            self.beat(job.id, self.clock())
        return page


def test_a_runner_that_beats_as_the_check_closes_its_job_keeps_it(system, clock):
    job = system.start(CommandStart(command="demo:echo"))
    system.store.mark_running(job, clock(), system.output.location(job.id))
    clock.advance(minutes=5)
    system.store = _BeatingStore(system.store.table, clock)
    assert system.check_heartbeats() == []
    assert system.get_job(job.id).state == JobState.RUNNING


class _CountingStarts:
    """Step Functions, counting the starts of each execution (a second start of a name is refused)."""

    def __init__(self, sfn) -> None:
        self.sfn = sfn
        self.exceptions = sfn.exceptions
        self.starts: dict[str, int] = {}

    def start_execution(self, **request):
        self.starts[request["name"]] = self.starts.get(request["name"], 0) + 1
        return self.sfn.start_execution(**request)

    def __getattr__(self, name):
        return getattr(self.sfn, name)


def _rebuild(system):
    root = system.start(DefinitionStart(definition="rebuild"))
    de, fr, index = (system.get_job(job_id) for job_id in root.dependents)
    return root, de, fr, index


def test_a_join_starts_once_the_last_job_it_waits_for_finished_its_retries_included(system):
    system.sfn = _CountingStarts(system.sfn)
    root, de, fr, index = _rebuild(system)
    assert (index.key, index.after, index.parent_id) == ("build_index", [de.id, fr.id], root.id)
    assert (de.joins, fr.joins) == ([index.id], [index.id])
    _run_and_close(system, root, JobState.FINISHED)
    assert (system.sfn.starts.get(de.id), system.sfn.starts.get(index.id)) == (1, None)  # the imports start
    _run_and_close(system, de, JobState.FINISHED)
    assert index.id not in system.sfn.starts
    _run_and_close(system, fr, JobState.FAILED)  # its next attempt decides for the join
    retry = system.get_job(system.get_job(fr.id).retried_by)
    assert (retry.joins, system.get_job(index.id).state) == ([index.id], JobState.PENDING)
    _run_and_close(system, retry, JobState.FINISHED)
    assert system.sfn.starts[index.id] == 1
    _run_and_close(system, system.get_job(index.id), JobState.FINISHED)
    system.end_run(retry.id)  # a repeated end of the last import's run starts nothing again
    assert system.sfn.starts[index.id] == 1


def test_a_join_is_canceled_when_a_job_it_waits_for_ends_otherwise_naming_it(system):
    root, de, fr, index = _rebuild(system)
    _run_and_close(system, root, JobState.FINISHED)
    _run_and_close(system, de, JobState.FINISHED)
    _run_and_close(system, fr, JobState.FAILED)
    retry = system.get_job(system.get_job(fr.id).retried_by)
    _run_and_close(system, retry, JobState.FAILED)  # its last attempt
    canceled = system.get_job(index.id)
    assert canceled.state == JobState.CANCELED
    assert canceled.reason == f"not run: job {retry.id} (Import FR) ended failed"


class _ArrivingTogether(JobStore):
    """The two jobs a join waits for last finish at once: as one takes itself off, the other does."""

    def __init__(self, table, other) -> None:
        super().__init__(table)
        self.other = other

    def arrive(self, join_id: str, origin: str):
        if self.other is not None:
            other, self.other = self.other, None
            other()
        return super().arrive(join_id, origin)


def test_two_jobs_a_join_waits_for_finishing_at_once_start_it_once(system):
    system.sfn = _CountingStarts(system.sfn)
    root, de, fr, index = _rebuild(system)
    _run_and_close(system, root, JobState.FINISHED)
    for job in (de, fr):
        running = system.store.mark_running(job, system.clock(), system.output.location(job.id))
        system.store.close(running, JobState.FINISHED, system.clock(), exit_code=0, from_states=[JobState.RUNNING])
    plain = system.store
    system.store = _ArrivingTogether(plain.table, lambda: system.start_dependents(plain.get(fr.id), []))
    system.start_dependents(plain.get(de.id), [])
    assert system.sfn.starts[index.id] == 1


def test_a_metered_run_records_its_usage_and_the_statistics_price_its_days(system, clock):
    ticks = iter(range(1000, 10_000, 1)).__next__  # each look at the meter's clock: a second later
    stream = TableStream("jobs")
    runs = []
    for _ in range(3):  # 11-29, 11-30, 12-01
        job = system.start(DefinitionStart(definition="tree"))  # demo:echo, with two dependents below it
        run_job(system, job.id, meter=RunMeter("lambda", 1024, clock=lambda: float(ticks())))
        runs.append(system.get_job(job.id))
        _follow_the_stream(system, stream)
        clock.advance(days=1)
    clock.advance(days=-1)
    usage = runs[0].usage
    assert (usage.runner, usage.memory_mb, usage.billed_ms) == ("lambda", 1024, 1000)
    assert usage.transitions == 4  # Route, RunOnLambda, AfterRun, Done: the runner started its dependents
    bucket, key = runs[0].output.s3_uri.removeprefix("s3://").split("/", 1)
    assert usage.output_bytes == boto3.client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"]
    stats = system.definition_stats("tree", 10)
    cost = UsageTotals.of(usage).cost(Prices())
    assert (stats.cost.runs, stats.cost.days) == (3, 3)
    assert stats.cost.per_run == pytest.approx(float(cost))
    assert stats.cost.in_30_days == pytest.approx(float(cost) * 3 * 30 / 3)
    assert system.command_stats("demo:echo", 10).cost.runs == 3  # a command counts its definitions' runs
    assert system.command_stats("demo:fail", 10).cost.runs == 0
    clock.advance(days=28)  # 12-29: the window starts on 11-30, and the first day has left it
    assert system.definition_stats("tree", 10).cost.runs == 2


def test_a_run_is_counted_once_from_its_closing_change_in_the_tables_stream(system):
    """The runner writes its run's usage on the job's closing write; JobEventsFunction adds it to
    its day's totals, once, however many other writes the job's item had."""
    stream = TableStream("jobs")
    job = system.start(DefinitionStart(definition="tree"))
    run_job(system, job.id, meter=RunMeter("lambda", 1024))
    assert system.get_job(job.id).state.value == "finished"
    assert system.command_stats("demo:echo", 10).cost.runs == 0  # not yet: the stream follows the close
    _follow_the_stream(system, stream)
    _follow_the_stream(system, stream)  # nothing new: nothing counted again
    assert system.command_stats("demo:echo", 10).cost.runs == 1


def _follow_the_stream(system, stream: TableStream) -> None:
    """What JobEventsFunction does with the records written since the last call."""
    events = JobEvents(boto3.client("events"), "jobs.test", lambda: None)
    changes = ChangesFollowed(events, system.store, SearchIndex(system.store.table))
    assert changes.follow(stream.read()) == {"batchItemFailures": []}


def test_a_start_tells_the_runner_to_read_the_queue_only_when_it_found_it_paused(system):
    sfn = system.sfn
    open_start = system.start(CommandStart(command="demo:echo"))
    system.pause_queue("default", by="ops")
    paused_start = system.start(CommandStart(command="demo:echo"))
    inputs = {
        execution["name"]: json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
        for execution in sfn.list_executions(stateMachineArn=system.settings.state_machine_arn)["executions"]
    }
    assert inputs[open_start.id]["check_queue"] is False
    assert inputs[paused_start.id]["check_queue"] is True
    assert run_job(system, RunStart.of(inputs[paused_start.id])).state == JobState.PENDING  # held back


def test_a_resume_serves_its_line_for_a_bounded_time_and_the_rest_ask_again(system, monkeypatch):
    # A resume answers within API Gateway's 29 s, whatever the line: on a loaded machine, 200 jobs
    # served in one request took longer (a 504 in the fuzz). The rest ask again when their wait
    # times out, as a wake-up lost to the index does.
    monkeypatch.setattr(admission, "SERVE_AT_MOST", 0)  # time for one job only
    system.pause_queue("default", by="ops")
    held = [system.start(CommandStart(command="demo:echo")) for _ in range(3)]
    for job in held:
        system.admit(job.id, f"token-{job.id}")
    system.resume_queue("default")
    waiting = [system.store.wait_token(job.id) is not None for job in held]
    assert waiting == [False, True, True]  # the first in line started
    # The rest say so, and ask again when their waits time out (WaitForSlot's timeout): admitted then.
    assert [system.get_job(job.id).waiting for job in held[1:]] == ["waiting for its turn in queue default"] * 2


def test_a_start_of_a_hundred_jobs_leaves_the_queue_to_its_runner(system):
    """A transaction holds 100 items: a start of 100 jobs has no room for its queue's check, and
    its runner reads the queue itself (a 500 otherwise)."""
    tree = CommandStart(command="demo:echo", depending_jobs=[{"command": "demo:echo"}] * 99)
    root = system.start(tree)
    assert len(root.dependents) == 99
    execution = system.sfn.describe_execution(
        executionArn=system.sfn.list_executions(stateMachineArn=system.settings.state_machine_arn)["executions"][0][
            "executionArn"
        ]
    )
    assert json.loads(execution["input"])["check_queue"] is True


def test_a_start_chooses_any_setting_of_its_job_and_its_retries_are_kept(system):
    """Every setting a command or a definition has, a start may choose: the one settings model."""
    job = system.start(CommandStart(command="demo:fail", retries={"max_attempts": 2}, max_runtime=30))
    assert (job.retries.max_attempts, job.max_runtime) == (2, 30)
    retry = system.get_job(_run_and_close(system, job, JobState.FAILED).retried_by)
    assert (retry.attempt, retry.retries.max_attempts, retry.max_runtime) == (2, 2, 30)
    tree = system.start(DefinitionStart(definition="tree", options=StartOptions(runner="fargate", max_runtime=3600)))
    child = system.get_job(tree.dependents[0])
    assert (tree.runner, tree.max_runtime) == ("fargate", 3600)
    assert (child.runner, child.max_runtime) == ("lambda", 600)  # a start's settings are its root's


def test_a_start_whose_retries_fit_the_schema_but_not_together_is_a_422_that_writes_nothing(system):
    """A back-off longer than the longest wait, or a wait of "400 days", fits the schema: only the
    resolved settings can say no (422), as for an unknown queue; nothing is recorded."""
    from jobsys.errors import Unprocessable

    for retries in (
        {"max_attempts": 2, "backoff": "2 days"},
        {"max_attempts": 2, "max_wait": "400 days"},
        {"max_attempts": 1, "max_wait": 4.525264313817276e-142},  # found by the fuzz: a 502 once
    ):
        with pytest.raises(Unprocessable, match="retries"):
            system.start(CommandStart(command="demo:echo", retries=retries))
    assert system.list_jobs(None, None, 10, None)[0] == []


def test_a_duration_is_kept_to_the_millisecond_so_that_dynamodb_can_hold_it(system):
    """DynamoDB holds no number below 1e-130: a back-off of 1e-142 s is 0 s, and the job is stored."""
    job = system.start(CommandStart(command="demo:echo", retries={"max_attempts": 2, "backoff": 1e-142}))
    assert system.get_job(job.id).retries.backoff == 0
    job = system.start(CommandStart(command="demo:echo", retries={"max_attempts": 2, "backoff": 1.23456}))
    assert system.get_job(job.id).retries.backoff == 1.235
