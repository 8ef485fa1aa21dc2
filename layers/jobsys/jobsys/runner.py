"""Runs one job's command as its own process and reports what happened.

The same code runs in the Lambda runner and, for long jobs, in a Fargate task
(`python -m jobsys.runner JOB_ID`).
"""

from __future__ import annotations

import logging
import os
import queue
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import IO, Any

from jobsys.command_role import CREDENTIAL_NAMES, CommandRole, with_command_credentials
from jobsys.config import Command
from jobsys.console.registry import CONSOLE_COMMANDS
from jobsys.costs import RunMeter
from jobsys.errors import CommandNotAllowed, JobStateConflict
from jobsys.heartbeat import Heartbeat
from jobsys.models import DEFAULT_QUEUE, Job, JobState, parse_iso, utc_now
from jobsys.observability import record_closed
from jobsys.processes import (
    MemoryWatch,
    adopt_orphans,
    children,
    end_group,
    end_strays,
    keep_runner_private,
    kill_group,
    pump_lines,
    reap,
)
from jobsys.run_output import OutputSink
from jobsys.run_progress import PROGRESS_EVERY, ProgressReporter
from jobsys.secret_refs import SecretRef, SecretUnavailable, SecretValues
from jobsys.spec.limits import HEARTBEAT_EVERY, RUNNER_SAFETY_MARGIN
from jobsys.store.items import JobKey
from jobsys.streams import Stream
from jobsys.system import JobSystem

log = logging.getLogger(__name__)

CHECK_EVERY = 1.0  # seconds between looks at the job record, to notice a cancel
HISTORY_RUNS = 20  # finished runs whose median runtime estimates a job without PROGRESS lines
ESTIMATE_AFTER = 1.0  # seconds: a command that ends sooner needs no estimate of its end


@dataclass(frozen=True)
class RunResult:
    job_id: str
    state: JobState
    exit_code: int | None = None
    ended: bool = False  # the runner ended the run too: AfterRun has nothing left to do

    def as_dict(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "state": self.state.value, "exit_code": self.exit_code, "ended": self.ended}


class _Estimate:
    """The end that a job's history points to, for the page's ETA: only for a command still running
    after ESTIMATE_AFTER, read and written beside it, so that a short job never waits for its history."""

    def __init__(self, system: JobSystem, job: Job):
        self.system = system
        self.job = job
        self.thread: threading.Thread | None = None

    def look(self, elapsed: float) -> None:
        if self.thread is None and elapsed >= ESTIMATE_AFTER:
            self.thread = threading.Thread(target=self._write, daemon=True)
            self.thread.start()

    def _write(self) -> None:
        try:
            runtimes = self.system.store.recent_runtimes(self.job, HISTORY_RUNS)
            if runtimes and self.job.started_at:
                end = parse_iso(self.job.started_at) + timedelta(seconds=statistics.median(runtimes))
                self.system.store.set_expected_end(self.job.id, end)
        except Exception:  # the estimate is worth no job's run
            log.warning("could not estimate the end of job %s", self.job.id, exc_info=True)


def command_argv(command: Command, params: list[str]) -> list[str]:
    """Always an argv list: params are arguments, never shell text."""
    if command.argv is None:
        return [sys.executable, "-m", "jobsys.console", command.name, *params]
    return [*command.argv, *params]


# All that a command takes from the runner's own environment, unless its `env:` names more: the
# runner's holds the function's credentials and, on Lambda, the runtime API that answers for it.
# LD_LIBRARY_PATH finds Lambda's own and the layers' libraries (/var/lang/lib, /opt/lib), which an
# executable may need to start at all. ECS_CONTAINER_METADATA_URI_V4 is the Fargate task's
# description and statistics, never credentials.
PASSED_ON = ("PATH", "LD_LIBRARY_PATH", "LANG", "LC_ALL", "TZ", "ECS_CONTAINER_METADATA_URI_V4")


# How long the output may stay open and silent after the command's main process ended: what is
# still in the pipe is read, however long that takes, and a process that keeps it open without
# writing does not keep the run going.
PIPE_GRACE = 2.0


def _no_secrets(name: str, ref: SecretRef) -> str:
    raise SecretUnavailable(f"env {name}: {ref.describe()} cannot be read here")


@cache
def secret_values() -> SecretValues:
    """The secrets that commands' `env:` names, read with the runner's role, kept five minutes in this process."""
    import boto3

    return SecretValues(boto3.client("secretsmanager"), boto3.client("ssm"))


@cache
def command_role() -> CommandRole:
    """The role whose sessions commands get for AWS (COMMAND_ROLE_ARN; none: no credentials)."""
    import boto3

    return CommandRole(boto3.client("sts"), os.environ.get("COMMAND_ROLE_ARN", ""))


def _no_credentials(job: Job) -> dict[str, str]:
    return {}


def command_environment(
    command: Command,
    job: Job,
    workdir: str,
    runner_env: Mapping[str, str],
    secret: Callable[[str, SecretRef], str] = _no_secrets,
    credentials: Callable[[Job], dict[str, str]] = _no_credentials,
) -> dict[str, str]:
    """The documented, minimal environment of a command (docs/security.md, "What a command can reach").
    `secret` reads what a reference names; SecretUnavailable if it cannot. A command that asks for
    AWS credentials gets `credentials(job)`, the command role's, never the runner's own."""
    env = {name: runner_env[name] for name in PASSED_ON if name in runner_env}
    env.setdefault("PATH", os.defpath)
    env.setdefault("LANG", "C.UTF-8")
    env |= {"HOME": workdir, "TMPDIR": workdir, "PYTHONUNBUFFERED": "1"}
    if command.argv is None:  # a jobs-console command imports jobsys from where the runner does
        env["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
        env |= {name: runner_env[name] for name in CONSOLE_COMMANDS[command.name].needs if name in runner_env}
    for name, value in command.env:
        if isinstance(value, SecretRef):
            env[name] = secret(name, value)
        elif value is not None:
            env[name] = value
        elif name in runner_env:  # a name the runner does not have is left out
            env[name] = runner_env[name]
    # Asked for by name, whether or not the runner holds credentials under that name itself.
    declared = {name for name, _ in command.env}
    if command.argv is None:
        declared |= set(CONSOLE_COMMANDS[command.name].needs)
    asked = bool(declared & set(CREDENTIAL_NAMES))
    env = with_command_credentials(env, credentials(job) if asked else {})
    return env | {"JOB_ID": job.id, "JOB_ATTEMPT": str(job.attempt)}


@dataclass(frozen=True)
class RunStart:
    """What the state machine tells the Lambda runner (statemachines/job.asl.json, RunOnLambda)."""

    job_id: str
    queue: str | None = None  # with `check_queue`: a paused queue holds the job back
    command: str | None = None  # the job's command and definition: its first write needs no read
    definition: str | None = None
    check_queue: bool = True
    dependents: list[dict[str, Any]] | None = None  # the execution's tree below the job

    @classmethod
    def of(cls, event: Mapping[str, Any]) -> RunStart:
        return cls(
            job_id=event["job_id"],
            queue=event.get("queue"),
            command=event.get("command"),
            definition=event.get("definition"),
            check_queue=bool(event.get("check_queue", True)),
            dependents=event.get("dependents"),
        )


def run_job(
    system: JobSystem,
    start: RunStart | str,
    time_left: Callable[[], float] | None = None,
    meter: RunMeter | None = None,
) -> RunResult:
    """Runs a pending job's command. A start that names the job's queue and asks to check it (the
    Lambda runner's case) leaves a job of a paused queue pending, and its execution puts it in the
    queue's line. With a `meter`, the job records what its run is billed for."""
    start = RunStart(start) if isinstance(start, str) else start
    target: Job | JobKey
    if start.command is not None and not start.check_queue:
        # Whoever started the execution found the queue open: one conditional write marks the job
        # running and gives it back whole, with no read before it.
        target = JobKey(start.job_id, start.command, start.queue or DEFAULT_QUEUE, start.definition)
    else:
        if start.queue is None or not start.check_queue:
            target = system.store.get(start.job_id)
        else:
            target, queue_state = system.store.job_and_queue(start.job_id, start.queue)
            if target.state == JobState.PENDING and (held_back := queue_state.holds_back_job(target.id, start.queue)):
                log.info("job %s not started: %s", target.id, held_back)
                return RunResult(target.id, target.state)
        if target.state != JobState.PENDING:  # canceled before it started, or a duplicate delivery
            return RunResult(target.id, target.state, target.exit_code)
    try:
        command = system.config.command(target.command)
    except CommandNotAllowed as exc:
        closed = system.close_job(target.id, JobState.FAILED, reason=str(exc))
        return RunResult(closed.id, closed.state)
    return _start(system, target, command, time_left, meter, start.dependents)


def _start(
    system: JobSystem,
    key: JobKey | Job,
    command: Command,
    time_left: Callable[[], float] | None,
    meter: RunMeter | None,
    dependents: list[dict[str, Any]] | None,
) -> RunResult:
    try:
        job = system.store.mark_running(key, system.clock(), system.output.location(key.id))
    except JobStateConflict as conflict:  # canceled before it started, or a duplicate delivery
        current = conflict.current or system.store.get(key.id)
        return RunResult(current.id, current.state, current.exit_code)
    argv = command_argv(command, job.params)
    return _Run(system, job, command, argv, time_left, meter, dependents).run()


def runner_ends_run(job: Job, state: JobState, limited: bool) -> bool:
    """A finished Lambda run of a queue without slots is ended by its runner, and AfterRun skips
    EndRun for it. Any other run, and one whose runner dies before its end is written, EndRun ends."""
    return state == JobState.FINISHED and job.runner == "lambda" and not limited


def _waited_for(job: Job) -> bool:
    return bool(job.dependents or job.joins)


def end_own_run(system: JobSystem, closed: Job, dependents: list[dict[str, Any]]) -> bool:
    """The rest of a run's end by its runner, after its closing write: its dependents' executions
    started, then its end written (a job that nothing waits for had it written with its close).
    False if that fails: EndRun does it again, with its retries, as every step is safe to repeat."""
    if not _waited_for(closed):
        return True
    try:
        system.start_dependents(closed, dependents)
        system.store.mark_ended(closed, system.clock())
    except Exception:  # the run's end is EndRun's then, not lost
        log.warning("could not end the run of job %s; EndRun will", closed.id, exc_info=True)
        return False
    return True


class _Run:
    """One run of a command: it starts the process and watches it (its lines, its memory, its job's
    state and its time), stops it when it must, and closes the job. Its output goes to an
    OutputSink, its PROGRESS lines to a ProgressReporter."""

    def __init__(
        self,
        system: JobSystem,
        job: Job,
        command: Command,
        argv: list[str],
        time_left: Callable[[], float] | None,
        meter: RunMeter | None = None,
        dependents: list[dict[str, Any]] | None = None,
    ):
        self.system = system
        self.dependents = dependents
        self.meter = meter
        self.command = command
        self.job = job
        self.argv = argv
        self.time_left = time_left
        self.workdir = tempfile.mkdtemp(prefix=f"job-{job.id}-")
        # The log stream is made while the command starts: its first lines wait for it, not the command.
        self.sink = OutputSink(system.output, job.id, os.path.join(self.workdir, ".output"), open_stream=True)
        self.estimate = _Estimate(system, job)
        self.progress = ProgressReporter(system.store, job.id, utc_now)
        self.ended_by: JobState | None = None
        self.reason: str | None = None
        self.usage: resource.struct_rusage | None = None  # CPU time; its ru_maxrss counts the runner's own pages
        self.memory = MemoryWatch(None)  # the command's, once it runs

    def run(self) -> RunResult:
        started = time.monotonic()
        try:
            exit_code = self._supervise(started)
            runtime = time.monotonic() - started
            self.progress.write(runtime)
            # The command has ended; saving its output may take minutes, and the job must not look
            # abandoned meanwhile. Only the heartbeat's thread writes to the table until then.
            with Heartbeat(self._beat, HEARTBEAT_EVERY):
                self.sink.close()
                output_error = self.sink.send_and_save()
            output_bytes = os.path.getsize(self.sink.transcript_path)
        finally:
            self.sink.close()
            shutil.rmtree(self.workdir, ignore_errors=True)
        state = self.ended_by or (JobState.FINISHED if exit_code == 0 else JobState.FAILED)
        # The run's usage goes on the job's closing write; JobEventsFunction adds it to its day's
        # totals from the table's stream, off this path.
        usage = self.meter.usage(self.system.transitions_of(self.job, state), output_bytes) if self.meter else None
        ends_run = runner_ends_run(self.job, state, self.system.is_limited(self.job.queue))
        try:
            closed = self.system.store.close(
                self.job,
                state,
                self.system.clock(),
                exit_code=exit_code,
                runtime=runtime,
                reason=self.reason,
                peak_memory_mb=self.memory.peak_mb,
                cpu_seconds=self.usage.ru_utime + self.usage.ru_stime if self.usage else None,
                output_error=output_error,
                from_states=[JobState.RUNNING],
                ttl=self.system.ttl,
                usage=usage,
                ends_run=ends_run and not _waited_for(self.job),
            )
        except JobStateConflict as conflict:  # canceled meanwhile: the cancel's state stands
            closed = conflict.current or self.system.store.get(self.job.id)
            return RunResult(closed.id, closed.state, exit_code)
        ended = ends_run and end_own_run(self.system, closed, self.dependents or [])
        if ended:
            record_closed(closed.command, closed.state.value, closed.runtime, closed.peak_memory_mb)
        return RunResult(closed.id, closed.state, exit_code, ended=ended)

    def _supervise(self, started: float) -> int | None:
        try:
            env = command_environment(
                self.command, self.job, self.workdir, os.environ, secret_values().value, self._command_credentials
            )
        except SecretUnavailable as exc:  # the reason names the reference, never a value
            message = f"cannot start the command: {exc}"
            self.sink.add(message, "stderr")
            self.reason = message
            return 1
        keep_runner_private()
        adopt_orphans()
        known = children()
        try:
            process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                # Two pipes, so that each line keeps its stream; one reader keeps them in order
                # (pump_lines).
                stderr=subprocess.PIPE,
                cwd=self.workdir,
                env=env,
                start_new_session=True,  # its own process group, so a kill reaches its children too
            )
        except OSError as exc:
            message = f"cannot start {self.argv[0]}: {exc.strerror}"
            self.sink.add(message, "stderr")  # as a shell says it
            self.reason = message
            return 127
        self.memory = MemoryWatch(process.pid)
        lines: queue.Queue[tuple[Stream, str] | None] = queue.Queue()
        assert process.stdout is not None and process.stderr is not None  # both are PIPE
        pipes: dict[Stream, IO[bytes]] = {"stdout": process.stdout, "stderr": process.stderr}
        reader = threading.Thread(target=pump_lines, args=(pipes, lines), daemon=True)
        reader.start()
        try:
            return self._watch(process, lines, started)
        finally:
            if reap(process) is None:  # the runner itself is being stopped: take the command down too
                kill_group(process)
            # Whatever the command started ends with it: the rest of its group, and what left the
            # group (a session of its own), which the runner adopted as the subreaper.
            end_group(process.pid)
            end_strays(known)
            reader.join(timeout=1)
            self.usage = getattr(process, "rusage", None)

    def _watch(
        self, process: subprocess.Popen[bytes], lines: queue.Queue[tuple[Stream, str] | None], started: float
    ) -> int:
        last_check = last_progress = last_beat = time.monotonic()
        eof = False
        exit_wait = 0.001
        exited_at: float | None = None
        last_line = time.monotonic()
        while not eof or reap(process) is None:
            if exited_at is None and reap(process) is not None:
                exited_at = time.monotonic()
            elif exited_at is not None and time.monotonic() - max(exited_at, last_line) > PIPE_GRACE:
                # The command has ended, and something it left (a child in a session of its own)
                # holds its output open, silent: the run ends, and that is ended with it (end_strays).
                break
            if eof:
                # Its output has ended, and the command most often exits a moment later: look again
                # soon, then less and less often.
                time.sleep(exit_wait)
                exit_wait = min(exit_wait * 2, 0.2)
            else:
                try:
                    line = lines.get(timeout=0.2)
                    last_line = time.monotonic()
                    if line is None:
                        eof = True
                    elif not self.progress.take(line[1]):
                        self.sink.add(line[1], line[0])
                except queue.Empty:
                    pass
            self.memory.look(every_process=False)
            now = time.monotonic()
            self.sink.send_if_due()
            if self.ended_by is None and now - last_check >= CHECK_EVERY:
                last_check = now
                self.memory.look(every_process=True)
                if now - last_progress >= PROGRESS_EVERY and self.progress.write(now - started):
                    last_progress = now
                self.estimate.look(now - started)
                if now - last_beat >= HEARTBEAT_EVERY:
                    last_beat = now
                    self._beat()
                self._check(process, now - started)
        if self.ended_by is not None:
            # After the command's last line: what it printed before the stop may still have been
            # in the pipe when the runner decided to stop it.
            self.sink.add(f"[job system] stopping the command: {self.reason or 'the job was canceled'}")
        return process.returncode

    def _check(self, process: subprocess.Popen[bytes], elapsed: float) -> None:
        if elapsed > self.job.max_runtime:
            self._stop(process, JobState.TERMINATED, f"ran longer than its max runtime of {self.job.max_runtime} s")
        elif self.time_left is not None and self.time_left() < RUNNER_SAFETY_MARGIN:
            self._stop(process, JobState.TERMINATED, "the runner's own time limit was reached")
        elif (state := self._current_state()) is not None and state != JobState.RUNNING:
            # Closed by anyone else: a cancel, EndRun after its execution ended, or the clean-up.
            # Its retry may already run, so this copy of the command must not go on.
            self._stop(process, state, None if state == JobState.CANCELED else f"the job was closed {state.value}")

    def _command_credentials(self, job: Job) -> dict[str, str]:
        try:
            return command_role().credentials(job.id, job.max_runtime)
        except Exception as exc:  # the command does not start without the credentials it asked for
            raise SecretUnavailable(
                f"its AWS credentials (a session of the command role) cannot be had: {exc}"
            ) from exc

    def _beat(self) -> None:
        """Says that this runner runs the job: without a heartbeat for 60 s, the job is closed."""
        try:
            self.system.store.beat(self.job.id, utc_now())
        except Exception:  # botocore has retried already; the next beat may get through
            log.warning("could not write the heartbeat of job %s", self.job.id, exc_info=True)

    def _current_state(self) -> JobState | None:
        """The job's state now, or None if it cannot be read: a failed read never stops a command."""
        try:
            return self.system.store.get(self.job.id).state
        except Exception:  # botocore has retried already; the next check may get through
            log.warning("could not read the state of job %s; the command goes on", self.job.id, exc_info=True)
            return None

    def _stop(self, process: subprocess.Popen[bytes], state: JobState, reason: str | None) -> None:
        self.ended_by, self.reason = state, reason  # the note follows the command's last line
        kill_group(process)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the Fargate runner task."""
    from jobsys.system import job_system

    began = time.monotonic()  # Fargate bills from before the process started: at most a second more
    args = sys.argv[1:] if argv is None else argv
    # ECS stops a task with SIGTERM: unwinding stops the command's process group too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if len(args) != 1:
        print("usage: python -m jobsys.runner JOB_ID", file=sys.stderr)
        return 2
    system = job_system()
    task = system.settings  # the task's size, as the template tells it
    meter = None
    if task.task_cpu_units and task.task_memory_mb:
        meter = RunMeter("fargate", task.task_memory_mb, task.task_cpu_units, began=began)
    result = run_job(system, RunStart(args[0]), meter=meter)
    print(result.as_dict())
    return 0


if __name__ == "__main__":
    sys.exit(main())
