"""A process that has imported the AWS SDK and pydantic once, and forks a Lambda worker on request.

A worker started anew spent about 0.3 of its 0.55 CPU-seconds of init importing boto3, botocore,
pydantic and yaml before its handler's own modules, and the local stack starts a few hundred in
`make test`. Forked from here, a worker has them already, and imports only what its function's code
brings: its handler, the layer (jobsys) and its own dependencies, read from the function's folders,
as a new Lambda environment does. Nothing here reads the function's environment: that is set in the
child, before the handler is imported.

Its side of the stack is `forks.py`. Messages are JSON on a SOCK_SEQPACKET socket, with the
worker's stdin, stdout and stderr passed as file descriptors:
- asked `{"spawn": {"env": {...}, "cwd": "..."}}`, it forks and answers `{"spawned": pid}`;
- asked `{"signal": n, "pid": pid}`, it signals its child if it has not reaped it yet (a pid that
  exited may be another process's by now);
- when a child exits, it says `{"exited": pid, "returncode": n}` (negative: killed by a signal).
It exits when the stack closes its end, and its children then stop as they do when the stack dies.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import runpy
import select
import signal
import socket
import sys
import time
import traceback

# What every function's handler imports before its own code, and never reads the environment at
# import: the SDK (with awscrt and the urllib3 it uses), pydantic and yaml.
PRELOADED = ("boto3", "boto3.session", "botocore.client", "botocore.session", "pydantic", "yaml")
# The API models of the services the functions call, read once here (jobs_local.botocore_models):
# a worker's first clients then cost what a warm one's do.
MODELS = ("dynamodb", "stepfunctions", "logs", "s3", "events", "ssm", "secretsmanager", "sts", "scheduler")
MESSAGE_BYTES = 1 << 20  # a worker's environment: a function's variables are at most 4 KB on Lambda
WORKER_FDS = 3  # stdin, stdout, stderr


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    # Ctrl-C in `make run` reaches the whole process group; the stack stops this process itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in PRELOADED:
        importlib.import_module(name)
    _read_models()
    own_path = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    base_path = [entry for entry in sys.path[1:] if entry not in own_path]  # stdlib, site-packages
    woken, wake = os.pipe()
    os.set_blocking(wake, False)
    signal.set_wakeup_fd(wake)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select() through the pipe
    children: set[int] = set()
    while True:
        readable, _, _ = select.select([control, woken], [], [])
        if woken in readable:
            os.read(woken, 4096)
            _reap(control, children)
        if control not in readable:
            continue
        message, fds, _, _ = socket.recv_fds(control, MESSAGE_BYTES, WORKER_FDS)
        if not message:  # the stack closed its end, or died
            return
        request = json.loads(message)
        if "spawn" in request:
            pid = os.fork()
            if pid == 0:
                _become_worker(request["spawn"], fds, base_path, control, (woken, wake))
            for fd in fds:
                os.close(fd)
            children.add(pid)
            control.send(json.dumps({"spawned": pid}).encode())
        elif request.get("pid") in children:
            os.kill(request["pid"], request["signal"])


def _read_models() -> None:
    import boto3

    from jobs_local import botocore_models

    botocore_models.PATCH.install()  # every session of this process and of its forks shares one loader
    session = boto3.Session(aws_access_key_id="preload", aws_secret_access_key="preload", region_name="us-east-1")
    for service in MODELS:
        session.client(service)
    session.resource("dynamodb")


def _reap(control: socket.socket, children: set[int]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        control.send(json.dumps({"exited": pid, "returncode": os.waitstatus_to_exitcode(status)}).encode())


def _become_worker(
    spawn: dict[str, object], fds: list[int], base_path: list[str], control: socket.socket, wake_pipe: tuple[int, int]
) -> None:
    """In the forked child: the worker's pipes, folder, environment and import path, as if it had
    been started with them (`python -m jobs_local.lambda_.worker`), then the worker itself."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)
        control.close()
        for fd in wake_pipe:
            os.close(fd)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        env = spawn["env"]
        cwd = spawn["cwd"]
        assert isinstance(env, dict) and isinstance(cwd, str)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        time.tzset()
        sys.dont_write_bytecode = bool(env.get("PYTHONDONTWRITEBYTECODE"))  # as a new interpreter reads it
        sys.path[:] = [cwd, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep)), *base_path]
        importlib.invalidate_caches()
        runpy.run_module("jobs_local.lambda_.worker", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - the worker's own failure, on its stderr as before
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a pipe the stack has closed
                stream.flush()
        os._exit(code)


if __name__ == "__main__":
    main()
