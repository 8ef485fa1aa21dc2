"""Runs one job's command as its own process and reports what happened.

The same code runs in the Lambda runner and, for long jobs, in a Fargate task
(`python -m jobsys.runner JOB_ID`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from jobsys.config import Command
from jobsys.errors import CommandNotAllowed, JobStateConflict
from jobsys.models import Job, JobState, utc_now
from jobsys.system import JobSystem

log = logging.getLogger(__name__)

FLUSH_EVERY = 0.5  # seconds between batches sent to CloudWatch Logs
CHECK_EVERY = 1.0  # seconds between looks at the job record, to notice a cancel
KILL_GRACE = 5.0  # seconds between SIGTERM and SIGKILL
SAFETY_MARGIN = 15.0  # seconds kept back from the runner's own time limit to report


@dataclass(frozen=True)
class RunResult:
    job_id: str
    state: JobState
    exit_code: int | None = None

    def as_dict(self) -> dict:
        return {"job_id": self.job_id, "state": self.state.value, "exit_code": self.exit_code}


def command_argv(command: Command, params: list[str]) -> list[str]:
    """Always an argv list: params are arguments, never shell text."""
    if command.argv is None:
        return [sys.executable, "-m", "jobsys.console", command.name, *params]
    return [*command.argv, *params]


def _pump(stream: IO[bytes], lines: queue.Queue[str | None]) -> None:
    for raw in stream:
        lines.put(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
    lines.put(None)


def run_job(system: JobSystem, job_id: str, time_left: Callable[[], float] | None = None) -> RunResult:
    job = system.store.get(job_id)
    if job.state != JobState.PENDING:  # canceled before it started, or a duplicate delivery
        return RunResult(job.id, job.state, job.exit_code)
    try:
        argv = command_argv(system.config.command(job.command), job.params)
    except CommandNotAllowed as exc:
        closed = system.close_job(job.id, JobState.FAILED, reason=str(exc))
        return RunResult(closed.id, closed.state)
    system.output.open(job.id)
    try:
        job = system.store.mark_running(job, utc_now(), system.output.location(job.id))
    except JobStateConflict:
        current = system.store.get(job.id)
        return RunResult(current.id, current.state, current.exit_code)
    return _Run(system, job, argv, time_left).run()


class _Run:
    def __init__(self, system: JobSystem, job: Job, argv: list[str], time_left: Callable[[], float] | None):
        self.system = system
        self.job = job
        self.argv = argv
        self.time_left = time_left
        self.pending: list[str] = []
        self.ended_by: JobState | None = None
        self.reason: str | None = None

    def run(self) -> RunResult:
        workdir = tempfile.mkdtemp(prefix=f"job-{self.job.id}-")
        transcript_path = os.path.join(workdir, ".output")
        started = time.monotonic()
        try:
            with open(transcript_path, "w", encoding="utf-8") as transcript:
                exit_code = self._supervise(workdir, transcript, started)
            runtime = time.monotonic() - started
            self._flush_last()
            self.system.output.save(self.job.id, transcript_path)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        state = self.ended_by or (JobState.FINISHED if exit_code == 0 else JobState.FAILED)
        try:
            closed = self.system.store.close(
                self.job,
                state,
                utc_now(),
                exit_code=exit_code,
                runtime=runtime,
                reason=self.reason,
                from_states=[JobState.RUNNING],
                ttl=self.system.ttl,
            )
        except JobStateConflict:  # canceled meanwhile: the cancel's state stands
            closed = self.system.store.get(self.job.id)
        return RunResult(closed.id, closed.state, exit_code)

    def _supervise(self, workdir: str, transcript: IO[str], started: float) -> int | None:
        env = dict(os.environ, JOB_ID=self.job.id, JOB_ATTEMPT=str(self.job.attempt), PYTHONUNBUFFERED="1")
        try:
            process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,  # one pipe keeps stdout and stderr lines in order
                cwd=workdir,
                env=env,
                start_new_session=True,  # its own process group, so a kill reaches its children too
            )
        except OSError as exc:
            message = f"cannot start {self.argv[0]}: {exc.strerror}"
            transcript.write(message + "\n")
            self.pending.append(message)
            self.reason = message
            return 127
        self.transcript = transcript
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
        reader.start()
        try:
            return self._watch(process, lines, transcript, started)
        finally:
            if process.poll() is None:  # the runner itself is being stopped: take the command down too
                _kill_group(process)
            reader.join(timeout=1)

    def _watch(
        self, process: subprocess.Popen[bytes], lines: queue.Queue[str | None], transcript: IO[str], started: float
    ) -> int:
        last_flush = last_check = time.monotonic()
        eof = False
        while not eof or process.poll() is None:
            try:
                line = lines.get(timeout=0.2)
                if line is None:
                    eof = True
                else:
                    transcript.write(line + "\n")
                    self.pending.append(line)
            except queue.Empty:
                pass
            now = time.monotonic()
            if now - last_flush >= FLUSH_EVERY or len(self.pending) >= 1000:
                self._flush()
                last_flush = now
            if self.ended_by is None and now - last_check >= CHECK_EVERY:
                last_check = now
                self._check(process, now - started)
        return process.returncode

    def _check(self, process: subprocess.Popen[bytes], elapsed: float) -> None:
        if elapsed > self.job.max_runtime:
            self._stop(process, JobState.TERMINATED, f"ran longer than its max runtime of {self.job.max_runtime} s")
        elif self.time_left is not None and self.time_left() < SAFETY_MARGIN:
            self._stop(process, JobState.TERMINATED, "the runner's own time limit was reached")
        elif self.system.store.get(self.job.id).state == JobState.CANCELED:
            self._stop(process, JobState.CANCELED, None)

    def _stop(self, process: subprocess.Popen[bytes], state: JobState, reason: str | None) -> None:
        self.ended_by, self.reason = state, reason
        note = f"[job system] stopping the command: {reason or 'the job was canceled'}"
        self.transcript.write(note + "\n")
        self.pending.append(note)
        _kill_group(process)

    def _flush(self) -> bool:
        if not self.pending:
            return True
        try:
            self.system.output.append(self.job.id, self.pending)
        except Exception:
            log.warning("could not send output to CloudWatch Logs; will retry", exc_info=True)
            return False
        self.pending = []
        return True

    def _flush_last(self) -> None:
        for attempt in range(4):
            if self._flush():
                return
            time.sleep(0.5 * 2**attempt)
        # The S3 copy, saved next, still holds every line.
        log.error("gave up sending the last %d output lines to CloudWatch Logs", len(self.pending))


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the command's whole process group, then SIGKILL to whatever is left of it:
    a child that ignores SIGTERM outlives its parent otherwise."""
    group = process.pid  # start_new_session made the command its group's leader
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + KILL_GRACE
    while time.monotonic() < deadline:
        process.poll()  # reaps our child, which would otherwise linger in the group as a zombie
        if not _group_alive(group):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    process.wait()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the Fargate runner task."""
    from jobsys.system import job_system

    args = sys.argv[1:] if argv is None else argv
    # ECS stops a task with SIGTERM: unwinding stops the command's process group too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if len(args) != 1:
        print("usage: python -m jobsys.runner JOB_ID", file=sys.stderr)
        return 2
    result = run_job(job_system(), args[0])
    print(result.as_dict())
    return 0


if __name__ == "__main__":
    sys.exit(main())
