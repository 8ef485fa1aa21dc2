"""IAM's evaluation of identity policies, parsed once per document.

Replaces, for the local stack: moto's `IAMPolicy` and `IAMPolicyStatement`, which parse a role's
documents again at every request and match them too loosely for an emulation that must refuse what
AWS refuses:
- a pattern becomes a regular expression with only `*` translated, so `.` matches any character and
  `?` makes the character before it optional (IAM: `?` is any one character, everything else literal);
- a statement with a `Condition` that moto cannot evaluate still allows;
- an action is matched case-sensitively (IAM: actions are case-insensitive, resources are not);
- `NotResource` is ignored.

What this evaluates, as IAM does for one principal in one account: explicit Deny over Allow, Allow
needed, `Action`/`NotAction`, `Resource`/`NotResource`, wildcards. A condition it cannot decide never
widens access: an Allow under one does not apply, a Deny under one does.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Decision(Enum):
    ALLOW = "allow"
    DENY = "deny"  # an explicit Deny
    IMPLICIT_DENY = "implicit"  # nothing allows


@functools.lru_cache(maxsize=4096)
def _pattern(text: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def listed(value: Any) -> tuple[str, ...]:
    """A policy element that may be one string or a list of them."""
    return (value,) if isinstance(value, str) else tuple(value or ())


def matches(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's wildcards: `*` any run of characters, `?` any one; actions are matched ignoring case."""
    return _pattern(pattern, ignore_case).match(value) is not None


@dataclass(frozen=True)
class _Statement:
    allow: bool
    actions: tuple[str, ...]
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...]
    not_resources: tuple[str, ...] | None
    conditional: bool

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> _Statement:
        return cls(
            allow=raw.get("Effect") == "Allow",
            actions=listed(raw.get("Action")),
            not_actions=listed(raw["NotAction"]) if "NotAction" in raw else None,
            resources=listed(raw.get("Resource", "*")),
            not_resources=listed(raw["NotResource"]) if "NotResource" in raw else None,
            conditional=bool(raw.get("Condition")),
        )

    def applies(self, action: str, resource: str) -> bool:
        if self.not_actions is not None:
            if any(_pattern(a, True).match(action) for a in self.not_actions):
                return False
        elif not any(_pattern(a, True).match(action) for a in self.actions):
            return False
        if self.not_resources is not None:
            return not any(_pattern(r, False).match(resource) for r in self.not_resources)
        return any(_pattern(r, False).match(resource) for r in self.resources)


class PolicyDocument:
    """One policy document, parsed once; `decide` says what it says of one action on one resource."""

    def __init__(self, text: str | dict[str, Any]):
        raw = json.loads(text) if isinstance(text, str) else text
        statements = raw.get("Statement", [])
        if isinstance(statements, dict):
            statements = [statements]
        self.statements = tuple(_Statement.parse(s) for s in statements)

    def decide(self, action: str, resource: str) -> Decision:
        allowed = False
        for statement in self.statements:
            if not statement.applies(action, resource):
                continue
            if not statement.allow:
                return Decision.DENY  # a condition it cannot decide counts as met: never wider
            if not statement.conditional:
                allowed = True
        return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


@functools.lru_cache(maxsize=1024)
def _parsed_text(text: str) -> PolicyDocument:
    return PolicyDocument(text)


_parsed_objects: dict[int, tuple[Any, PolicyDocument]] = {}


def parsed(document: str | dict[str, Any]) -> PolicyDocument:
    """Each document once: moto's IAM keeps a text per policy, or (from CloudFormation) a dict that a
    change replaces rather than edits, so the same object is the same document."""
    if isinstance(document, str):
        return _parsed_text(document)
    known = _parsed_objects.get(id(document))
    if known is None or known[0] is not document:
        known = _parsed_objects[id(document)] = (document, PolicyDocument(document))
    return known[1]


def decide(documents: list[PolicyDocument], action: str, resource: str) -> Decision:
    """IAM's rule across a principal's policies: any explicit Deny wins, then any Allow."""
    allowed = False
    for document in documents:
        decision = document.decide(action, resource)
        if decision is Decision.DENY:
            return decision
        allowed = allowed or decision is Decision.ALLOW
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY
