"""What a local Lambda worker is made of: the function's code on this machine, and its environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from moto.awslambda.models import LambdaFunction

LOCAL_PATH = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class FunctionCode:
    """Where a deployed function's code lives on this machine."""

    code_dir: Path
    layer_dirs: tuple[Path, ...]


def environment_of(function: LambdaFunction, code: FunctionCode, region: str, endpoint_url: str) -> dict[str, str]:
    """A worker's environment variables, as Lambda sets them for the function (its role's keys apart)."""
    inherited = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")}
    env = {
        **inherited,
        "_HANDLER": function.handler,
        "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout),
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ENDPOINT_URL": endpoint_url,
        "LAMBDA_TASK_ROOT": str(code.code_dir),
        "LOCAL_ACCOUNT_ID": function.account_id,
        # No X-Ray daemon runs here.
        "POWERTOOLS_TRACE_DISABLED": "true",
        # Lambda puts the function's code, then its layers (/opt/python), on the import path.
        "PYTHONPATH": os.pathsep.join([str(code.code_dir), *map(str, code.layer_dirs), str(LOCAL_PATH)]),
        "PYTHONUNBUFFERED": "1",
    }
    for name, value in (function.environment_vars or {}).items():
        env[name] = _opt_path(str(value), code)
    return env


def _opt_path(value: str, code: FunctionCode) -> str:
    """Layers are unpacked under /opt in Lambda; here a path there resolves to the layer's folder."""
    if not value.startswith("/opt/"):
        return value
    relative = value.removeprefix("/opt/")
    for layer in code.layer_dirs:
        if (layer / relative).exists():
            return str(layer / relative)
    return value
