"""One warm Lambda execution environment: imports the handler once, then serves invocations.

Requests arrive as JSON lines on stdin; replies leave on the file descriptor that was stdout
when the worker started. The handler's own prints and logs go to stderr, as Lambda sends them to
CloudWatch Logs, so that they can never corrupt a reply; around each invocation, Lambda's own
`START`, `END` and `REPORT` lines (the runtime ships them all to the function's log group).
"""

import importlib
import json
import math
import os
import select
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator

SIGNAL_ROUND = 0.5  # seconds: how soon a stop asked by SIGTERM begins, whichever thread it reached


class LambdaContext:
    def __init__(self, request_id: str, deadline: float):
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        region, account = os.environ["AWS_REGION"], os.environ.get("LOCAL_ACCOUNT_ID", "123456789012")
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{self.function_name}"
        self.aws_request_id = request_id
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def _exit_with_parent(parent: int) -> None:
    """If the local stack dies without stopping us, stop as if it had (a handler may be mid-run)."""
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


def _unwind(*_: object) -> None:
    # Once: a second SIGTERM (the stack sends one per stop step) would break into the unwinding.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(143)


def _requests() -> Iterator[str]:
    """The stack's requests, one line each, waited for in rounds: Python runs a signal's handler in
    the main thread only, and a SIGTERM that the kernel gave another thread of this process would
    otherwise wait for the next request to be seen. The stack sends one request at a time, and
    waits for its reply, so no second line is ever in sys.stdin's buffer when select() is asked."""
    while True:
        if select.select([sys.stdin], [], [], SIGNAL_ROUND)[0]:
            line = sys.stdin.readline()
            if not line:
                return
            yield line


def _peak_memory_mb() -> int:
    # Not getrusage's ru_maxrss: Linux carries it over from the parent (the whole stack) through exec.
    with open("/proc/self/status", encoding="ascii") as status:
        peak_kb = next((line.split()[1] for line in status if line.startswith("VmHWM:")), "0")
    return int(peak_kb) // 1024


def _report(request_id: str, started: float, init_ms: float | None) -> None:
    """Lambda's lines after an invocation, in its format (what `sam logs` shows and tools parse)."""
    took = (time.perf_counter() - started) * 1000
    memory = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
    used = _peak_memory_mb()
    init = f"\tInit Duration: {init_ms:.2f} ms" if init_ms is not None else ""
    print(f"END RequestId: {request_id}", file=sys.stderr)
    print(
        f"REPORT RequestId: {request_id}\tDuration: {took:.2f} ms\tBilled Duration: {max(1, math.ceil(took))} ms\t"
        f"Memory Size: {memory} MB\tMax Memory Used: {used} MB{init}",
        file=sys.stderr,
        flush=True,
    )


def main() -> None:
    # Stopping the environment unwinds the handler, so that it can stop what it started.
    signal.signal(signal.SIGTERM, _unwind)
    # Ctrl-C in `make run` reaches every process of the terminal's group; the stack stops its
    # workers itself, with SIGTERM. A handler, not SIG_IGN, so that the commands run still get it.
    signal.signal(signal.SIGINT, lambda *_: None)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    initializing = time.perf_counter()
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
        init_error = None
    except Exception as exc:  # noqa: BLE001 - reported with every invocation, as Lambda does
        traceback.print_exc()
        handler, init_error = None, exc
    init_ms: float | None = (time.perf_counter() - initializing) * 1000  # reported with the first invocation
    # Initialized: the runtime reads this line before its first request's reply (a provisioned
    # environment counts as ready only then).
    replies.write(json.dumps({"initialized": init_error is None}) + "\n")
    for line in _requests():
        request = json.loads(line)
        print(f"START RequestId: {request['request_id']} Version: $LATEST", file=sys.stderr, flush=True)
        started = time.perf_counter()
        if init_error is not None:
            reply = {"ok": False, "error": {"errorType": "Runtime.ImportModuleError", "errorMessage": str(init_error)}}
        else:
            context = LambdaContext(request["request_id"], request["deadline"])
            try:
                reply = {"ok": True, "result": handler(request["event"], context)}
            except Exception as exc:  # noqa: BLE001 - an error reply, as Lambda's runtime makes it
                # One line to grep for, then the trace from the handler's frame, as Lambda logs them.
                print(f"[ERROR] {type(exc).__name__}: {exc}", file=sys.stderr)
                traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next)
                reply = {
                    "ok": False,
                    "error": {
                        "errorType": type(exc).__name__,
                        "errorMessage": str(exc),
                        # From the handler's frame on, as Lambda's runtime gives it: not this loop's.
                        "stackTrace": traceback.format_tb(exc.__traceback__.tb_next),
                    },
                }
        _report(request["request_id"], started, init_ms)
        init_ms = None
        replies.write(json.dumps(reply, default=str) + "\n")


if __name__ == "__main__":
    main()
