"""This machine: the checkout the stack runs from, and a free port on it. Apart from stack.py, so
that a process that only starts a stack (the end-to-end tests, `jobs_local.process`) does not
import moto and the emulation: 2.2 s of imports in each of their workers."""

from __future__ import annotations

import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
