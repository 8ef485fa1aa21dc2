"""The stack's side of `preloaded.py`: Lambda workers forked from one process that has the SDK
imported, each a `ForkedWorker` that answers what `subprocess.Popen` would (its pipes, `poll`,
`wait`, `terminate`, `kill`). The preloaded process is the workers' parent: it reaps them and says
how each ended, and it sends them signals, so that a signal never reaches a reused pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from jobs_local.lambda_.environment import LOCAL_PATH
from jobs_local.lambda_.preloaded import MESSAGE_BYTES

SPAWN_TIMEOUT = 60  # seconds for a fork's answer: the preloaded process imports the SDK first (1 s alone)
GONE = -signal.SIGKILL  # the return code of a worker whose preloaded process died: it stops itself


class ForkedWorker:
    def __init__(self, forks: PreloadedForks, pid: int, stdin: TextIO, stdout: TextIO, stderr: TextIO):
        self.forks = forks
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.returncode: int | None = None
        self.ended = threading.Event()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self.ended.wait(timeout):
            raise subprocess.TimeoutExpired(f"Lambda worker {self.pid}", timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            self.forks.signal(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def exited(self, returncode: int) -> None:
        self.returncode = returncode
        self.ended.set()


class PreloadedForks:
    def __init__(self) -> None:
        self.lock = threading.Lock()  # one fork asked at a time
        self.known = threading.Lock()  # guards the maps below, which the reading thread changes too
        self.process: subprocess.Popen[bytes] | None = None
        self.control: socket.socket | None = None
        self.replies: queue.Queue[dict[str, Any]] = queue.Queue()
        self.workers: dict[int, ForkedWorker] = {}
        self.ended_early: dict[int, int] = {}  # exits read before their fork's answer was

    def spawn(self, env: dict[str, str], cwd: Path) -> ForkedWorker:
        with self.lock:
            control = self.control or self._start()
            pipes = [os.pipe() for _ in range(3)]
            theirs = [pipes[0][0], pipes[1][1], pipes[2][1]]
            try:
                message = json.dumps({"spawn": {"env": env, "cwd": str(cwd)}}).encode()
                socket.send_fds(control, [message], theirs)
                reply = self.replies.get(timeout=SPAWN_TIMEOUT)
            except (OSError, queue.Empty) as exc:
                for fd in (pipes[0][1], pipes[1][0], pipes[2][0]):
                    os.close(fd)
                raise OSError(f"the preloaded process did not fork a worker: {exc!r}") from exc
            finally:
                for fd in theirs:
                    os.close(fd)
            if "spawned" not in reply:
                raise OSError("the preloaded process ended")
            worker = ForkedWorker(
                self,
                reply["spawned"],
                os.fdopen(pipes[0][1], "w"),
                os.fdopen(pipes[1][0], "r"),
                os.fdopen(pipes[2][0], "r"),
            )
            with self.known:
                returncode = self.ended_early.pop(worker.pid, None)
                if returncode is None:
                    self.workers[worker.pid] = worker
            if returncode is not None:
                worker.exited(returncode)
            return worker

    def signal(self, pid: int, signum: int) -> None:
        control = self.control
        if control is not None:
            with contextlib.suppress(OSError):  # it has ended, and the worker stops itself
                control.send(json.dumps({"signal": signum, "pid": pid}).encode())

    def close(self) -> None:
        with self.lock:
            control, process = self.control, self.process
            self.control = self.process = None
        if control is not None:
            # shutdown, not only close: the reading thread's recv holds the socket open, and the
            # preloaded process would never read the end. It exits when it does.
            with contextlib.suppress(OSError):
                control.shutdown(socket.SHUT_RDWR)
            control.close()
        if process is not None:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _start(self) -> socket.socket:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = os.environ | {"PYTHONPATH": str(LOCAL_PATH), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jobs_local.lambda_.preloaded", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            env=env,
        )
        theirs.close()
        self.control = ours
        # Its own queue: the thread of a process that ended must not answer the next one's forks.
        self.replies = replies = queue.Queue()
        threading.Thread(target=self._read, args=(ours, replies), daemon=True, name="preloaded-forks").start()
        return ours

    def _read(self, control: socket.socket, replies: queue.Queue[dict[str, Any]]) -> None:
        while True:
            try:
                message = control.recv(MESSAGE_BYTES)
            except OSError:
                message = b""
            if not message:
                break
            said = json.loads(message)
            if "exited" not in said:
                replies.put(said)
                continue
            with self.known:
                worker = self.workers.pop(said["exited"], None)
                if worker is None:
                    self.ended_early[said["exited"]] = said["returncode"]
            if worker is not None:
                worker.exited(said["returncode"])
        if self.control is control:
            self.control = None  # the next fork starts another preloaded process
        replies.put({})  # a fork asked now is answered: the process is gone
        with self.known:
            left, self.workers = list(self.workers.values()), {}
        for worker in left:
            worker.exited(GONE)
