"""CloudFormation's view of the deployed stack, as the SAM CLI reads it (`sam logs`, `sam list
resources`, `sam remote invoke` look resources up by their logical id)."""

import pytest

from jobs_local.stack import LocalStack

pytestmark = pytest.mark.integration


def test_every_listed_resource_can_be_described_by_its_logical_id(stack: LocalStack):
    cloudformation = stack.client("cloudformation")
    listed = cloudformation.list_stack_resources(StackName=stack.stack_name)["StackResourceSummaries"]
    assert all(resource["LogicalResourceId"] and resource["ResourceType"] for resource in listed), "no blank rows"
    for resource in listed:
        found = cloudformation.describe_stack_resource(
            StackName=stack.stack_name, LogicalResourceId=resource["LogicalResourceId"]
        )["StackResourceDetail"]
        # moto keeps no physical id for a layer version or a permission: listed empty, described without.
        assert found.get("PhysicalResourceId", "") == resource["PhysicalResourceId"]
    assert {"RunnerFunction", "JobsTable", "OutputBucket"} <= {resource["LogicalResourceId"] for resource in listed}
