"""The state machine's bookkeeping, and the schedules' starts.

- `admit`: a job waits for a slot of its queue; its task token starts it (or a new execution, a week on).
- `end_run`: the end of every run: close, give the slot back, then dependents or the next attempt.
- `scheduled_start`: EventBridge Scheduler starts a definition (the input that jobs.yaml's schedule gave it).
- `check_heartbeats`: every minute, running jobs whose runner stopped beating are ended incomplete.
"""

from jobsys.cold_start import collector_paused

with collector_paused():
    from typing import Any

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from jobsys.models import JobState, parse_iso
    from jobsys.observability import logger, traced
    from jobsys.system import job_system


def _ended(run: dict[str, Any]) -> tuple[JobState, str | None]:
    """How the execution saw the run end, for a job that its runner did not close."""
    error = run.get("error")
    if not error:
        return JobState.INCOMPLETE, None
    cause = str(error.get("Cause") or "")[:500]
    reason = f"{error.get('Error', 'error')}: {cause}" if cause else str(error.get("Error"))
    return (JobState.TERMINATED if error.get("Error") == "States.Timeout" else JobState.INCOMPLETE), reason


@logger.inject_lambda_context
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    system = job_system()
    action = event.get("action")
    if action == "admit":
        started = event.get("execution_started")
        system.admit(event["job_id"], event["task_token"], parse_iso(started) if started else None)
        return {"job_id": event["job_id"]}
    if action == "end_run":
        run = event.get("run") or {}
        state, reason = _ended(run)
        job = system.end_run(event["job_id"], state, reason, run.get("dependents"))
        return {"job_id": job.id, "state": job.state.value, "retried_by": job.retried_by}
    if action == "scheduled_start":
        started = system.start_scheduled(event["definition"], event["scheduled_at"])
        if started is None:
            logger.info("a repeated delivery of a schedule's fire", extra=event)
            return {"definition": event["definition"], "job_id": None}
        return {"definition": event["definition"], "job_id": started.id, "state": started.state.value}
    if action == "check_heartbeats":
        ended = system.check_heartbeats()
        return {"ended": [job.id for job in ended]}
    raise ValueError(f"unknown action {action!r}")
