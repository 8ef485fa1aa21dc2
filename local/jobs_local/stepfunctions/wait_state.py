"""Step Functions' `Wait` state with a `TimestampPath`, as AWS runs it: until that moment, never before.

Replaces: `Timestamp._eval_body` of moto's copy of the interpreter, which compares a UTC
timestamp with the machine's local clock (`datetime.now()`, hours off outside UTC) and truncates
the wait to whole seconds (so a delayed job could start up to a second early).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp

from jobs_local.patching import Patch


def _seconds_left(self: Timestamp, env: Any) -> float:
    self.string.eval(env=env)
    text: str = env.stack.pop()
    if not Timestamp._is_valid_timestamp_pattern(text):
        raise FailureEventException(self._create_failure_event(env, text))
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - datetime.now(UTC)).total_seconds()


def _eval_body(self: Timestamp, env: Any) -> None:
    deadline = time.monotonic() + _seconds_left(self, env)
    while env.is_running() and (left := deadline - time.monotonic()) > 0:
        env.program_state_event.wait(left)  # set early when the execution is stopped


PATCH = Patch(
    "moto's Timestamp._eval_body, which waits by the local clock and in whole seconds",
    [(Timestamp, "_eval_body", _eval_body)],
)
