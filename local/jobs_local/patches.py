"""Every change the local stack makes to moto's code, in the order the stack installs them. Each
names the moto behaviour it replaces (`python -m jobs_local.patches` lists them)."""

from __future__ import annotations

from jobs_local import botocore_models, moto_server, people_first
from jobs_local.cloudformation import custom_resources, stack_resources, template_json
from jobs_local.dynamodb import (
    atomic,
    expression_traversal,
    index_partitions,
    responses,
    streams,
    transaction_rollback,
)
from jobs_local.ecs import task_definitions, tasks
from jobs_local.eventbridge import limits as eventbridge_limits
from jobs_local.eventbridge import targets as eventbridge_targets
from jobs_local.iam import enforcement, managed_policies, policy_documents
from jobs_local.lambda_ import limits as lambda_limits
from jobs_local.lambda_ import runtime
from jobs_local.logs import group_arn
from jobs_local.logs import limits as logs_limits
from jobs_local.patching import Patch
from jobs_local.sns import topic_policies
from jobs_local.stepfunctions import asl_clients, asl_paths, asl_programs, ecs_integration, execution_stop, wait_state
from jobs_local.stepfunctions import limits as stepfunctions_limits

PATCHES: list[Patch] = [
    # What CloudFormation makes: the resources as AWS's CloudFormation would make them.
    managed_policies.PATCH,
    group_arn.PATCH,
    task_definitions.PATCH,
    custom_resources.PATCH,
    stack_resources.PATCH,
    topic_policies.PATCH,
    # AWS's limits and its promises.
    lambda_limits.PATCH,
    logs_limits.PATCH,
    stepfunctions_limits.PATCH,
    eventbridge_limits.PATCH,
    enforcement.PATCH,
    atomic.PATCH,
    transaction_rollback.PATCH,
    streams.PATCH,  # after transaction_rollback: what a failed transaction puts back is no write either
    execution_stop.PATCH,
    wait_state.PATCH,
    ecs_integration.PATCH,
    eventbridge_targets.PATCH,
    # What moto runs nowhere: functions and tasks, as local processes.
    runtime.PATCH,
    tasks.PATCH,
    # Each service's own capacity, which one process does not have: people's requests first.
    people_first.PATCH,
    # Speed: the same answers, sooner.
    botocore_models.PATCH,
    template_json.PATCH,
    policy_documents.PATCH,
    responses.PATCH,
    index_partitions.PATCH,
    expression_traversal.PATCH,
    moto_server.PATCH,
    asl_programs.PATCH,
    asl_clients.PATCH,
    asl_paths.PATCH,
]


def install_all() -> None:
    for patch in PATCHES:
        patch.install()


def uninstall_all() -> None:
    for patch in reversed(PATCHES):
        patch.uninstall()


if __name__ == "__main__":
    for patch in PATCHES:
        print(patch.replaces)
