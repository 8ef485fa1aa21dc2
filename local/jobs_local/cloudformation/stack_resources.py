"""A stack's resources as CloudFormation lists and describes them (what the SAM CLI reads).

Replaces: moto's `Stack.stack_resources`, which holds None for each resource of a type moto does
not model (here AWS::S3::BucketPolicy and AWS::ApiGateway::Account). `ListStackResources` then
shows a blank row, and `DescribeStackResource` of any resource after it fails with a 500 (an
AttributeError) where AWS answers: `sam logs` without `--name` failed so. The resources moto made
are all kept; the ones it skipped do not exist here, and are not listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from moto.cloudformation.models import Stack

from jobs_local.patching import Patch

_moto_stack_resources = Stack.stack_resources


def _stack_resources(self: Stack) -> Iterable[Any]:
    return [resource for resource in _moto_stack_resources.fget(self) if resource is not None]  # type: ignore[attr-defined]


PATCH = Patch(
    "moto's Stack.stack_resources, which holds None for each resource it skipped: a 500 on DescribeStackResource",
    [(Stack, "stack_resources", property(_stack_resources))],
)
