"""EventBridge delivers a rule's events to SNS topics and Lambda functions, as AWS does.

Replaces: moto's `Rule.send_to_targets`, which raises NotImplementedError for a topic or a function
target, and so fails the PutEvents call that matched the rule; and which lets a rule without an
event pattern (a schedule's, such as the clean-up's) match every event. Here a topic gets the event as its
message (which moto's SNS delivers to its subscriptions), and a function is invoked asynchronously
with it; other targets go to moto's own delivery, one target at a time.

As on AWS, a topic's, a queue's or a function's resource policy must let `events.amazonaws.com`
deliver (moto checks none): otherwise the event is dropped, as AWS drops it and counts it in the
rule's FailedInvocations, and PutEvents still succeeds.
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

from moto.awslambda.utils import get_backend as lambda_backend
from moto.events.models import EventTemplateParser, Rule
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends
from moto.utilities.arns import parse_arn

from jobs_local.iam.policies import listed, matches
from jobs_local.patching import Patch

log = logging.getLogger(__name__)
PRINCIPAL = "events.amazonaws.com"
SOURCE_ARN_OPERATORS = ("ArnEquals", "ArnLike", "StringEquals", "StringLike")


def _applies(statement: dict[str, Any], action: str, resource: str, source_arn: str) -> bool:
    principal = statement.get("Principal")
    services = listed(principal.get("Service")) if isinstance(principal, dict) else listed(principal)
    if not any(service in (PRINCIPAL, "*") for service in services):
        return False
    if not any(matches(pattern, action, ignore_case=True) for pattern in listed(statement.get("Action"))):
        return False
    if "Resource" in statement and not any(matches(p, resource) for p in listed(statement["Resource"])):
        return False
    for operator, tests in (statement.get("Condition") or {}).items():
        for key, values in tests.items():
            # Only the source's ARN is decided here; any other condition never widens a grant.
            if operator not in SOURCE_ARN_OPERATORS or key.lower() != "aws:sourcearn":
                return statement.get("Effect") == "Deny"
            if not any(matches(value, source_arn) for value in listed(values)):
                return False
    return True


def delivers(policy: str | dict[str, Any] | None, action: str, resource: str, source_arn: str) -> bool:
    """May EventBridge's rule `source_arn` do `action` on `resource`, by the resource's own policy?"""
    document = json.loads(policy) if isinstance(policy, str) else policy or {}
    statements = [s for s in listed_statements(document) if _applies(s, action, resource, source_arn)]
    return any(s.get("Effect") == "Allow" for s in statements) and not any(
        s.get("Effect") == "Deny" for s in statements
    )


def listed_statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement") or []
    return [statements] if isinstance(statements, dict) else list(statements)


def _resource_policy(arn: Any, target_arn: str) -> tuple[str, str | dict[str, Any] | None]:
    """The action EventBridge needs on a target, and the target's policy."""
    if arn.service == "sns":
        return "sns:Publish", sns_backends[arn.account][arn.region].get_topic(target_arn).policy
    if arn.service == "sqs":
        return "sqs:SendMessage", sqs_backends[arn.account][arn.region].get_queue(arn.resource_id).policy
    try:
        return "lambda:InvokeFunction", lambda_backend(arn.account, arn.region).get_policy(target_arn)
    except Exception:  # noqa: BLE001 - moto raises when a function has no policy at all
        return "lambda:InvokeFunction", None


_moto_send_to_targets = Rule.send_to_targets


def send_to_targets(self: Rule, original_event: dict[str, Any], transform_input: bool = True) -> None:
    # A rule without a pattern runs on a schedule and matches no event; moto's matches every one.
    if not self.event_pattern._pattern or not self.event_pattern.matches_event(original_event):
        return
    for target in self.targets:
        arn = parse_arn(target["Arn"])
        if arn.service in ("sns", "sqs", "lambda"):
            action, policy = _resource_policy(arn, target["Arn"])
            if not delivers(policy, action, target["Arn"], self.arn):
                log.warning(
                    "EventBridge may not deliver to %s: its policy does not let rule %s", target["Arn"], self.arn
                )
                continue
        if arn.service not in ("sns", "lambda"):
            one = copy.copy(self)
            one.targets = [target]
            _moto_send_to_targets(one, original_event, transform_input)
            continue
        transformer = target.get("InputTransformer", {}) if transform_input else {}
        event = EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=original_event,
        )
        message = event if isinstance(event, str) else json.dumps(event)
        if arn.service == "sns":
            sns_backends[arn.account][arn.region].publish(message=message, arn=target["Arn"])
        else:
            lambda_backend(arn.account, arn.region).invoke(
                target["Arn"], None, message, {"X-Amz-Invocation-Type": "Event"}, {}
            )


PATCH = Patch(
    "moto's Rule.send_to_targets, which cannot deliver to SNS or Lambda and checks no target's policy",
    [(Rule, "send_to_targets", send_to_targets)],
)
