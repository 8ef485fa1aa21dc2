"""ECS tasks that really run, as local processes; moto's ECS runs nothing.

Replaces: moto's `EC2ContainerServiceBackend.run_task` and `stop_task`, whose tasks run no
container and turn from RUNNING to STOPPED by themselves after a few `DescribeTasks` (moto's
"ecs::task" state progression, which the local stack turns off); and its
`_calculate_task_resource_requirements`, which fails on a Fargate container that leaves its memory
to the task's, as AWS allows.
- `RunTask` starts the container's command (its override, else the task definition's, else the
  image's) as a local process, with the image's, the container's and the override's environment.
  An image is known here by what it holds (`LocalImage`); a task of any other image stops without
  starting, as one whose image cannot be pulled.
- `DescribeTasks` says RUNNING while the process runs, then STOPPED with the container's exit code.
- `StopTask` sends SIGTERM to the task's process group and, after the container's stop timeout
  (Fargate's default is 30 s), SIGKILL to whatever is left of the task, as ECS does.
- When a task stops, nothing of it is left: every process of a task carries the task's
  `ECS_CONTAINER_METADATA_URI_V4` in its environment, as in Fargate, and that marks the processes
  that a container would hold, even one that moved to a session of its own.
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto.ecs.models import EC2ContainerServiceBackend, Task
from moto.moto_api import state_manager

from jobs_local.iam.credentials import RoleNotTrusted, RoleSessions
from jobs_local.patching import Patch

METADATA_VARIABLE = "ECS_CONTAINER_METADATA_URI_V4"
DEFAULT_STOP_TIMEOUT = 30.0  # seconds, Fargate's default between SIGTERM and SIGKILL
INHERITED = ("HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
# moto's own, kept once: a second stack in the same process replaces them again, never wraps twice.
_MOTO_RUN_TASK = EC2ContainerServiceBackend.run_task
_MOTO_STOP_TASK = EC2ContainerServiceBackend.stop_task
_MOTO_REQUIREMENTS = EC2ContainerServiceBackend._calculate_task_resource_requirements


@dataclass(frozen=True)
class LocalImage:
    """A container image as this machine holds it: where its files are, and its ENV and CMD."""

    files: dict[str, Path]  # path in the image -> path here
    environment: dict[str, str] = field(default_factory=dict)
    command: tuple[str, ...] = ()

    def local_path(self, value: str) -> str:
        for inside, here in self.files.items():
            if value == inside or value.startswith(inside + "/"):
                return str(here) + value[len(inside) :]
        return value


@dataclass
class _Container:
    task: Task
    process: subprocess.Popen[str]
    marker: str
    stop_timeout: float
    workdir: str
    stopping: threading.Event = field(default_factory=threading.Event)


class LocalTasks:
    def __init__(
        self, endpoint_url: str, region: str, roles: RoleSessions, log: Callable[[str, str], None] | None = None
    ):
        self.endpoint_url = endpoint_url
        self.region = region
        self.roles = roles
        self.log = log or (lambda source, line: None)
        self.images: dict[str, LocalImage] = {}
        self.containers: dict[str, _Container] = {}  # task ARN -> its running container
        self.lock = threading.Lock()
        self.closed = False

    def register_image(self, uri: str, image: LocalImage) -> None:
        self.images[uri] = image

    def serve(self) -> None:
        """From now on, ECS's tasks run here (PATCH sends them to the last LocalTasks served)."""
        _serving[:] = [self]
        # A task's status follows its process, not the number of times it was described.
        state_manager.set_transition(model_name="ecs::task", transition={"progression": "manual", "times": sys.maxsize})

    def close(self) -> None:
        """The stack is stopping: every task stops, quickly."""
        self.closed = True
        with self.lock:
            running = list(self.containers.values())
        for container in running:
            self.stop(container, "the local stack stopped", timeout=10)
        for container in running:
            container.process.wait()
            _kill_marked(container.marker)

    def find(self, task_str: str) -> _Container | None:
        with self.lock:
            return next((c for arn, c in self.containers.items() if arn.endswith(task_str.split("/")[-1])), None)

    # --- a task's life --------------------------------------------------------------------------

    def start(self, backend: EC2ContainerServiceBackend, task: Task) -> None:
        definition = backend.describe_task_definition(task.task_definition_arn)
        spec = definition.container_definitions[0]
        override = next(
            (o for o in (task.overrides or {}).get("containerOverrides", []) if o.get("name") == spec.get("name")), {}
        )
        image = self.images.get(spec.get("image", ""))
        if image is None or self.closed:
            why = "the local stack is stopping" if self.closed else f"{spec.get('image')!r} is not an image known here"
            self._stopped(task, None, "TaskFailedToStart", f"CannotPullContainerError: {why}")
            return
        role = (task.overrides or {}).get("taskRoleArn") or getattr(definition, "task_role_arn", None)
        try:  # the task role's credentials, as the container's credentials endpoint gives them
            credentials = (
                self.roles.keys(role, "ecs-tasks.amazonaws.com", task.id, task.task_arn).environment() if role else {}
            )
        except RoleNotTrusted as exc:
            self._stopped(task, None, "TaskFailedToStart", f"ECS was unable to assume the role: {exc}")
            return
        marker = f"http://169.254.170.2/v4/{task.id}"
        env = {name: os.environ[name] for name in INHERITED if name in os.environ}
        env |= image.environment
        for variable in [*(spec.get("environment") or []), *(override.get("environment") or [])]:
            env[variable["name"]] = str(variable["value"])
        env = {name: image.local_path(value) for name, value in env.items()}
        env |= credentials | {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            METADATA_VARIABLE: marker,
        }
        argv = [image.local_path(arg) for arg in (override.get("command") or spec.get("command") or image.command)]
        executable = argv and shutil.which(argv[0], path=env.get("PATH", os.defpath))
        if not executable:
            self._stopped(task, None, "TaskFailedToStart", f"CannotStartContainerError: {argv[:1]} not found")
            return
        workdir = tempfile.mkdtemp(prefix=f"ecs-task-{task.id[:8]}-")
        process = subprocess.Popen(
            [executable, *argv[1:]],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=workdir,
            env=env,
            start_new_session=True,  # a process group per task, as a container has its own
        )
        container = _Container(task, process, marker, float(spec.get("stopTimeout") or DEFAULT_STOP_TIMEOUT), workdir)
        with self.lock:
            self.containers[task.task_arn] = container
        task.status = "RUNNING"
        task.containers[0].last_status = "RUNNING"
        task.containers[0].exitCode = None  # moto starts it at 0; a running container has none yet
        task.started_at = datetime.now(UTC)
        threading.Thread(target=self._wait, args=(container, f"{definition.family} {task.id[:8]}"), daemon=True).start()

    def stop(self, container: _Container, reason: str, timeout: float | None = None) -> None:
        task = container.task
        if container.stopping.is_set():
            return
        container.stopping.set()
        task.desired_status = "STOPPED"
        task.stop_code, task.stopped_reason = "UserInitiated", reason
        task.stopping_at = datetime.now(UTC)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(container.process.pid, signal.SIGTERM)
        grace = container.stop_timeout if timeout is None else timeout
        threading.Thread(target=self._kill_after, args=(container, grace), daemon=True).start()

    def _kill_after(self, container: _Container, grace: float) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            container.process.wait(grace)
        with contextlib.suppress(ProcessLookupError):
            # The container's main process may be one whose environment cannot be read (not dumpable).
            os.killpg(container.process.pid, signal.SIGKILL)
        _kill_marked(container.marker)

    def _wait(self, container: _Container, source: str) -> None:
        assert container.process.stdout is not None
        for line in container.process.stdout:
            self.log(source, line.rstrip("\n"))
        code = container.process.wait()
        # The container ends with its main process: nothing of it may outlive it.
        _kill_marked(container.marker)
        shutil.rmtree(container.workdir, ignore_errors=True)
        with self.lock:
            self.containers.pop(container.task.task_arn, None)
        exit_code = 128 - code if code < 0 else code  # killed by signal N: 128 + N, as Docker reports it
        self._stopped(container.task, exit_code, "EssentialContainerExited", "Essential container in task exited")

    @staticmethod
    def _stopped(task: Task, exit_code: int | None, stop_code: str, reason: str) -> None:
        now = datetime.now(UTC)
        for part in task.containers:
            part.last_status = "STOPPED"
            part.exitCode = exit_code
        if not getattr(task, "stop_code", None):
            task.stop_code, task.stopped_reason = stop_code, reason
        task.desired_status = "STOPPED"
        task.stopped_at = task.execution_stopped_at = now
        task.status = "STOPPED"


def _kill_marked(marker: str) -> None:
    """SIGKILL to every process that carries the task's marker: what the task's container holds."""
    needle = f"{METADATA_VARIABLE}={marker}".encode()
    for _ in range(3):  # a process may fork while we look
        found = False
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if needle in environ.split(b"\0"):
                found = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(entry.name), signal.SIGKILL)
        if not found:
            return
        time.sleep(0.05)


_serving: list[LocalTasks] = []


def _run_and_start(backend: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> list[Task]:
    started = _MOTO_RUN_TASK(backend, *args, **kwargs)
    for task in started:
        _serving[-1].start(backend, task)
    return started


def _stop_task(backend: EC2ContainerServiceBackend, cluster_str: str, task_str: str, reason: str) -> Task:
    found = _serving[-1].find(task_str) if _serving else None
    if found is None:
        return _MOTO_STOP_TASK(backend, cluster_str, task_str, reason)
    _serving[-1].stop(found, reason or "Task stopped by user")
    return found.task


def _requirements(definition: Any) -> dict[str, Any]:
    per_container = int(definition.memory or 0) // max(1, len(definition.container_definitions))
    with_memory = copy.copy(definition)
    with_memory.container_definitions = [
        spec if {"memory", "memoryReservation"} & spec.keys() else {**spec, "memory": per_container}
        for spec in definition.container_definitions
    ]
    return _MOTO_REQUIREMENTS(with_memory)


PATCH = Patch(
    "moto's ECS RunTask and StopTask, which run nothing and stop a task after a few describes",
    [
        (EC2ContainerServiceBackend, "_calculate_task_resource_requirements", staticmethod(_requirements)),
        (EC2ContainerServiceBackend, "run_task", _run_and_start),
        (EC2ContainerServiceBackend, "stop_task", _stop_task),
    ],
)
