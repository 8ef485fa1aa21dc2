"""An ECS task definition from CloudFormation keeps its roles, as in AWS.

Replaces: moto's `TaskDefinition.create_from_cloudformation_json`, which registers the family, the
containers, the volumes and the memory only. It drops `TaskRoleArn`, so a task of the stack ran
with no role at all (and, before IAM was enforced, with whatever keys it was given), and
`ExecutionRoleArn`, `Cpu`, `NetworkMode` and `RequiresCompatibilities`, which `RunTask` checks
(`iam:PassRole` for both roles) and describes.
"""

from __future__ import annotations

from typing import Any

from moto.core.utils import pascal_to_camelcase as _pascal_to_camel
from moto.core.utils import remap_nested_keys
from moto.ecs.models import TaskDefinition, ecs_backends

from jobs_local.patching import Patch


def _create(
    cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **_: Any
) -> Any:
    properties = cloudformation_json["Properties"]
    return ecs_backends[account_id][region_name].register_task_definition(
        family=properties.get("Family", resource_name),
        container_definitions=remap_nested_keys(properties.get("ContainerDefinitions", []), _pascal_to_camel),
        volumes=remap_nested_keys(properties.get("Volumes", []), _pascal_to_camel),
        network_mode=properties.get("NetworkMode"),
        requires_compatibilities=properties.get("RequiresCompatibilities"),
        cpu=properties.get("Cpu"),
        memory=properties.get("Memory"),
        task_role_arn=properties.get("TaskRoleArn"),
        execution_role_arn=properties.get("ExecutionRoleArn"),
        runtime_platform=remap_nested_keys(properties.get("RuntimePlatform") or {}, _pascal_to_camel) or None,
        ephemeral_storage=remap_nested_keys(properties.get("EphemeralStorage") or {}, _pascal_to_camel) or None,
    )


PATCH = Patch(
    "moto's TaskDefinition.create_from_cloudformation_json, which drops the task and execution roles",
    [(TaskDefinition, "create_from_cloudformation_json", classmethod(_create))],
)
