"""The state machine's bookkeeping: start the dependents of a finished job, record those of a job
that did not finish as canceled, and close a job whose run failed without reporting."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from jobsys.models import JobState
from jobsys.observability import logger, metrics, tracer
from jobsys.system import job_system


def _reason(error: dict[str, Any] | None) -> str | None:
    if not error:
        return None
    cause = str(error.get("Cause") or "")[:500]
    return f"{error.get('Error', 'error')}: {cause}" if cause else str(error.get("Error"))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    system = job_system()
    action = event["action"]
    if action == "start_dependents":
        started = system.start_dependents(event["job_id"], event.get("dependents") or [])
        return {"job_id": event["job_id"], "started": started}
    if action == "close":
        job = system.close_job(event["job_id"], JobState(event["state"]), _reason(event.get("error")))
    elif action == "abandon_dependents":
        job = system.get_job(event["job_id"])
        system.abandon_dependents(job, _reason(event.get("error")) or "could not be started")
    elif action == "cancel_dependents":
        job = system.get_job(event["job_id"])
        system.cancel_dependents(job)
    else:
        raise ValueError(f"unknown action {action!r}")
    return {"job_id": job.id, "state": job.state.value}
