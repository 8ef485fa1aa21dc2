"""Starts `python -m jobs_local` (what `make run` starts) as a child process, for tests and benchmarks."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from jobs_local.host import ROOT, free_port
from jobs_local.running_stack import RunningStack
from jobsys.tokens import parse_tokens


class StackProcess:
    def __init__(
        self,
        config: Path | None = None,
        parameters: str = "",
        extra_env: dict[str, str] | None = None,
        data_dir: Path | None = None,
        token: str | None = "",
        reset: bool = False,
        root: Path = ROOT,
    ):
        """`data_dir` keeps the stack's data across two stacks (a fresh folder by default); `token`
        None lets the stack choose its token (or keep the one it had) rather than JOBS_TOKEN.
        `root` runs another checkout's stack (a benchmark's baseline), its code before this one's."""
        self.root = root
        self.port = free_port()
        # `token` may name operators (`alice:<token>,bob:<token>`); requests use the first one's.
        self.secret = secrets.token_hex(16) if token == "" else token
        self.operators = parse_tokens(self.secret) if self.secret else {}
        self.token = next(iter(self.operators.values()), None)
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self.state_dir = tempfile.mkdtemp(prefix="jobs-state-")
        self.data_dir = Path(data_dir or Path(self.state_dir) / "stack")
        self.reset = reset
        self.env = {
            **os.environ,
            "PORT": str(self.port),
            "JOBS_PARAMETERS": parameters,
            "XDG_STATE_HOME": self.state_dir,
            "JOBS_STATE_DIR": str(self.data_dir),
            **(extra_env or {}),
        }
        if root != ROOT:
            code = [str(root / "local"), str(root / "layers" / "jobsys")]
            self.env["PYTHONPATH"] = os.pathsep.join([*code, self.env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        self.env.pop("JOBS_TOKEN", None)
        if self.secret is not None:
            self.env["JOBS_TOKEN"] = self.secret
        if config is not None:
            self.env["JOBS_CONFIG"] = str(config)
        self.process: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 90) -> StackProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jobs_local", *(["--reset"] if self.reset else [])],
            cwd=self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = threading.Event()  # set when the stack is up, or its output ended
        up = threading.Event()

        def read() -> None:
            assert self.process and self.process.stdout
            for line in self.process.stdout:
                self.lines.append(line.rstrip("\n"))
                if "Press Ctrl-C to stop." in line:
                    up.set()
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        # Not `poll()`: a stack that stops on a bad config closes its output a moment before it
        # exits, and in that moment it is neither up nor gone.
        if not ready.wait(timeout) or not up.is_set() or self.process.poll() is not None:
            self.stop()
            raise RuntimeError("the local stack did not start:\n" + "\n".join(self.lines[-30:]))
        if self.token is None:  # the one it printed
            self.token = next(line.rsplit("Bearer ", 1)[1].rstrip(")") for line in self.lines if "Bearer " in line)
        return self

    def aws_client(self, service: str) -> Any:
        """A client of the stack's AWS as its administrator: what `make run` prints and saves."""
        saved = json.loads((Path(self.state_dir) / "jobs" / "local-stack.json").read_text())
        return RunningStack(saved).client(service)

    def descendants(self) -> set[int]:
        """Every process below the stack: Lambda workers and the commands they run."""
        assert self.process is not None
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(entry.name))
        found, todo = set(), [self.process.pid]
        while todo:
            for child in children.get(todo.pop(), []):
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return found

    def stop(self, timeout: float = 30) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def __enter__(self) -> StackProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_gone(pids: set[int], timeout: float = 15) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = {pid for pid in pids if alive(pid)}
        if not left:
            return left
        time.sleep(0.2)
    return {pid for pid in pids if alive(pid)}
