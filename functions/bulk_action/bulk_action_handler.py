"""A bulk action's pages: its execution (statemachines/bulk_action.asl.json) invokes this until no
job is left, or the action is stopped; a failed execution hands it the error, and it stops."""

from jobsys.cold_start import collector_paused

with collector_paused():
    from typing import Any

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from jobsys.observability import logger, traced
    from jobsys.spec.limits import BULK_INVOCATION_BUDGET
    from jobsys.system import job_system


@logger.inject_lambda_context
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    bulk_id = event["bulk_id"]
    if "error" in event:
        error = event["error"] or {}
        job_system().fail_bulk(bulk_id, f"its execution failed: {error.get('Error')}: {error.get('Cause', '')}")
        return {"bulk_id": bulk_id, "more": False}
    # Well inside the function's timeout, however long the last page of the budget takes.
    budget = min(BULK_INVOCATION_BUDGET, context.get_remaining_time_in_millis() / 1000 / 2)
    return {"bulk_id": bulk_id, "more": job_system().act_on_pages(bulk_id, budget)}
