"""Lambda's limits on an invocation: its payload, and the function's reserved concurrency.

Replaces: moto's `LambdaFunction.invoke`, which takes a payload of any size and runs any number of
invocations of a function at once, whatever its `ReservedConcurrentExecutions`.
- A synchronous payload over 6 MB, or an asynchronous (`Event`) one over 256 KB, is refused with
  `RequestEntityTooLargeException` (413), as Lambda refuses it.
- A function with reserved concurrency runs at most that many invocations at once. A synchronous
  invocation beyond it is throttled, `TooManyRequestsException` (429), which the state machine's
  `Retry` on `Lambda.TooManyRequestsException` handles as on AWS. An asynchronous one waits for a
  free slot, as Lambda keeps throttled events in its queue and retries them; with a reservation of
  0 it is throttled too (Lambda would retry it for hours, then drop it).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any

from moto.awslambda.models import LambdaFunction
from moto.core.exceptions import JsonRESTError

from jobs_local.patching import Patch

SYNC_PAYLOAD = 6_291_456  # bytes
ASYNC_PAYLOAD = 262_144  # bytes

_moto_invoke = LambdaFunction.invoke


class _Refused(JsonRESTError):
    def __init__(self, status: int, error_type: str, message: str, reason: str | None = None):
        super().__init__(error_type, message)
        self.code = status
        if reason:  # Lambda says why it throttled
            self.description = json.dumps({"__type": error_type, "message": message, "Reason": reason})


class _Reservations:
    """How many invocations of each function run now, against its reserved concurrency."""

    def __init__(self) -> None:
        self.running: dict[str, int] = {}
        self.freed = threading.Condition()

    @contextlib.contextmanager
    def slot(self, name: str, reserved: int, wait: bool) -> Iterator[None]:
        with self.freed:
            while self.running.get(name, 0) >= reserved:
                if not wait or reserved == 0:
                    raise _Refused(
                        429,
                        "TooManyRequestsException",
                        "Rate Exceeded.",
                        "ReservedFunctionConcurrentInvocationLimitExceeded",
                    )
                self.freed.wait()
            self.running[name] = self.running.get(name, 0) + 1
        try:
            yield
        finally:
            with self.freed:
                self.running[name] -= 1
                self.freed.notify_all()


_reservations = _Reservations()


def _invoke(self: LambdaFunction, body: Any, request_headers: Any, response_headers: Any) -> Any:
    kind = request_headers.get("x-amz-invocation-type") or request_headers.get("X-Amz-Invocation-Type")
    asynchronous = kind == "Event"
    size = len(body.encode() if isinstance(body, str) else body or b"")
    limit = ASYNC_PAYLOAD if asynchronous else SYNC_PAYLOAD
    if size > limit:
        raise _Refused(
            413,
            "RequestEntityTooLargeException",
            f"Request must be smaller than {limit} bytes for the Invoke operation",
        )
    if self.reserved_concurrency is None:
        return _moto_invoke(self, body, request_headers, response_headers)
    with _reservations.slot(self.function_arn, int(self.reserved_concurrency), wait=asynchronous):
        return _moto_invoke(self, body, request_headers, response_headers)


PATCH = Patch(
    "moto's LambdaFunction.invoke, which takes a payload of any size and ignores reserved concurrency",
    [(LambdaFunction, "invoke", _invoke)],
)
