"""Where a running local stack can be found, so that `jobs` works in a second terminal without flags."""

from __future__ import annotations

import json
import os
from pathlib import Path


def _state_file() -> Path:
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "jobs" / "local-stack.json"


def remember_local_stack(url: str, token: str, aws: dict[str, str] | None = None) -> None:
    """`aws`: the stack's AWS endpoint (`aws_endpoint`), its administrator's keys and its region."""
    path = _state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the token and keys are secrets
    with os.fdopen(fd, "w") as file:
        json.dump({"url": url, "token": token, "pid": os.getpid(), **(aws or {})}, file)


def forget_local_stack(url: str) -> None:
    path = _state_file()
    try:
        if json.loads(path.read_text()).get("url") == url:
            path.unlink()
    except (OSError, ValueError):
        pass


def local_stack() -> dict[str, str] | None:
    try:
        found = json.loads(_state_file().read_text())
    except (OSError, ValueError):
        return None
    try:
        os.kill(int(found["pid"]), 0)
    except (OSError, KeyError, ValueError):
        return None  # left behind by a stack that is gone
    return found
