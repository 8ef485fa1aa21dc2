"""Job State Change events from the jobs table's stream: one per change of a job's state, put on the
default bus. The stream's event source mapping calls this with the table's writes in order; what
could not be put is handed back (ReportBatchItemFailures), and the mapping delivers it again."""

from jobsys.cold_start import collector_paused

with collector_paused():
    from functools import cache
    from typing import Any

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from jobsys.events import JobEvents, PageUrl
    from jobsys.observability import logger, traced
    from jobsys.settings import settings
    from jobsys.state_changes import state_changes


@cache
def job_events() -> JobEvents:
    import boto3

    env = settings()
    return JobEvents(boto3.client("events"), env.event_source, PageUrl(boto3.client("ssm"), env.page_url_parameter))


@logger.inject_lambda_context
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    changes = state_changes(event.get("Records", []))
    unsent = job_events().put([change for _, change in changes])
    if not unsent:
        return {"batchItemFailures": []}
    # From the first record not put on: the records before it are done, and the mapping sends the
    # rest again, in order.
    first = next(sequence for sequence, change in changes if change is unsent[0])
    return {"batchItemFailures": [{"itemIdentifier": first}]}
