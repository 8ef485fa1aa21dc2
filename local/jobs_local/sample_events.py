"""`jobs-local events`: the sample events that only work with the running stack's own data.

events/*.json are fixed; a runner's event needs a job that exists and is pending, and the
authorizer's allowing event needs the stack's token. These are written as events/*.local.json
(ignored by git), to invoke with `make invoke` (`sam remote invoke`):
- `runner.local.json`: a job recorded pending, as a start records it, but with no execution: the
  developer plays the state machine's part. The runner runs its command and closes it.
- `job_state.local.json`: then ends that run as the state machine's `EndRun` does: the slot is given
  back and the job's dependents start, each in its own execution.
- `authorizer.local.json`: the authorizer's event with the stack's token, which it allows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobs_cli.connection import write_secret
from jobsys.settings import Settings
from jobsys.system import execution_input, system_for

if TYPE_CHECKING:
    from jobs_local.running_stack import RunningStack

STARTED_BY = "jobs-local events"


class SampleEvents:
    def __init__(self, stack: RunningStack, folder: Path):
        self.stack = stack
        self.folder = folder
        physical = stack.physical_ids()
        settings = Settings.model_validate(
            {
                "JOBS_TABLE": physical["JobsTable"],
                "JOBS_BUCKET": physical["OutputBucket"],
                "JOBS_LOG_GROUP": physical["JobOutputLogGroup"],
                "STATE_MACHINE_ARN": physical["JobStateMachine"],
                "JOBS_CONFIG": stack.found.get("config") or str(folder.parent / "config" / "jobs.yaml"),
            }
        )
        self.system = system_for(settings, stack)

    def write(self, definition: str | None = None) -> list[tuple[Path, str]]:
        """Records one job of `definition` (by default the first that runs on Lambda) and writes the
        events; gives each file with what invoking it does."""
        config = self.system.config
        if definition is None:
            lambda_jobs = [key for key, found in config.definitions.items() if found.runner == "lambda"]
            if not lambda_jobs:
                raise LookupError("no configured job runs on Lambda: name one with --definition")
            definition = lambda_jobs[0]
        spec = config.definition(definition).to_spec()
        if spec.runner != "lambda":
            raise LookupError(f"{definition} runs on {spec.runner}: the runner's event is for jobs on Lambda")
        authorizer = self._allowed_authorizer_event()
        root, jobs, _ = self.system.record_start(spec, started_by=STARTED_BY)
        run = execution_input(root, jobs, self.system.is_limited)
        return [
            self._write("runner", _runner_event(run), f"runs job {root.id} ({definition})"),
            self._write(
                "job_state",
                {"action": "end_run", "job_id": root.id, "run": run},
                f"ends job {root.id}'s run as the state machine does, and starts its dependents",
            ),
            self._write("authorizer", authorizer, "the stack's token: the authorizer allows it"),
        ]

    def _allowed_authorizer_event(self) -> dict[str, Any]:
        """The refused event with the token that `make run` keeps with the stack (as `jobs` finds it)."""
        token = self.stack.found.get("token")
        if not token:
            raise LookupError("the local stack's state folder holds no token")
        refused = json.loads((self.folder / "authorizer_refused.json").read_text(encoding="utf-8"))
        return {**refused, "authorizationToken": f"Bearer {token}"}

    def _write(self, name: str, event: dict[str, Any], what: str) -> tuple[Path, str]:
        path = self.folder / f"{name}.local.json"
        write_secret(path, json.dumps(event, indent=2) + "\n")  # the authorizer's holds a token
        return path, what


def _runner_event(run: dict[str, Any]) -> dict[str, Any]:
    """What RunOnLambda's Payload takes from the execution's input (statemachines/job.asl.json)."""
    return {key: run[key] for key in ("job_id", "queue", "command", "definition", "check_queue", "dependents")}
