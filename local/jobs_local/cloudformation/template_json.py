"""A JSON template read as JSON.

Replaces: moto's `Stack.parse_template`, which reads every template with PyYAML's pure-Python
loader first, and as JSON only if that fails. The stack deploys its template as JSON (the SAM
transform's output), and YAML's reading of it took about a fifteenth of a boot's CPU (py-spy). JSON is a
subset of YAML, so a template that parses as JSON means the same read either way; any other
(YAML, or JSON that is not valid) still goes through moto's own reading and its errors.
"""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation.models import Stack

from jobs_local.patching import Patch

_moto_parse_template = Stack.parse_template


def _parse_template(template: str) -> dict[str, Any]:
    if template.lstrip().startswith("{"):
        try:
            parsed = json.loads(template)
        except ValueError:
            pass
        else:
            if isinstance(parsed, dict):
                return parsed
    return _moto_parse_template(template)


PATCH = Patch(
    "moto's Stack.parse_template, which reads a JSON template with PyYAML's pure-Python loader",
    [(Stack, "parse_template", staticmethod(_parse_template))],
)
