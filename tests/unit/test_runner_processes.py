"""The runner's hold on the processes it starts: real processes, no AWS."""

import os
import queue
import subprocess
import sys
import time

import pytest

from jobsys import processes, runner
from jobsys.config import Command
from jobsys.models import Job
from jobsys.processes import pump_lines

STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
)


def test_a_command_that_ignores_sigterm_is_killed_with_its_children(monkeypatch):
    monkeypatch.setattr(processes, "KILL_GRACE", 0.5)
    # A shell-free parent that starts a stubborn child, both in the command's own process group.
    code = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {STUBBORN!r}]); time.sleep(60)"
    parent = subprocess.Popen(
        [sys.executable, "-c", code],
        start_new_session=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout.readline().strip() == "ready"
    started = time.monotonic()
    processes.kill_group(parent)
    assert parent.poll() is not None
    assert time.monotonic() - started < 5
    # Nothing of the group is left, the child that ignored SIGTERM included.
    deadline = time.monotonic() + 5
    while processes.group_alive(parent.pid):
        assert time.monotonic() < deadline, "a process of the command's group survived"
        time.sleep(0.1)


def test_a_command_environment_holds_only_the_minimal_set_and_its_env():
    command = Command(
        name="export", argv=("/usr/bin/env",), max_runtime=60, runner="lambda",
        env=(("FORMAT", "csv"), ("SHOP_DSN", None), ("ABSENT", None), ("PATH", "/opt/shop/bin")),
    )  # fmt: skip
    job = Job.model_construct(id="01ARZ3NDEKTSV4RRFFQ69G5FAV", attempt=2)
    lambda_env = {
        "PATH": "/var/lang/bin:/usr/bin", "LANG": "en_US.UTF-8", "TZ": ":UTC", "LD_LIBRARY_PATH": "/var/lang/lib",
        "AWS_ACCESS_KEY_ID": "ASIA…", "AWS_SECRET_ACCESS_KEY": "…", "AWS_SESSION_TOKEN": "…",
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "_HANDLER": "runner_handler.lambda_handler",
        "JOBS_TABLE": "jobs", "SHOP_DSN": "mysql://shop", "JOB_ID": "spoofed",
    }  # fmt: skip
    env = runner.command_environment(command, job, "/tmp/job-1", lambda_env)
    assert env == {
        "PATH": "/opt/shop/bin",  # env: may set what the minimal set holds
        "LD_LIBRARY_PATH": "/var/lang/lib",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "HOME": "/tmp/job-1",
        "TMPDIR": "/tmp/job-1",
        "PYTHONUNBUFFERED": "1",
        "FORMAT": "csv",
        "SHOP_DSN": "mysql://shop",
        "JOB_ID": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "JOB_ATTEMPT": "2",
    }


def test_a_console_command_finds_jobsys_where_the_runner_does_and_gets_a_default_locale():
    command = Command(name="demo:echo", argv=None, max_runtime=60, runner="fargate")
    job = Job.model_construct(id="01ARZ3NDEKTSV4RRFFQ69G5FAV", attempt=1)
    fargate_env = {
        "ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/t",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/c",
    }
    env = runner.command_environment(command, job, "/tmp/job-2", fargate_env)
    assert env["PYTHONPATH"].split(os.pathsep) == [path for path in sys.path if path]
    assert env["LANG"] == "C.UTF-8" and env["PATH"] == os.defpath
    assert env["ECS_CONTAINER_METADATA_URI_V4"] == "http://169.254.170.2/v4/t"
    assert "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" not in env


# A runner, then its command reading the runner's environment from /proc, as one user without
# CAP_SYS_PTRACE (as on Lambda and Fargate). Run as root, it first becomes nobody.
PEEK = """
import ctypes, os, subprocess, sys
from jobsys.runner import keep_runner_private
if os.getuid() == 0:
    os.setgroups([]); os.setgid(65534); os.setuid(65534)
if sys.argv[1] == "private":
    keep_runner_private()
else:
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # dumpable, as a process that never changed its user
peek = subprocess.run(["/bin/cat", f"/proc/{os.getpid()}/environ"], capture_output=True, cwd="/")
print(peek.returncode, b"RUNNER_SECRET=s3cr3t" in peek.stdout)
"""


@pytest.mark.parametrize(("runner", "command_reads_it"), [("private", False), ("dumpable", True)])
def test_a_command_cannot_read_the_runners_environment_from_proc(runner, command_reads_it):
    peek = subprocess.run(
        [sys.executable, "-c", PEEK, runner],
        env={**os.environ, "RUNNER_SECRET": "s3cr3t"},
        capture_output=True,
        text=True,
        check=True,
    )
    code, found = peek.stdout.split()
    assert (code == "0", found == "True") == (command_reads_it, command_reads_it)


def test_a_catalogue_command_gets_the_bucket_and_role_it_declares_without_env():
    """The seed's block has no `env:`: the command's own declaration in the registry is enough."""
    command = Command(name="silver:import", argv=None, max_runtime=60, runner="lambda")
    job = Job.model_construct(id="01ARZ3NDEKTSV4RRFFQ69G5FAV", attempt=1)
    lambda_env = {
        "PATH": "/usr/bin", "JOBS_BUCKET": "shop-output", "AWS_REGION": "eu-central-1",
        "AWS_ACCESS_KEY_ID": "ASIA…", "AWS_SECRET_ACCESS_KEY": "…", "AWS_SESSION_TOKEN": "…",
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "JOBS_TABLE": "jobs",
    }  # fmt: skip
    own = {"AWS_ACCESS_KEY_ID": "ASIACOMMAND", "AWS_SECRET_ACCESS_KEY": "c", "AWS_SESSION_TOKEN": "command"}
    env = runner.command_environment(command, job, "/tmp/job-3", lambda_env, credentials=lambda _: own)
    assert env["JOBS_BUCKET"] == "shop-output" and env["AWS_REGION"] == "eu-central-1"
    assert "AWS_LAMBDA_RUNTIME_API" not in env and "JOBS_TABLE" not in env
    # Fault 11: the command role's session, never the runner's keys.
    assert {name: env[name] for name in own} == own
    echo = Command(name="demo:echo", argv=None, max_runtime=60, runner="lambda")
    assert "JOBS_BUCKET" not in runner.command_environment(echo, job, "/tmp/job-4", lambda_env)


def _pumped(script: str) -> list[tuple[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    lines: queue.Queue = queue.Queue()
    pump_lines({"stdout": process.stdout, "stderr": process.stderr}, lines)
    process.wait()
    return list(iter(lines.get, None))


def test_lines_of_both_streams_keep_their_order_and_their_stream():
    script = (
        "import sys, time\n"
        "for n in range(3):\n"
        "    print(f'out {n}', flush=True); time.sleep(0.05)\n"
        "    print(f'err {n}', file=sys.stderr, flush=True); time.sleep(0.05)\n"
        "sys.stdout.write('no newline at the end')\n"
    )
    assert _pumped(script) == [
        *[line for n in range(3) for line in (("stdout", f"out {n}"), ("stderr", f"err {n}"))],
        ("stdout", "no newline at the end"),
    ]


def test_lines_written_to_both_within_one_moment_come_stdout_first():
    script = "import sys\nprint('error follows', flush=True)\nprint('the error', file=sys.stderr, flush=True)"
    assert _pumped(script) == [("stdout", "error follows"), ("stderr", "the error")]


def test_a_command_never_gets_the_runner_s_credentials_only_the_command_role_s():
    """Fault 11: commands got the runner's AWS keys, and with them full DynamoDB and S3 CRUD: a
    command could delete or forge any job, lock or slot. One that asks for credentials (in env:,
    or a catalogue command) gets a session of the command role; one that does not gets none."""
    job = Job.model_construct(id="01ARZ3NDEKTSV4RRFFQ69G5FAV", attempt=1, max_runtime=60)
    runner_env = {
        "PATH": "/usr/bin", "AWS_ACCESS_KEY_ID": "ASIARUNNER", "AWS_SECRET_ACCESS_KEY": "r",
        "AWS_SESSION_TOKEN": "runner", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/x",
    }  # fmt: skip
    sessions = []

    def session(asked_for: Job) -> dict[str, str]:
        sessions.append(asked_for.id)
        return {"AWS_ACCESS_KEY_ID": "ASIACOMMAND", "AWS_SECRET_ACCESS_KEY": "c", "AWS_SESSION_TOKEN": "command"}

    asks = Command(name="export", argv=("/bin/true",), max_runtime=60, runner="lambda",
                   env=(("AWS_ACCESS_KEY_ID", None), ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", None)))  # fmt: skip
    env = runner.command_environment(asks, job, "/tmp/j", runner_env, credentials=session)
    assert env["AWS_ACCESS_KEY_ID"] == "ASIACOMMAND" and "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" not in env
    assert "runner" not in env.values() and sessions == [job.id]
    plain = Command(name="plain", argv=("/bin/true",), max_runtime=60, runner="lambda")
    env = runner.command_environment(plain, job, "/tmp/j", runner_env, credentials=session)
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN"} & set(env) and sessions == [job.id]
