"""Where a running local stack can be found, so that `jobs` works in a second terminal without flags.

The token is kept in one place: the stack's state folder (`token`, beside the data it guards, so
that it outlives a restart as the deployed secret does). The connection file names that folder and
the stack's AWS endpoint; it never copies the token.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from jobsys.tokens import parse_tokens

TOKEN_FILE = "token"


def _state_file() -> Path:
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "jobs" / "local-stack.json"


def write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # tokens and keys are secrets
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)


def saved_token(state_dir: Path) -> str | None:
    """The stack's secret as it was last kept: one token, or operators' `name:token,...`."""
    try:
        return (state_dir / TOKEN_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def save_token(state_dir: Path, secret: str) -> None:
    write_secret(state_dir / TOKEN_FILE, secret)


def remember_local_stack(url: str, state_dir: Path, aws: dict[str, Any] | None = None) -> None:
    """`aws`: the stack's AWS endpoint (`aws_endpoint`), its administrator's keys and its region."""
    found = {"url": url, "state_dir": str(state_dir), "pid": os.getpid(), **(aws or {})}
    write_secret(_state_file(), json.dumps(found))


def forget_local_stack(url: str) -> None:
    path = _state_file()
    try:
        if json.loads(path.read_text()).get("url") == url:
            path.unlink()
    except (OSError, ValueError):
        pass


def local_stack() -> dict[str, Any] | None:
    """The running stack's connection, with `token`: the first operator's, read from its state folder."""
    try:
        found = json.loads(_state_file().read_text())
    except (OSError, ValueError):
        return None
    try:
        os.kill(int(found["pid"]), 0)
    except (OSError, KeyError, ValueError):
        return None  # left behind by a stack that is gone
    operators = parse_tokens(saved_token(Path(found.get("state_dir", ""))) or "")
    return {**found, "token": next(iter(operators.values()), None)}
