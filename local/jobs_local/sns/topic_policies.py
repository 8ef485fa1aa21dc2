"""`AWS::SNS::TopicPolicy`, as CloudFormation makes it: the policy becomes each topic's own.

Replaces: moto's CloudFormation, which has no model for the type and skips it with a warning, so
a topic keeps its default policy (the account's own principals only). Without this, EventBridge
could never deliver to JobAlertsTopic locally, as the rule's delivery checks the topic's policy
(jobs_local.eventbridge.targets), while on AWS it does.
"""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation import parsing
from moto.sns.models import sns_backends

from jobs_local.patching import Patch, Wrap

TYPE = "AWS::SNS::TopicPolicy"


class TopicPolicy:
    """What CloudFormation keeps of the resource: the topics it applies to."""

    def __init__(self, physical_id: str, topics: list[str]):
        self.physical_resource_id = physical_id
        self.topics = topics

    def is_created(self) -> bool:
        return True

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return TYPE

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **_: Any
    ) -> TopicPolicy:
        properties = cloudformation_json["Properties"]
        topics = [str(topic) for topic in properties["Topics"]]
        document = json.loads(json.dumps(properties["PolicyDocument"], default=str))
        for topic in topics:
            sns_backends[account_id][region_name].get_topic(topic).policy = json.dumps(document)
        return cls(resource_name, topics)


def _resource_class_from_type(original: Any) -> Any:
    def resource_class_from_type(resource_type: str) -> Any:
        return TopicPolicy if resource_type == TYPE else original(resource_type)

    return resource_class_from_type


PATCH = Patch(
    "moto's CloudFormation, which skips AWS::SNS::TopicPolicy and leaves a topic's default policy",
    [(parsing, "resource_class_from_type", Wrap(_resource_class_from_type))],
)
