"""The local processes of a job: what both test levels look for in /proc."""

import time
from pathlib import Path


def processes_with(variable: str, value: str) -> set[int]:
    """Processes whose environment holds variable=value: the runner gives each command JOB_ID."""
    needle = f"{variable}={value}".encode()
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            environ = (entry / "environ").read_bytes() if entry.name.isdigit() else b""
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] if environ else "Z"
        except OSError:
            continue
        if state != "Z" and needle in environ.split(b"\0"):
            found.add(int(entry.name))
    return found


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def command_of(job_id: str, timeout: float = 15) -> int:
    """The process of a running job's command, once its runner has started it (a moment after it
    marked the job running)."""
    deadline = time.monotonic() + timeout
    while not (found := processes_with("JOB_ID", job_id)):
        if time.monotonic() > deadline:
            raise AssertionError(f"no process of job {job_id} after {timeout} s")
        time.sleep(0.1)
    [pid] = found
    return pid
