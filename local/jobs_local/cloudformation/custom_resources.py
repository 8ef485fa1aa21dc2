"""CloudFormation custom resources, as AWS runs them.

Replaces, in moto:
- `CloudFormationResponse.process_cfn_response`, which drops a custom resource's FAILED response,
  so the stack stays CREATE_IN_PROGRESS for ever. As in AWS, a FAILED response fails the stack,
  with the function's reason in the stack's events.
- `CustomModel.create_from_cloudformation_json`, which cannot send a property that is a `Ref` to
  a layer version (moto resolves it to its model object, not to the version's ARN as AWS does).
- `settings.moto_server_host`, which gives the function a ResponseURL on `host.docker.internal`,
  where moto's Docker containers would reach it. The functions run on this machine here.
"""

from __future__ import annotations

import json
from typing import Any

from moto import settings
from moto.cloudformation.custom_model import CustomModel
from moto.cloudformation.responses import CloudFormationResponse

from jobs_local.patching import Patch

_moto_process_cfn_response = CloudFormationResponse.process_cfn_response
_moto_create_custom_resource = CustomModel.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _as_cloudformation_gives_it(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_cloudformation_gives_it(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_cloudformation_gives_it(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return getattr(value, "arn", None) or value.physical_resource_id  # what `Ref` gives in AWS


def _create_custom_resource(cls: type, resource_name: str, cloudformation_json: dict, *args: Any, **kwargs: Any) -> Any:
    resolved = {**cloudformation_json, "Properties": _as_cloudformation_gives_it(cloudformation_json["Properties"])}
    return _moto_create_custom_resource(cls, resource_name, resolved, *args, **kwargs)


def _process_cfn_response(self: CloudFormationResponse) -> Any:
    if self._get_param("Status") == "FAILED":
        stack = self.cloudformation_backend.get_stack(self._get_param("StackId"))
        reason = f"{self._get_param('LogicalResourceId')}: {self._get_param('Reason')}"
        stack.status = "CREATE_FAILED"
        stack._add_stack_event("CREATE_FAILED", resource_status_reason=reason)
        return 200, {"status": 200}, json.dumps("{}")
    return _moto_process_cfn_response(self)


def _moto_server_host() -> str:
    return "http://127.0.0.1"


PATCH = Patch(
    "moto's custom resources, whose ResponseURL points at Docker and which drop FAILED answers",
    [
        (CloudFormationResponse, "process_cfn_response", _process_cfn_response),
        (CustomModel, "create_from_cloudformation_json", classmethod(_create_custom_resource)),
        (settings, "moto_server_host", _moto_server_host),
    ],
)
