"""A CloudFormation custom resource: every deploy makes the EventBridge Scheduler schedules follow
jobs.yaml (one per definition with a `schedule`), so that nobody creates them by hand.

The resource's properties carry the config layer's version, so a changed jobs.yaml syncs again.
"""

from jobsys.cold_start import collector_paused

with collector_paused():
    import json
    import urllib.request
    from typing import Any

    import boto3
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from jobsys.observability import logger
    from jobsys.schedules import delete_schedule_group
    from jobsys.system import job_system


def _respond(event: dict[str, Any], status: str, reason: str, data: dict[str, Any]) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:1000],
            "PhysicalResourceId": event["ResourceProperties"]["Group"],
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data,
        }
    ).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    props = event["ResourceProperties"]
    scheduler = boto3.client("scheduler")
    try:
        if event["RequestType"] == "Delete":
            delete_schedule_group(scheduler, props["Group"])
            report: dict[str, Any] = {}
        else:
            report = job_system().sync_schedules(scheduler, props["Group"], props["TargetArn"], props["RoleArn"])
        logger.info("schedules synced", extra={"request": event["RequestType"], "schedules": report})
        _respond(event, "SUCCESS", "schedules follow jobs.yaml", {"Count": str(len(report.get("created", [])))})
    except Exception as exc:  # noqa: BLE001 - any failure must reach CloudFormation, or the deploy hangs
        logger.exception("schedule sync failed")
        # A failed sync fails the deploy, naming the reason, rather than leaving CloudFormation waiting.
        _respond(event, "FAILED" if event["RequestType"] != "Delete" else "SUCCESS", f"schedule sync: {exc}", {})
