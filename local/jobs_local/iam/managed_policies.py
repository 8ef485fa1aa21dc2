"""A role's managed policies, attached as CloudFormation attaches them.

Replaces: moto's `Role.create_from_cloudformation_json`, which ignores `ManagedPolicyArns`, so that a
role created by the stack had none of them: the Lambda functions' `AWSLambdaBasicExecutionRole`, the
Fargate runner's `AmazonECSTaskExecutionRolePolicy`, API Gateway's `AmazonAPIGatewayPushToCloudWatchLogs`.
moto knows AWS's managed policies only when asked to load them (`MOTO_IAM_LOAD_MANAGED_POLICIES`),
before its IAM backend is first used.
"""

from __future__ import annotations

import os
from typing import Any

from moto.iam.models import Role, iam_backends
from moto.utilities.utils import get_partition

from jobs_local.patching import Patch

_moto_create_role = Role.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _create_role(
    cls: type, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kw: Any
) -> Role:
    role = _moto_create_role(cls, resource_name, cloudformation_json, account_id, region_name, **kw)
    backend = iam_backends[account_id][get_partition(region_name)]
    for arn in cloudformation_json["Properties"].get("ManagedPolicyArns") or []:
        backend.attach_role_policy(arn, role.name)  # an unknown ARN fails the stack, as in AWS
    return role


PATCH = Patch(
    "moto's Role.create_from_cloudformation_json, which drops ManagedPolicyArns",
    [
        (os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES", "true"),
        (Role, "create_from_cloudformation_json", classmethod(_create_role)),
    ],
)
