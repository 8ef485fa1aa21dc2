"""Each function's log lines in its log group, as Lambda writes them: what `sam logs` and `aws logs
tail` read.

Replaces: moto's `LambdaFunction.save_logs`, which its Docker invocation calls and our runtime
(`runtime.py`) never reaches. Lambda writes, for each execution environment, one stream named
`YYYY/MM/DD/[$LATEST]<32 hex>` in `/aws/lambda/<function>`: `START`, the function's own lines,
`END` and `REPORT` for each invocation. It writes them with the function's role, so a role without
`logs:CreateLogStream` and `logs:PutLogEvents` (AWSLambdaBasicExecutionRole) loses its lines, as on
AWS: here the calls go through moto with the role's keys, and the IAM enforcement judges them.

A function's `LoggingConfig` (another group, JSON format) is not read: moto 5.2.5 does not keep it,
and template.yaml uses none.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from jobs_local.iam.credentials import Keys
from jobs_local.logs.limits import EVENT_OVERHEAD, MAX_BATCH_BYTES, MAX_EVENT_BYTES, MAX_EVENTS

# In the User-Agent of the Lambda service's own writes: benches that count the stack's calls leave them out.
USER_AGENT = "jobs-local-lambda-logs"
# Seconds; Lambda ships a line within a few. Each round costs a PutLogEvents per stream that has lines:
# at 1 s, shipping took 13 % of a busy e2e stack's CPU (py-spy), for invocations a second apart.
FLUSH_EVERY = 2.0
TAIL_BYTES = 4096  # `LogType=Tail`: the last 4 KB of an invocation's lines, as Lambda returns them


def stream_name() -> str:
    return time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()) + uuid.uuid4().hex


class WorkerLog:
    """One execution environment's stream: its lines to ship, and the current invocation's tail."""

    def __init__(self, function_name: str, keys: Keys):
        self.function_name = function_name
        self.group = f"/aws/lambda/{function_name}"
        self.stream = stream_name()
        self.keys = keys
        self.created = False
        self.pending: list[dict[str, Any]] = []
        self.current: list[str] = []  # the invocation's lines, kept only for a caller that asked for them
        self.keep_tail = False
        self.request_id = ""
        self.reported = threading.Event()
        self.lock = threading.Lock()

    def begin(self, request_id: str, keep_tail: bool) -> None:
        with self.lock:
            self.request_id, self.current, self.keep_tail = request_id, [], keep_tail
            self.reported.clear()

    def line(self, text: str) -> None:
        # Lambda cuts a line over 256 KB; CloudWatch Logs would refuse the whole batch.
        text = text.encode()[: MAX_EVENT_BYTES - EVENT_OVERHEAD].decode(errors="ignore")
        with self.lock:
            self.pending.append({"timestamp": int(time.time() * 1000), "message": text})
            if self.keep_tail:
                self.current.append(text)
                if text.startswith(f"REPORT RequestId: {self.request_id}"):
                    self.reported.set()

    def timed_out(self, request_id: str, seconds: float, memory_mb: int) -> None:
        """What Lambda writes for an invocation it stopped: the worker could not write its END."""
        now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        self.line(f"{now}Z {request_id} Task timed out after {seconds:.2f} seconds")
        self.line(f"END RequestId: {request_id}")
        took = seconds * 1000
        self.line(
            f"REPORT RequestId: {request_id}\tDuration: {took:.2f} ms\tBilled Duration: {int(took)} ms\t"
            f"Memory Size: {memory_mb} MB\tMax Memory Used: {memory_mb} MB\tStatus: timeout"
        )

    def tail(self, wait: float) -> str:
        """The invocation's lines, once its REPORT has been read from the worker (or `wait` passed)."""
        self.reported.wait(wait)
        with self.lock:
            text = "".join(line + "\n" for line in self.current)
        return text.encode()[-TAIL_BYTES:].decode(errors="ignore")

    def take(self) -> list[dict[str, Any]]:
        with self.lock:
            taken, self.pending = self.pending, []
        return taken


class FunctionLogs:
    """Ships every worker's lines to its log group, every FLUSH_EVERY seconds, in one thread."""

    def __init__(self, endpoint_url: str, region: str, note: Callable[[str, str], None]):
        self.endpoint_url = endpoint_url
        self.region = region
        self.note = note  # (function, line): where a failure to ship is said
        self.workers: set[WorkerLog] = set()
        self.gone: set[WorkerLog] = set()  # workers that exited: dropped once their last lines ship
        self.clients: dict[str, Any] = {}
        self.refused: set[str] = set()
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._ship_every_round, daemon=True)

    def open(self, function_name: str, keys: Keys) -> WorkerLog:
        worker = WorkerLog(function_name, keys)
        with self.lock:
            self.workers.add(worker)
            if not self.thread.is_alive() and not self.stopped.is_set():
                self.thread.start()
        return worker

    def close(self, worker: WorkerLog) -> None:
        """The worker is gone: its last lines go with the next round."""
        with self.lock:
            self.gone.add(worker)

    def stop(self) -> None:
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join(10)
        self.ship()

    def ship(self) -> None:
        with self.lock:
            workers = list(self.workers)
            self.workers -= self.gone
            self.gone.clear()
        for worker in workers:
            events = worker.take()
            if events:
                self._put(worker, events)

    def _ship_every_round(self) -> None:
        while not self.stopped.wait(FLUSH_EVERY):
            self.ship()

    def _client(self, keys: Keys) -> Any:
        client = self.clients.get(keys.access_key_id)
        if client is None:
            # Few and short tries: a stack that stops must not wait on lines it can no longer ship.
            config = Config(user_agent_extra=USER_AGENT, retries={"max_attempts": 2}, connect_timeout=2)
            client = self.clients[keys.access_key_id] = keys.client("logs", self.region, self.endpoint_url, config)
        return client

    def _put(self, worker: WorkerLog, events: list[dict[str, Any]]) -> None:
        logs = self._client(worker.keys)
        try:
            if not worker.created:
                self._create_stream(logs, worker)
            for batch in _batches(events):
                logs.put_log_events(logGroupName=worker.group, logStreamName=worker.stream, logEvents=batch)
        except ClientError as exc:
            # As on AWS, the lines are lost; said once per function, in the combined log.
            error = exc.response["Error"]
            if worker.function_name not in self.refused:
                self.refused.add(worker.function_name)
                self.note(worker.function_name, f"[local stack] Lambda could not write this function's logs to "
                          f"{worker.group}: {error.get('Code')}: {error.get('Message')}")  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - the stack stopping mid-call; never the thread's end
            self.note(worker.function_name, f"[local stack] could not ship this function's logs: {exc}")

    @staticmethod
    def _create_stream(logs: Any, worker: WorkerLog) -> None:
        try:
            logs.create_log_stream(logGroupName=worker.group, logStreamName=worker.stream)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            # No group in the template: Lambda creates it, if the role may (logs:CreateLogGroup).
            logs.create_log_group(logGroupName=worker.group)
            logs.create_log_stream(logGroupName=worker.group, logStreamName=worker.stream)
        worker.created = True


def _batches(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """In order, each batch within PutLogEvents' limits."""
    batches: list[list[dict[str, Any]]] = [[]]
    size = 0
    for event in events:
        cost = len(event["message"].encode()) + EVENT_OVERHEAD
        if batches[-1] and (len(batches[-1]) == MAX_EVENTS or size + cost > MAX_BATCH_BYTES):
            batches.append([])
            size = 0
        batches[-1].append(event)
        size += cost
    return batches
