"""Environment variables, read once into a typed model. template.yaml sets them."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, Field

from jobsys.spec.limits import AUDIT_RETENTION, CLEAN_UP_MAX_RETENTION, CLEAN_UP_PER_CALL


class Settings(BaseModel):
    jobs_table: str = Field(alias="JOBS_TABLE")
    jobs_bucket: str = Field(alias="JOBS_BUCKET")
    jobs_log_group: str = Field(alias="JOBS_LOG_GROUP")
    state_machine_arn: str = Field(default="", alias="STATE_MACHINE_ARN")
    # The state machine that drives bulk actions (statemachines/bulk_action.asl.json).
    bulk_state_machine_arn: str = Field(default="", alias="BULK_STATE_MACHINE_ARN")
    jobs_config: str = Field(default="/opt/jobs.yaml", alias="JOBS_CONFIG")
    job_ttl_days: int = Field(default=90, alias="JOB_TTL_DAYS")
    clean_up_per_call: int = Field(default=CLEAN_UP_PER_CALL, alias="CLEAN_UP_PER_CALL")
    clean_up_max_retention: str = Field(default=CLEAN_UP_MAX_RETENTION, alias="CLEAN_UP_MAX_RETENTION")
    clean_up_max_retention_succeeded: str = Field(default="", alias="CLEAN_UP_MAX_RETENTION_SUCCEEDED")
    # How long the audit log keeps a record: the clean-up deletes older ones (and their TTL does).
    audit_retention: str = Field(default=AUDIT_RETENTION, alias="JOBS_AUDIT_RETENTION")
    # Empty: no Job State Change events (a test's or a tool's own system).
    event_source: str = Field(default="", alias="JOBS_EVENT_SOURCE")
    page_url_parameter: str = Field(default="", alias="JOBS_PAGE_URL_PARAMETER")
    # The template's Prices parameter: a JSON object that overrides jobsys/spec/prices.py's table.
    prices: str = Field(default="", alias="JOBS_PRICES")
    # What a Fargate run is billed for: the task's size (a Lambda runner's context says its memory).
    task_cpu_units: int | None = Field(default=None, alias="JOBS_TASK_CPU")
    task_memory_mb: int | None = Field(default=None, alias="JOBS_TASK_MEMORY")


@cache
def settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
