"""The Lambda runner: runs one job's command and reports the state it ended in."""

from jobsys.cold_start import collector_paused

with collector_paused():
    from typing import Any

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from jobsys.costs import RunMeter
    from jobsys.observability import logger, traced
    from jobsys.runner import RunStart, run_job
    from jobsys.system import job_system


@logger.inject_lambda_context
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    meter = RunMeter("lambda", int(context.memory_limit_in_mb))  # billed from here, the invocation's start
    result = run_job(job_system(), RunStart.of(event), lambda: context.get_remaining_time_in_millis() / 1000, meter)
    logger.info("job ended", extra=result.as_dict())
    return result.as_dict()
