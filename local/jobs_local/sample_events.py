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
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobs_local.cloudformation.deploy import secret_name
from jobsys.config import load_config
from jobsys.output import OutputStore
from jobsys.settings import Settings
from jobsys.store import JobStore
from jobsys.system import JobSystem, execution_input
from jobsys.tokens import parse_tokens

if TYPE_CHECKING:
    from jobs_local.dev_cli import RunningStack

STARTED_BY = "jobs-local events"


class SampleEvents:
    def __init__(self, stack: RunningStack, folder: Path):
        self.stack = stack
        self.folder = folder
        self.physical = stack.physical_ids()
        config_path = stack.found.get("config") or folder.parent / "config" / "jobs.yaml"
        self.system = JobSystem(
            config=load_config(config_path),
            store=JobStore(
                stack.session.resource("dynamodb", endpoint_url=stack.endpoint_url).Table(self.physical["JobsTable"])
            ),
            output=OutputStore(
                stack.client("logs"),
                stack.client("s3"),
                self.physical["JobOutputLogGroup"],
                self.physical["OutputBucket"],
            ),
            sfn=stack.client("stepfunctions"),
            settings=Settings.model_validate(
                {
                    "JOBS_TABLE": self.physical["JobsTable"],
                    "JOBS_BUCKET": self.physical["OutputBucket"],
                    "JOBS_LOG_GROUP": self.physical["JobOutputLogGroup"],
                    "STATE_MACHINE_ARN": self.physical["JobStateMachine"],
                }
            ),
        )

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
        root, jobs = self.system.record_start(spec, started_by=STARTED_BY)
        run = execution_input(root, jobs, self.system.is_limited)
        return [
            self._write("runner", {"job_id": root.id, "queue": root.queue}, f"runs job {root.id} ({definition})"),
            self._write(
                "job_state",
                {"action": "end_run", "job_id": root.id, "run": run},
                f"ends job {root.id}'s run as the state machine does, and starts its dependents",
            ),
            self._write("authorizer", authorizer, "the stack's token: the authorizer allows it"),
        ]

    def _allowed_authorizer_event(self) -> dict[str, Any]:
        refused = json.loads((self.folder / "authorizer_refused.json").read_text(encoding="utf-8"))
        secret_id = secret_name(self.stack.stack_name, "BackOfficeToken")  # not a stack resource in moto
        secret = self.stack.client("secretsmanager").get_secret_value(SecretId=secret_id)
        token = next(iter(parse_tokens(secret["SecretString"]).values()))
        return {**refused, "authorizationToken": f"Bearer {token}"}

    def _write(self, name: str, event: dict[str, Any], what: str) -> tuple[Path, str]:
        path = self.folder / f"{name}.local.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the authorizer's holds a token
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(json.dumps(event, indent=2) + "\n")
        return path, what
