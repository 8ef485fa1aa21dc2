"""AWS's managed policies, each document written out as JSON when it is first read.

Replaces: moto's `AWSManagedPolicy.from_data`, which writes out the document of each of AWS's
1,582 managed policies (`json.dumps`) as an account's IAM backend starts: 0.2 to 0.3 CPU-s of each
stack's boot, for the three its roles attach. Each policy is still made, with every
attribute as moto makes it; only its default version's document waits until something reads it
(IAM's enforcement, GetPolicyVersion), and is then the same text.
"""

from __future__ import annotations

import json
from typing import Any

from moto.iam.models import AWSManagedPolicy, PolicyVersion

from jobs_local.patching import Patch

_moto_from_data = AWSManagedPolicy.from_data.__func__  # type: ignore[attr-defined]


class DocumentWhenRead(PolicyVersion):
    """A policy version whose document is written out from its parsed form when first read."""

    def __init__(self, version: PolicyVersion, source: Any):
        self._source = source
        super().__init__(version.policy_arn, None, version.is_default, version.version_id, version.create_date)
        # moto's __init__ sets "" for a document it was not given: none is written until read.
        self._written: str | None = None

    @property
    def document(self) -> str:
        if self._written is None:
            self._written = json.dumps(self._source)
        return self._written

    @document.setter
    def document(self, value: str) -> None:
        self._written = value


def _from_data(
    cls: type[AWSManagedPolicy], name: str, account_id: str, region_name: str, data: dict[str, Any]
) -> AWSManagedPolicy:
    policy = _moto_from_data(cls, name, account_id, region_name, {**data, "Document": None})
    policy.versions = [DocumentWhenRead(version, data.get("Document")) for version in policy.versions]
    return policy


PATCH = Patch(
    "moto's AWSManagedPolicy.from_data, which writes out every AWS managed policy's document as IAM starts",
    [(AWSManagedPolicy, "from_data", classmethod(_from_data))],
)
