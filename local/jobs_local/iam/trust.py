"""Whom a role trusts: its trust policy, as IAM reads it when someone assumes the role.

Replaces: moto's check of a trust policy (`IAMRequestBase._check_role_trust_relationship`), which
fails with a TypeError on a `Service` principal, the only kind the template's roles trust, and
which moto's services never make when they act as a role (moto never assumes one). Both callers of
a role go through here: a person or process calling `sts:AssumeRole`, and the emulated services
(Lambda, ECS, Step Functions, Scheduler, API Gateway) taking their role's credentials.
"""

from __future__ import annotations

import json
from typing import Any

from moto.iam.models import Role, iam_backends

from jobs_local.iam.policies import listed, matches

_CONDITION_MATCHERS = {
    "StringEquals": lambda actual, expected: actual == expected,
    "ArnEquals": lambda actual, expected: actual == expected,
    "StringLike": lambda actual, expected: matches(expected, actual),
    "ArnLike": lambda actual, expected: matches(expected, actual),
}


def _principal_matches(principal: Any, account: str, caller_arn: str | None, service: str | None) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if service is not None:
        return service in listed(principal.get("Service"))
    if caller_arn is None:
        return False
    trusted = listed(principal.get("AWS"))
    role_of_session = caller_arn
    if ":assumed-role/" in caller_arn:  # a role's session is trusted as its role
        role_name = caller_arn.split(":assumed-role/", 1)[1].split("/")[0]
        role_of_session = f"arn:aws:iam::{account}:role/{role_name}"
    return any(t in ("*", account, f"arn:aws:iam::{account}:root", caller_arn, role_of_session) for t in trusted)


def _conditions_met(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    """Only the operators and keys it knows; any other condition is not met (never wider than IAM)."""
    for operator, tests in (conditions or {}).items():
        matcher = _CONDITION_MATCHERS.get(operator)
        if matcher is None:
            return False
        for key, expected in tests.items():
            actual = context.get(key)
            if actual is None or not any(matcher(actual, e) for e in listed(expected)):
                return False
    return True


def role_by_arn(account: str, role_arn: str) -> Role | None:
    return next((role for role in iam_backends[account]["aws"].roles.values() if role.arn == role_arn), None)


def trusted_services(role: dict[str, Any]) -> list[str]:
    """The services that a role (as IAM's GetRole describes it) trusts to assume it."""
    statements = role["AssumeRolePolicyDocument"].get("Statement", [])
    return [
        service
        for statement in ([statements] if isinstance(statements, dict) else statements)
        if statement.get("Effect") == "Allow" and isinstance(statement.get("Principal"), dict)
        for service in listed(statement["Principal"].get("Service"))
    ]


def trusts(
    account: str,
    role_arn: str,
    caller_arn: str | None = None,
    service: str | None = None,
    context: dict[str, str] | None = None,
) -> bool:
    """Whether the role lets `caller_arn` (an IAM user or role session) or `service` assume it."""
    role = role_by_arn(account, role_arn)
    if role is None:
        return False
    document = json.loads(role.assume_role_policy_document)
    statements = document.get("Statement", [])
    allowed = False
    for statement in [statements] if isinstance(statements, dict) else statements:
        if not any(matches(a, "sts:AssumeRole", ignore_case=True) for a in listed(statement.get("Action"))):
            continue
        if not _principal_matches(statement.get("Principal"), account, caller_arn, service):
            continue
        met = _conditions_met(statement.get("Condition"), context or {})
        if statement.get("Effect") == "Deny" and met:
            return False
        allowed = allowed or (statement.get("Effect") == "Allow" and met)
    return allowed
