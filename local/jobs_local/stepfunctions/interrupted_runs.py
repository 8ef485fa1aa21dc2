"""Runs that a stop of the local stack cut short, ended as the state machine ends a run.

Replaces: the executions that a restart loses. moto keeps no execution across a restart (its
state is saved and loaded by persistence.py, its running interpreters are not), so a job left open
has nothing to end its run. Each is ended as the state machine's EndRun state ends one whose
runner died: JobStateFunction's `end_run`, invoked with the state machine's role, closes the job
`incomplete` with its reason, gives its slot back, and cancels its dependents or plans its next
attempt.
"""

from __future__ import annotations

import json
from typing import Any

from jobs_local.clients import StackClients
from jobsys.cleanup import interrupted_runs
from jobsys.store import JobStore

INTERRUPTED = "the local stack stopped while it ran"


class InterruptedRuns:
    def __init__(self, clients: StackClients, table: str, state_machine_arn: str, job_state_function: str):
        self.clients = clients
        self.table = table
        self.state_machine_arn = state_machine_arn
        self.job_state_function = job_state_function

    def end(self) -> list[str]:
        """The jobs it closed `incomplete`."""
        store = JobStore(self.clients.session().resource("dynamodb").Table(self.table))
        lambdas = None  # looked up once, at the first run to end: most starts have none
        closed: list[str] = []
        for job_id in interrupted_runs(store):  # read as it goes: ending a parent decides for its dependents
            lambdas = lambdas or self._lambdas_of_the_state_machine()
            event = {"action": "end_run", "job_id": job_id, "run": {"error": {"Error": INTERRUPTED}}}
            if (self._end_run(lambdas, event) or {}).get("state") == "incomplete":
                closed.append(job_id)
        return closed

    def _lambdas_of_the_state_machine(self) -> Any:
        """A Lambda client with the credentials that Step Functions takes for the state machine's role."""
        machine = self.clients.client("stepfunctions").describe_state_machine(stateMachineArn=self.state_machine_arn)
        return self.clients.client_as(machine["roleArn"], "states.amazonaws.com", machine["stateMachineArn"], "lambda")

    def _end_run(self, lambdas: Any, event: dict[str, Any]) -> dict[str, Any] | None:
        """EndRun, invoked as the state machine's EndRun state invokes it: with its role."""
        response = lambdas.invoke(FunctionName=self.job_state_function, Payload=json.dumps(event).encode())
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            raise RuntimeError(f"EndRun failed: {payload}")
        return payload
