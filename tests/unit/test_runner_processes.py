"""The runner's hold on the processes it starts: real processes, no AWS."""

import subprocess
import sys
import time

from jobsys import runner

STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
)


def test_a_command_that_ignores_sigterm_is_killed_with_its_children(monkeypatch):
    monkeypatch.setattr(runner, "KILL_GRACE", 0.5)
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
    runner._kill_group(parent)
    assert parent.poll() is not None
    assert time.monotonic() - started < 5
    # Nothing of the group is left, the child that ignored SIGTERM included.
    deadline = time.monotonic() + 5
    while runner._group_alive(parent.pid):
        assert time.monotonic() < deadline, "a process of the command's group survived"
        time.sleep(0.1)
