"""API Gateway token authorizer of the back-office API: each operator's calls carry their bearer token,
and the operator's name becomes the principal that the API records as `started_by`/`canceled_by`."""

from jobsys.cold_start import collector_paused

with collector_paused():
    import os
    from functools import cache
    from typing import TYPE_CHECKING, Any

    import boto3
    from aws_lambda_powertools.utilities.data_classes import event_source
    from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
        APIGatewayAuthorizerResponse,
        APIGatewayAuthorizerTokenEvent,
    )
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from jobsys.observability import logger, traced
    from jobsys.tokens import BackOfficeTokens

    if TYPE_CHECKING:  # for the type alone: the module is imported when a token is refused
        from jobsys.audit import RefusedTokens


@cache
def back_office_tokens() -> BackOfficeTokens:
    return BackOfficeTokens(boto3.client("secretsmanager"), os.environ["BACK_OFFICE_TOKEN_SECRET"])


def audit_refused_token(method_arn: str) -> None:
    """One audit record for each refused token (never any part of the token, which may be a real
    one mistyped). A failure to write it is logged, and the caller gets its 401 all the same."""
    try:
        refused_tokens().record(method_arn.split("/", 1)[-1])
    except Exception:  # noqa: BLE001
        logger.exception("could not write the audit record of a refused token")


@cache
def refused_tokens() -> "RefusedTokens":
    # Imported when a token is first refused: every other request's cold start does without them
    # (bench/cold_imports.py: 245 ms before the audit log, 321 with these imported up front).
    from jobsys.audit import RefusedTokens
    from jobsys.settings import settings

    return RefusedTokens(boto3.resource("dynamodb").Table(settings().jobs_table), settings().audit_retention)


@logger.inject_lambda_context
@traced
@event_source(data_class=APIGatewayAuthorizerTokenEvent)
def lambda_handler(event: APIGatewayAuthorizerTokenEvent, context: LambdaContext) -> dict[str, Any]:
    operator = back_office_tokens().operator(event.authorization_token)
    if operator is None:
        audit_refused_token(event.method_arn)
        # API Gateway turns exactly this message into a 401.
        raise Exception("Unauthorized")
    arn = event.parsed_arn
    policy = APIGatewayAuthorizerResponse(
        principal_id=operator.name,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context={"role": operator.role.value},  # the API checks it against each route's role
    )
    policy.allow_all_routes()  # one decision for the whole API, so that API Gateway can cache it
    return policy.asdict()
