"""Step Functions reads a state's JSONPaths (`$.job_id`, `$.Payload.state`, ...) once, with its
definition; moto's interpreter parsed each one again every time it evaluated it.

Replaces: the `parse` that moto's `json_path.extract_json` and `ResultPath` call, jsonpath-ng's
PLY-built parser: 0.4 to 2 ms a path, a dozen or more paths for each job's execution. A parsed
path is immutable (evaluating it changes the data, never the path), so each is parsed once and kept.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import moto.stepfunctions.parser.asl.component.common.path.result_path as result_path
import moto.stepfunctions.parser.asl.utils.json_path as json_path

from jobs_local.patching import Patch, Wrap


def _kept(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    return functools.lru_cache(maxsize=4096)(parse)


PATCH = Patch(
    "the JSONPath parse of moto's json_path and ResultPath, which parses a path at every evaluation",
    [(json_path, "parse", Wrap(_kept)), (result_path, "parse", Wrap(_kept))],
)
