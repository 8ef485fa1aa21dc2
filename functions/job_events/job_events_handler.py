"""What follows a job's change of state, from the jobs table's stream: its Job State Change event on
the default bus, and for a closed run its usage added to its day's totals (which the statistics
price). The stream's event source mapping calls this with the table's writes in order; what could
not be put is handed back (ReportBatchItemFailures), and the mapping delivers it again."""

from jobsys.cold_start import collector_paused

with collector_paused():
    from functools import cache
    from typing import Any

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from jobsys.observability import logger, traced
    from jobsys.settings import settings
    from jobsys.state_changes import ChangesFollowed, changes_followed_for


@cache
def changes_followed() -> ChangesFollowed:
    import boto3

    return changes_followed_for(settings(), boto3)


@logger.inject_lambda_context
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return changes_followed().follow(event.get("Records", []))
