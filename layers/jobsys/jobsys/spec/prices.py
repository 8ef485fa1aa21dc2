"""What AWS charges for what a job uses: the one table of prices that a job's cost is counted with.

These are us-east-1's public on-demand prices, x86, free tiers left out, as listed on the date
below (docs/performance.md, "What a job costs on AWS", links each page). A deployment elsewhere,
or after a price change, overrides any of them with the template's `Prices` parameter, a JSON
object of these fields: `{"region": "eu-central-1", "as_of": "2026-12-01", "lambda_gb_second": 0.0000166667}`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, ValidationError

from jobsys.errors import ConfigError
from jobsys.spec.messages import messages

# US dollars per unit.
Price = Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=14)]


class Prices(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str = Field(default="us-east-1", min_length=1, max_length=40)
    as_of: str = Field(default="2026-11-29", pattern=r"^\d{4}-\d{2}-\d{2}$", description="When these were listed")
    step_functions_transition: Price = Decimal("0.000025")
    lambda_gb_second: Price = Decimal("0.0000166667")
    lambda_request: Price = Decimal("0.0000002")
    fargate_vcpu_hour: Price = Decimal("0.04048")
    fargate_gb_hour: Price = Decimal("0.004445")
    dynamodb_write_unit: Price = Decimal("0.000000625")
    dynamodb_read_unit: Price = Decimal("0.000000125")
    api_request: Price = Decimal("0.0000035")  # API Gateway, REST
    s3_put: Price = Decimal("0.000005")
    logs_gb_ingested: Price = Decimal("0.50")
    event: Price = Decimal("0.000001")  # EventBridge, a custom event

    @classmethod
    def overridden(cls, override: str) -> Prices:
        """The table with the fields of `override` (JSON) in place of its own; "" keeps it. A bad
        override is a ConfigError that names the field: a fault of the deployment, not of a request."""
        if not override.strip():
            return cls()
        try:
            return cls.model_validate_json(override)
        except ValidationError as exc:
            raise ConfigError(f"the Prices parameter: {'; '.join(messages(exc.errors()))}") from None


class JobOverhead(BaseModel):
    """What every job costs besides its runner and its state transitions, counted by hand from the
    handlers (docs/performance.md, "What a job costs on AWS", one row each): they do not vary with
    the command, so no runner measures them."""

    model_config = ConfigDict(frozen=True)

    api_requests: NonNegativeInt = 1  # POST /jobs (a scheduled or a dependent job has none: this errs high)
    api_function_mb: NonNegativeInt = 512  # ApiFunction's MemorySize, for its PutItem and StartExecution
    api_function_ms: NonNegativeInt = 60
    # create 10 (a transaction, with its queue's check), mark_running 10 and close 11 with their
    # indexes, and the day's usage 1 (2 for a definition's job; less when runs share a stream batch)
    dynamodb_write_units: Decimal = Decimal(32)
    # The runner reads nothing before it starts a job whose start found its queue open, and reads its
    # history only for a command still running after a second; the stream's reads are free.
    dynamodb_read_units: Decimal = Decimal(0)
    # JobEventsFunction, for the job's 3 changes: a batch each when the job runs alone (this errs
    # high: under load, one batch holds many jobs' changes)
    follower_invocations: NonNegativeInt = 3
    follower_mb: NonNegativeInt = 512
    follower_ms: NonNegativeInt = 30
    s3_puts: NonNegativeInt = 1  # the output's copy
    log_bytes: NonNegativeInt = 2048  # the functions' log and metric lines; the output's are measured
    events: NonNegativeInt = 3  # Job State Change: created, running, closed


JOB_OVERHEAD = JobOverhead()
