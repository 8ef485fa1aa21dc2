"""Starts with an `Idempotency-Key` header happen once: a retried request gets the same job back.

Powertools Idempotency keeps its records in the jobs table itself (under pk "IDEMPOTENCY"), so
a retry after a timeout or a double click cannot start a command twice.
"""

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from jobsys.errors import JobStateConflict, Unprocessable
from jobsys.models import Job
from jobsys.settings import settings

KEEP_FOR_SECONDS = 24 * 3600


@cache
def _records() -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(
        table_name=settings().jobs_table,
        key_attr="pk",
        sort_key_attr="sk",
        static_pk_value="IDEMPOTENCY",
        expiry_attr="expires_at",  # the table's TTL attribute
        in_progress_expiry_attr="idempotency_in_progress_until",
        status_attr="idempotency_status",
        data_attr="idempotency_result",
        validation_key_attr="idempotency_request_hash",
    )


def start_once(
    idempotency_key: str | None,
    caller: str,
    operation: str,
    request: dict[str, Any],
    start: Callable[[], Job],
    context: LambdaContext | None,
) -> Job:
    """Starts once per key and caller: two operators who pick the same key get a job each."""
    if not idempotency_key:
        return start()
    config = IdempotencyConfig(
        event_key_jmespath="key", payload_validation_jmespath="request", expires_after_seconds=KEEP_FOR_SECONDS
    )
    if context is not None:
        # The record "in progress" then expires with the invocation: a start that the function's
        # timeout killed does not lock its key for KEEP_FOR_SECONDS, and its retry runs.
        config.register_lambda_context(context)

    @idempotent_function(
        data_keyword_argument="call", persistence_store=_records(), config=config, key_prefix=f"start#{operation}"
    )
    def run(call: dict[str, Any]) -> dict[str, Any]:
        return start().model_dump(mode="json")

    try:
        return Job.model_validate(run(call={"key": [caller, idempotency_key], "request": request}))
    except IdempotencyValidationError:
        raise Unprocessable("this Idempotency-Key was already used for a different request") from None
    except IdempotencyAlreadyInProgressError:
        raise JobStateConflict("a request with this Idempotency-Key is still being handled") from None
