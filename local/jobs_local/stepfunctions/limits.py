"""Step Functions' limit on an execution's input: 262,144 bytes.

Replaces: moto's `StepFunctionsParserBackend.start_execution`, which starts an execution with an
input of any size. AWS refuses it (`input`: at most 262,144 characters). A state's output over
256 KiB already fails its execution with `States.DataLimitExceeded` in moto's interpreter, as in AWS.
"""

from __future__ import annotations

from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from jobs_local.patching import Patch

MAX_INPUT = 262_144

_moto_start_execution = StepFunctionsParserBackend.start_execution


def _start_execution(self: StepFunctionsParserBackend, state_machine_arn: str, *args: Any, **kwargs: Any) -> Any:
    execution_input = kwargs.get("execution_input", args[1] if len(args) > 1 else None)
    if execution_input is not None and len(execution_input.encode()) > MAX_INPUT:
        raise JsonRESTError(
            "ValidationException",
            "1 validation error detected: Value at 'input' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_INPUT}",
        )
    return _moto_start_execution(self, state_machine_arn, *args, **kwargs)


PATCH = Patch(
    "moto's StepFunctionsParserBackend.start_execution, which takes an input of any size",
    [(StepFunctionsParserBackend, "start_execution", _start_execution)],
)
