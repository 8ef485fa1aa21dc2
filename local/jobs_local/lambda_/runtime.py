"""Runs Lambda functions as local Python processes, in place of moto's Docker containers.

moto funnels every invocation through `LambdaFunction._invoke_lambda`, which `PATCH` replaces (and
wraps `invoke`, to learn whether the caller asked for the log tail). Each function gets warm worker
processes that are reused across invocations, as Lambda reuses execution environments, up to a
bounded concurrency. Each worker's lines go to its function's log group (`function_logs.py`), as
Lambda sends an execution environment's output to CloudWatch Logs; an idle worker whose code was
edited since it started is replaced (`code_changes.py`).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.awslambda.models import LambdaFunction

from jobs_local.iam.credentials import Keys, RoleNotTrusted, RoleSessions
from jobs_local.lambda_.code_changes import CodeChanges
from jobs_local.lambda_.environment import FunctionCode
from jobs_local.lambda_.function_logs import WorkerLog
from jobs_local.lambda_.slots import Slots
from jobs_local.lambda_.workers import Worker, WorkerProcesses
from jobs_local.patching import Patch, Wrap
from jobs_local.people_first import PEOPLE_FIRST

PROVISION_GRACE = 30.0  # seconds a provisioned environment may take to initialize, beyond its timeout
TAIL_WAIT = 1.0  # seconds for an invocation's REPORT line to be read, after its reply


@dataclass
class _Pool:
    idle: list[Worker] = field(default_factory=list)
    slots: Slots | None = None


class LambdaRuntime:
    def __init__(
        self,
        endpoint_url: str,
        region: str,
        roles: RoleSessions,
        concurrency: int = 8,
        log: Callable[[str, str], None] | None = None,
    ):
        self.endpoint_url = endpoint_url
        self.region = region
        self.roles = roles
        self.concurrency = concurrency
        self.log = log or (lambda function, line: None)
        self.processes = WorkerProcesses(endpoint_url, region, self.log)
        self.code_changes = CodeChanges()
        self.code: dict[str, FunctionCode] = {}
        self.pools: dict[str, _Pool] = {}
        self.lock = threading.Lock()
        self.closed = False
        self.registered = threading.Condition()
        self.interactive: set[str] = set()

    def register(self, function_name: str, code: FunctionCode) -> None:
        with self.registered:
            self.code[function_name] = code
            self.registered.notify_all()

    def answer_people_first(self, function_names: set[str]) -> None:
        """On AWS each execution environment has its own CPU; here all share a few cores. The
        functions that people wait on (behind API Gateway) keep the normal CPU priority; the others'
        workers, and the commands that runners start, yield to them (nice 10), so that a burst of
        running jobs does not slow the API down."""
        self.interactive = set(function_names)

    def _code_of(self, function_name: str, wait: float = 30) -> FunctionCode | None:
        """A custom resource invokes its function while the stack is created, before its code is known here."""
        with self.registered:
            self.registered.wait_for(lambda: function_name in self.code or self.closed, timeout=wait)
            return self.code.get(function_name)

    def serve(self) -> None:
        """From now on, Lambda's invocations run here (PATCH sends them to the last runtime served)."""
        _serving[:] = [self]

    def close(self) -> None:
        # The replacement stays installed: executions still in flight get a clean error, not Docker.
        self.closed = True
        self.processes.close()

    # --- invocations --------------------------------------------------------------------------

    def invoke(self, function: LambdaFunction, event: Any, tail: bool = False) -> tuple[str, bool, str]:
        """The reply, whether it is an error, and (with `tail`) the invocation's last 4 KB of log lines."""
        if self.closed:
            return _error("Runtime.Shutdown", "the local stack is stopping"), True, ""
        code = self._code_of(function.function_name)
        if code is None:
            return _error("Runtime.NotFound", f"no local code for {function.function_name}"), True, ""
        try:  # as Lambda does for each execution environment: the function's role, for the function
            keys = self.roles.keys(function.role, "lambda.amazonaws.com", function.function_name, function.function_arn)
            if function.function_name in self.interactive:
                PEOPLE_FIRST.people_keys.add(keys.access_key_id)
        except RoleNotTrusted as exc:
            return (
                _error(
                    "Lambda.AccessDeniedException",
                    f"The role defined for the function cannot be assumed by Lambda: {exc}",
                ),
                True,
                "",
            )
        pool = self._pool(function.function_name)
        assert pool.slots is not None
        pool.slots.acquire()  # like reserved concurrency, but waiting instead of throttling
        try:
            worker, stream = self._take(function, code, pool, keys)
            timeout = float(function.timeout or 3)
            request = {
                "event": event if event is not None else {},
                "request_id": str(uuid.uuid4()),
                "deadline": time.time() + timeout,
            }
            stream.begin(request["request_id"], keep_tail=tail)
            try:
                reply = self.processes.call(worker, request, timeout)
            except (TimeoutError, OSError, ValueError) as exc:
                if isinstance(exc, TimeoutError):
                    stream.timed_out(request["request_id"], timeout, int(function.memory_size))
                self.processes.discard(worker)
                kind = "Sandbox.Timedout" if isinstance(exc, TimeoutError) else "Runtime.ExitError"
                return _error(kind, f"{function.function_name}: {exc}"), True, stream.tail(0) if tail else ""
            with self.lock:
                if worker.poll() is None and not self.closed:
                    pool.idle.append(worker)
            logs = stream.tail(TAIL_WAIT) if tail else ""
            if reply["ok"]:
                return json.dumps(reply["result"]), False, logs
            return json.dumps(reply["error"]), True, logs
        finally:
            pool.slots.release()

    def provision(self, function: LambdaFunction, count: int) -> threading.Thread:
        """Starts `count` environments of a function before its first invocation, each with its
        handler imported, as provisioned concurrency keeps them on AWS: a burst right after the
        stack starts meets warm ones. The thread returned ends once they are all ready."""

        def start() -> None:
            code = self._code_of(function.function_name)
            if code is None:
                return
            keys = self.roles.keys(function.role, "lambda.amazonaws.com", function.function_name, function.function_arn)
            if function.function_name in self.interactive:
                PEOPLE_FIRST.people_keys.add(keys.access_key_id)
            pool = self._pool(function.function_name)
            newest = self.code_changes.newest((code.code_dir, *code.layer_dirs))
            started = [self._spawn(function, code, keys, newest)[0] for _ in range(count) if not self.closed]
            for worker in started:
                try:  # as Lambda's INIT of a provisioned environment, within the function's timeout
                    self.processes.initialized(worker, float(function.timeout or 3) + PROVISION_GRACE)
                except (TimeoutError, OSError, ValueError):
                    self.processes.discard(worker)
                    continue
                with self.lock:
                    pool.idle.append(worker)

        thread = threading.Thread(target=start, daemon=True, name=f"provision-{function.function_name}")
        thread.start()
        return thread

    def _pool(self, name: str) -> _Pool:
        with self.lock:
            pool = self.pools.get(name)
            if pool is None:
                pool = self.pools[name] = _Pool(slots=Slots(self.concurrency))
            return pool

    def _take(self, function: LambdaFunction, code: FunctionCode, pool: _Pool, keys: Keys) -> tuple[Worker, WorkerLog]:
        newest = self.code_changes.newest((code.code_dir, *code.layer_dirs))
        stale = []
        with self.lock:
            while pool.idle:
                worker = pool.idle.pop()
                started = self.processes.environment(worker)
                if worker.poll() is None and started is not None and started.code_stamp >= newest:
                    return worker, started.stream
                stale.append(worker)
        for worker in stale:  # exited, or its code was edited since it started (code_changes.py)
            threading.Thread(target=self.processes.discard, args=(worker,), daemon=True).start()
        return self._spawn(function, code, keys, newest)

    def _spawn(
        self, function: LambdaFunction, code: FunctionCode, keys: Keys, newest: float
    ) -> tuple[Worker, WorkerLog]:
        return self.processes.spawn(
            function, code, keys, newest, background=function.function_name not in self.interactive
        )


def _error(kind: str, message: str) -> str:
    return json.dumps({"errorType": kind, "errorMessage": message})


_serving: list[LambdaRuntime] = []
_asked = threading.local()  # whether the Invoke being served asked for the log tail (LogType=Tail)


def _invoke_lambda(function: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    return _serving[-1].invoke(function, event, tail=getattr(_asked, "tail", False))


def _invoke_saying_if_tail_is_asked(original: Callable[..., Any]) -> Callable[..., Any]:
    """Only a caller that asks for the tail waits for the invocation's REPORT line to be read: the
    state machine's invocations never do (on AWS, LogResult comes only with LogType=Tail)."""

    def invoke(self: LambdaFunction, body: str, request_headers: Any, response_headers: Any) -> Any:
        _asked.tail = request_headers.get("X-Amz-Log-Type") == "Tail"
        try:
            return original(self, body, request_headers, response_headers)
        finally:
            _asked.tail = False

    return invoke


PATCH = Patch(
    "moto's LambdaFunction._invoke_lambda, which runs the function in a Docker container",
    [
        (LambdaFunction, "_invoke_lambda", _invoke_lambda),
        (LambdaFunction, "invoke", Wrap(_invoke_saying_if_tail_is_asked)),
    ],
)
