"""When EventBridge may deliver to a target: its resource policy must let events.amazonaws.com in,
for the rule that matched (jobs_local.eventbridge.targets, which moto lacks)."""

import json

import pytest

from jobs_local.eventbridge.targets import delivers

TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"
RULE = "arn:aws:events:us-east-1:123456789012:rule/alerts"
OTHER_RULE = "arn:aws:events:us-east-1:123456789012:rule/other"


def _policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ALLOW = {
    "Effect": "Allow",
    "Principal": {"Service": "events.amazonaws.com"},
    "Action": "sns:Publish",
    "Resource": TOPIC,
}


@pytest.mark.parametrize(
    ("policy", "rule", "delivered"),
    [
        (_policy(ALLOW), RULE, True),
        (_policy({**ALLOW, "Condition": {"ArnEquals": {"aws:SourceArn": RULE}}}), RULE, True),
        (_policy({**ALLOW, "Condition": {"ArnEquals": {"aws:SourceArn": RULE}}}), OTHER_RULE, False),
        (_policy({**ALLOW, "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:events:*:*:rule/al*"}}}), RULE, True),
        (_policy({**ALLOW, "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}), RULE, False),
        (_policy({**ALLOW, "Action": "sns:Subscribe"}), RULE, False),
        (_policy({**ALLOW, "Resource": "arn:aws:sns:us-east-1:123456789012:other"}), RULE, False),
        # A condition it cannot decide never widens a grant.
        (_policy({**ALLOW, "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}), RULE, False),
        (_policy(ALLOW, {**ALLOW, "Effect": "Deny"}), RULE, False),
        (None, RULE, False),  # moto's default topic policy is the account's, and a function may have none
    ],
)
def test_a_target_takes_an_event_only_if_its_policy_lets_the_rule_deliver(policy, rule, delivered):
    assert delivers(policy, "sns:Publish", TOPIC, rule) is delivered
