"""StopExecution ends an execution at once, as AWS does.

Replaces: moto's `Execution.stop` (stepfunctions/parser/backend/execution.py), which only flags the
program as stopped. The execution stays RUNNING in DescribeExecution and ListExecutions until the
state it is in returns: for a Lambda task, when the invocation ends, up to 15 minutes later. AWS
answers ABORTED, with its stop date, from the moment StopExecution returns. The clean-up relies on
that to find the jobs whose execution was stopped behind the system's back.
"""

from __future__ import annotations

import datetime

from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution

from jobs_local.patching import Patch

_flag_stopped = Execution.stop
_reflect_the_program = BaseExecutionWorkerCommunication._reflect_execution_status


def _stop(self: Execution, stop_date: datetime.datetime, error: str | None, cause: str | None) -> None:
    _flag_stopped(self, stop_date=stop_date, error=error, cause=cause)
    if self.exec_status == ExecutionStatus.RUNNING:
        self.exec_status = ExecutionStatus.ABORTED
        self.stop_date = stop_date
        self.error = error or self.error
        self.cause = cause or self.cause


def _reflect(self: BaseExecutionWorkerCommunication) -> None:
    # The program of a stopped execution ends later, when its state returns: it is ABORTED already.
    if self.execution.exec_status != ExecutionStatus.ABORTED:
        _reflect_the_program(self)


PATCH = Patch(
    "moto's Execution.stop, which leaves the execution RUNNING until its state returns",
    [(Execution, "stop", _stop), (BaseExecutionWorkerCommunication, "_reflect_execution_status", _reflect)],
)
