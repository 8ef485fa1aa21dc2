"""The scheduled clean-up (the seed's `jms-job-queue:clean-up`). An event may override the policy."""

from jobsys.cold_start import collector_paused

with collector_paused():
    from typing import Any

    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from jobsys.cleanup import CleanUpPolicy, CleanUpRunning, clean_up
    from jobsys.observability import logger, metrics, traced
    from jobsys.spec.limits import CLEAN_UP_STOPS_BEFORE_TIMEOUT
    from jobsys.system import job_system


@logger.inject_lambda_context
@traced
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    system = job_system()
    env = system.settings
    policy = CleanUpPolicy.parse(
        int(event.get("per_call") or env.clean_up_per_call),
        event.get("max_retention") or env.clean_up_max_retention,
        event.get("max_retention_succeeded") or env.clean_up_max_retention_succeeded or None,
    )
    try:
        budget = context.get_remaining_time_in_millis() / 1000 - CLEAN_UP_STOPS_BEFORE_TIMEOUT
        report = clean_up(system, policy, budget=budget)
    except CleanUpRunning as busy:  # an operator's clean-up, started from the API, runs now
        logger.info("clean-up skipped", extra={"reason": str(busy)})
        return {"skipped": str(busy)}
    metrics.add_metric(name="JobsDeleted", unit=MetricUnit.Count, value=len(report.deleted))
    logger.info("clean-up done", extra=report.as_dict())
    return report.as_dict()
