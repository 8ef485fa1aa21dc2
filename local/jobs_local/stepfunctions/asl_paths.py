"""Step Functions reads a state's JSONPaths (`$.job_id`, `$.Payload.state`, ...) once, with its
definition; moto's interpreter parsed each one again every time it evaluated it.

Replaces: the `parse` that moto's `json_path.extract_json` and `ResultPath` call, jsonpath-ng's
PLY-built parser: 0.4 to 2 ms a path, a dozen or more paths for each job's execution. A parsed
path is immutable (evaluating it changes the data, never the path), so each is parsed once and kept.
"""

from __future__ import annotations

import functools

import moto.stepfunctions.parser.asl.component.common.path.result_path as result_path
import moto.stepfunctions.parser.asl.utils.json_path as json_path


def parse_each_path_once() -> None:
    if not hasattr(json_path.parse, "cache_info"):
        json_path.parse = functools.lru_cache(maxsize=4096)(json_path.parse)
    if not hasattr(result_path.parse, "cache_info"):
        result_path.parse = functools.lru_cache(maxsize=4096)(result_path.parse)
