"""A log group's `Arn` in CloudFormation ends in `:*`, as AWS gives it.

Replaces: moto's `LogGroup.get_cfn_attribute`, which gives `arn:aws:logs:…:log-group:NAME`. AWS's
`Fn::GetAtt LogGroup.Arn` is `arn:aws:logs:…:log-group:NAME:*`, and the template's policies grant on
it: without the `:*` they would match no log stream, and IAM would refuse every write and read of
the jobs' output that AWS allows.
"""

from __future__ import annotations

from typing import Any

from moto.logs.models import LogGroup

from jobs_local.patching import Patch

_moto_get_cfn_attribute = LogGroup.get_cfn_attribute


def _get_cfn_attribute(self: LogGroup, attribute_name: str) -> Any:
    if attribute_name == "Arn":
        return f"{self.arn}:*"
    return _moto_get_cfn_attribute(self, attribute_name)


PATCH = Patch(
    "moto's LogGroup.get_cfn_attribute, whose Arn lacks the ':*' that AWS's has",
    [(LogGroup, "get_cfn_attribute", _get_cfn_attribute)],
)
