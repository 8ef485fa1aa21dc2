"""Lambda's execution environments as local processes: started with the function's environment,
its role's keys and its log stream, asked one invocation at a time over their pipes (worker.py is the
process's own side), and stopped. Each is forked from a process that has the SDK imported
(forks.py). LambdaRuntime (runtime.py) decides when to start, reuse or discard one.

Replaces: moto's Docker containers, one per invocation.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.awslambda.models import LambdaFunction

from jobs_local.iam.credentials import Keys
from jobs_local.lambda_.environment import FunctionCode, environment_of
from jobs_local.lambda_.forks import ForkedWorker, PreloadedForks
from jobs_local.lambda_.function_logs import FunctionLogs, WorkerLog

BACKGROUND_NICE = 10  # how much lower the CPU priority of workers that no person waits for, and of their commands

Worker = ForkedWorker


@dataclass
class WorkerEnvironment:
    """What a worker process started with, and whether its initialization was read."""

    stream: WorkerLog  # its way to the function's log group
    code_stamp: float  # the newest mtime of its code's files then: an edit since means new workers
    initialized: bool = False  # its line saying its handler is imported has been read


class WorkerProcesses:
    def __init__(self, endpoint_url: str, region: str, log: Callable[[str, str], None]):
        self.endpoint_url = endpoint_url
        self.region = region
        self.log = log
        self.function_logs = FunctionLogs(endpoint_url, region, log)
        self.forks = PreloadedForks()
        self.workers: dict[Worker, WorkerEnvironment] = {}
        self.lock = threading.Lock()

    def environment(self, worker: Worker) -> WorkerEnvironment | None:
        with self.lock:
            return self.workers.get(worker)

    def spawn(
        self, function: LambdaFunction, code: FunctionCode, keys: Keys, newest: float, background: bool
    ) -> tuple[Worker, WorkerLog]:
        """A new execution environment, which imports the handler as it starts. `background`: no
        person waits on it, and it yields the CPU to those that they do (nice)."""
        stream = self.function_logs.open(function.function_name, keys)
        worker = self.forks.spawn(
            environment_of(function, code, self.region, self.endpoint_url)
            | keys.environment()
            | {"AWS_LAMBDA_LOG_GROUP_NAME": stream.group, "AWS_LAMBDA_LOG_STREAM_NAME": stream.stream},
            code.code_dir,
        )
        if background:
            lower = min(19, os.getpriority(os.PRIO_PROCESS, 0) + BACKGROUND_NICE)  # than the stack's own
            with contextlib.suppress(ProcessLookupError):  # it may have failed to start already
                os.setpriority(os.PRIO_PROCESS, worker.pid, lower)  # before its first command
        with self.lock:
            self.workers[worker] = WorkerEnvironment(stream, newest)
        threading.Thread(target=self._forward_logs, args=(function.function_name, worker, stream), daemon=True).start()
        return worker, stream

    def call(self, worker: Worker, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        assert worker.stdin is not None
        worker.stdin.write(json.dumps(request) + "\n")
        worker.stdin.flush()
        # The init is part of the invocation's time, as on Lambda: its line is read within the timeout.
        deadline = time.monotonic() + timeout
        self.initialized(worker, timeout)
        return _reply(worker, max(0.0, deadline - time.monotonic()), timeout)

    def initialized(self, worker: Worker, timeout: float) -> None:
        """Reads, once, the line a worker writes when its handler is imported."""
        environment = self.environment(worker)
        if environment is None or environment.initialized:
            return
        _reply(worker, timeout, timeout)
        environment.initialized = True

    def discard(self, worker: Worker) -> None:
        with self.lock:
            self.workers.pop(worker, None)
        _stop(worker)

    def close(self) -> None:
        with self.lock:
            workers = list(self.workers)
            self.workers.clear()
        # All at once: each may need a few seconds to stop the command it runs.
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
        for worker in workers:
            _stop(worker)
        self.forks.close()
        self.function_logs.stop()

    def _forward_logs(self, name: str, worker: Worker, stream: WorkerLog) -> None:
        assert worker.stderr is not None
        for line in worker.stderr:
            self.log(name, line.rstrip("\n"))
            stream.line(line.rstrip("\n"))
        self.function_logs.close(stream)


def _reply(worker: Worker, wait: float, timeout: float) -> dict[str, Any]:
    assert worker.stdout is not None
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(worker.stdout.readline()), daemon=True)
    reader.start()
    reader.join(wait)
    if reader.is_alive():
        raise TimeoutError(f"timed out after {timeout:.0f} s")
    if not result or not result[0]:
        raise OSError(f"the worker exited with status {worker.poll()}")
    return json.loads(result[0])


def _stop(worker: Worker) -> None:
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=10)  # the runner gives its command 5 s after SIGTERM
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
